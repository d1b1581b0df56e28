/**
 * The store contract on PostgreSQL (a fresh schema per test in one database per suite), and what
 * only PostgreSQL has: migrations raced by several servers, compare-and-swap across separate pools,
 * the backup refusal and URL handling.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/storage/open.js';
import { MIGRATION_LOCK } from '../../src/storage/postgres/db.js';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres/migrations.js';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite/migrations.js';
import { migrationChecksum } from '../../src/storage/schema-version.js';
import type { NewUser, Store } from '../../src/storage/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { newUser, storeContract } from './store-contract.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
}, 120_000);
afterAll(async () => {
  await db?.drop();
});

const ALL_VERSIONS = POSTGRES_MIGRATIONS.map((_, i) => i + 1);
const hex = (n: number): string => randomBytes(n).toString('hex');

storeContract('postgres', async () => openStore(await db.freshSchema(), '/nonexistent-data-dir'));

/**
 * A role with the rights the man page says serving needs, and no more: USAGE on the schema,
 * SELECT, INSERT, UPDATE, DELETE on its tables, USAGE, SELECT on its sequences. The schema is
 * migrated by its owner (here the superuser); the role then runs the whole contract.
 */
const dataRoles: string[] = [];
async function dataRoleOn(schemaUrl: string): Promise<{ url: string; role: string; schema: string }> {
  const schema = new URL(schemaUrl).searchParams.get('options')!.split('=')[1]!;
  const role = `data_${randomBytes(5).toString('hex')}`;
  dataRoles.push(role);
  await db.query(`CREATE ROLE ${role} LOGIN`);
  await db.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
  await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
  await db.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`);
  const u = new URL(schemaUrl);
  u.username = role;
  return { url: u.toString(), role, schema };
}
afterAll(async () => {
  // before the database goes (afterAll hooks run in reverse): what the roles were granted in it
  for (const role of dataRoles) await db.query(`DROP OWNED BY ${role}; DROP ROLE ${role}`).catch(() => {});
});

storeContract('postgres, a role with data rights only', async () => {
  const url = await db.freshSchema();
  await (await openPostgresStore(url)).close();
  return openStore((await dataRoleOn(url)).url, '/nonexistent-data-dir');
});

describe('postgres specifics', () => {
  it('has one migration per SQLite schema version', () => {
    expect(POSTGRES_MIGRATIONS.length).toBe(SQLITE_MIGRATIONS.length);
  });

  it('applies migrations once when opened with migrate: false, and records them', async () => {
    const url = await db.freshSchema();
    const raw = await openPostgresStore(url, { migrate: false });
    try {
      expect(await raw.migrate()).toEqual(ALL_VERSIONS);
      expect(await raw.migrate()).toEqual([]);
    } finally {
      await raw.close();
      await raw.close();
    }
  });

  it('lets servers that start at once migrate the same empty database: each version applied exactly once', async () => {
    const url = await db.freshSchema();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openPostgresStore(url, { migrate: false })));
    try {
      const applied = await Promise.all(stores.map((s) => s.migrate()));
      expect(applied.flat().sort((a, b) => a - b)).toEqual(ALL_VERSIONS);
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      const rows = await db.query<{ version: number }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      expect(rows.rows.map((r) => r.version)).toEqual(ALL_VERSIONS);
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it('keeps compare-and-swap across separate pools (servers): one winner per round', async () => {
    const url = await db.freshSchema();
    const servers: Store[] = [await openPostgresStore(url), await openPostgresStore(url), await openPostgresStore(url)];
    try {
      const user = newUser();
      await servers[0]!.createUser(user);
      const wsId = hex(16);
      await servers[1]!.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() });
      let head: string | null = null;
      for (let round = 0; round < 10; round++) {
        const attempts = Array.from({ length: 6 }, (_, i) => {
          const data = new Uint8Array(randomBytes(64));
          return { store: servers[i % servers.length]!, snap: { id: createHash('sha256').update(data).digest('hex'), parent: head, data, blobIds: [], createdAt: new Date() } };
        });
        const results = await Promise.all(attempts.map((a) => a.store.createSnapshot(wsId, a.snap)));
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        const newHead = (await servers[2]!.getWorkspace(wsId))!.head;
        for (const r of results) if (!r.ok) expect(r).toEqual({ ok: false, reason: 'conflict', head: newHead });
        expect(newHead).not.toBe(head);
        head = newHead;
      }
      expect(await servers[0]!.listSnapshots(wsId, { limit: 100 })).toHaveLength(10);
    } finally {
      for (const s of servers) await s.close();
    }
  });

  it('lists each workspace\'s head and keys as of one moment, however a push and a rotation land while it reads', async () => {
    // Clients keep the head seen with a workspace's newest key epoch (docs/crypto.md §5.2, epoch
    // marks): a listing that pairs keys of a rotation with a head from before a push that preceded
    // it makes them refuse the later head. The writer holds workspace_keys locked, so the listing
    // waits on it at a known point, then commits a push under epoch 1 followed by epoch 2's key.
    const url = await db.freshSchema();
    const store = await openPostgresStore(url);
    const writer = new pg.Client({ connectionString: url });
    await writer.connect();
    try {
      const user = newUser();
      await store.createUser(user);
      const wsId = hex(16);
      await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() });
      const first = new Uint8Array(randomBytes(64));
      const s1 = createHash('sha256').update(first).digest('hex');
      expect((await store.createSnapshot(wsId, { id: s1, parent: null, data: first, blobIds: [], createdAt: new Date() })).ok).toBe(true);
      const s2 = hex(32);

      await writer.query('BEGIN');
      await writer.query('LOCK TABLE workspace_keys IN ACCESS EXCLUSIVE MODE');
      const listing = store.listWorkspacesOfUser(user.id);
      // until the listing waits for the lock: then it has read whatever it reads before the keys
      const [{ pid }] = (await writer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
      for (let waited = 0; ; waited += 10) {
        const { rows } = await db.query<{ n: string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))",
          [pid],
        );
        if (Number(rows[0]!.n) > 0) break;
        if (waited > 10_000) throw new Error('the listing never waited for workspace_keys');
        await new Promise((r) => setTimeout(r, 10));
      }
      await writer.query('INSERT INTO snapshots (workspace_id, id, parent, data, created_at) VALUES ($1, $2, $3, $4, now())', [wsId, s2, s1, Buffer.from('x')]);
      await writer.query('UPDATE workspaces SET head = $1 WHERE id = $2', [s2, wsId]);
      await writer.query("INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) VALUES ($1, 2, 'eB')", [wsId]);
      await writer.query('COMMIT');

      const [ws] = await listing;
      const epochs = ws!.keys.map((k) => k.epoch);
      // before both (head s1, epoch 1) or after both (head s2, epochs 1 and 2): never epoch 2 with s1
      expect([JSON.stringify([s1, [1]]), JSON.stringify([s2, [1, 2]])]).toContain(JSON.stringify([ws!.head, epochs]));
    } finally {
      await writer.end();
      await store.close();
    }
  });

  it('stores overlapping blob batches from concurrent pushes without deadlock or double counting', async () => {
    const url = await db.freshSchema();
    const a = await openPostgresStore(url);
    const b = await openPostgresStore(url);
    try {
      const user = newUser();
      await a.createUser(user);
      const wsId = hex(16);
      await a.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() });
      const blobs = Array.from({ length: 300 }, () => ({ id: hex(32), data: new Uint8Array(randomBytes(100)) }));
      const reversed = [...blobs].reverse();
      const counts = await Promise.all([a.putBlobs(wsId, blobs), b.putBlobs(wsId, reversed), a.putBlobs(wsId, blobs.slice(100)), b.putBlobs(wsId, reversed.slice(50))]);
      expect(counts.reduce((x, y) => x + (y.ok ? y.stored : NaN), 0)).toBe(300);
      expect((await a.getWorkspace(wsId))!.size).toBe(300 * 100);
      expect(await b.missingBlobs(wsId, blobs.map((x) => x.id))).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('migration 6 copies former members\' public keys, which then outlive the account', async () => {
    const url = await db.freshSchema();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    const [owner, gone] = [newUser(), newUser()] as [NewUser, NewUser];
    const teamId = hex(16);
    const wsId = hex(16);
    try {
      await raw.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)');
      for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, 5).entries()) {
        await raw.query(sql);
        await raw.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [i + 1]);
      }
      for (const u of [owner, gone]) {
        await raw.query(
          `INSERT INTO users (id, email, name, kdf_alg, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, auth_key_hash,
             wrapped_account_key, x25519_public_key, ed25519_public_key, wrapped_x25519_secret, wrapped_ed25519_secret, created_at)
           VALUES ($1, $2, $3, 'argon2id', 65536, 3, 1, $4, $5, $6, $7, $8, $9, $10, now())`,
          [u.id, u.email, u.name, u.kdf.salt, Buffer.from(u.authKeyHash), u.keys.wrappedAccountKey, u.keys.x25519PublicKey, u.keys.ed25519PublicKey, u.keys.wrappedX25519Secret, u.keys.wrappedEd25519Secret],
        );
      }
      await raw.query("INSERT INTO teams (id, name, personal, epoch, created_at) VALUES ($1, 'T', false, 2, now())", [teamId]);
      await raw.query("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES ($1, $2, 'owner', now())", [teamId, owner.id]);
      await raw.query('INSERT INTO team_former_members (team_id, user_id, until_epoch, removed_at) VALUES ($1, $2, 1, now())', [teamId, gone.id]);
      await raw.query("INSERT INTO workspaces (id, team_id, encrypted_name, created_at, updated_at) VALUES ($1, $2, 'eA', now(), now())", [wsId, teamId]);
    } finally {
      await raw.end();
    }

    const store = await openPostgresStore(url);
    try {
      const former = async () => (await store.workspaceMembers(wsId)).find((m) => m.userId === gone.id);
      const keys = { userId: gone.id, x25519PublicKey: gone.keys.x25519PublicKey, ed25519PublicKey: gone.keys.ed25519PublicKey, untilEpoch: 1 };
      expect(await former()).toEqual({ ...keys, email: gone.email, name: gone.name, role: 'member' });
      expect((await store.deleteUser(gone.id, gone.authKeyHash)).ok).toBe(true);
      expect(await former()).toEqual({ ...keys, email: '', name: '', role: 'member' });
    } finally {
      await store.close();
    }
  });

  it('refuses backup, naming pg_dump', async () => {
    const store = await openStore(await db.freshSchema(), '/nonexistent-data-dir');
    try {
      await expect(store.backup('/tmp/never-written.db')).rejects.toMatchObject({ code: 'backup_unsupported', message: expect.stringMatching(/pg_dump/) });
    } finally {
      await store.close();
    }
  });

  it('accepts postgresql:// too, and a failed connection names neither user nor password', async () => {
    const store = await openStore((await db.freshSchema()).replace(/^postgres:/, 'postgresql:'), '/nonexistent-data-dir');
    expect(await store.migrate()).toEqual([]);
    await store.close();
    const err = await openStore('postgres://someone:secretpw@127.0.0.1:9/nodb', '/nonexistent-data-dir').catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error).message)).not.toMatch(/secretpw/);
  });

  it('runs the operator commands on PostgreSQL: migrate applies the schema, backup refuses and names pg_dump', async () => {
    const bin = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
    const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-ops-'));
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [bin, ...args], { env: { ...process.env, INSOMNIA_SYNC_DB: '' } }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    try {
      const url = await db.freshSchema();
      const migrated = await run(['migrate', '--data-dir', dataDir, '--db', url]);
      expect(migrated.code, migrated.stderr).toBe(0);
      const store = await openPostgresStore(url, { migrate: false });
      expect(await store.migrate()).toEqual([]);
      await store.close();
      const out = join(dataDir, 'copy.db');
      const backup = await run(['backup', '--out', out, '--data-dir', dataDir, '--db', url]);
      expect(backup.code).toBe(1);
      expect(backup.stderr).toMatch(/pg_dump/);
      // the partial file made for the copy goes with the failure
      expect(readdirSync(dataDir).filter((f) => f.startsWith('copy.db'))).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('operator commands refuse a database without our schema, and add none to it', async () => {
    const bin = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
    const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-ops-'));
    const run = (args: string[]) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile(process.execPath, [bin, ...args], { env: { ...process.env, INSOMNIA_SYNC_DB: '' } }, (err, _stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
        );
      });
    try {
      const url = await db.freshSchema();
      await expect(openStore(url, dataDir, { existing: true })).rejects.toMatchObject({ code: 'store_missing' });
      for (const args of [['gc'], ['admin', 'export-user', 'ada@example.com'], ['backup', '--out', join(dataDir, 'copy')]]) {
        const r = await run([...args, '--data-dir', dataDir, '--db', url]);
        expect(r.code, args[0]).toBe(1);
        expect(r.stderr).toMatch(/^insomnia-sync-server: PostgreSQL at 127\.0\.0\.1:\d+\/test_\w+ has no insomnia-sync schema: check --data-dir or --db\n$/);
      }
      const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
      const tables = await db.query('SELECT 1 FROM information_schema.tables WHERE table_schema = $1', [schema]);
      expect(tables.rowCount).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * A deletion that commits between a route's access check and a store method's insert: the method
 * answers as if it had come after the deletion (no_workspace / no_user), never a foreign-key error
 * (a 500). A second connection holds the row, so the deletion queues on it first and the method
 * behind it; the holder then lets go and the deletion commits before the method goes on.
 */
describe('postgres: inserts racing a deletion of the row they refer to', () => {
  async function behindDeletion<T>(url: string, lockSql: string, lockArgs: unknown[], deletion: () => Promise<unknown>, call: () => Promise<T>): Promise<T> {
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      expect((await holder.query(lockSql, lockArgs)).rowCount).toBe(1);
      const waiting = async (n: number): Promise<void> => {
        for (let i = 0; i < 400; i++) {
          const { rows } = await holder.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
          if (rows[0].n >= n) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        const { rows } = await holder.query("SELECT state, wait_event_type, left(query, 60) AS q FROM pg_stat_activity WHERE datname = current_database()");
        throw new Error(`${n} waiting backend(s) expected: ${JSON.stringify(rows)}`);
      };
      const deleted = deletion();
      await waiting(1);
      const result = call().then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      // (a call that does not wait for the row fails here, with what it answered)
      await Promise.race([waiting(2), result.then((r) => Promise.reject(new Error(`answered without waiting for the deletion: ${'error' in r ? String(r.error) : JSON.stringify(r.value)}`)))]);
      await holder.query('COMMIT');
      await deleted;
      const settled = await result;
      if ('error' in settled) throw settled.error;
      return settled.value;
    } finally {
      await holder.end();
    }
  }

  /**
   * `deadlocksHang`: the store's connections never run PostgreSQL's deadlock check (deadlock_timeout
   * an hour), so two transactions that lock in opposite orders wait until the statement timeout (8 s)
   * ends one with an error, instead of the check failing one after a second and db.tx retrying it
   * unseen: a test of a lock order then fails, whatever the retry answers.
   */
  async function setUp(opts: { deadlocksHang?: boolean } = {}) {
    let url = await db.freshSchema();
    if (opts.deadlocksHang) {
      const u = new URL(url);
      u.searchParams.set('options', `${u.searchParams.get('options') ?? ''} -c deadlock_timeout=1h`.trim());
      url = u.toString();
    }
    const store = await openPostgresStore(url, opts.deadlocksHang ? { statementTimeoutMs: 8000 } : {});
    const user = newUser();
    await store.createUser(user);
    const wsId = hex(16);
    await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() });
    // connections made now: a new one opened while the holder holds the row can be slow to come up
    await Promise.all([1, 2, 3].map(() => store.getWorkspace(wsId)));
    return { url, store, user, wsId };
  }
  const lockWorkspace = 'SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE';
  const lockUser = 'SELECT 1 FROM users WHERE id = $1 FOR UPDATE';
  const token = (wsId: string, userId: string) => ({
    id: hex(16), workspaceId: wsId, createdBy: userId, name: 'racy', scope: 'write' as const, secretHash: new Uint8Array(randomBytes(32)),
    publicKey: 'pk', certificate: 'cert', keys: [{ epoch: 1, wrappedKey: 'eA' }], createdAt: new Date(), expiresAt: null,
  });

  it('putBlobs behind a workspace deletion: no_workspace, nothing stored', async () => {
    const { url, store, wsId } = await setUp();
    try {
      const blob = { id: hex(32), data: new Uint8Array(randomBytes(100)) };
      const result = await behindDeletion(url, lockWorkspace, [wsId], () => store.deleteWorkspace(wsId), () => store.putBlobs(wsId, [blob]));
      expect(result).toEqual({ ok: false, reason: 'no_workspace' });
      expect(await store.readBlobs(wsId, [blob.id])).toEqual([null]);
    } finally {
      await store.close();
    }
  });

  it('createAccessToken behind a workspace deletion: no_workspace; behind an account deletion: no_user', async () => {
    for (const gone of ['workspace', 'account'] as const) {
      const { url, store, user, wsId } = await setUp();
      try {
        const t = token(wsId, user.id);
        const result =
          gone === 'workspace'
            ? await behindDeletion(url, lockWorkspace, [wsId], () => store.deleteWorkspace(wsId), () => store.createAccessToken(t))
            : await behindDeletion(url, lockUser, [user.id], () => store.deleteUser(user.id, user.authKeyHash), () => store.createAccessToken(t));
        expect(result).toEqual({ ok: false, reason: gone === 'workspace' ? 'no_workspace' : 'no_user' });
        expect(await store.getAccessToken(t.id)).toBeNull();
      } finally {
        await store.close();
      }
    }
  });

  it('createSession (a login) behind an account deletion: no_user, no session', async () => {
    const { url, store, user } = await setUp();
    try {
      const tokenHash = new Uint8Array(randomBytes(32));
      const session = { id: hex(16), userId: user.id, tokenHash, client: null, ip: null, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) };
      const result = await behindDeletion(url, lockUser, [user.id], () => store.deleteUser(user.id, user.authKeyHash), () => store.createSession(session));
      expect(result).toEqual({ ok: false, reason: 'no_user' });
      expect(await store.useSession(tokenHash, new Date(), new Date(Date.now() + 60_000))).toBeNull();
    } finally {
      await store.close();
    }
  });

  /**
   * A shared team of `owner` (who created `user` of setUp as a confirmed admin in it), one
   * workspace in it, and `pending`, who accepted an invitation and is not confirmed yet.
   */
  async function withTeam(store: Store, user: NewUser) {
    const owner = newUser();
    await store.createUser(owner);
    const teamId = hex(16);
    expect(await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: 'eA', createdAt: new Date() })).toEqual({ ok: true });
    const teamWs = hex(16);
    expect((await store.createWorkspace({ id: teamWs, teamId, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() })).ok).toBe(true);
    const pending = newUser();
    await store.createUser(pending);
    for (const [who, role] of [[user, 'admin'], [pending, 'member']] as const) {
      const codeHash = new Uint8Array(randomBytes(32));
      const at = new Date();
      expect(await store.createInvitation({ id: hex(16), teamId, email: who.email, role, codeHash, invitedBy: owner.id, createdAt: at, expiresAt: new Date(at.getTime() + 60_000) })).toEqual({ ok: true });
      expect((await store.acceptInvitation(codeHash, who.id, who.email, new Date())).ok).toBe(true);
    }
    expect(await store.confirmMember(teamId, user.id, [{ epoch: 1, sealedKey: 'eA' }], new Date())).toEqual({ ok: true });
    return { owner, teamId, teamWs, pending };
  }
  const deleteAccount = (store: Store, user: NewUser) => () => store.deleteUser(user.id, user.authKeyHash);
  /** An open invitation of `teamId` to `email` sent by `invitedBy`; its code's hash. */
  async function invite(store: Store, teamId: string, invitedBy: string, email: string): Promise<Uint8Array> {
    const codeHash = new Uint8Array(randomBytes(32));
    const at = new Date();
    expect(await store.createInvitation({ id: hex(16), teamId, email, role: 'member', codeHash, invitedBy, createdAt: at, expiresAt: new Date(at.getTime() + 60_000) })).toEqual({ ok: true });
    return codeHash;
  }

  it('createTeam behind an account deletion: no_user, no team', async () => {
    const { url, store, user } = await setUp();
    try {
      const teamId = hex(16);
      const result = await behindDeletion(url, lockUser, [user.id], deleteAccount(store, user), () =>
        store.createTeam({ id: teamId, name: 'Late', ownerId: user.id, sealedTeamKey: 'eA', createdAt: new Date() }),
      );
      expect(result).toEqual({ ok: false, reason: 'no_user' });
      expect(await store.getTeam(teamId)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it("createInvitation behind the inviter's account deletion: no_user, nothing stored or counted (with the hourly cap and without)", async () => {
    for (const limit of [{ max: 100, since: new Date(0) }, undefined]) {
      const { url, store, user } = await setUp();
      try {
        const { teamId } = await withTeam(store, user);
        const at = new Date();
        const inv = { id: hex(16), teamId, email: 'late@example.com', role: 'member' as const, codeHash: new Uint8Array(randomBytes(32)), invitedBy: user.id, createdAt: at, expiresAt: new Date(at.getTime() + 60_000) };
        const result = await behindDeletion(url, lockUser, [user.id], deleteAccount(store, user), () => store.createInvitation(inv, limit));
        expect(result).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.listInvitations(teamId, at)).toEqual([]);
      } finally {
        await store.close();
      }
    }
  });

  it('setEmailVerification and recordActivationMail (a resent activation code) behind an account deletion: no_user, nothing stored', async () => {
    for (const call of ['recordActivationMail', 'setEmailVerification'] as const) {
      const { url, store, user } = await setUp();
      try {
        const result = await behindDeletion(url, lockUser, [user.id], deleteAccount(store, user), () =>
          call === 'setEmailVerification'
            ? store.setEmailVerification(user.id, user.email, new Uint8Array(randomBytes(32)), new Date(Date.now() + 60_000))
            : store.recordActivationMail(user.id, new Date(), [{ max: 3, since: new Date(0) }]),
        );
        expect(result).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.getAccountMeta(user.id)).toBeNull();
      } finally {
        await store.close();
      }
    }
  });

  it('confirmMember behind the removal of that unconfirmed member: not_member, no keys', async () => {
    const { url, store, user } = await setUp();
    try {
      const { teamId, pending } = await withTeam(store, user);
      const result = await behindDeletion(
        url,
        'SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2 FOR UPDATE',
        [teamId, pending.id],
        () => store.removeUnconfirmedMember(teamId, pending.id),
        () => store.confirmMember(teamId, pending.id, [{ epoch: 1, sealedKey: 'eA' }], new Date()),
      );
      expect(result).toEqual({ ok: false, reason: 'not_member' });
      expect((await store.teamAccess(teamId, pending.id)).state).toBe('none');
      expect((await store.listTeamsOfUser(pending.id)).filter((t) => t.id === teamId)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("rotateTeam behind the deletion of one of the team's workspaces: workspaces_changed, the epoch stays", async () => {
    const { url, store, user, wsId } = await setUp();
    try {
      const teamId = user.personalTeam.id;
      const rotation = { expectedEpoch: 1, removeUserId: null, sealedKeys: [{ userId: user.id, sealedKey: 'eB' }], workspaceKeys: [{ workspaceId: wsId, wrappedKey: 'eB' }], now: new Date() };
      const result = await behindDeletion(url, lockWorkspace, [wsId], () => store.deleteWorkspace(wsId), () => store.rotateTeam(teamId, rotation));
      expect(result).toEqual({ ok: false, reason: 'workspaces_changed' });
      expect((await store.getTeam(teamId))!.epoch).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("deleteUser behind the deletion of a workspace its write token was kept for: the account goes, no signer record of the gone workspace", async () => {
    const { url, store, user } = await setUp();
    try {
      const { teamId, teamWs } = await withTeam(store, user);
      const t = token(teamWs, user.id);
      expect(await store.createAccessToken(t)).toEqual({ ok: true });
      const result = await behindDeletion(url, lockWorkspace, [teamWs], () => store.deleteWorkspace(teamWs), deleteAccount(store, user));
      expect(result).toMatchObject({ ok: true });
      expect(await store.getUserById(user.id)).toBeNull();
      expect((await store.teamAccess(teamId, user.id)).state).toBe('former');
      expect(await store.workspaceFormerAccessTokens(teamWs)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  // Lock order: the deletions lock the account (deleteUser), then teams (deleteUser, deleteTeam),
  // then workspaces, by id (deleteTeam, deleteWorkspace, deleteUser), then what hangs off them
  // (invitations, members, tokens); purgeEnded waits for none of these rows (SKIP LOCKED). An
  // acceptance that locked the invitation first and then waited for the team or account (its
  // membership's foreign keys), or an account deletion that deleted invitations or tokens before
  // it locked the workspaces, was waited for in turn by a deletion holding them: a deadlock.

  it('acceptInvitation behind a deletion of its team: no_team, nothing stored, no deadlock', async () => {
    const { url, store, user } = await setUp({ deadlocksHang: true });
    try {
      const { owner, teamId, teamWs } = await withTeam(store, user);
      const joiner = newUser();
      await store.createUser(joiner);
      const code = await invite(store, teamId, owner.id, joiner.email);
      // the holder stops deleteTeam after it locked the team, at the team's workspaces
      const result = await behindDeletion(url, lockWorkspace, [teamWs], () => store.deleteTeam(teamId, owner.id, new Date(0)), () =>
        store.acceptInvitation(code, joiner.id, joiner.email, new Date()),
      );
      expect(result).toEqual({ ok: false, reason: 'no_team' });
      expect(await store.getTeam(teamId)).toBeNull();
      expect((await store.listTeamsOfUser(joiner.id)).map((t) => t.id)).toEqual([joiner.personalTeam.id]);
      expect((await store.getAccountMeta(joiner.id))!.verifiedAt).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('acceptInvitation behind the deletion of the accepting account: no_user, nothing stored, no deadlock', async () => {
    const { url, store, user } = await setUp({ deadlocksHang: true });
    try {
      const { owner, teamId } = await withTeam(store, user);
      const joiner = newUser();
      await store.createUser(joiner);
      const code = await invite(store, teamId, owner.id, joiner.email);
      // the holder stops deleteUser after it locked the account, at its (personal) team
      const result = await behindDeletion(
        url,
        'SELECT 1 FROM teams WHERE id = $1 FOR UPDATE',
        [joiner.personalTeam.id],
        deleteAccount(store, joiner),
        () => store.acceptInvitation(code, joiner.id, joiner.email, new Date()),
      );
      expect(result).toEqual({ ok: false, reason: 'no_user' });
      expect(await store.getUserById(joiner.id)).toBeNull();
      expect((await store.teamMembers(teamId)).map((m) => m.userId)).not.toContain(joiner.id);
      expect(await store.listInvitations(teamId, new Date(0))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("acceptInvitation behind the deletion of the inviter's account: unknown (the invitation was withdrawn), nothing stored, no deadlock", async () => {
    const { url, store, user } = await setUp({ deadlocksHang: true });
    try {
      const { teamId } = await withTeam(store, user);
      const joiner = newUser();
      await store.createUser(joiner);
      const code = await invite(store, teamId, user.id, joiner.email);
      // the holder stops deleteUser after it locked the account and its teams, at the invitation it accepted
      const result = await behindDeletion(
        url,
        'SELECT 1 FROM team_invitations WHERE accepted_by = $1 FOR UPDATE',
        [user.id],
        deleteAccount(store, user),
        () => store.acceptInvitation(code, joiner.id, joiner.email, new Date()),
      );
      expect(result).toEqual({ ok: false, reason: 'unknown' });
      expect(await store.getUserById(user.id)).toBeNull();
      expect((await store.teamMembers(teamId)).map((m) => m.userId)).not.toContain(joiner.id);
    } finally {
      await store.close();
    }
  });

  it("deleteUser of a former member (its write token kept, its accepted invitation) while the team is deleted: both go, no deadlock", async () => {
    const { url, store, user } = await setUp({ deadlocksHang: true });
    try {
      const { owner, teamId, teamWs } = await withTeam(store, user);
      expect(await store.createAccessToken(token(teamWs, user.id))).toEqual({ ok: true });
      expect(await store.leaveTeam(teamId, user.id, new Date())).toEqual({ ok: true, rotationPending: true });
      // the holder stops deleteTeam after it deleted the team's workspaces, at the team's members
      const result = await behindDeletion(
        url,
        'SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2 FOR KEY SHARE',
        [teamId, owner.id],
        () => store.deleteTeam(teamId, owner.id, new Date(0)),
        deleteAccount(store, user),
      );
      expect(result).toMatchObject({ ok: true });
      expect(await store.getUserById(user.id)).toBeNull();
      expect(await store.getTeam(teamId)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it("deleteTeam while a former member's account is deleted, its write tokens in two of the team's workspaces: both go, no deadlock", async () => {
    const { url, store, user } = await setUp({ deadlocksHang: true });
    try {
      const { owner, teamId } = await withTeam(store, user);
      // stored high id first: a deletion that locks them as it finds them takes them in the other order than by id
      const [high, low] = [`ff${hex(15)}`, `00${hex(15)}`];
      for (const id of [high, low]) {
        expect((await store.createWorkspace({ id, teamId, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() })).ok).toBe(true);
        expect(await store.createAccessToken(token(id, user.id))).toEqual({ ok: true });
      }
      expect(await store.leaveTeam(teamId, user.id, new Date())).toEqual({ ok: true, rotationPending: true });
      // the holder stops the account deletion at the first of them by id, and the team deletion behind it
      const result = await behindDeletion(url, lockWorkspace, [low], deleteAccount(store, user), () => store.deleteTeam(teamId, owner.id, new Date(0)));
      expect(result).toMatchObject({ ok: true, removed: { workspaces: 3 } });
      expect(await store.getUserById(user.id)).toBeNull();
      expect(await store.getTeam(teamId)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('deleteWorkspace of a workspace of the account being deleted, with its access token: both go, no deadlock', async () => {
    const { url, store, user, wsId } = await setUp({ deadlocksHang: true });
    try {
      expect(await store.createAccessToken(token(wsId, user.id))).toEqual({ ok: true });
      // the holder stops the workspace deletion before it starts, and the account deletion when it comes to the workspace
      const result = await behindDeletion(url, 'SELECT 1 FROM workspaces WHERE id = $1 FOR KEY SHARE', [wsId], () => store.deleteWorkspace(wsId), deleteAccount(store, user));
      expect(result).toMatchObject({ ok: true });
      expect(await store.getUserById(user.id)).toBeNull();
      expect(await store.getWorkspace(wsId)).toBeNull();
    } finally {
      await store.close();
    }
  });

  /**
   * `owner`'s own team (no one else in it) with workspace `wsId`, in which `former` left a write
   * token when it left the team: deleting `owner` deletes the workspace (FOR UPDATE), deleting
   * `former` keeps a signer record of the token (the workspace FOR KEY SHARE).
   */
  async function teamLeftWithToken(store: Store, owner: NewUser, former: NewUser, wsId: string): Promise<void> {
    const teamId = hex(16);
    expect(await store.createTeam({ id: teamId, name: 'Left', ownerId: owner.id, sealedTeamKey: 'eA', createdAt: new Date() })).toEqual({ ok: true });
    expect((await store.createWorkspace({ id: wsId, teamId, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date() })).ok).toBe(true);
    const code = await invite(store, teamId, owner.id, former.email);
    expect((await store.acceptInvitation(code, former.id, former.email, new Date())).ok).toBe(true);
    expect(await store.confirmMember(teamId, former.id, [{ epoch: 1, sealedKey: 'eA' }], new Date())).toEqual({ ok: true });
    expect(await store.createAccessToken(token(wsId, former.id))).toEqual({ ok: true });
    expect(await store.leaveTeam(teamId, former.id, new Date())).toEqual({ ok: true, rotationPending: true });
  }

  it("two account deletions, each of the only member of a team whose workspace holds the other's write token: both go, no deadlock", async () => {
    const { url, store, user: a } = await setUp({ deadlocksHang: true });
    try {
      const b = newUser();
      await store.createUser(b);
      // a's workspace first by id: each deletion meets the other's workspace after its own in one order, before it in the other
      const [wsA, wsB] = [`00${hex(15)}`, `ff${hex(15)}`];
      await teamLeftWithToken(store, a, b, wsA);
      await teamLeftWithToken(store, b, a, wsB);
      // the holder stops b's deletion at its own workspace, and a's (which holds its own) at b's
      const result = await behindDeletion(url, lockWorkspace, [wsB], deleteAccount(store, b), deleteAccount(store, a));
      // its own team's and its personal one (setUp's)
      expect(result).toMatchObject({ ok: true, removed: { workspaces: 2 } });
      for (const u of [a, b]) expect(await store.getUserById(u.id)).toBeNull();
      for (const ws of [wsA, wsB]) expect(await store.getWorkspace(ws)).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('purgeEnded while an account with a signed-out session and an expired invitation to its address is deleted: it skips what the deletion holds, no deadlock', async () => {
    const { url, store, user, wsId } = await setUp({ deadlocksHang: true });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      const admin = newUser();
      await store.createUser(admin);
      const { owner, teamId } = await withTeam(store, admin);
      const at = new Date();
      const stale = { id: hex(16), teamId, email: user.email, role: 'member' as const, codeHash: new Uint8Array(randomBytes(32)), invitedBy: owner.id, createdAt: new Date(at.getTime() - 120_000), expiresAt: new Date(at.getTime() - 60_000) };
      expect(await store.createInvitation(stale)).toEqual({ ok: true });
      const session = { id: hex(16), userId: user.id, tokenHash: new Uint8Array(randomBytes(32)), client: 'cli', ip: '192.0.2.1', createdAt: at, expiresAt: new Date(at.getTime() + 60_000) };
      expect(await store.createSession(session)).toEqual({ ok: true });
      expect(await store.revokeSession(session.id)).toBe(true);
      expect(await store.createAccessToken(token(wsId, user.id))).toEqual({ ok: true });
      const before = new Date(at.getTime() + 3_600_000);

      // The holder stops the account deletion at its access tokens, after it took the invitations
      // to its address; the sessions it deletes last (the account row's cascade).
      await holder.query('BEGIN');
      expect((await holder.query('SELECT 1 FROM access_tokens WHERE created_by = $1 FOR UPDATE', [user.id])).rowCount).toBe(1);
      const waiting = async (n: number): Promise<void> => {
        for (let i = 0; i < 400; i++) {
          const { rows } = await holder.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
          if (rows[0].n >= n) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        throw new Error(`${n} waiting backend(s) expected`);
      };
      const deleted = deleteAccount(store, user)();
      await waiting(1);
      // The purge takes the session first, then the invitation: it must not wait for the deletion
      // holding the invitation (which then waits for the session), however it is let go.
      const purged = store.purgeEnded(before).then((value) => ({ value }), (error: unknown) => ({ error }));
      await Promise.race([purged, waiting(2)]);
      await holder.query('COMMIT');
      expect(await deleted).toMatchObject({ ok: true, removed: { invitations: 1 } });
      const first = await purged;
      if ('error' in first) throw first.error;
      // the session purged, the invitation left to the deletion that held it
      expect(first.value).toEqual({ sessions: 1, invitations: 0 });
      expect(await store.getUserById(user.id)).toBeNull();
      expect(await store.endedSession(session.tokenHash, new Date())).toBeNull();
      expect(await store.purgeEnded(before, { dryRun: true })).toEqual({ sessions: 0, invitations: 0 });
    } finally {
      await holder.end();
      await store.close();
    }
  });
});

describe('postgres roles: serving needs data rights, migrating needs the schema', () => {
  const bin = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { env: { ...process.env, INSOMNIA_SYNC_DB: '' } }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-roles-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('a role with data rights only opens (and migrate calls up to date) a schema its owner migrated', async () => {
    const url = await db.freshSchema();
    await (await openPostgresStore(url)).close();
    const { url: asRole } = await dataRoleOn(url);
    const store = await openPostgresStore(asRole);
    try {
      expect(await store.migrate()).toEqual([]);
      expect((await store.createUser(newUser())).ok).toBe(true);
    } finally {
      await store.close();
    }
    const r = await cli(['migrate', '--data-dir', dataDir, '--db', asRole]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('schema is up to date\n');
  });

  it('with a migration pending, the data role is refused with one line naming the grants; migrate says "PostgreSQL at" too', async () => {
    const url = await db.freshSchema();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      await raw.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL, checksum text)');
      for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, -1).entries()) {
        await raw.query(sql);
        await raw.query('INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)', [i + 1, migrationChecksum(sql)]);
      }
    } finally {
      await raw.end();
    }
    const { url: asRole, role, schema } = await dataRoleOn(url);
    const grants = `GRANT CREATE ON SCHEMA ${schema} TO ${role}, or run "insomnia-sync-server migrate" as the schema's owner and the server as this role); serving needs only GRANT USAGE ON SCHEMA ${schema} TO ${role}, SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} and USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema}`;
    await expect(openPostgresStore(asRole)).rejects.toMatchObject({ code: 'store_unavailable', message: expect.stringContaining(grants) });
    for (const args of [['migrate'], ['--port', '0', '--gc-interval', '0']]) {
      const r = await cli([...args, '--data-dir', dataDir, '--db', asRole]);
      expect(r.code, args[0]).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^insomnia-sync-server: PostgreSQL at 127\\.0\\.0\\.1:\\d+/test_\\w+: permission denied for schema ${schema}: creating or changing the tables needs a role that may create in the schema and owns its tables \\(`));
      expect(r.stderr).toContain(grants);
      expect(r.stderr.split('\n')).toHaveLength(2);
    }
    // the owner migrates; then the data role serves
    await (await openPostgresStore(url)).close();
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    await (await openPostgresStore(asRole)).close();
  });

  it('a role without rights on the schema is told which grants serving needs', async () => {
    const url = await db.freshSchema();
    await (await openPostgresStore(url)).close();
    const schema = new URL(url).searchParams.get('options')!.split('=')[1]!;
    const role = `data_${randomBytes(5).toString('hex')}`;
    dataRoles.push(role);
    await db.query(`CREATE ROLE ${role} LOGIN`);
    await db.query(`GRANT USAGE ON SCHEMA ${schema} TO ${role}`);
    const u = new URL(url);
    u.username = role;
    const err = (await openPostgresStore(u.toString()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:\\d+/test_\\w+: permission denied for table schema_migrations: the server's role needs GRANT USAGE ON SCHEMA ${schema} TO ${role}, SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} and USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema}$`),
    );
  });
});

