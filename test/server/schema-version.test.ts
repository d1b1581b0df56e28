/**
 * The server, `migrate` and the operator commands refuse a database whose schema is newer than the
 * build (an older binary used to serve it, and `migrate` said "schema is up to date"), or whose
 * applied migration differs from the build's (it used to "migrate" cleanly, then answer 500 "no such
 * column"): exit 1 with one line naming the versions, or the migration.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationChecksum } from '../../src/storage/schema-version.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
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

function serverCli(args: string[]): { code: number; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, INSOMNIA_SYNC_DB: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

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
