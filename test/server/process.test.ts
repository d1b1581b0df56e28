import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

describe('insomnia-sync-server process', () => {
  let server: StartedServer | undefined;
  afterEach(async () => {
    await server?.cleanup();
    server = undefined;
  });

  it('listens on a free port, serves healthz and signup, logs to the file, and stops on SIGTERM', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'insomnia-sync-proc-'));
    // a data dir that does not exist yet: the server must create it private
    server = await startServer({ dataDir: join(parent, 'data') });
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);

    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });

    const prelogin = await fetch(`${server.url}/v1/auth/prelogin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'proc@example.com' }),
    });
    expect(((await prelogin.json()) as { kdf: unknown }).kdf).toMatchObject({ alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1 });

    const signup = await fetch(`${server.url}/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(fakeSignupBody({ email: 'proc@example.com', name: 'Proc' })),
    });
    expect(signup.status).toBe(200);
    const token = ((await signup.json()) as { session: { token: string } }).session.token;
    const me = await fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);

    // data dir and secret are private
    expect(statSync(server.dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(server.dataDir, 'server-secret')).mode & 0o777).toBe(0o600);

    const child = server.process;
    await server.stop();
    expect(child.exitCode).toBe(0);

    const log = readFileSync(server.logFile, 'utf8');
    expect(log).toContain('"url":"/v1/auth/signup"');
    expect(log).not.toContain(token);
  });

  it('keeps an idle keep-alive connection for 130 s, as the man page says: longer than a reverse proxy keeps it', async () => {
    server = await startServer();
    const agent = new http.Agent({ keepAlive: true });
    onTestFinished(() => agent.destroy());
    const get = (): Promise<{ headers: http.IncomingHttpHeaders; socket: unknown }> =>
      new Promise((resolve, reject) => {
        const req = http.get(`${server!.url}/healthz`, { agent }, (res) => {
          res.resume();
          res.once('end', () => resolve({ headers: res.headers, socket: req.socket }));
        });
        req.once('error', reject);
      });
    const first = await get();
    // Node derives this header from the server's keepAliveTimeout (fastify's default gave 72)
    expect(first.headers.connection).toBe('keep-alive');
    expect(first.headers['keep-alive']).toBe('timeout=130');
    // and the connection is kept: the next request goes over the same socket
    const second = await get();
    expect(second.socket).toBe(first.socket);
  });

  it('keeps accounts across a restart on the same data dir', async () => {
    const first = await startServer();
    const email = 'restart@example.com';
    const body = fakeSignupBody({ email, name: '' });
    const { salt } = body.kdf;
    const res = await fetch(`${first.url}/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(res.status).toBe(200);
    const fake = await (await fetch(`${first.url}/v1/auth/prelogin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ghost@example.com' }) })).json();
    await first.stop();

    server = await startServer({ dataDir: first.dataDir });
    const again = await fetch(`${server.url}/v1/auth/prelogin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email }) });
    expect(((await again.json()) as { kdf: { salt: string } }).kdf.salt).toBe(salt);
    // the server secret persisted too, so fake salts are stable across restarts
    const fake2 = await (await fetch(`${server.url}/v1/auth/prelogin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ghost@example.com' }) })).json();
    expect(fake2).toEqual(fake);
    await server.stop();
    server = undefined;
    await first.cleanup();
  });

  it('exits with a clear error for an unreachable PostgreSQL URL, without echoing the password', async () => {
    const err = await startServer({ args: ['--db', 'postgres://user:secretpw@127.0.0.1:1/db'] }).catch((e: unknown) => e as Error);
    expect(String(err)).toMatch(/PostgreSQL at 127\.0\.0\.1:1\/db: .*ECONNREFUSED/);
    expect(String(err)).not.toMatch(/secretpw/);
  });
});
