/**
 * Server errors as the CLI reports them: a 400 `bad_request` is bad input (exit 2), a wrong
 * password at login does not hint "run login", and a server URL is checked where it is given, with
 * a guess when the scheme is missing and without repeating a password typed into it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, checkServerUrl } from '../../src/client/api.js';
import { UsageError } from '../../src/client/errors.js';
import { BODY_NOT_READ_HEADER, PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';

let server: http.Server;
let base: string;

beforeAll(async () => {
  // /v1/workspaces/… answers 400 bad_request (a refused token expiry); anything else 401.
  server = http.createServer((req, res) => {
    req.resume();
    const [status, code, message] = req.url!.startsWith('/v1/workspaces/') ? [400, 'bad_request', 'expires must be at most 365 days'] : [401, 'unauthorized', 'wrong email or password'];
    res.writeHead(status, { 'content-type': 'application/json', [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) });
    res.end(JSON.stringify({ error: { code, message } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  return p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e as { code: string; message: string; hint?: string },
  );
}

describe('server errors', () => {
  it('bad_request keeps its code and exits 2', async () => {
    const api = new ApiClient({ baseUrl: base, token: 'session' });
    const err = await failure(api.createToken('w'.repeat(32), {} as never));
    expect(err.code).toBe('bad_request');
    expect(err.message).toContain('365 days');
    expect(exitCodeFor(err.code)).toBe(2);
    await api.close();
  });

  it('a refused login does not tell you to log in; an ended session does', async () => {
    const api = new ApiClient({ baseUrl: base });
    const login = await failure(api.login({ email: 'a@example.com', authKey: 'x', client: 't' }));
    expect(exitCodeFor(login.code)).toBe(4);
    expect(login.hint ?? '').not.toMatch(/login/);
    const me = await failure(api.me());
    expect(me.hint).toMatch(/insomnia-sync login/);
    await api.close();
  });
});

describe('the hint of a 429', () => {
  let limiter: http.Server;
  let origin: string;
  let uploads = 0;
  beforeAll(async () => {
    // uploads: refused unread for upload memory, Retry-After 0 (the client still waits 100-150 ms);
    // login: over the rate limit for 42 more seconds; anything else: 429 with no Retry-After
    limiter = http.createServer((req, res) => {
      req.resume();
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json', [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) };
      let message = 'too many attempts';
      if (req.url!.endsWith('/blobs')) {
        uploads++;
        Object.assign(headers, { 'retry-after': '0', [BODY_NOT_READ_HEADER]: '1' });
        message = 'too many uploads in flight for this account; retry in a moment';
      } else if (req.url === '/v1/auth/login') headers['retry-after'] = '42';
      res.writeHead(429, headers);
      res.end(JSON.stringify({ error: { code: 'rate_limited', message } }));
    });
    await new Promise<void>((r) => limiter.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(limiter.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => limiter.close(() => r())));

  it('names the wait the server gave, and says "a minute" only when it gave none', async () => {
    const api = new ApiClient({ baseUrl: origin, token: 'session' });
    const login = await failure(api.login({ email: 'a@example.com', authKey: 'x', client: 't' }));
    expect(login).toMatchObject({ code: 'rate_limited', hint: 'wait 42 seconds and try again' });
    expect(exitCodeFor(login.code)).toBe(6);
    const other = await failure(api.me());
    expect(other).toMatchObject({ code: 'rate_limited', hint: 'wait a minute and try again' });
    await api.close();
  });

  it('after an upload was sent again and again, says so instead of asking for a wait it already made', async () => {
    const api = new ApiClient({ baseUrl: origin, token: 'session' });
    const err = await failure(api.uploadFrameBody('w'.repeat(32), new Uint8Array(10)));
    expect(uploads).toBe(13);
    expect(err.code).toBe('rate_limited');
    expect(err.hint).toMatch(/^still refused after 13 tries over \d+ s: try again once the account's other uploads have finished$/);
    expect(err.hint).not.toMatch(/minute/);
    await api.close();
  });
});

describe('server URLs given on the command line', () => {
  function refusal(raw: string): UsageError {
    try {
      checkServerUrl(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return err as UsageError;
    }
    throw new Error(`${raw} was accepted`);
  }

  it('without a scheme are usage errors with a guess: http for this machine, https elsewhere', () => {
    expect(refusal('localhost:39350').hint).toBe('did you mean http://localhost:39350?');
    expect(refusal('127.0.0.1:39350').hint).toBe('did you mean http://127.0.0.1:39350?');
    expect(refusal('sync.example.com/isync').hint).toBe('did you mean https://sync.example.com/isync?');
    expect(refusal('localhost:39350').message).not.toMatch(/not localhost/);
  });

  it('never repeat a password typed into them', () => {
    for (const raw of ['ci:hunter2@sync.example.com', 'https://ci:hunter2@sync.example.com', 'https://ci:hunter2@exa mple.com']) {
      const err = refusal(raw);
      expect(`${err.message} ${err.hint ?? ''}`, raw).not.toContain('hunter2');
    }
  });

  it('accept http(s) URLs with a path', () => {
    expect(checkServerUrl('http://127.0.0.1:8787').port).toBe('8787');
    expect(checkServerUrl('https://example.com/isync/').pathname).toBe('/isync/');
    expect(refusal('ftp://example.com').message).toMatch(/not ftp$/);
  });
});

describe('answers that are not of this protocol', () => {
  let other: http.Server;
  let otherBase: string;
  // /status/NNN answers NNN as a plain web server would (no protocol header);
  // /ours/… answers as this server does for a path it has no route for.
  beforeAll(async () => {
    other = http.createServer((req, res) => {
      req.resume();
      const status = /^\/status\/(\d{3})\//.exec(req.url!)?.[1];
      if (status) {
        res.writeHead(Number(status), { 'content-type': 'text/html' }).end('<h1>nope</h1>');
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json', [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) });
      const resource = req.url!.startsWith('/v1/workspaces/');
      res.end(JSON.stringify({ error: resource ? { code: 'not_found', message: 'no such workspace' } : { code: 'not_found', message: 'no such route', unknownRoute: true } }));
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    otherBase = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => other.close(() => r())));

  it('a 501 or 500 without the protocol header: not insomnia-sync, check --server (exit 1), not "try again later"', async () => {
    for (const status of [500, 501]) {
      const api = new ApiClient({ baseUrl: `${otherBase}/status/${status}` });
      const err = await failure(api.prelogin({ email: 'a@example.com' }));
      expect(err.code).toBe('bad_response');
      expect(err.message).toBe(`the server at ${otherBase}/status/${status} answered ${status}`);
      expect(err.hint).toMatch(/names no sync protocol.*check --server/);
      expect(err.hint).not.toMatch(/try again later/);
      expect(exitCodeFor(err.code)).toBe(1);
      await api.close();
    }
  });

  it('a 502, 503 or 504 without the header is still "unavailable" (exit 6: a proxy before a stopped server), naming both causes', async () => {
    for (const status of [502, 503, 504]) {
      const api = new ApiClient({ baseUrl: `${otherBase}/status/${status}` });
      const err = await failure(api.prelogin({ email: 'a@example.com' }));
      expect(exitCodeFor(err.code)).toBe(6);
      expect(err.hint).toMatch(/try again later.*names no sync protocol.*check --server/);
      // in a linked folder, whose server is its link's: that is what to check
      api.serverSource = { linked: true };
      const linked = await failure(api.prelogin({ email: 'a@example.com' }));
      expect(exitCodeFor(linked.code)).toBe(6);
      expect(linked.hint).toBe(
        `try again later; the answer names no sync protocol, so if it keeps failing, check that server: this folder is linked to ${otherBase}/status/${status} (.insomnia-sync/link.json)`,
      );
      await api.close();
    }
  });

  it('our own 404 for an unknown route: the URL path is wrong (exit 1); a missing resource stays not found (exit 5)', async () => {
    const prefixed = new ApiClient({ baseUrl: `${otherBase}/isync/`, token: 't' });
    const wrong = await failure(prefixed.me());
    expect(wrong.code).toBe('unknown_route');
    expect(wrong.message).toBe(`the insomnia-sync server at ${otherBase} has no routes under /isync: the path in the server URL is wrong`);
    expect(wrong.hint).toContain(`so try ${otherBase}`);
    expect(exitCodeFor(wrong.code)).toBe(1);
    await prefixed.close();

    const root = new ApiClient({ baseUrl: otherBase, token: 't' });
    const older = await failure(root.me());
    expect(older.code).toBe('unknown_route');
    expect(older.message).toBe(`the server at ${otherBase} has no route GET /v1/me`);
    expect(older.hint).toMatch(/older than this insomnia-sync/);
    const missing = await failure(root.getWorkspace('f'.repeat(32)));
    expect(missing.code).toBe('not_found');
    expect(exitCodeFor(missing.code)).toBe(5);
    await root.close();
  });

  it('in a linked folder, a wrong server URL is the link to check, not --server or INSOMNIA_SYNC_SERVER (ignored there)', async () => {
    const checkLink = 'check the URL this folder is linked to (.insomnia-sync/link.json), or clone the workspace again with the right --server';
    const prefixed = new ApiClient({ baseUrl: `${otherBase}/isync/`, token: 't' });
    prefixed.serverSource = { linked: true };
    const wrong = await failure(prefixed.me());
    expect(wrong.code).toBe('unknown_route');
    expect(wrong.hint).toContain(checkLink);
    expect(wrong.hint).not.toContain('INSOMNIA_SYNC_SERVER');
    await prefixed.close();

    const root = new ApiClient({ baseUrl: otherBase, token: 't' });
    root.serverSource = { linked: true };
    const older = await failure(root.me());
    expect(older.hint).toBe(`it may be older than this insomnia-sync: upgrade the server, or ${checkLink}`);
    await root.close();

    const notOurs = new ApiClient({ baseUrl: `${otherBase}/status/500` });
    notOurs.serverSource = { linked: true };
    const err = await failure(notOurs.prelogin({ email: 'a@example.com' }));
    expect(err.code).toBe('bad_response');
    expect(err.hint).toBe(`the server at ${otherBase}/status/500 names no sync protocol: upgrade it to this version of insomnia-sync, or ${checkLink}`);
    expect(err.hint).not.toContain('INSOMNIA_SYNC_SERVER');
    await notOurs.close();
  });
});
