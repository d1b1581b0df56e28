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