describe('postgres schema versions and migration checksums', () => {
  const KNOWN = POSTGRES_MIGRATIONS.length;
  const checksums = POSTGRES_MIGRATIONS.map(migrationChecksum);
  const schemaOf = (url: string): string => new URL(url).searchParams.get('options')!.split('=')[1]!;
  const rows = async (url: string) =>
    (await db.query<{ version: number; checksum: string | null }>(`SELECT version, checksum FROM ${schemaOf(url)}.schema_migrations ORDER BY version`)).rows;
  async function migrated(): Promise<string> {
    const url = await db.freshSchema();
    await (await openPostgresStore(url)).close();
    return url;
  }

  it('records the sha256 of each migration it applies, and reopens a migrated database', async () => {
    const url = await migrated();
    expect(await rows(url)).toEqual(checksums.map((checksum, i) => ({ version: i + 1, checksum })));
    const again = await openPostgresStore(url);
    try {
      expect(await again.migrate()).toEqual([]);
    } finally {
      await again.close();
    }
    expect(await rows(url)).toEqual(checksums.map((checksum, i) => ({ version: i + 1, checksum })));
  });

  it('a database migrated before checksums were kept gets those of this build, then opens as usual', async () => {
    const url = await db.freshSchema();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      await raw.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)');
      for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, 5).entries()) {
        await raw.query(sql);
        await raw.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [i + 1]);
      }
    } finally {
      await raw.end();
    }
    await (await openStore(url, '/nonexistent-data-dir', { migrate: false, existing: true })).close();
    const store = await openPostgresStore(url);
    try {
      expect(await store.migrate()).toEqual([]);
    } finally {
      await store.close();
    }
    expect(await rows(url)).toEqual(checksums.map((checksum, i) => ({ version: i + 1, checksum })));
  });

  it('refuses a schema newer than this build knows, naming both versions, and changes nothing', async () => {
    const url = await migrated();
    await db.query(`INSERT INTO ${schemaOf(url)}.schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)`, [KNOWN + 1, 'f'.repeat(64)]);
    const message = `the database schema is version ${KNOWN + 1}, newer than this server's (version ${KNOWN}): a newer insomnia-sync-server migrated it; run that version or a later one (or restore a backup taken before the upgrade)`;
    await expect(openPostgresStore(url)).rejects.toMatchObject({ code: 'schema_mismatch', message });
    await expect(openStore(url, '/nonexistent-data-dir', { migrate: false, existing: true })).rejects.toMatchObject({ code: 'schema_mismatch', message });
    expect((await rows(url)).map((r) => r.version)).toEqual([...ALL_VERSIONS, KNOWN + 1]);
  });

  it('refuses a database whose applied migration differs from this build\'s, naming the migration', async () => {
    const url = await migrated();
    const other = migrationChecksum(`${POSTGRES_MIGRATIONS[3]!}\n-- edited`);
    await db.query(`UPDATE ${schemaOf(url)}.schema_migrations SET checksum = $1 WHERE version = 4`, [other]);
    const message = `migration 4 applied to the database (sha256 ${other.slice(0, 12)}) differs from this server's migration 4 (sha256 ${checksums[3]!.slice(0, 12)}): the database was made by another build of insomnia-sync-server; run that build, or restore a backup`;
    await expect(openPostgresStore(url)).rejects.toMatchObject({ code: 'schema_mismatch', message });
    await expect(openStore(url, '/nonexistent-data-dir', { migrate: false, existing: true })).rejects.toMatchObject({ code: 'schema_mismatch', message });
  });

  it('refuses an older database whose applied migration differs before applying the pending ones', async () => {
    const url = await db.freshSchema();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    try {
      await raw.query('CREATE TABLE schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL, checksum text)');
      for (const [i, sql] of POSTGRES_MIGRATIONS.slice(0, 5).entries()) {
        await raw.query(sql);
        await raw.query('INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)', [i + 1, i === 2 ? 'a'.repeat(64) : checksums[i]]);
      }
    } finally {
      await raw.end();
    }
    await expect(openPostgresStore(url)).rejects.toThrow(/^migration 3 applied to the database \(sha256 aaaaaaaaaaaa\) differs from this server's migration 3/);
    expect((await rows(url)).map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it('gc of an older server waits for a migration in progress, then deletes nothing on the newer schema', async () => {
    const url = await migrated();
    const store = await openPostgresStore(url);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      const user = newUser();
      await store.createUser(user);
      const wsId = hex(16);
      await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date(0) });
      await store.putBlobs(wsId, [{ id: hex(32), data: new Uint8Array(100) }]);
      const later = new Date(Date.now() + 3_600_000);
      expect(await store.collectGarbage({ olderThan: later, dryRun: true })).toMatchObject({ blobs: 1 });

      // a newer server migrating: it holds the migration lock until its migration commits
      await other.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      let settled = false;
      // each outcome caught at once: one may fail while the test still awaits the other
      const collecting = store.collectGarbage({ olderThan: later }).then(() => null, (err: unknown) => err).finally(() => (settled = true));
      const purging = store.purgeEnded(later).then(() => null, (err: unknown) => err);
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      await other.query('INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)', [KNOWN + 1, 'f'.repeat(64)]);
      await other.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      expect(await collecting).toMatchObject({ code: 'schema_mismatch' });
      expect(await purging).toMatchObject({ code: 'schema_mismatch' });
      await expect(store.checkSchema()).rejects.toMatchObject({ code: 'schema_mismatch' });
      expect((await store.getWorkspace(wsId))!.size).toBe(100);
    } finally {
      await other.end();
      await store.close();
    }
  });

  it('migrate on a newer schema exits 1 with the one line', async () => {
    const url = await migrated();
    await db.query(`INSERT INTO ${schemaOf(url)}.schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)`, [KNOWN + 1, 'f'.repeat(64)]);
    const bin = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
    const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-ops-'));
    try {
      const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(process.execPath, [bin, 'migrate', '--data-dir', dataDir, '--db', url], { env: { ...process.env, INSOMNIA_SYNC_DB: '' } }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`insomnia-sync-server: the database schema is version ${KNOWN + 1}, newer than this server's (version ${KNOWN}): a newer insomnia-sync-server migrated it; run that version or a later one (or restore a backup taken before the upgrade)\n`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
