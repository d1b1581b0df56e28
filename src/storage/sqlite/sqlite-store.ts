/**
 * `Store` on better-sqlite3 (12.x: 13.x crashes on Node 20). One connection per process: calls are
 * synchronous underneath, so each method body runs without interleaving; write transactions use
 * BEGIN IMMEDIATE so a second process on the same file waits (busy_timeout) instead of deadlocking.
 */
import { groupBy, userFromRow } from '../row-mapping.js';
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describePathProblem, errnoCode, fileProblem } from '../path-problem.js';
import {
  BlobIdError,
  StoreMissingError,
  StorePathError,
  type AccessTokenRecord,
  type CreateAccessTokenResult,
  type CreateSessionResult,
  type PutBlobsResult,
  type NewAccessToken,
  type BlobRecord,
  type BlobSizeRecord,
  type CreateSnapshotResult,
  type CreateUserResult,
  type CreateWorkspaceResult,
  type MemberKeysRecord,
  type NewSession,
  type NewSnapshot,
  type NewUser,
  type NewWorkspace,
  type SessionRecord,
  type SnapshotRecord,
  type Store,
  type TeamMembershipRecord,
  type TeamRecord,
  type TeamRole,
  type UserRecord,
  type WorkspaceKeyRecord,
  type WorkspaceRecord,
} from '../store.js';
import type {
  AccountMetaRecord,
  EndedSessionRecord,
  FormerAccessTokenRecord,
  InvitationToUserRecord,
  ChangeCredentialsResult,
  DeleteUserResult,
  RecoveryRecord,
  WorkspaceUsageRecord,
} from '../store.js';
import type {
  AcceptInvitationResult,
  ConfirmMemberResult,
  CreateInvitationResult,
  CreateTeamResult,
  DeleteTeamResult,
  InvitationRecord,
  LeaveTeamResult,
  RemoveUnconfirmedResult,
  SetMemberRoleResult,
  NewInvitation,
  NewTeam,
  RotateTeamResult,
  TeamAccessRecord,
  TeamMemberRecord,
  TeamRotation,
  VerifyEmailResult,
  EndedSessionReason,
  RecordActivationMailResult,
  SetEmailVerificationResult,
} from '../store.js';
import * as account from './account-store.js';
import { STAMP_BLOB_ACTIVITY_SQL, collectGarbage } from './gc.js';
import { countWithinBytes, type EraseReport, type GarbageReport } from '../store.js';
import * as teams from './team-store.js';
import { SQLITE_MIGRATIONS } from './migrations.js';
import { checkAppliedMigrations, migrationChecksum, type AppliedMigration } from '../schema-version.js';

type Row = Record<string, unknown>;

export interface SqliteStoreOptions {
  /** apply pending migrations when opening (default true) */
  migrate?: boolean;
  /** the file must exist and hold our schema (StoreMissingError otherwise); nothing is created */
  existing?: boolean;
}

const MMAP_BYTES = 1024 * 1024 * 1024;
/** After an account deletion whose WAL could not be truncated (another process was reading), try again this often. */
const WAL_RETRY_MS = 1000;
const PAGE_BYTES = 16384;

export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  try {
    return openSqliteFile(path, options);
  } catch (err) {
    throw path === ':memory:' || !isFileOpenError(err) ? err : pathError(path, err);
  }
}

function openSqliteFile(path: string, options: SqliteStoreOptions): SqliteStore {
  if (options.existing && path !== ':memory:') {
    try {
      statSync(path);
    } catch (err) {
      // not there (or a folder on the way is not): nothing to open; unreachable: say why
      if (errnoCode(err) === 'ENOENT') throw new StoreMissingError(`no database at ${path}`);
      throw pathError(path, err);
    }
  }
  const db = new Database(path, { fileMustExist: options.existing === true && path !== ':memory:' });
  try {
    // checked before the pragmas below: WAL mode would otherwise be switched on in a stranger's file
    if (options.existing && !db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()) {
      throw new StoreMissingError(`${path} is not an insomnia-sync database (no schema)`);
    }
    // Set before the first table exists (a no-op afterwards): a workspace file of a few KB then
    // fits inside one page instead of a chain of 4 KB overflow pages.
    db.pragma(`page_size = ${PAGE_BYTES}`);
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts the file.
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    // Every delete overwrites what it removes, not only account deletion: an email deleted with its
    // activation code or invitation, long before the account goes, would otherwise stay readable
    // in free space of the file (docs/protocol.md §3.27). Costs a write of zeros per freed page.
    db.pragma('secure_delete = ON');
    // Blobs are read far more than they change: map the file instead of copying each page in
    // through a 2 MB page cache with a read() per 4 KB page (a clone spent most of its server time
    // there). Address space only; the kernel's page cache backs it either way.
    db.pragma(`mmap_size = ${MMAP_BYTES}`);
  } catch (err) {
    db.close();
    throw err;
  }
  const store = new SqliteStore(db);
  try {
    if (options.migrate !== false) store.migrateSync();
    // not migrating (the operator commands): still refused on a schema this build does not know
    else store.checkSchemaSync();
  } catch (err) {
    db.close();
    throw err;
  }
  return store;
}

/**
 * better-sqlite3's errors for a file it cannot open, create or write beside: its own check of the
 * folder (a TypeError), SQLite's CANTOPEN, READONLY and PERM, and an errno from a stat here.
 */
function isFileOpenError(err: unknown): boolean {
  if (err instanceof TypeError) return /directory does not exist/.test(err.message);
  const code = errnoCode(err);
  return /^SQLITE_(CANTOPEN|READONLY|PERM)/.test(code) || code === 'EACCES' || code === 'ENOTDIR';
}

