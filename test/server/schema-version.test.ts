/**
 * The server, `migrate` and the operator commands refuse a database whose schema is newer than the
 * build (an older binary used to serve it, and `migrate` said "schema is up to date"), or whose
 * applied migration differs from the build's (it used to "migrate" cleanly, then answer 500 "no such
 * column"): exit 1 with one line naming the versions, or the migration. A server already running
 * when a newer one migrates the database notices: it answers 503 and its gc deletes nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { runGc } from '../../src/server/ops/gc.js';
import { openStore } from '../../src/storage/open.js';
import { migrationChecksum } from '../../src/storage/schema-version.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { runServerCommand, startServer } from '../helpers/server-process.js';
import { newUser } from '../storage/store-contract.js';

const KNOWN = SQLITE_MIGRATIONS.length;

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-schema-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const serverCli = runServerCommand;

function migratedDataDir(): string {
  const dataDir = tempDir();
  const r = serverCli(['migrate', '--data-dir', dataDir]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(`applied migrations: ${SQLITE_MIGRATIONS.map((_, i) => i + 1).join(', ')}\n`);
  return dataDir;
}

function edit(dataDir: string, sql: string, ...args: unknown[]): void {
  const db = new Database(join(dataDir, 'sync.db'));
  db.prepare(sql).run(...args);
  db.close();
}

const START = ['--port', '0', '--host', '127.0.0.1', '--gc-interval', '0'];

describe('a schema this build does not know', () => {
  it('newer: the server, migrate and gc exit 1 with one line naming both versions', () => {
    const dataDir = migratedDataDir();
    edit(dataDir, 'INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, 0, ?)', KNOWN + 1, 'f'.repeat(64));
    const line = `insomnia-sync-server: the database schema is version ${KNOWN + 1}, newer than this server's (version ${KNOWN}): a newer insomnia-sync-server migrated it; run that version or a later one (or restore a backup taken before the upgrade)\n`;
    for (const args of [['migrate'], START, ['gc', '--dry-run']]) {
      const r = serverCli([...args, '--data-dir', dataDir]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toBe(line);
      expect(r.stdout).toBe('');
    }
  });

  it('an applied migration that differs: the server and migrate exit 1 naming the migration', () => {
    const dataDir = migratedDataDir();
    const other = migrationChecksum(`${SQLITE_MIGRATIONS[3]!} `);
    edit(dataDir, 'UPDATE schema_migrations SET checksum = ? WHERE version = 4', other);
    for (const args of [['migrate'], START]) {
      const r = serverCli([...args, '--data-dir', dataDir]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toBe(
        `insomnia-sync-server: migration 4 applied to the database (sha256 ${other.slice(0, 12)}) differs from this server's migration 4 (sha256 ${migrationChecksum(SQLITE_MIGRATIONS[3]!).slice(0, 12)}): the database was made by another build of insomnia-sync-server; run that build, or restore a backup\n`,
      );
      expect(r.stdout).toBe('');
    }
  });

  it('a database of this build migrates again as up to date', () => {
    const dataDir = migratedDataDir();
    const r = serverCli(['migrate', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('schema is up to date\n');
  });
});

describe('a newer server migrates the database while an older one runs', () => {
  it('the older server turns every request away with 503 and logs one error telling the operator to upgrade; healthz says so too', async () => {
    const dir = tempDir();
    const store = await openStore(undefined, dir);
    let logged = '';
    const app = buildApp({
      store,
      serverSecret: new Uint8Array(32).fill(4),
      kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 },
      logger: { stream: { write: (line: string) => void (logged += line) } },
      schemaCheck: { maxAgeMs: 0, intervalMs: 0 },
    });
    try {
      const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: fakeSignupBody() });
      expect(signup.statusCode).toBe(200);
      const token = signup.json<{ session: { token: string } }>().session.token;
      const list = () => app.inject({ method: 'GET', url: '/v1/workspaces', headers: { authorization: `Bearer ${token}` } });
      expect((await list()).statusCode).toBe(200);

      // what `insomnia-sync-server migrate` of a newer release leaves behind
      edit(dir, 'INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, 0, ?)', KNOWN + 1, 'f'.repeat(64));
      const unavailable = { error: { code: 'unavailable', message: "the server's storage is unavailable (database schema newer than this server)" } };
      for (const res of [await list(), await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: fakeSignupBody() })]) {
        expect(res.statusCode).toBe(503);
        expect(res.json()).toEqual(unavailable);
      }
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      expect(health.statusCode).toBe(503);
      expect(health.json()).toMatchObject({ ok: false, ...unavailable });
      const errors = logged
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .filter((l) => l.level >= 50 && /newer than this server's/.test(l.msg));
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toBe(
        `the database schema is version ${KNOWN + 1}, newer than this server's (version ${KNOWN}): a newer insomnia-sync-server migrated it; run that version or a later one (or restore a backup taken before the upgrade). This server now answers every request 503: upgrade it to the newer release`,
      );
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('its garbage collection (periodic or `gc`) deletes nothing: refused before it starts and in each batch', async () => {
    const dir = tempDir();
    const store = await openStore(undefined, dir);
    try {
      const user = newUser();
      await store.createUser(user);
      const wsId = randomBytes(16).toString('hex');
      await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date(0) });
      await store.putBlobs(wsId, [{ id: randomBytes(32).toString('hex'), data: new Uint8Array(100) }]);
      edit(dir, 'INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, 0, ?)', KNOWN + 1, 'f'.repeat(64));
      const later = new Date(Date.now() + 3_600_000);
      await expect(runGc(store, { graceHours: 1, dryRun: false, now: new Date(Date.now() + 7_200_000) })).rejects.toMatchObject({ code: 'schema_mismatch' });
      // the store's own checks, for a collection that was already past runGc's
      await expect(store.collectGarbage({ olderThan: later })).rejects.toMatchObject({ code: 'schema_mismatch' });
      await expect(store.purgeEnded(later)).rejects.toMatchObject({ code: 'schema_mismatch' });
      expect((await store.getWorkspace(wsId))!.size).toBe(100);
    } finally {
      await store.close();
    }
  });

  it('a running server process notices within seconds, without being asked', async () => {
    const server = await startServer({ args: ['--gc-interval', '0'] });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
      edit(server.dataDir, 'INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, 0, ?)', KNOWN + 1, 'f'.repeat(64));
      // requests read the schema again at most every 5 s
      let status = 200;
      for (let waited = 0; status === 200 && waited < 15_000; waited += 250) {
        await new Promise((r) => setTimeout(r, 250));
        status = (await fetch(`${server.url}/healthz`)).status;
      }
      expect(status).toBe(503);
      const res = await fetch(`${server.url}/v1/auth/prelogin`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'a@example.com' }) });
      expect(res.status).toBe(503);
      expect(readFileSync(server.logFile, 'utf8')).toMatch(/"level":50,[^\n]*newer than this server's[^\n]*upgrade it to the newer release/);
    } finally {
      await server.cleanup();
    }
  }, 30_000);
});
