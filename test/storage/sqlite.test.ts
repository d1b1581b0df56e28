import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { newUser, storeContract } from './store-contract.js';
import type { NewUser } from '../../src/storage/store.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { migrationChecksum } from '../../src/storage/schema-version.js';

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

  it('migration 6 copies former members\' public keys, which then outlive the account', async () => {
    const path = join(tempDir(), 'v5.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    SQLITE_MIGRATIONS.slice(0, 5).forEach((sql, i) => {
      raw.exec(sql);
      raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(i + 1);
    });
    const [owner, gone] = [newUser(), newUser()] as [NewUser, NewUser];
    for (const u of [owner, gone]) {
      raw
        .prepare(
          `INSERT INTO users (id, email, name, kdf_alg, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, auth_key_hash,
             wrapped_account_key, x25519_public_key, ed25519_public_key, wrapped_x25519_secret, wrapped_ed25519_secret, created_at)
           VALUES (?, ?, ?, 'argon2id', 65536, 3, 1, ?, ?, ?, ?, ?, ?, ?, 0)`,
        )
        .run(u.id, u.email, u.name, u.kdf.salt, Buffer.from(u.authKeyHash), u.keys.wrappedAccountKey, u.keys.x25519PublicKey, u.keys.ed25519PublicKey, u.keys.wrappedX25519Secret, u.keys.wrappedEd25519Secret);
    }
    const teamId = 'a'.repeat(32);
    const wsId = 'b'.repeat(32);
    raw.prepare("INSERT INTO teams (id, name, personal, epoch, created_at) VALUES (?, 'T', 0, 2, 0)").run(teamId);
    raw.prepare("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', 0)").run(teamId, owner.id);
    raw.prepare('INSERT INTO team_former_members (team_id, user_id, until_epoch, removed_at) VALUES (?, ?, 1, 5)').run(teamId, gone.id);
    raw.prepare("INSERT INTO workspaces (id, team_id, encrypted_name, created_at, updated_at) VALUES (?, ?, 'eA', 0, 0)").run(wsId, teamId);
    raw.close();

    const store = openSqliteStore(path);
    const former = async () => (await store.workspaceMembers(wsId)).find((m) => m.userId === gone.id);
    const keys = { userId: gone.id, x25519PublicKey: gone.keys.x25519PublicKey, ed25519PublicKey: gone.keys.ed25519PublicKey, untilEpoch: 1 };
    expect(await former()).toEqual({ ...keys, email: gone.email, name: gone.name, role: 'member' });
    expect((await store.deleteUser(gone.id, gone.authKeyHash)).ok).toBe(true);
    expect(await former()).toEqual({ ...keys, email: '', name: '', role: 'member' });
    await store.close();
  });

  it('rejects unknown URLs without echoing passwords', async () => {
    await expect(openStore('mysql://u:secretpw@db/sync', tempDir())).rejects.toThrow(/unknown database URL/);
    await expect(openStore('mysql://u:secretpw@db/sync', tempDir())).rejects.not.toThrow(/secretpw/);
  });
});

describe('sqlite schema versions and migration checksums', () => {
  const KNOWN = SQLITE_MIGRATIONS.length;
  const checksums = SQLITE_MIGRATIONS.map(migrationChecksum);

  function migrated(): string {
    const path = join(tempDir(), 'sync.db');
    openSqliteStore(path).close();
    return path;
  }
  function rows(path: string): { version: number; checksum: string | null }[] {
    const db = new Database(path, { readonly: true });
    try {
      return db.prepare('SELECT version, checksum FROM schema_migrations ORDER BY version').all() as { version: number; checksum: string | null }[];
    } finally {
      db.close();
    }
  }
  function edit(path: string, sql: string, ...args: unknown[]): void {
    const db = new Database(path);
    db.prepare(sql).run(...args);
    db.close();
  }

  it('records the sha256 of each migration it applies, and reopens a migrated database', async () => {
    const path = migrated();
    expect(rows(path)).toEqual(checksums.map((checksum, i) => ({ version: i + 1, checksum })));
    const again = openSqliteStore(path);
    expect(await again.migrate()).toEqual([]);
    await again.close();
    expect(rows(path)).toEqual(checksums.map((checksum, i) => ({ version: i + 1, checksum })));
  });

  it('a database migrated before checksums were kept gets those of this build, then opens as usual', async () => {
    const path = join(tempDir(), 'old.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    SQLITE_MIGRATIONS.slice(0, 5).forEach((sql, i) => {
      raw.exec(sql);
      raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(i + 1);
    });
    raw.close();
    // not migrating (the operator commands): opens, and writes nothing
    (await openStore(`sqlite:${path}`, tempDir(), { migrate: false, existing: true })).close();
    const store = openSqliteStore(path);
    expect(await store.migrate()).toEqual([]);
    await store.close();
    expect(rows(path)).toEqual(checksums.map((checksum, i) => ({ version: i + 1, checksum })));
  });

  it('refuses a schema newer than this build knows, naming both versions, and changes nothing', async () => {
    const path = migrated();
    edit(path, 'INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, 0, ?)', KNOWN + 1, 'f'.repeat(64));
    const message = `the database schema is version ${KNOWN + 1}, newer than this server's (version ${KNOWN}): a newer insomnia-sync-server migrated it; run that version or a later one (or restore a backup taken before the upgrade)`;
    expect(() => openSqliteStore(path)).toThrow(message);
    // the operator commands open without migrating: refused all the same
    await expect(openStore(`sqlite:${path}`, tempDir(), { migrate: false, existing: true })).rejects.toMatchObject({ code: 'schema_mismatch', message });
    expect(rows(path).map((r) => r.version)).toEqual([...checksums.map((_, i) => i + 1), KNOWN + 1]);
  });

  it('refuses a newer schema of a database from before checksums too', () => {
    const path = join(tempDir(), 'newer.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (let v = 1; v <= KNOWN + 2; v++) raw.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(v);
    raw.close();
    expect(() => openSqliteStore(path)).toThrow(`the database schema is version ${KNOWN + 2}, newer than this server's (version ${KNOWN})`);
    // no checksum column was added
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT name FROM pragma_table_info('schema_migrations')").pluck().all()).toEqual(['version', 'applied_at']);
    db.close();
  });

  it('refuses a database whose applied migration differs from this build\'s, naming the migration', async () => {
    const path = migrated();
    const other = migrationChecksum(`${SQLITE_MIGRATIONS[3]!}\n-- edited`);
    edit(path, 'UPDATE schema_migrations SET checksum = ? WHERE version = 4', other);
    const message = `migration 4 applied to the database (sha256 ${other.slice(0, 12)}) differs from this server's migration 4 (sha256 ${checksums[3]!.slice(0, 12)}): the database was made by another build of insomnia-sync-server; run that build, or restore a backup`;
    expect(() => openSqliteStore(path)).toThrow(message);
    await expect(openStore(`sqlite:${path}`, tempDir(), { migrate: false, existing: true })).rejects.toThrow(message);
  });

  it('refuses an older database whose applied migration differs before applying the pending ones', () => {
    const path = join(tempDir(), 'v5.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, checksum TEXT)');
    SQLITE_MIGRATIONS.slice(0, 5).forEach((sql, i) => {
      raw.exec(sql);
      raw.prepare('INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, 0, ?)').run(i + 1, i === 2 ? 'a'.repeat(64) : checksums[i]);
    });
    raw.close();
    expect(() => openSqliteStore(path)).toThrow(/^migration 3 applied to the database \(sha256 aaaaaaaaaaaa\) differs from this server's migration 3/);
    expect(rows(path).map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
  });
});
