import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { storeContract } from './store-contract.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';

const ALL_VERSIONS = SQLITE_MIGRATIONS.map((_, i) => i + 1);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-store-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite', async () => openStore(undefined, tempDir()));

describe('sqlite specifics', () => {
  it('opens DATA_DIR/sync.db by default in WAL mode with foreign keys on', async () => {
    const dir = tempDir();
    const store = await openStore('', dir);
    await store.close();
    expect(statSync(join(dir, 'sync.db')).isFile()).toBe(true);
    const db = new Database(join(dir, 'sync.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.prepare('SELECT version FROM schema_migrations ORDER BY version').pluck().all()).toEqual(ALL_VERSIONS);
    db.close();
  });

  it('honours sqlite:PATH', async () => {
    const dir = tempDir();
    const path = join(dir, 'other.db');
    const store = await openStore(`sqlite:${path}`, tempDir());
    await store.close();
    expect(statSync(path).isFile()).toBe(true);
  });

  it('applies migrations once, and only when asked when opened with migrate: false', async () => {
    const path = join(tempDir(), 'm.db');
    const raw = openSqliteStore(path, { migrate: false });
    expect(await raw.migrate()).toEqual(ALL_VERSIONS);
    expect(await raw.migrate()).toEqual([]);
    await raw.close();
    await raw.close();
  });

  it('rejects unknown URLs without echoing passwords', async () => {
    await expect(openStore('mysql://u:secretpw@db/sync', tempDir())).rejects.toThrow(/unknown database URL/);
    await expect(openStore('mysql://u:secretpw@db/sync', tempDir())).rejects.not.toThrow(/secretpw/);
  });
});
