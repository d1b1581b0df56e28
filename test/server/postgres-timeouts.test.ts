/**
 * Every wait on PostgreSQL is bounded (src/storage/postgres/db.ts createPool), and what runs into a
 * bound is an outage the client waits out (503 `unavailable`, exit 6), not a bug (500):
 * - a database that accepts TCP connections and never answers (its postmaster stopped with
 *   SIGSTOP, after its idle backends were ended): requests answer 503 after the connect timeout
 *   instead of hanging until the client gives up, and the server's start and `migrate` exit 1
 *   with one line instead of waiting for ever;
 * - a backend that stops answering mid-query: the connection is given up after its
 *   statement_timeout plus a margin, without a ROLLBACK queued behind the lost statement;
 * - statement_timeout and lock_timeout of the role (ALTER ROLE … SET) or the server's default
 *   statement_timeout, hit while another connection holds a lock: 503, not 500.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { MIGRATION_LOCK } from '../../src/storage/postgres/db.js';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { storageUnavailableReason } from '../../src/storage/unavailable.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { createTestDatabase, startPostgres, type RunningPostgres, type TestDatabase } from '../helpers/postgres.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { newUser } from '../storage/store-contract.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
const KDF = { memoryKiB: 65536, iterations: 3, parallelism: 1 };

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, INSOMNIA_SYNC_DB: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    // a hang is the bug: end it well after the bound so the test reports it
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms: performance.now() - started });
    });
  });
}

describe('a PostgreSQL that accepts connections but does not answer', () => {
  let cluster: RunningPostgres;
  let url: string;
  let server: StartedServer | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-stall-'));

  beforeAll(async () => {
    // a private cluster: stopping the shared one would stall every other suite
    cluster = await startPostgres();
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE stall');
    await admin.end();
    url = cluster.url.replace(/\/postgres$/, '/stall');
  }, 120_000);
  afterAll(async () => {
    await server?.cleanup();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** ends the database's backends (the server's pooled connections), then stops the postmaster until `work` is done */
  async function stalled<T>(work: () => Promise<T>): Promise<T> {
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    // with a timeout, pg_terminate_backend waits until the backend has gone (its FATAL sent to the
    // server): without it, a backend slow to exit on a loaded machine could still answer, or fail,
    // the request below at once
    const { rows } = await admin.query<{ gone: boolean }>("SELECT pg_terminate_backend(pid, 30000) AS gone FROM pg_stat_activity WHERE datname = 'stall'");
    await admin.end();
    expect(rows.every((r) => r.gone)).toBe(true);
    // the pool hears of its closed connections and drops them (they closed before the request is sent)
    await new Promise((r) => setTimeout(r, 300));
    const pid = cluster.postmasterPid();
    process.kill(pid, 'SIGSTOP');
    try {
      return await work();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }

  it('a request answers 503 unavailable within the connect timeout, and 200 again once it answers', async () => {
    server = await startServer({ db: url, dataDir, args: ['--gc-interval', '0'] });
    const signup = await fetch(`${server.url}/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fakeSignupBody()) });
    expect(signup.status).toBe(200);
    const token = ((await signup.json()) as { session: { token: string } }).session.token;
    const list = () => fetch(`${server!.url}/v1/workspaces`, { headers: { authorization: `Bearer ${token}` } });

    const { res, ms } = await stalled(async () => {
      const started = performance.now();
      const res = await list();
      return { res, ms: performance.now() - started };
    });
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unavailable');
    expect(body.error.message).toMatch(/^the server's storage is unavailable \(database [a-z ]+\)$/);
    // the default connect timeout is 10 s; the client gives up after 120 s
    expect(ms).toBeGreaterThan(9_000);
    expect(ms).toBeLessThan(20_000);
    expect((await list()).status).toBe(200);
    await server.stop();
  }, 90_000);

  it('the server start and migrate exit 1 with one line within the connect timeout', async () => {
    const [start, migrate] = await stalled(() =>
      Promise.all([run(['--port', '0', '--gc-interval', '0', '--data-dir', dataDir, '--db', url]), run(['migrate', '--data-dir', dataDir, '--db', url])]),
    );
    for (const r of [start, migrate]) {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^insomnia-sync-server: PostgreSQL at 127\.0\.0\.1:\d+\/stall: [^\n]*timeout[^\n]*: the database did not answer in time; check that PostgreSQL is running and reachable[^\n]*\n$/,
      );
      expect(r.ms).toBeLessThan(20_000);
    }
  }, 90_000);

  it('a backend that stops answering mid-transaction is given up after statement_timeout plus the margin, once', async () => {
    const store = await openPostgresStore(url, { statementTimeoutMs: 500 });
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    const stopped: number[] = [];
    try {
      await store.createUser(newUser());
      const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = 'stall' AND application_name = 'insomnia-sync-server'");
      expect(rows.length).toBeGreaterThan(0);
      for (const { pid } of rows) {
        process.kill(pid, 'SIGSTOP');
        stopped.push(pid);
      }
      const started = performance.now();
      const err = await store.createUser(newUser()).catch((e: unknown) => e);
      const ms = performance.now() - started;
      expect(storageUnavailableReason(err)).toBe('database not answering');
      // 0.5 s + the 10 s margin, and no second wait for a ROLLBACK behind the lost BEGIN
      expect(ms).toBeGreaterThan(10_000);
      expect(ms).toBeLessThan(14_000);
      // the next statement gets a new connection
      expect((await store.createUser(newUser())).ok).toBe(true);
    } finally {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      await admin.end();
      await store.close();
    }
  }, 60_000);
});

describe('statement and lock timeouts answer 503, not 500', () => {
  let db: TestDatabase;
  const roles: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  }, 120_000);
  afterAll(async () => {
    // what the roles own here first (their schemas), then the roles, then the database
    for (const role of roles) await db.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => {});
    await db?.drop();
  });

  /** A new role owning a fresh schema, with `settings` (ALTER ROLE … SET); `url` connects as it. */
  async function roleOwningFreshSchema(settings: Record<string, string>): Promise<{ schema: string; role: string; url: string }> {
    const schemaUrl = await db.freshSchema();
    const schema = new URL(schemaUrl).searchParams.get('options')!.split('=')[1]!;
    const role = `r_${randomBytes(5).toString('hex')}`;
    roles.push(role);
    await db.query(`CREATE ROLE ${role} LOGIN`);
    await db.query(`ALTER SCHEMA ${schema} OWNER TO ${role}`);
    for (const [k, v] of Object.entries(settings)) await db.query(`ALTER ROLE ${role} SET ${k} = '${v}'`);
    const u = new URL(schemaUrl);
    u.username = role;
    return { schema, role, url: u.toString() };
  }

  /** A role owning a fresh schema, with `settings`, and the app on a store it opened. */
  async function appAs(settings: Record<string, string>, storeOptions: { statementTimeoutMs?: number } = {}) {
    const { schema, role, url } = await roleOwningFreshSchema(settings);
    const store = await openPostgresStore(url, storeOptions);
    const app = buildApp({ store, serverSecret: new Uint8Array(32).fill(7), kdfDefaults: KDF });
    await app.ready();
    const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: fakeSignupBody() });
    expect(signup.statusCode, signup.body).toBe(200);
    const token = signup.json<{ session: { token: string } }>().session.token;
    return { schema, store, app, token, role };
  }

  /** holds `table` locked by another connection while `work` runs */
  async function locked<T>(table: string, work: () => Promise<T>): Promise<T> {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      return await work();
    } finally {
      await holder.query('ROLLBACK').catch(() => {});
      await holder.end();
    }
  }

  const cases: [string, Record<string, string>, { statementTimeoutMs?: number }, string][] = [
    ["the role's statement_timeout", { statement_timeout: '400ms' }, {}, 'database statement timeout'],
    ["the role's lock_timeout", { lock_timeout: '200ms' }, {}, 'database busy'],
    ["the server's own statement_timeout, for a role without one", {}, { statementTimeoutMs: 400 }, 'database statement timeout'],
  ];
  it.each(cases)('%s: 503 unavailable, then 200 once the lock is gone', async (_name, settings, options, reason) => {
    const { schema, store, app, token } = await appAs(settings, options);
    try {
      const request = () => app.inject({ method: 'GET', url: '/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
      const { res, ms } = await locked(`${schema}.sessions`, async () => {
        const started = performance.now();
        const res = await request();
        return { res, ms: performance.now() - started };
      });
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json()).toEqual({ error: { code: 'unavailable', message: `the server's storage is unavailable (${reason})` } });
      // the role's bound, not the server's default 20 s
      expect(ms).toBeLessThan(5_000);
      expect((await request()).statusCode).toBe(200);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('a server whose start runs into statement_timeout (a lock held on schema_migrations) exits with one line saying so, not "did not answer"', async () => {
    const { schema, store, app, role } = await appAs({ statement_timeout: '300ms' });
    await app.close();
    await store.close();
    const u = new URL(db.url);
    u.username = role;
    u.searchParams.set('options', `-c search_path=${schema}`);
    const err = (await locked(`${schema}.schema_migrations`, () => openPostgresStore(u.toString()).catch((e: unknown) => e))) as Error;
    expect(err.message).toMatch(
      /^PostgreSQL at 127\.0\.0\.1:\d+\/test_\w+: canceling statement due to statement timeout: the statement ran past its statement_timeout, e\.g\. waiting for a lock another transaction holds; try again when it has ended$/,
    );
  });

  it("migrations are not cut short by the role's statement_timeout: they wait for another server's migration lock", async () => {
    const { url } = await roleOwningFreshSchema({ statement_timeout: '300ms' });
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const opening = openPostgresStore(url, { migrate: false }).then(async (store) => {
        try {
          return await store.migrate();
        } finally {
          await store.close();
        }
      });
      // the migration is waiting for the lock (a fixed wait alone proved nothing if it had not got
      // there yet), then waits past the role's 300 ms before the lock is let go
      const waiting = async (): Promise<boolean> =>
        (await other.query("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1", [MIGRATION_LOCK])).rowCount! > 0;
      for (const deadline = Date.now() + 30_000; !(await waiting()); ) {
        expect(Date.now(), 'the migration never waited for the lock').toBeLessThan(deadline);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 1500));
      expect(await waiting()).toBe(true);
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      expect(await opening).toEqual(POSTGRES_MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await other.end();
    }
  });
});