/** One line naming the path and the fix; the driver's words only when no cause is found. */
function pathError(path: string, err: unknown): StorePathError {
  const problem = fileProblem(path);
  const message = problem
    ? problem.kind === 'folder-in-the-way'
      ? `${path} is a folder, not a database file: name a file in it, e.g. sqlite:${path}/sync.db`
      : describePathProblem(problem)
    : `cannot open ${path}: ${(err as Error).message}`;
  return new StorePathError(message, { cause: err });
}

export class SqliteStore implements Store {
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;
  private walRetry: NodeJS.Timeout | undefined;

  constructor(private readonly db: Database.Database) {}

  /** Prepared statements are cached by their SQL text. */
  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  /** The applied migrations, or null when there is no schema_migrations table (a new database). */
  private appliedMigrations(): AppliedMigration[] | null {
    const columns = this.db.prepare("SELECT name FROM pragma_table_info('schema_migrations')").pluck().all() as string[];
    if (columns.length === 0) return null;
    const sql = columns.includes('checksum') ? 'SELECT version, checksum FROM schema_migrations' : 'SELECT version, NULL AS checksum FROM schema_migrations';
    return this.db.prepare(sql).all() as AppliedMigration[];
  }

  /** Throws SchemaMismatchError for a schema newer than this build's or an applied migration that differs from it. */
  checkSchemaSync(): void {
    const applied = this.appliedMigrations();
    if (applied) checkAppliedMigrations(applied, SQLITE_MIGRATIONS);
  }

