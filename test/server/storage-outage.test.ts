/**
 * A database that cannot serve (busy past its timeout, closed, PostgreSQL stopped) is an outage:
 * GET /healthz answers 503 {ok: false} so a load balancer stops sending traffic, and other routes
 * answer 503 `unavailable` (the CLI exits 6, "try again later") instead of 500 `internal`, with a
 * message that names the kind of failure and nothing of the path or the SQL.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { inProcessServerPerTest } from '../helpers/server-app.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';


describe('SQLite outage, in process', () => {
  const server = inProcessServerPerTest('insomnia-sync-outage-', new Uint8Array(32).fill(3));

  it('a database locked by another connection past the busy timeout answers 503 unavailable, not 500', async () => {
    const { app, dir } = server;
    const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: fakeSignupBody() });
    expect(signup.statusCode, signup.body).toBe(200);
    const token = signup.json<{ session: { token: string } }>().session.token;
    const other = new Database(join(dir, 'sync.db'));
    try {
      other.exec('BEGIN EXCLUSIVE');
      // every authenticated request writes (the session's last use), so it waits for the lock
      const res = await app.inject({ method: 'GET', url: '/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ error: { code: 'unavailable', message: "the server's storage is unavailable (database busy)" } });
      expect(res.body).not.toContain(dir);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    const again = await app.inject({ method: 'GET', url: '/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
    expect(again.statusCode).toBe(200);
  }, 30_000);

  it('while another connection holds the write lock, pre-login still answers (uncounted) and login answers 503', async () => {
    const { app, dir } = server;
    const body = fakeSignupBody();
    expect((await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body })).statusCode).toBe(200);
    const other = new Database(join(dir, 'sync.db'));
    try {
      other.exec('BEGIN EXCLUSIVE');
      // reads go on beside the lock (WAL); the rate-limit count is a write and waits out the busy timeout
      const pre = await app.inject({ method: 'POST', url: '/v1/auth/prelogin', payload: { email: body.email } });
      expect(pre.statusCode, pre.body).toBe(200);
      expect(pre.json()).toEqual({ kdf: body.kdf });
      const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: body.email, authKey: body.authKey } });
      expect(login.statusCode).toBe(503);
      expect(login.json()).toEqual({ error: { code: 'unavailable', message: "the server's storage is unavailable (database busy)" } });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  }, 30_000);

  it('healthz asks the database: 200 while it serves, 503 {ok: false} once it cannot', async () => {
    const { app, store } = server;
    const up = await app.inject({ method: 'GET', url: '/healthz' });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ ok: true, protocol: PROTOCOL_REVISION });
    await store.close();
    const down = await app.inject({ method: 'GET', url: '/healthz' });
    expect(down.statusCode).toBe(503);
    expect(down.headers[PROTOCOL_REVISION_HEADER]).toBe(String(PROTOCOL_REVISION));
    expect(down.json()).toEqual({ ok: false, protocol: PROTOCOL_REVISION, error: { code: 'unavailable', message: "the server's storage is unavailable" } });
  });
});

describe('PostgreSQL stopped under a running server', () => {
  let cluster: RunningPostgres | undefined;
  let server: StartedServer | undefined;
  afterAll(async () => {
    await server?.cleanup();
    await cluster?.stop();
  });

  it('healthz answers 503 {ok: false} and requests 503 unavailable, naming no host, SQL or driver text', async () => {
    // a private cluster: stopping the shared one would break the other suites
    cluster = await startPostgres();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE outage');
    await admin.end();
    const url = cluster.url.replace(/\/postgres$/, '/outage');
    server = await startServer({ db: url });
    const up = await fetch(`${server.url}/healthz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ ok: true, protocol: PROTOCOL_REVISION });

    await cluster.stop();
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(health.headers.get(PROTOCOL_REVISION_HEADER)).toBe(String(PROTOCOL_REVISION));
    const body = (await health.json()) as { ok: boolean; error: { code: string; message: string } };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe('unavailable');
    expect(body.error.message).toMatch(/^the server's storage is unavailable \(database [a-z -]+\)$/);

    const res = await fetch(`${server.url}/v1/auth/prelogin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'ada@example.com' }) });
    expect(res.status).toBe(503);
    const err = (await res.json()) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('unavailable');
    expect(err.error.message).toMatch(/^the server's storage is unavailable \(database [a-z -]+\)$/);
    expect(err.error.message).not.toMatch(/127\.0\.0\.1|ECONN|SELECT|outage/);
  }, 120_000);
});
