/**
 * The server's bound on request bodies in memory (src/server/upload-budget.ts), over a real socket:
 * uploads past an account's share get 429, past the server's 503, both with Retry-After and
 * before their bodies are read; every reservation ends with its request, an aborted one included.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrames } from '../../src/protocol/blob-frames.js';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { routePath } from '../../src/protocol/routes.js';
import type { AccountResponse } from '../../src/protocol/types.js';
import { buildApp, type AppDeps } from '../../src/server/app.js';
import { ByteBudget } from '../../src/server/upload-budget.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { startServer } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

interface Account {
  userId: string;
  token: string;
  wsId: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let store: Store;
let app: FastifyInstance;
let origin: string;
let budget: ByteBudget;

async function account(): Promise<Account> {
  const body = fakeSignupBody();
  const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
  const token = signup.json<AccountResponse>().session!.token;
  const wsId = hex(16);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: { authorization: `Bearer ${token}` },
    payload: { id: wsId, teamId: body.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } },
  });
  expect(created.statusCode).toBe(200);
  return { userId: body.userId, token, wsId };
}

let logged = '';

/** (Re)starts the app on the store; `uploadStallTimeoutMs` as AppDeps (default: the server's). */
async function start(extra: Pick<AppDeps, 'uploadStallTimeoutMs'> = {}): Promise<void> {
  await app?.close();
  logged = '';
  budget = new ByteBudget({ serverBytes: 6 * MiB, accountBytes: 4 * MiB });
  const logger = { stream: { write: (line: string) => void (logged += line) } };
  app = buildApp({ store, serverSecret: new Uint8Array(32).fill(5), kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 }, uploadBudget: budget, logger, ...extra });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-budget-'));
  dirs.push(dir);
  store = await openStore(undefined, dir);
  await start();
});
afterEach(async () => {
  await app.close();
  await store.close();
});

/** a valid upload body of `count` frames of `size` bytes each */
function batch(count: number, size: number): Buffer {
  return Buffer.from(encodeFrames(Array.from({ length: count }, () => ({ id: hex(32), data: new Uint8Array(randomBytes(size)) }))));
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * An upload whose headers and first 64 KiB go out at once; the rest only on `finish()`. `answer`
 * settles whenever the server answers, which for a refusal is before the rest is sent.
 */
function heldUpload(who: Account, body: Buffer) {
  const req = http.request(`${origin}${routePath('uploadBlobs', { workspaceId: who.wsId })}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
  });
  answer.catch(() => {});
  req.write(body.subarray(0, 64 * 1024));
  return {
    answer,
    finish: (): Promise<Answer> => {
      req.end(body.subarray(64 * 1024));
      return answer;
    },
    abort: (): void => {
      req.destroy();
    },
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ByteBudget', () => {
  it('lets a request alone in flight through whatever its size, and counts each release once', () => {
    const b = new ByteBudget({ serverBytes: 10, accountBytes: 5 });
    const big = b.reserve('a', 50);
    expect(typeof big).toBe('function');
    expect(b.reserve('a', 1)).toBe('account');
    expect(b.reserve('b', 1)).toBe('server');
    (big as () => void)();
    (big as () => void)();
    expect(b.inUse()).toBe(0);
    const r1 = b.reserve('a', 3) as () => void;
    const r2 = b.reserve('b', 5) as () => void;
    expect(b.reserve('a', 3)).toBe('account');
    expect(b.reserve('c', 3)).toBe('server');
    expect(typeof b.reserve('c', 2)).toBe('function');
    r1();
    r2();
    expect(b.inUse('a')).toBe(0);
    expect(b.inUse('b')).toBe(0);
    expect(b.inUse()).toBe(2);
  });
});

describe('upload budget', () => {
  it("refuses an upload past its account's share (429) or the server's (503) with Retry-After before reading it, and takes it once the budget frees", async () => {
    const [a, b, c] = [await account(), await account(), await account()];
    const three = batch(3, MiB - 100); // just under 3 MiB
    const a1 = heldUpload(a, three);
    await until(() => budget.inUse(a.userId) === three.length, "a's first upload to be counted");

    const a2 = heldUpload(a, batch(3, MiB - 100));
    const refusedA = await a2.answer; // answered with only 64 KiB of it sent
    a2.abort();
    expect(refusedA.status).toBe(429);
    expect(refusedA.headers['retry-after']).toBe('1');
    expect(JSON.parse(refusedA.body).error.code).toBe('rate_limited');
    // an answer of this protocol (the CLI retries only those), with the usual headers
    expect(refusedA.headers[PROTOCOL_REVISION_HEADER]).toBe(String(PROTOCOL_REVISION));
    expect(refusedA.headers['x-content-type-options']).toBe('nosniff');

    const b1 = heldUpload(b, batch(3, MiB - 100));
    await until(() => budget.inUse(b.userId) > 0, "b's upload to be counted");
    const c1 = heldUpload(c, batch(1, 200 * 1024));
    const refusedC = await c1.answer;
    c1.abort();
    expect(refusedC.status).toBe(503);
    expect(refusedC.headers['retry-after']).toBe('1');
    expect(JSON.parse(refusedC.body).error).toEqual({ code: 'unavailable', message: 'the server is busy receiving other uploads; retry in a moment' });

    expect((await a1.finish()).status).toBe(200);
    await until(() => budget.inUse(a.userId) === 0, "a's upload to be released");
    const again = heldUpload(c, batch(1, 200 * 1024));
    const stored = await again.finish();
    expect(stored.status).toBe(200);
    expect(JSON.parse(stored.body)).toEqual({ stored: 1 });
    expect(JSON.parse((await b1.finish()).body)).toEqual({ stored: 3 });
    await until(() => budget.inUse() === 0, 'every reservation to be released');
  });

  it('releases the reservation of an upload the client abandons mid-body', async () => {
    const a = await account();
    for (let i = 0; i < 3; i++) {
      const upload = heldUpload(a, batch(3, MiB - 100));
      await until(() => budget.inUse(a.userId) > 0, 'the upload to be counted');
      upload.abort();
      await until(() => budget.inUse() === 0, 'the aborted upload to be released');
    }
    const whole = heldUpload(a, batch(4, MiB - 100));
    expect((await whole.finish()).status).toBe(200);
    await until(() => budget.inUse() === 0, 'the upload to be released');
  });

  it('counts neither small bodies nor refused or failed requests', async () => {
    const a = await account();
    const held = heldUpload(a, batch(4, MiB - 100));
    await until(() => budget.inUse(a.userId) > 0, 'the upload to be counted');
    // a small upload, a JSON request and a bad batch all pass the full share
    const small = heldUpload(a, batch(1, 30 * 1024));
    expect((await small.finish()).status).toBe(200);
    const missing = await app.inject({
      method: 'POST',
      url: routePath('missingBlobs', { workspaceId: a.wsId }),
      headers: { authorization: `Bearer ${a.token}` },
      payload: { ids: [hex(32)] },
    });
    expect(missing.statusCode).toBe(200);
    expect((await held.finish()).status).toBe(200);
    const bad = heldUpload(a, Buffer.concat([batch(2, MiB - 100), Buffer.alloc(10)]));
    expect((await bad.finish()).status).toBe(400);
    const unknownWorkspace = heldUpload({ ...a, wsId: hex(16) }, batch(2, MiB - 100));
    expect((await unknownWorkspace.finish()).status).toBe(404);
    await until(() => budget.inUse() === 0, 'every reservation to be released');
  });
});

describe('a stalled upload', () => {
  it('that receives nothing for the stall timeout loses its reservation and its connection; the account uploads again', async () => {
    await start({ uploadStallTimeoutMs: 500 });
    const a = await account();
    const body = batch(3, MiB - 100);
    const stalled = heldUpload(a, body); // 64 KiB of it, then nothing
    await until(() => budget.inUse(a.userId) === body.length, 'the upload to be counted');
    await expect(stalled.answer).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(budget.inUse()).toBe(0);
    const warnings = logged.split('\n').filter((l) => l.includes('"level":40') && l.includes('stalled'));
    expect(warnings.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ msg: 'upload ended: its body stalled, reservation released', bytes: body.length, received: 64 * 1024, stallSeconds: 0.5 }),
    ]);
    expect(logged).not.toContain(a.token);

    const again = heldUpload(a, batch(3, MiB - 100));
    expect((await again.finish()).status).toBe(200);
    await until(() => budget.inUse() === 0, 'the upload to be released');
  });

  it('that keeps receiving, however slowly, is never cut', async () => {
    // chunks a fifth of the stall timeout apart, for twice the timeout in all
    await start({ uploadStallTimeoutMs: 1000 });
    const a = await account();
    const body = batch(3, MiB - 100);
    const req = http.request(`${origin}${routePath('uploadBlobs', { workspaceId: a.wsId })}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
    });
    const answer = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    const pieces = 10;
    const step = Math.ceil(body.length / pieces);
    for (let i = 0; i < pieces; i++) {
      req.write(body.subarray(i * step, (i + 1) * step));
      await new Promise((r) => setTimeout(r, 200));
    }
    req.end();
    expect(await answer).toBe(200);
    expect(logged).not.toContain('stalled');
  });
});

