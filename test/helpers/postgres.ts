/**
 * PostgreSQL for tests. In CI, `.ci/run` starts one throwaway cluster and exports
 * INSOMNIA_SYNC_TEST_PG_URL; each suite makes its own database there and drops it afterwards.
 * Without that variable the first call starts a private cluster (initdb as the `postgres` user
 * when running as root: PostgreSQL refuses to run as root) and stops it when the process exits.
 * Neither possible → the calls throw, so PostgreSQL suites fail instead of being skipped.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface RunningPostgres {
  /** superuser URL of the `postgres` database, e.g. postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  /** the cluster's data directory (PGDATA) */
  dataDir: string;
  /** the postmaster's process id (to SIGSTOP it: a database that accepts connections and never answers) */
  postmasterPid(): number;
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  /** runs SQL on the database as the superuser */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** a fresh, empty schema in this database and a URL whose connections use it (for a store per test) */
  freshSchema(): Promise<string>;
  drop(): Promise<void>;
}

export function findBin(name: string): string {
  const onPath = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(root, v, 'bin', name))) return join(root, v, 'bin', name);
  }
  throw new Error(`${name} not found (install the postgresql package, or set INSOMNIA_SYNC_TEST_PG_URL)`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a private cluster on 127.0.0.1 with trust auth, in a temp dir removed by stop().
 * `ssl`: PEM certificate and key: the cluster then offers TLS with them.
 */
export async function startPostgres(options: { ssl?: { cert: string; key: string } } = {}): Promise<RunningPostgres> {
  const initdb = findBin('initdb');
  const pgCtl = findBin('pg_ctl');
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const stopSync = (): void => {
    spawnSync(asRoot ? 'runuser' : pgCtl, asRoot ? ['-u', 'postgres', '--', pgCtl, '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop'], {
      stdio: 'ignore',
    });
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run(initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    let sslOpts = '';
    if (options.ssl) {
      for (const [file, pem] of [['server.crt', options.ssl.cert], ['server.key', options.ssl.key]] as const) {
        writeFileSync(join(data, file), pem, { mode: 0o600 });
        if (asRoot) chownSync(join(data, file), Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
      }
      sslOpts = ' -c ssl=on';
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      // durability is pointless for a throwaway test cluster: no fsync makes it several times faster
      const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300${sslOpts}`;
      try {
        run(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o', opts, 'start']);
        // test workers are often killed rather than exiting: a detached watcher stops the cluster
        // once this process is gone, whichever way it ends
        const stopCmd = `${asRoot ? 'runuser -u postgres -- ' : ''}'${pgCtl}' -D '${data}' -m immediate stop`;
        const watcher = spawn(
          'sh',
          ['-c', `while kill -0 ${process.pid} 2>/dev/null && [ -d '${data}' ]; do sleep 1; done; ${stopCmd} >/dev/null 2>&1; rm -rf '${dir}'`],
          { detached: true, stdio: 'ignore' },
        );
        watcher.unref();
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          dataDir: data,
          postmasterPid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
          async stop() {
            stopSync();
          },
        };
      } catch (err) {
        lastError = err;
      }
    }
    throw lastError;
  } catch (err) {
    stopSync();
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`could not start PostgreSQL: ${e.stderr?.toString() || e.message}`);
  }
}

let local: Promise<RunningPostgres> | null = null;

/** The server to make test databases on: CI's, or a private one started on first use. */
export function testServerUrl(): Promise<string> {
  const fromEnv = process.env.INSOMNIA_SYNC_TEST_PG_URL?.trim();
  if (fromEnv) return Promise.resolve(fromEnv);
  local ??= startPostgres();
  return local.then((p) => p.url);
}

function withDatabase(url: string, database: string, params: Record<string, string> = {}): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

/** A new database (test_<random>) on the test server; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = await testServerUrl();
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(server, name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  return {
    url,
    query: (sql, params) => pool.query(sql, params),
    async freshSchema() {
      const schema = `s_${randomBytes(6).toString('hex')}`;
      await pool.query(`CREATE SCHEMA ${schema}`);
      return withDatabase(server, name, { options: `-c search_path=${schema}` });
    },
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
