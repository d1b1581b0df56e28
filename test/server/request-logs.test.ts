/**
 * What the server's log says about requests that did not end well: a client that hangs up in the
 * middle of its body is one info line naming the request (not an error with a stack, not a storage
 * outage), and a storage outage is one error line per request naming the request and the reason,
 * without a stack trace.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/storage/open.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { tempDir } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

type LogLine = { level: number; msg: string; req?: { method: string; url: string; ip: string }; err?: Record<string, unknown>; error?: Record<string, unknown>; [k: string]: unknown };

const parseLog = (text: string): LogLine[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogLine);

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

/** Sends the head and `sent` bytes of a body declared much larger, then closes the socket. */
function abortedRequest(url: string, head: string, sent: Buffer): Promise<void> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname, () => {
      socket.write(head);
      socket.write(sent, () => setTimeout(() => socket.destroy(), 30));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

describe('a client that disconnects mid-request', () => {
  let server: StartedServer | undefined;
  afterAll(async () => server?.cleanup());

  it('is one info line per request with method, URL and IP, no stack, never an error or a storage outage', async () => {
    server = await startServer();
    const { url } = server;
    const teamId = hex(16);
    const body = fakeSignupBody({ teamId });
    const signup = await fetch(`${url}/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(signup.status).toBe(200);
    const token = ((await signup.json()) as { session: { token: string } }).session.token;
    const workspaceId = hex(16);
    const ws = await fetch(`${url}/v1/workspaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: workspaceId, teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } }),
    });
    expect(ws.status, await ws.clone().text()).toBe(200);

    const blobPath = `/v1/workspaces/${workspaceId}/blobs`;
    const uploads = 12;
    for (let i = 0; i < uploads; i++) {
      await abortedRequest(
        url,
        `PUT ${blobPath} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n`,
        Buffer.alloc(4096),
      );
    }
    // a JSON body on an anonymous route, under its 64 KiB limit
    await abortedRequest(url, 'POST /v1/auth/prelogin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n', Buffer.from('{"email":"'));

    const aborted = (): LogLine[] => parseLog(readFileSync(server!.logFile, 'utf8')).filter((l) => /closed the connection/.test(l.msg));
    await waitFor(() => aborted().length >= uploads + 1);
    const log = parseLog(readFileSync(server.logFile, 'utf8'));
    expect(log.filter((l) => l.level >= 50), JSON.stringify(log.filter((l) => l.level >= 50)[0])).toEqual([]);
    expect(JSON.stringify(log)).not.toMatch(/"stack"|database unreachable|storage/);
    const lines = aborted();
    expect(lines).toHaveLength(uploads + 1);
    for (const line of lines) {
      expect(line.level).toBe(30);
      expect(line.req?.ip).toBe('127.0.0.1');
    }
    expect(lines.filter((l) => l.req?.method === 'PUT' && l.req.url === blobPath)).toHaveLength(uploads);
    expect(lines.filter((l) => l.req?.method === 'POST' && l.req.url === '/v1/auth/prelogin')).toHaveLength(1);
    expect(JSON.stringify(lines)).not.toContain(token);

    // and the server still serves
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 60_000);
});

describe('a storage outage', () => {
  it('is one error line per request naming the request and the reason, without a stack trace', async () => {
    const dir = tempDir('insomnia-sync-outage-log-');
    const store = await openStore(undefined, dir);
    let logged = '';
    const app = buildApp({
      store,
      serverSecret: new Uint8Array(32).fill(9),
      kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 },
      logger: { stream: { write: (line: string) => void (logged += line) } },
    });
    try {
      const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: fakeSignupBody() });
      expect(signup.statusCode).toBe(200);
      const token = signup.json<{ session: { token: string } }>().session.token;
      const other = new Database(join(dir, 'sync.db'));
      try {
        other.exec('BEGIN EXCLUSIVE');
        logged = '';
        const res = await app.inject({ method: 'GET', url: '/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(503);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      const errors = parseLog(logged).filter((l) => l.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ msg: "request failed: the server's storage is unavailable (database busy)", req: { method: 'GET', url: '/v1/workspaces' } });
      expect(errors[0]!.error).toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
      expect(logged).not.toContain('"stack"');
      expect(logged).not.toContain(token);
    } finally {
      await app.close();
      await store.close();
    }
  }, 30_000);

  it('healthz during an outage: one error line with the reason per poll, without a stack trace', async () => {
    const dir = tempDir('insomnia-sync-outage-log-');
    const store = await openStore(undefined, dir);
    let logged = '';
    const app = buildApp({ store, serverSecret: new Uint8Array(32).fill(9), logger: { stream: { write: (line: string) => void (logged += line) } } });
    try {
      await store.close();
      for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
      const errors = parseLog(logged).filter((l) => l.level >= 50);
      expect(errors).toHaveLength(3);
      expect(errors[0]).toMatchObject({ msg: "health check: the server's storage is unavailable", req: { method: 'GET', url: '/healthz' } });
      expect(logged).not.toContain('"stack"');
    } finally {
      await app.close();
    }
  });
});