describe('--upload-stall-timeout on the real server', () => {
  it('closes the connection of an upload whose client sent headers and part of the body, then nothing, and frees the share', async () => {
    // an account's share of 1 MiB: a 3 MiB upload of it is taken only when nothing else of it is in flight
    const server = await startServer({ args: ['--upload-stall-timeout', '1', '--upload-memory-per-account', '1'] });
    try {
      const body = fakeSignupBody();
      const signup = await fetch(`${server.url}/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(signup.status).toBe(200);
      const token = ((await signup.json()) as AccountResponse).session!.token;
      const auth = { authorization: `Bearer ${token}` };
      const wsId = hex(16);
      const created = await fetch(`${server.url}/v1/workspaces`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ id: wsId, teamId: body.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } }),
      });
      expect(created.status).toBe(200);
      const path = routePath('uploadBlobs', { workspaceId: wsId });
      const three = batch(3, MiB - 100);

      // by hand: the request line, the headers and 100 KiB of the body, then silence
      const { hostname, port } = new URL(server.url);
      const socket = connect(Number(port), hostname);
      let answered = '';
      socket.on('data', (d: Buffer) => (answered += d.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      socket.write(
        `PUT ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${three.length}\r\n\r\n`,
      );
      socket.write(three.subarray(0, 100 * 1024));
      await closed; // without the watchdog: only at the 300 s request timeout
      expect(answered).toBe('');

      // the stalled upload's share is free: a 3 MiB upload of the account is taken
      const stored = await fetch(`${server.url}${path}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: three });
      expect(stored.status).toBe(200);
      expect(await stored.json()).toEqual({ stored: 3 });

      const log = readFileSync(server.logFile, 'utf8');
      const warnings = log.split('\n').filter((l) => l.includes('stalled')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(warnings).toEqual([expect.objectContaining({ level: 40, msg: 'upload ended: its body stalled, reservation released', bytes: three.length, stallSeconds: 1 })]);
      expect(log).not.toContain(token);
    } finally {
      await server.cleanup();
    }
  }, 60_000);
});