  /**
   * Checks the schema (checkSchemaSync), records the checksums of migrations applied before they
   * were recorded, then applies the pending migrations, each in its own transaction with its checksum.
   */
  migrateSync(): number[] {
    const prepare = this.db.transaction(() => {
      // refused before anything is written: a newer schema is left as it is
      this.checkSchemaSync();
      this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, checksum TEXT)');
      const columns = this.db.prepare("SELECT name FROM pragma_table_info('schema_migrations')").pluck().all() as string[];
      if (!columns.includes('checksum')) this.db.exec('ALTER TABLE schema_migrations ADD COLUMN checksum TEXT');
      // applied before checksums were kept: this build's text is all there is to go on
      const stamp = this.db.prepare('UPDATE schema_migrations SET checksum = ? WHERE version = ? AND checksum IS NULL');
      SQLITE_MIGRATIONS.forEach((sql, i) => stamp.run(migrationChecksum(sql), i + 1));
    });
    prepare.immediate();
    const applied: number[] = [];
    const apply = this.db.transaction((version: number, sql: string) => {
      const done = this.db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(version);
      if (done) return false;
      this.db.exec(sql);
      this.db.prepare('INSERT INTO schema_migrations (version, applied_at, checksum) VALUES (?, ?, ?)').run(version, Date.now(), migrationChecksum(sql));
      return true;
    });
    SQLITE_MIGRATIONS.forEach((sql, i) => {
      if (apply.immediate(i + 1, sql)) applied.push(i + 1);
    });
    return applied;
  }

  async migrate(): Promise<number[]> {
    return this.migrateSync();
  }

  // users

  async createUser(user: NewUser): Promise<CreateUserResult> {
    const run = this.db.transaction((): CreateUserResult => {
      if (this.stmt('SELECT 1 FROM users WHERE email = ?').get(user.email)) return { ok: false, reason: 'email_taken' };
      if (this.stmt('SELECT 1 FROM users WHERE id = ?').get(user.id)) return { ok: false, reason: 'id_taken' };
      // the id of a deleted account still names its old signatures in the teams it was in
      if (this.stmt('SELECT 1 FROM team_former_members WHERE user_id = ?').get(user.id)) return { ok: false, reason: 'id_taken' };
      if (this.stmt('SELECT 1 FROM teams WHERE id = ?').get(user.personalTeam.id)) return { ok: false, reason: 'id_taken' };
      const at = user.createdAt.getTime();
      this.stmt(
        `INSERT INTO users (id, email, name, kdf_alg, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt,
           auth_key_hash, wrapped_account_key, x25519_public_key, ed25519_public_key, wrapped_x25519_secret,
           wrapped_ed25519_secret, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        user.id,
        user.email,
        user.name,
        user.kdf.alg,
        user.kdf.memoryKiB,
        user.kdf.iterations,
        user.kdf.parallelism,
        user.kdf.salt,
        Buffer.from(user.authKeyHash),
        user.keys.wrappedAccountKey,
        user.keys.x25519PublicKey,
        user.keys.ed25519PublicKey,
        user.keys.wrappedX25519Secret,
        user.keys.wrappedEd25519Secret,
        at,
      );
      const team = user.personalTeam;
      this.stmt('INSERT INTO teams (id, name, personal, epoch, created_at) VALUES (?, ?, 1, 1, ?)').run(team.id, team.name, at);
      this.stmt("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)").run(team.id, user.id, at);
      this.stmt('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES (?, ?, 1, ?)').run(team.id, user.id, team.sealedTeamKey);
      return { ok: true };
    });
    return run.immediate();
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    const row = this.stmt('SELECT * FROM users WHERE email = ?').get(email) as Row | undefined;
    return row ? toUser(row) : null;
  }

  async getUserById(id: string): Promise<UserRecord | null> {
    const row = this.stmt('SELECT * FROM users WHERE id = ?').get(id) as Row | undefined;
    return row ? toUser(row) : null;
  }

  // sessions

  async createSession(s: NewSession): Promise<CreateSessionResult> {
    // synchronous: no deletion can come between the check and the insert
    if (!this.stmt('SELECT 1 FROM users WHERE id = ?').get(s.userId)) return { ok: false, reason: 'no_user' };
    this.stmt(
      `INSERT INTO sessions (id, user_id, token_hash, client, ip, created_at, last_seen_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(s.id, s.userId, Buffer.from(s.tokenHash), s.client, s.ip, s.createdAt.getTime(), s.createdAt.getTime(), s.expiresAt.getTime());
    return { ok: true };
  }

  async useSession(tokenHash: Uint8Array, now: Date, newExpiresAt: Date): Promise<SessionRecord | null> {
    const row = this.stmt(
      `UPDATE sessions SET last_seen_at = ?, expires_at = ?
       WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?
       RETURNING id, user_id, client, ip, created_at, last_seen_at, expires_at`,
    ).get(now.getTime(), newExpiresAt.getTime(), Buffer.from(tokenHash), now.getTime()) as Row | undefined;
    return row ? account.sessionOf(row) : null;
  }

  async revokeSession(sessionId: string): Promise<boolean> {
    const r = this.stmt('UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(Date.now(), sessionId);
    return r.changes > 0;
  }

  async endedSession(tokenHash: Uint8Array, now: Date): Promise<EndedSessionReason | null> {
    return account.endedSession(this.db, tokenHash, now);
  }

  async revokeUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    const r = this.stmt('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?').run(
      Date.now(),
      userId,
      exceptSessionId ?? null,
    );
    return r.changes;
  }

  // teams

  async listTeamsOfUser(userId: string): Promise<TeamMembershipRecord[]> {
    const teams = this.stmt(
      `SELECT t.id, t.name, t.personal, t.epoch, t.rotation_pending, m.role, m.pending FROM team_members m JOIN teams t ON t.id = m.team_id
       WHERE m.user_id = ? ORDER BY t.created_at, t.id`,
    ).all(userId) as Row[];
    const keys = this.stmt('SELECT team_id, epoch, sealed_key FROM team_keys WHERE user_id = ? ORDER BY team_id, epoch').all(userId) as Row[];
    const byTeam = groupBy(keys, 'team_id');
    return teams.map((t) => ({
      ...toTeam(t),
      role: t.role as TeamRole,
      // only when false: a confirmed membership reads as before teams had states
      ...(Number(t.pending) === 1 ? { confirmed: false } : {}),
      ...(Number(t.rotation_pending) === 1 ? { rotationPending: true as const } : {}),
      sealedKeys: (byTeam.get(String(t.id)) ?? []).map((k) => ({ epoch: Number(k.epoch), sealedKey: String(k.sealed_key) })),
    }));
  }

  async getTeamRole(teamId: string, userId: string): Promise<TeamRole | null> {
    const row = this.stmt('SELECT role FROM team_members WHERE team_id = ? AND user_id = ? AND pending = 0').get(teamId, userId) as
      | Row
      | undefined;
    return row ? (row.role as TeamRole) : null;
  }

  async getTeam(teamId: string): Promise<TeamRecord | null> {
    const row = this.stmt('SELECT id, name, personal, epoch FROM teams WHERE id = ?').get(teamId) as Row | undefined;
    return row ? toTeam(row) : null;
  }

  // workspaces

  async createWorkspace(w: NewWorkspace): Promise<CreateWorkspaceResult> {
    const run = this.db.transaction((): CreateWorkspaceResult => {
      const team = this.stmt('SELECT epoch FROM teams WHERE id = ?').get(w.teamId) as Row | undefined;
      if (!team) return { ok: false, reason: 'no_team' };
      if (this.stmt('SELECT 1 FROM workspaces WHERE id = ?').get(w.id)) return { ok: false, reason: 'id_taken' };
      if (w.key.epoch !== Number(team.epoch)) return { ok: false, reason: 'stale_epoch', epoch: Number(team.epoch) };
      const at = w.createdAt.getTime();
      this.stmt(
        'INSERT INTO workspaces (id, team_id, encrypted_name, head, size, created_at, updated_at) VALUES (?, ?, ?, NULL, 0, ?, ?)',
      ).run(w.id, w.teamId, w.encryptedName, at, at);
      this.stmt('INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) VALUES (?, ?, ?)').run(w.id, w.key.epoch, w.key.wrappedKey);
      return { ok: true, workspace: this.loadWorkspace(w.id)! };
    });
    return run.immediate();
  }

  private loadWorkspace(id: string): WorkspaceRecord | null {
    // One read snapshot for both (a deferred transaction only reads): the head is the one the keys
    // were there with, as clients rely on (the epoch marks of docs/crypto.md §5.2).
    return this.db.transaction((): WorkspaceRecord | null => {
      const row = this.stmt('SELECT * FROM workspaces WHERE id = ?').get(id) as Row | undefined;
      if (!row) return null;
      const keys = this.stmt('SELECT epoch, wrapped_key FROM workspace_keys WHERE workspace_id = ? ORDER BY epoch').all(id) as Row[];
      return toWorkspace(row, keys.map(toWorkspaceKey));
    })();
  }

  async listWorkspacesOfUser(userId: string): Promise<WorkspaceRecord[]> {
    // Each head with the keys it was there with (the epoch marks of docs/crypto.md §5.2). Nothing of
    // this process runs between the two statements (one connection, no await); the read
    // transaction makes them one snapshot also against another process writing the file (the
    // operator commands open it too), as in loadWorkspace.
    return this.db.transaction((): WorkspaceRecord[] => this.workspacesOfUser(userId))();
  }

  private workspacesOfUser(userId: string): WorkspaceRecord[] {
    const rows = this.stmt(
      `SELECT w.* FROM workspaces w JOIN team_members m ON m.team_id = w.team_id
       WHERE m.user_id = ? AND m.pending = 0 ORDER BY w.created_at, w.id`,
    ).all(userId) as Row[];
    const keys = this.stmt(
      `SELECT k.workspace_id, k.epoch, k.wrapped_key FROM workspace_keys k
       JOIN workspaces w ON w.id = k.workspace_id JOIN team_members m ON m.team_id = w.team_id
       WHERE m.user_id = ? AND m.pending = 0 ORDER BY k.workspace_id, k.epoch`,
    ).all(userId) as Row[];
    const byWorkspace = groupBy(keys, 'workspace_id');
    return rows.map((r) => toWorkspace(r, (byWorkspace.get(String(r.id)) ?? []).map(toWorkspaceKey)));
  }

  async getWorkspace(id: string): Promise<WorkspaceRecord | null> {
    return this.loadWorkspace(id);
  }

  async renameWorkspace(id: string, encryptedName: string, now: Date): Promise<WorkspaceRecord | null> {
    const r = this.stmt('UPDATE workspaces SET encrypted_name = ?, updated_at = ? WHERE id = ?').run(encryptedName, now.getTime(), id);
    return r.changes > 0 ? this.loadWorkspace(id) : null;
  }

  async deleteWorkspace(id: string): Promise<boolean> {
    // foreign keys cascade to keys, blobs, snapshots and snapshot_blobs
    const run = this.db.transaction(() => this.stmt('DELETE FROM workspaces WHERE id = ?').run(id).changes > 0);
    return run.immediate();
  }

  async workspaceMembers(workspaceId: string): Promise<MemberKeysRecord[]> {
    const rows = this.stmt(
      `SELECT u.id, u.email, u.name, m.role, u.x25519_public_key, u.ed25519_public_key
       FROM workspaces w JOIN team_members m ON m.team_id = w.team_id JOIN users u ON u.id = m.user_id
       WHERE w.id = ? AND m.pending = 0 ORDER BY m.created_at, u.id`,
    ).all(workspaceId) as Row[];
    // Former members stay listed (flagged by untilEpoch) so their old snapshots stay verifiable, with
    // the keys copied when they left: a deleted account has no users row (and no email or name)
    // left. One who is a confirmed member again is listed once, as a member.
    const former = this.stmt(
      `SELECT f.user_id AS id, coalesce(u.email, '') AS email, coalesce(u.name, '') AS name, f.x25519_public_key,
         f.ed25519_public_key, f.until_epoch
       FROM workspaces w JOIN team_former_members f ON f.team_id = w.team_id LEFT JOIN users u ON u.id = f.user_id
       WHERE w.id = ? AND NOT EXISTS (
         SELECT 1 FROM team_members m WHERE m.team_id = f.team_id AND m.user_id = f.user_id AND m.pending = 0)
       ORDER BY f.removed_at, f.user_id`,
    ).all(workspaceId) as Row[];
    return [
      ...rows.map((r) => ({
        userId: String(r.id),
        email: String(r.email),
        name: String(r.name),
        role: r.role as TeamRole,
        x25519PublicKey: String(r.x25519_public_key),
        ed25519PublicKey: String(r.ed25519_public_key),
      })),
      ...former.map((r) => ({
        userId: String(r.id),
        email: String(r.email),
        name: String(r.name),
        role: 'member' as TeamRole,
        x25519PublicKey: String(r.x25519_public_key),
        ed25519PublicKey: String(r.ed25519_public_key),
        untilEpoch: Number(r.until_epoch),
      })),
    ];
  }

  // blobs

  async missingBlobs(workspaceId: string, ids: readonly string[]): Promise<string[]> {
    // stamped before the read: garbage collection then spares what this push is told is stored
    this.stmt(STAMP_BLOB_ACTIVITY_SQL).run(Date.now(), workspaceId);
    // one statement for the whole list (10,000 ids per call): half the time of a lookup per id
    const rows = this.stmt(MISSING_BLOBS_SQL).pluck().all(JSON.stringify(ids), workspaceId) as string[];
    return [...new Set(rows)];
  }

  async putBlobs(workspaceId: string, blobs: readonly BlobRecord[]): Promise<PutBlobsResult> {
    // keys first: a bad id must fail before the transaction, so nothing is stored
    const keys = blobs.map((b) => {
      const key = blobKey(b.id);
      if (key === null) throw new BlobIdError('blob id must be 64 hex chars');
      return key;
    });
    const insert = this.stmt('INSERT OR IGNORE INTO blobs (workspace_id, id, size, data, created_at) VALUES (?, ?, ?, ?, ?)');
    const run = this.db.transaction((): PutBlobsResult => {
      if (!this.stmt('SELECT 1 FROM workspaces WHERE id = ?').get(workspaceId)) return { ok: false, reason: 'no_workspace' };
      const at = Date.now();
      let stored = 0;
      let bytes = 0;
      for (let i = 0; i < blobs.length; i++) {
        const data = asBuffer(blobs[i]!.data);
        if (insert.run(workspaceId, keys[i], data.length, data, at).changes > 0) {
          stored++;
          bytes += data.length;
        }
      }
      if (stored > 0) this.stmt('UPDATE workspaces SET size = size + ? WHERE id = ?').run(bytes, workspaceId);
      this.stmt(STAMP_BLOB_ACTIVITY_SQL).run(at, workspaceId);
      return { ok: true, stored };
    });
    return run.immediate();
  }

  async getBlobs(workspaceId: string, ids: readonly string[], maxBytes: number): Promise<BlobRecord[]> {
    const read = this.stmt('SELECT data FROM blobs WHERE workspace_id = ? AND id = ?').pluck();
    const run = this.db.transaction(() => {
      const out: BlobRecord[] = [];
      let total = 0;
      for (const id of ids) {
        const key = blobKey(id);
        const data = key === null ? undefined : (read.get(workspaceId, key) as Buffer | undefined);
        if (data === undefined) continue;
        // the one blob read past the cut is at most LIMITS.maxBlobBytes: cheaper than a second lookup per id
        if (out.length > 0 && total + data.length > maxBytes) break;
        out.push({ id, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
        total += data.length;
      }
      return out;
    });
    return run.deferred();
  }

  async planBlobFetch(workspaceId: string, ids: readonly string[], maxBytes: number): Promise<BlobSizeRecord[]> {
    // One statement for the whole list (a lookup per id was most of a clone's server time); ids that
    // are not stored, or not hex, find no row. Sizes come from the size column, set to the stored
    // length on insert.
    const rows = this.stmt(PLAN_FETCH_SQL).raw().all(workspaceId, JSON.stringify(ids)) as [number, number | null][];
    const out: BlobSizeRecord[] = [];
    let total = 0;
    for (const [key, size] of rows) {
      if (size === null) continue;
      if (out.length > 0 && total + size > maxBytes) break;
      out.push({ id: ids[key] as string, size });
      total += size;
    }
    return out;
  }

  async readBlobs(workspaceId: string, ids: readonly string[]): Promise<(Uint8Array | null)[]> {
    const rows = this.stmt(READ_BLOBS_SQL).raw().all(workspaceId, JSON.stringify(ids)) as [number, Buffer | null][];
    const out: (Uint8Array | null)[] = new Array<Uint8Array | null>(ids.length).fill(null);
    for (const [key, data] of rows) out[key] = data === null ? null : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return out;
  }

  // snapshots

  async createSnapshot(workspaceId: string, s: NewSnapshot): Promise<CreateSnapshotResult> {
    const run = this.db.transaction((): CreateSnapshotResult => {
      const ws = this.stmt('SELECT w.head, t.epoch FROM workspaces w JOIN teams t ON t.id = w.team_id WHERE w.id = ?').get(workspaceId) as
        | Row
        | undefined;
      if (!ws) return { ok: false, reason: 'no_workspace' };
      // before the head: a push that raced a rotation must encrypt again, whatever else moved
      if (s.epoch !== undefined && s.epoch !== Number(ws.epoch)) return { ok: false, reason: 'stale_epoch', epoch: Number(ws.epoch) };
      const head = (ws.head as string | null) ?? null;
      if (head !== s.parent) return { ok: false, reason: 'conflict', head };
      if (this.stmt('SELECT 1 FROM snapshots WHERE workspace_id = ? AND id = ?').get(workspaceId, s.id)) {
        return { ok: false, reason: 'exists' };
      }
      const idsJson = JSON.stringify([...new Set(s.blobIds)]);
      const missing = this.stmt(MISSING_BLOBS_SQL).pluck().all(idsJson, workspaceId) as string[];
      if (missing.length > 0) return { ok: false, reason: 'missing_blobs', missing };
      const at = s.createdAt.getTime();
      const data = Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength);
      this.stmt('INSERT INTO snapshots (workspace_id, id, parent, data, created_at) VALUES (?, ?, ?, ?, ?)').run(
        workspaceId,
        s.id,
        s.parent,
        data,
        at,
      );
      // every id is stored (checked above), so unhex() is never NULL here; OR IGNORE: two spellings of one id
      this.stmt('INSERT OR IGNORE INTO snapshot_blobs (workspace_id, snapshot_id, blob_id) SELECT ?, ?, unhex(value) FROM json_each(?)').run(
        workspaceId,
        s.id,
        idsJson,
      );
      this.stmt('UPDATE workspaces SET head = ?, updated_at = ?, size = size + ? WHERE id = ?').run(s.id, at, data.length, workspaceId);
      return { ok: true, head: s.id };
    });
    return run.immediate();
  }

  async listSnapshots(workspaceId: string, opts: { limit: number; before?: string; maxBytes?: number }): Promise<SnapshotRecord[]> {
    const page =
      opts.before === undefined
        ? { where: 'workspace_id = ?', args: [workspaceId] }
        : { where: 'workspace_id = ? AND seq < (SELECT seq FROM snapshots WHERE workspace_id = ? AND id = ?)', args: [workspaceId, workspaceId, opts.before] };
    let limit = opts.limit;
    if (opts.maxBytes !== undefined) {
      // sizes first (length() reads no overflow page), so no more data is read than is sent
      const sizes = this.stmt(`SELECT length(data) FROM snapshots WHERE ${page.where} ORDER BY seq DESC LIMIT ?`).pluck().all(...page.args, limit) as number[];
      limit = countWithinBytes(sizes, opts.maxBytes);
      if (limit === 0) return [];
    }
    const rows = this.stmt(`SELECT id, parent, data, created_at FROM snapshots WHERE ${page.where} ORDER BY seq DESC LIMIT ?`).all(...page.args, limit) as Row[];
    return rows.map(toSnapshot);
  }

  async getSnapshot(workspaceId: string, id: string): Promise<SnapshotRecord | null> {
    const row = this.stmt('SELECT id, parent, data, created_at FROM snapshots WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as
      | Row
      | undefined;
    return row ? toSnapshot(row) : null;
  }

  async snapshotBlobIds(workspaceId: string, snapshotId: string): Promise<string[]> {
    const keys = this.stmt('SELECT blob_id FROM snapshot_blobs WHERE workspace_id = ? AND snapshot_id = ? ORDER BY blob_id')
      .pluck()
      .all(workspaceId, snapshotId) as Buffer[];
    // byte order of the raw ids is the order of their lowercase hex
    return keys.map((k) => k.toString('hex'));
  }

  // access tokens

  async createAccessToken(t: NewAccessToken): Promise<CreateAccessTokenResult> {
    const run = this.db.transaction((): CreateAccessTokenResult => {
      if (!this.stmt('SELECT 1 FROM users WHERE id = ?').get(t.createdBy)) return { ok: false, reason: 'no_user' };
      if (!this.stmt('SELECT 1 FROM workspaces WHERE id = ?').get(t.workspaceId)) return { ok: false, reason: 'no_workspace' };
      // nor the id of a token kept as a signer after its creator's account was deleted
      if (this.stmt('SELECT 1 FROM access_tokens WHERE id = ? UNION ALL SELECT 1 FROM former_access_tokens WHERE id = ?').get(t.id, t.id)) {
        return { ok: false, reason: 'id_taken' };
      }
      this.stmt(
        `INSERT INTO access_tokens (id, workspace_id, created_by, name, scope, secret_hash, public_key, certificate, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        t.id,
        t.workspaceId,
        t.createdBy,
        t.name,
        t.scope,
        Buffer.from(t.secretHash),
        t.publicKey,
        t.certificate,
        t.createdAt.getTime(),
        t.expiresAt === null ? null : t.expiresAt.getTime(),
      );
      const key = this.stmt('INSERT INTO access_token_keys (token_id, epoch, wrapped_key) VALUES (?, ?, ?)');
      for (const k of t.keys) key.run(t.id, k.epoch, k.wrappedKey);
      return { ok: true };
    });
    return run.immediate();
  }

  private tokensWhere(where: string, ...params: unknown[]): AccessTokenRecord[] {
    const rows = this.stmt(
      `SELECT t.*, u.email AS creator_email, u.name AS creator_name FROM access_tokens t JOIN users u ON u.id = t.created_by
       WHERE ${where} ORDER BY t.created_at, t.id`,
    ).all(...params) as Row[];
    if (rows.length === 0) return [];
    const keysOf = this.stmt('SELECT epoch, wrapped_key FROM access_token_keys WHERE token_id = ? ORDER BY epoch');
    return rows.map((r) => toAccessToken(r, (keysOf.all(r.id) as Row[]).map(toWorkspaceKey)));
  }

  async getAccessToken(id: string): Promise<AccessTokenRecord | null> {
    return this.tokensWhere('t.id = ?', id)[0] ?? null;
  }

  async touchAccessToken(id: string, now: Date): Promise<void> {
    this.stmt('UPDATE access_tokens SET last_used_at = ? WHERE id = ?').run(now.getTime(), id);
  }

  async listAccessTokensCreatedBy(userId: string): Promise<AccessTokenRecord[]> {
    return this.tokensWhere('t.created_by = ?', userId);
  }

  async listAccessTokensOfUser(userId: string, workspaceId?: string): Promise<AccessTokenRecord[]> {
    // confirmed members only: one who was accepted but not confirmed holds no key of the team
    const member =
      't.workspace_id IN (SELECT w.id FROM workspaces w JOIN team_members m ON m.team_id = w.team_id WHERE m.user_id = ? AND m.pending = 0)';
    return workspaceId === undefined ? this.tokensWhere(member, userId) : this.tokensWhere(`${member} AND t.workspace_id = ?`, userId, workspaceId);
  }

  async workspaceAccessTokens(workspaceId: string): Promise<AccessTokenRecord[]> {
    return this.tokensWhere('t.workspace_id = ?', workspaceId);
  }

  async workspaceFormerAccessTokens(workspaceId: string): Promise<FormerAccessTokenRecord[]> {
    return account.workspaceFormerAccessTokens(this.db, workspaceId);
  }

  async revokeAccessToken(id: string, now: Date): Promise<boolean> {
    return this.stmt('UPDATE access_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now.getTime(), id).changes > 0;
  }

  async checkSchema(): Promise<void> {
    this.checkSchemaSync();
  }

  async ping(): Promise<void> {
    // reads the schema page from the file (or the WAL); `SELECT 1` would not touch the database at all
    this.stmt('SELECT count(*) FROM sqlite_master').get();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.walRetry);
    this.statements.clear();
    this.db.close();
  }

  // account lifecycle (issue 5): implemented in account-store.ts

  async listSessionsOfUser(userId: string, now: Date): Promise<SessionRecord[]> {
    return account.listSessionsOfUser(this.db, userId, now);
  }
  async listEndedSessionsOfUser(userId: string, now: Date): Promise<EndedSessionRecord[]> {
    return account.listEndedSessionsOfUser(this.db, userId, now);
  }
  async listInvitationsToUser(userId: string, email: string): Promise<InvitationToUserRecord[]> {
    return account.listInvitationsToUser(this.db, userId, email);
  }
  async revokeSessionOfUser(userId: string, sessionId: string): Promise<boolean> {
    return account.revokeSessionOfUser(this.db, userId, sessionId);
  }
  async changeCredentials(...args: Parameters<Store['changeCredentials']>): Promise<ChangeCredentialsResult> {
    return account.changeCredentials(this.db, ...args);
  }
  async setRecovery(userId: string, recovery: RecoveryRecord): Promise<boolean> {
    return account.setRecovery(this.db, userId, recovery);
  }
  async getRecovery(userId: string): Promise<RecoveryRecord | null> {
    return account.getRecovery(this.db, userId);
  }
  async getAccountMeta(userId: string): Promise<AccountMetaRecord | null> {
    return account.getAccountMeta(this.db, userId);
  }
  async workspaceUsageOfUser(userId: string): Promise<WorkspaceUsageRecord[]> {
    return account.workspaceUsageOfUser(this.db, userId);
  }
  async listBlobSizes(workspaceId: string): Promise<BlobSizeRecord[]> {
    return account.listBlobSizes(this.db, workspaceId);
  }
  async deleteUser(userId: string, expectedAuthKeyHash: Uint8Array): Promise<DeleteUserResult> {
    const result = account.deleteUser(this.db, userId, expectedAuthKeyHash);
    if (result.ok && !account.truncateWal(this.db)) this.truncateWalSoon();
    return result;
  }

  /** Tries truncateWal again every WAL_RETRY_MS until it succeeds or the store closes (which checkpoints and removes the WAL). */
  private truncateWalSoon(): void {
    if (this.walRetry) return;
    this.walRetry = setInterval(() => {
      if (this.closed || account.truncateWal(this.db)) {
        clearInterval(this.walRetry);
        this.walRetry = undefined;
      }
    }, WAL_RETRY_MS);
    this.walRetry.unref();
  }
  async eraseDeletedRows(): Promise<EraseReport> {
    // every delete already overwrote what it removed; older page versions can only be in the WAL
    return { tables: [], statistics: null, walTruncated: account.truncateWal(this.db) };
  }
  async backup(path: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
    return account.backup(this.db, path, opts);
  }

  // garbage collection (issue 6): gc.ts
  async collectGarbage(opts: { olderThan: Date; dryRun?: boolean; pause?: () => Promise<void>; signal?: AbortSignal }): Promise<GarbageReport> {
    return collectGarbage(this.db, { ...opts, checkSchema: () => this.checkSchemaSync() });
  }
  async purgeEnded(before: Date, opts: { dryRun?: boolean } = {}): Promise<{ sessions: number; invitations: number }> {
    const at = before.getTime();
    const run = (from: string, params: number[]): number =>
      opts.dryRun ? Number(this.db.prepare(`SELECT count(*) ${from}`).pluck().get(...params)) : this.db.prepare(`DELETE ${from}`).run(...params).changes;
    const purge = this.db.transaction(() => {
      // a newer server may have migrated the file since this one opened it (collectGarbage does the same)
      this.checkSchemaSync();
      // signed out but not expired: kept for endedSession, without what says where and what it was
      if (!opts.dryRun) this.db.prepare('UPDATE sessions SET ip = NULL, client = NULL WHERE revoked_at < ? AND (ip IS NOT NULL OR client IS NOT NULL)').run(at);
      return {
        sessions: run('FROM sessions WHERE expires_at < ?', [at]) + run('FROM deleted_account_sessions WHERE expires_at < ?', [at]),
        invitations: run('FROM team_invitations WHERE accepted_at IS NULL AND expires_at < ?', [at]),
      };
    });
    return opts.dryRun ? purge.deferred() : purge.immediate();
  }

  // rate limits

  async countAttempt(key: Uint8Array, now: Date, windowMs: number): Promise<{ count: number; windowStart: Date }> {
    const at = now.getTime();
    // SET reads the row as it was: both CASEs see the old window
    const row = this.stmt(
      `INSERT INTO rate_limit_counts (key, window_start, count) VALUES (?, ?, 1)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN window_start <= ? THEN 1 ELSE count + 1 END,
         window_start = CASE WHEN window_start <= ? THEN excluded.window_start ELSE window_start END
       RETURNING count, window_start`,
    ).get(key, at, at - windowMs, at - windowMs) as { count: number; window_start: number };
    return { count: Number(row.count), windowStart: new Date(Number(row.window_start)) };
  }

  async pruneAttempts(before: Date): Promise<number> {
    return this.stmt('DELETE FROM rate_limit_counts WHERE window_start < ?').run(before.getTime()).changes;
  }

  // teams (issue 3): implemented in team-store.ts

  async createTeam(t: NewTeam): Promise<CreateTeamResult> {
    return teams.createTeam(this.db, t);
  }
  async teamAccess(teamId: string, userId: string): Promise<TeamAccessRecord> {
    return teams.teamAccess(this.db, teamId, userId);
  }
  async teamMembers(teamId: string): Promise<TeamMemberRecord[]> {
    return teams.teamMembers(this.db, teamId);
  }
  async listInvitations(teamId: string, now: Date): Promise<InvitationRecord[]> {
    return teams.listInvitations(this.db, teamId, now);
  }
  async createInvitation(invitation: NewInvitation, limit?: { max: number; since: Date }): Promise<CreateInvitationResult> {
    return teams.createInvitation(this.db, invitation, limit);
  }
  async countInvitationsBy(userId: string, since: Date): Promise<number> {
    return teams.countInvitationsBy(this.db, userId, since);
  }
  async withdrawInvitation(teamId: string, email: string, now: Date): Promise<InvitationRecord | null> {
    return teams.withdrawInvitation(this.db, teamId, email, now);
  }
  async acceptInvitation(...args: Parameters<Store['acceptInvitation']>): Promise<AcceptInvitationResult> {
    return teams.acceptInvitation(this.db, ...args);
  }
  async confirmMember(...args: Parameters<Store['confirmMember']>): Promise<ConfirmMemberResult> {
    return teams.confirmMember(this.db, ...args);
  }
  async rotateTeam(teamId: string, rotation: TeamRotation): Promise<RotateTeamResult> {
    return teams.rotateTeam(this.db, teamId, rotation);
  }
  async removeUnconfirmedMember(teamId: string, userId: string): Promise<RemoveUnconfirmedResult> {
    return teams.removeUnconfirmedMember(this.db, teamId, userId);
  }
  async leaveTeam(teamId: string, userId: string, now: Date): Promise<LeaveTeamResult> {
    return teams.leaveTeam(this.db, teamId, userId, now);
  }
  async deleteTeam(teamId: string, userId: string, countedSince: Date): Promise<DeleteTeamResult> {
    const result = teams.deleteTeam(this.db, teamId, userId, countedSince);
    // as after an account deletion: no older version of a deleted page stays in the WAL
    if (result.ok && !account.truncateWal(this.db)) this.truncateWalSoon();
    return result;
  }
  async setMemberRole(...args: Parameters<Store['setMemberRole']>): Promise<SetMemberRoleResult> {
    return teams.setMemberRole(this.db, ...args);
  }
  async setEmailVerification(...args: Parameters<Store['setEmailVerification']>): Promise<SetEmailVerificationResult> {
    return teams.setEmailVerification(this.db, ...args);
  }
  async recordActivationMail(...args: Parameters<Store['recordActivationMail']>): Promise<RecordActivationMailResult> {
    return teams.recordActivationMail(this.db, ...args);
  }
  async releaseActivationMail(...args: Parameters<Store['releaseActivationMail']>): Promise<boolean> {
    return teams.releaseActivationMail(this.db, ...args);
  }
  async verifyEmail(...args: Parameters<Store['verifyEmail']>): Promise<VerifyEmailResult> {
    return teams.verifyEmail(this.db, ...args);
  }
}

/** The stored form of a blob id: its 32 bytes; null when `hex` is not 64 hex chars (it then matches nothing). */
function blobKey(hex: string): Buffer | null {
  if (hex.length !== 64) return null;
  const key = Buffer.from(hex, 'hex');
  // the decoder stops silently at the first pair that is not hex
  return key.length === 32 ? key : null;
}

/**
 * The ids of a JSON array (?1) not stored in workspace ?2, in array order (duplicates kept; the caller
 * drops them). unhex() of anything but hex is NULL, which matches no row: such ids are missing.
 */
// Correlated subqueries, not joins: the planner may otherwise scan the blobs table for each id
// (a clone took 30 s). Each id is then one primary-key lookup, in list order.
/** (position in the id list, size or null) for every listed id, in list order */
const PLAN_FETCH_SQL = `SELECT j.key, (SELECT b.size FROM blobs b WHERE b.workspace_id = ? AND b.id = unhex(j.value))
  FROM json_each(?) AS j ORDER BY j.key`;

/** (position in the id list, data or null) for every listed id, in list order */
const READ_BLOBS_SQL = `SELECT j.key, (SELECT b.data FROM blobs b WHERE b.workspace_id = ? AND b.id = unhex(j.value))
  FROM json_each(?) AS j ORDER BY j.key`;

const MISSING_BLOBS_SQL = `SELECT j.value FROM json_each(?) AS j
  WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.workspace_id = ? AND b.id = unhex(j.value))
  ORDER BY j.key`;

/** A Buffer view of the bytes, for binding as a BLOB without a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function toTeam(r: Row): TeamRecord {
  return { id: String(r.id), name: String(r.name), personal: Number(r.personal) === 1, epoch: Number(r.epoch) };
}

function toWorkspaceKey(r: Row): WorkspaceKeyRecord {
  return { epoch: Number(r.epoch), wrappedKey: String(r.wrapped_key) };
}

function toWorkspace(r: Row, keys: WorkspaceKeyRecord[]): WorkspaceRecord {
  return {
    id: String(r.id),
    teamId: String(r.team_id),
    encryptedName: String(r.encrypted_name),
    head: r.head === null ? null : String(r.head),
    keys,
    createdAt: new Date(Number(r.created_at)),
    updatedAt: new Date(Number(r.updated_at)),
    size: Number(r.size),
  };
}

function optionalDate(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value));
}

function toAccessToken(r: Row, keys: WorkspaceKeyRecord[]): AccessTokenRecord {
  const hash = r.secret_hash as Buffer;
  return {
    id: String(r.id),
    workspaceId: String(r.workspace_id),
    createdBy: String(r.created_by),
    creatorEmail: String(r.creator_email),
    creatorName: String(r.creator_name),
    name: String(r.name),
    scope: r.scope === 'write' ? 'write' : 'read',
    secretHash: new Uint8Array(hash.buffer, hash.byteOffset, hash.byteLength),
    publicKey: String(r.public_key),
    certificate: String(r.certificate),
    keys,
    createdAt: new Date(Number(r.created_at)),
    lastUsedAt: optionalDate(r.last_used_at),
    expiresAt: optionalDate(r.expires_at),
    revokedAt: optionalDate(r.revoked_at),
  };
}

function toSnapshot(r: Row): SnapshotRecord {
  const data = r.data as Buffer;
  return {
    id: String(r.id),
    parent: r.parent === null ? null : String(r.parent),
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    createdAt: new Date(Number(r.created_at)),
  };
}

function toUser(r: Row): UserRecord {
  return userFromRow(r, (ms) => new Date(Number(ms)));
}
