/**
 * The account-lifecycle part of the SQLite store (issue 5): sessions of a user, credential swaps,
 * recovery records, usage counters, account deletion and online backup. SqliteStore delegates
 * here; these are rare operations, so statements are prepared per call rather than cached.
 */
import Database from 'better-sqlite3';
import type {
  AccountMetaRecord,
  BlobSizeRecord,
  ChangeCredentialsResult,
  CredentialUpdate,
  DeleteUserResult,
  DeletionCounts,
  EndedSessionReason,
  EndedSessionRecord,
  FormerAccessTokenRecord,
  InvitationToUserRecord,
  RecoveryRecord,
  SessionRecord,
  SessionKept,
  SessionRenewal,
  WorkspaceUsageRecord,
} from '../store.js';
import { forgetUserInTeams } from './team-store.js';
import { formerAccessTokenFromRow } from '../row-mapping.js';

type Row = Record<string, unknown>;

function bytes(value: unknown): Uint8Array {
  const b = value as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : new Date(Number(value));
}

/** Constant-time-ish equality is not needed here: the route compared already; this is the CAS. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function tableExists(db: Database.Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export function listSessionsOfUser(db: Database.Database, userId: string, now: Date): SessionRecord[] {
  const rows = db
    .prepare(
      `SELECT id, user_id, client, ip, created_at, last_seen_at, expires_at FROM sessions
       WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at, id`,
    )
    .all(userId, now.getTime()) as Row[];
  return rows.map(sessionOf);
}

export function sessionOf(r: Row): SessionRecord {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    client: r.client === null ? null : String(r.client),
    ip: r.ip === null ? null : String(r.ip),
    createdAt: new Date(Number(r.created_at)),
    lastSeenAt: new Date(Number(r.last_seen_at)),
    expiresAt: new Date(Number(r.expires_at)),
  };
}

export function listEndedSessionsOfUser(db: Database.Database, userId: string, now: Date): EndedSessionRecord[] {
  const rows = db
    .prepare(
      `SELECT id, user_id, client, ip, created_at, last_seen_at, expires_at, revoked_at FROM sessions
       WHERE user_id = ? AND (revoked_at IS NOT NULL OR expires_at <= ?) ORDER BY created_at, id`,
    )
    .all(userId, now.getTime()) as Row[];
  return rows.map((r) => ({ ...sessionOf(r), revokedAt: dateOrNull(r.revoked_at) }));
}

export function listInvitationsToUser(db: Database.Database, userId: string, email: string): InvitationToUserRecord[] {
  const rows = db
    .prepare(
      `SELECT i.id, i.team_id, t.name AS team_name, i.email, i.role, i.created_at, i.expires_at, i.accepted_at
       FROM team_invitations i JOIN teams t ON t.id = i.team_id
       WHERE i.email = ? OR i.accepted_by = ? ORDER BY i.created_at, i.id`,
    )
    .all(email, userId) as Row[];
  return rows.map((r) => ({
    id: String(r.id),
    teamId: String(r.team_id),
    teamName: String(r.team_name),
    email: String(r.email),
    role: r.role === 'admin' ? 'admin' : 'member',
    createdAt: new Date(Number(r.created_at)),
    expiresAt: new Date(Number(r.expires_at)),
    acceptedAt: dateOrNull(r.accepted_at),
  }));
}

export function endedSession(db: Database.Database, tokenHash: Uint8Array, now: Date): EndedSessionReason | null {
  const hash = Buffer.from(tokenHash);
  const row = db.prepare('SELECT revoked_at, expires_at FROM sessions WHERE token_hash = ?').get(hash) as Row | undefined;
  if (row) {
    if (row.revoked_at !== null) return { reason: 'revoked', at: new Date(Number(row.revoked_at)) };
    return Number(row.expires_at) <= now.getTime() ? { reason: 'expired', at: new Date(Number(row.expires_at)) } : null;
  }
  if (!tableExists(db, 'deleted_account_sessions')) return null;
  const gone = db.prepare('SELECT deleted_at FROM deleted_account_sessions WHERE token_hash = ?').get(hash) as Row | undefined;
  return gone ? { reason: 'account_deleted', at: new Date(Number(gone.deleted_at)) } : null;
}

/**
 * Account deletion's part (inside its transaction, before the user row takes the sessions with it):
 * the hash of each session token that has not expired, so that its holder is told the account was
 * deleted (endedSession); no account id, IP or client.
 */
export function rememberDeletedSessions(db: Database.Database, userId: string, now: Date): void {
  if (!tableExists(db, 'deleted_account_sessions')) return;
  db.prepare(
    `INSERT INTO deleted_account_sessions (token_hash, deleted_at, expires_at)
     SELECT token_hash, ?, expires_at FROM sessions WHERE user_id = ? AND expires_at > ?
     ON CONFLICT (token_hash) DO NOTHING`,
  ).run(now.getTime(), userId, now.getTime());
}

export function revokeSessionOfUser(db: Database.Database, userId: string, sessionId: string): boolean {
  return db.prepare('UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL').run(Date.now(), sessionId, userId).changes > 0;
}

export function changeCredentials(
  db: Database.Database,
  userId: string,
  expectedHash: Uint8Array,
  via: 'password' | 'recovery',
  update: CredentialUpdate,
  renewal: SessionRenewal | SessionKept | null,
): ChangeCredentialsResult {
  const run = db.transaction((): ChangeCredentialsResult => {
    const user = db.prepare('SELECT auth_key_hash FROM users WHERE id = ?').get(userId) as Row | undefined;
    if (!user) return { ok: false, reason: 'no_user' };
    const current =
      via === 'password'
        ? (user.auth_key_hash as Buffer)
        : ((db.prepare('SELECT auth_key_hash FROM account_recovery WHERE user_id = ?').get(userId) as Row | undefined)?.auth_key_hash as
            | Buffer
            | undefined);
    if (!current || !sameBytes(bytes(current), expectedHash)) return { ok: false, reason: 'stale' };
    const at = update.at.getTime();
    db.prepare(
      `UPDATE users SET kdf_alg = ?, kdf_memory_kib = ?, kdf_iterations = ?, kdf_parallelism = ?, kdf_salt = ?,
         auth_key_hash = ?, wrapped_account_key = ?, password_changed_at = ? WHERE id = ?`,
    ).run(
      update.kdf.alg,
      update.kdf.memoryKiB,
      update.kdf.iterations,
      update.kdf.parallelism,
      update.kdf.salt,
      Buffer.from(update.authKeyHash),
      update.wrappedAccountKey,
      at,
      userId,
    );
    // the caller's session is left out of the count: it is replaced (revoked below) or kept
    const spared = renewal === null ? null : 'keeps' in renewal ? renewal.keeps : renewal.replaces;
    const replaces = renewal !== null && 'opens' in renewal ? renewal.replaces : null;
    const revoked = db
      .prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?')
      .run(at, userId, spared).changes;
    db.prepare('UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id = ?').run(at, userId, replaces);
    if (renewal !== null && 'opens' in renewal) {
      const s = renewal.opens;
      db.prepare(
        `INSERT INTO sessions (id, user_id, token_hash, client, ip, created_at, last_seen_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(s.id, s.userId, Buffer.from(s.tokenHash), s.client, s.ip, s.createdAt.getTime(), s.createdAt.getTime(), s.expiresAt.getTime());
    }
    // A key made by whoever knew the old password must not outlive it, and a used key is spent.
    const recovery = db.prepare('DELETE FROM account_recovery WHERE user_id = ?').run(userId).changes;
    // A recovery follows a lost password or a stolen account: its access tokens go too.
    const tokens =
      via === 'recovery'
        ? db
            .prepare('UPDATE access_tokens SET revoked_at = ? WHERE created_by = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)')
            .run(at, userId, at).changes
        : 0;
    return { ok: true, revokedSessions: revoked, recoveryKeyRevoked: recovery > 0, revokedTokens: tokens };
  });
  return run.immediate();
}

export function setRecovery(db: Database.Database, userId: string, r: RecoveryRecord): boolean {
  const run = db.transaction((): boolean => {
    if (!db.prepare('SELECT 1 FROM users WHERE id = ?').get(userId)) return false;
    db.prepare(
      `INSERT INTO account_recovery (user_id, auth_key_hash, wrapped_account_key, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET auth_key_hash = excluded.auth_key_hash,
         wrapped_account_key = excluded.wrapped_account_key, created_at = excluded.created_at`,
    ).run(userId, Buffer.from(r.authKeyHash), r.wrappedAccountKey, r.createdAt.getTime());
    return true;
  });
  return run.immediate();
}

export function getRecovery(db: Database.Database, userId: string): RecoveryRecord | null {
  const row = db.prepare('SELECT auth_key_hash, wrapped_account_key, created_at FROM account_recovery WHERE user_id = ?').get(userId) as
    | Row
    | undefined;
  if (!row) return null;
  return { authKeyHash: bytes(row.auth_key_hash), wrappedAccountKey: String(row.wrapped_account_key), createdAt: new Date(Number(row.created_at)) };
}

export function getAccountMeta(db: Database.Database, userId: string): AccountMetaRecord | null {
  const row = db
    .prepare(
      `SELECT u.verified_at, u.password_changed_at, r.created_at AS recovery_created_at
       FROM users u LEFT JOIN account_recovery r ON r.user_id = u.id WHERE u.id = ?`,
    )
    .get(userId) as Row | undefined;
  if (!row) return null;
  return {
    verifiedAt: dateOrNull(row.verified_at),
    passwordChangedAt: dateOrNull(row.password_changed_at),
    recoveryCreatedAt: dateOrNull(row.recovery_created_at),
  };
}

export function workspaceUsageOfUser(db: Database.Database, userId: string): WorkspaceUsageRecord[] {
  const rows = db
    .prepare(
      `SELECT w.id, w.team_id, w.size,
         (SELECT count(*) FROM snapshots s WHERE s.workspace_id = w.id) AS snapshots,
         (SELECT count(*) FROM blobs b WHERE b.workspace_id = w.id) AS blobs
       FROM workspaces w JOIN team_members m ON m.team_id = w.team_id
       WHERE m.user_id = ? AND m.pending = 0 ORDER BY w.created_at, w.id`,
    )
    .all(userId) as Row[];
  return rows.map((r) => ({
    workspaceId: String(r.id),
    teamId: String(r.team_id),
    snapshots: Number(r.snapshots),
    blobs: Number(r.blobs),
    bytes: Number(r.size),
  }));
}

export function listBlobSizes(db: Database.Database, workspaceId: string): BlobSizeRecord[] {
  const rows = db.prepare('SELECT id, size FROM blobs WHERE workspace_id = ? ORDER BY id').all(workspaceId) as Row[];
  return rows.map((r) => ({ id: (r.id as Buffer).toString('hex'), size: Number(r.size) }));
}

export function deleteUser(db: Database.Database, userId: string, expectedAuthKeyHash: Uint8Array): DeleteUserResult {
  const count = (sql: string, ...args: unknown[]): number => Number(db.prepare(sql).pluck().get(...args) ?? 0);
  const run = db.transaction((): DeleteUserResult => {
    const user = db.prepare('SELECT auth_key_hash FROM users WHERE id = ?').get(userId) as Row | undefined;
    if (!user) return { ok: false, reason: 'no_user' };
    if (!sameBytes(bytes(user.auth_key_hash), expectedAuthKeyHash)) return { ok: false, reason: 'stale' };

    const memberships = db
      .prepare(
        `SELECT t.id, t.name, m.role,
           (SELECT count(*) FROM team_members o WHERE o.team_id = t.id AND o.user_id <> m.user_id) AS others,
           (SELECT count(*) FROM team_members o WHERE o.team_id = t.id AND o.user_id <> m.user_id AND o.role = 'owner') AS other_owners
         FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = ? ORDER BY t.created_at, t.id`,
      )
      .all(userId) as Row[];
    const blocking = memberships.filter((m) => m.role === 'owner' && Number(m.others) > 0 && Number(m.other_owners) === 0);
    if (blocking.length > 0) {
      return { ok: false, reason: 'sole_owner', teams: blocking.map((m) => ({ id: String(m.id), name: String(m.name) })) };
    }
    // Teams nobody else belongs to go with the account: no one else could ever read them.
    const ownTeams = memberships.filter((m) => Number(m.others) === 0).map((m) => String(m.id));

    const removed: DeletionCounts = {
      sessions: count('SELECT count(*) FROM sessions WHERE user_id = ?', userId),
      accessTokens: 0,
      recoveryKeys: count('SELECT count(*) FROM account_recovery WHERE user_id = ?', userId),
      memberships: memberships.length,
      teams: ownTeams.length,
      workspaces: 0,
      snapshots: 0,
      blobs: 0,
      invitations: 0,
    };
    for (const teamId of ownTeams) {
      removed.workspaces += count('SELECT count(*) FROM workspaces WHERE team_id = ?', teamId);
      removed.snapshots += count('SELECT count(*) FROM snapshots s JOIN workspaces w ON w.id = s.workspace_id WHERE w.team_id = ?', teamId);
      removed.blobs += count('SELECT count(*) FROM blobs b JOIN workspaces w ON w.id = b.workspace_id WHERE w.team_id = ?', teamId);
    }
    if (tableExists(db, 'access_tokens')) {
      // tokens the user made, and tokens of the workspaces that go with the account
      removed.accessTokens = count(
        `SELECT count(*) FROM access_tokens WHERE created_by = ?
           OR workspace_id IN (SELECT w.id FROM workspaces w JOIN team_members m ON m.team_id = w.team_id
             WHERE m.user_id = ? AND (SELECT count(*) FROM team_members o WHERE o.team_id = w.team_id) = 1)`,
        userId,
        userId,
      );
    }
    // invitations to this address go; shared teams it held keys in keep its public keys as a
    // former member's (for its old snapshots) and become rotation-pending
    const now = new Date();
    removed.invitations = forgetUserInTeams(db, userId, String((db.prepare('SELECT email FROM users WHERE id = ?').get(userId) as Row).email), now);
    if (tableExists(db, 'access_tokens')) {
      // What its write tokens pushed to such a team must stay verifiable as well: key and
      // certificate stay (checked against the former-member record's key), the token itself goes.
      if (tableExists(db, 'former_access_tokens')) {
        db.prepare(
          `INSERT INTO former_access_tokens (id, workspace_id, created_by, name, scope, public_key, certificate, revoked_at)
           SELECT t.id, t.workspace_id, t.created_by, t.name, t.scope, t.public_key, t.certificate, coalesce(t.revoked_at, ?)
           FROM access_tokens t JOIN workspaces w ON w.id = t.workspace_id
             JOIN team_former_members f ON f.team_id = w.team_id AND f.user_id = t.created_by
           WHERE t.created_by = ? AND t.scope = 'write'
           ON CONFLICT (id) DO NOTHING`,
        ).run(now.getTime(), userId);
      }
      db.prepare('DELETE FROM access_tokens WHERE created_by = ?').run(userId);
    }
    // workspaces cascade to keys, blobs, snapshots, snapshot links and tokens; teams to members and keys
    const dropWorkspaces = db.prepare('DELETE FROM workspaces WHERE team_id = ?');
    const dropTeam = db.prepare('DELETE FROM teams WHERE id = ?');
    for (const teamId of ownTeams) {
      dropWorkspaces.run(teamId);
      dropTeam.run(teamId);
    }
    // the user row cascades to sessions, memberships (and their team keys) and the recovery record
    // what the invitation cap kept of deleted teams' invitations (no foreign key: deleted here)
    db.prepare('DELETE FROM deleted_team_invitations WHERE invited_by = ?').run(userId);
    rememberDeletedSessions(db, userId, now);
    db.prepare('DELETE FROM users WHERE id = ?').run(userId);
    return { ok: true, removed, teamIds: ownTeams };
  });
  // The caller then folds the WAL back into the database and truncates it (truncateWal), so the
  // account's bytes are gone from both files.
  return overwritingDeletes(db, () => run.immediate());
}

/**
 * Runs `run` with deletes overwriting what they remove (not just putting pages on the free list):
 * openSqliteStore turns this on for the whole connection, a SqliteStore made otherwise may not have.
 * For account and team deletion.
 */
export function overwritingDeletes<T>(db: Database.Database, run: () => T): T {
  const before = db.pragma('secure_delete', { simple: true }) as number;
  db.pragma('secure_delete = ON');
  try {
    return run();
  } finally {
    db.pragma(`secure_delete = ${before === 1 ? 'ON' : 'OFF'}`);
  }
}

/**
 * Copies the whole write-ahead log into the database file and truncates it to zero bytes, so no
 * older version of a page (an email before its row was deleted) stays in either file. It cannot
 * while another connection (a `backup` or `admin export-user` in another process) still reads an
 * older snapshot: then it returns false at once (no waiting on the busy timeout, which would hold
 * the event loop) and the caller tries again later.
 */
export function truncateWal(db: Database.Database): boolean {
  const timeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    const [row] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
    return !row || row.busy === 0;
  } catch {
    return false;
  } finally {
    db.pragma(`busy_timeout = ${timeout}`);
  }
}

export function workspaceFormerAccessTokens(db: Database.Database, workspaceId: string): FormerAccessTokenRecord[] {
  const rows = db
    .prepare(
      `SELECT id, workspace_id, created_by, name, scope, public_key, certificate, revoked_at FROM former_access_tokens
       WHERE workspace_id = ? ORDER BY revoked_at, id`,
    )
    .all(workspaceId) as Row[];
  return rows.map((r) => formerAccessTokenFromRow(r, (v) => new Date(Number(v))));
}

/** Pages copied per step of the online backup: 16 MiB at our page size; between steps `signal` is heard. */
const BACKUP_STEP_PAGES = 1024;

/**
 * A page-for-page copy of the database as it was at one moment (SQLite's online backup: the page
 * size, WAL mode and zeroed free space come along). It reads through a connection of its own that
 * holds one read transaction from the first step to the last: without it the online backup starts
 * over whenever another connection commits between two steps, and on a server that writes every
 * few seconds (a request's session stamp, a rate-limit count) it never finished. Writers are not
 * held up (WAL); the WAL only grows until the copy ends, as it cannot be checkpointed past the
 * copy's snapshot. `path` may be an empty file made beforehand (its mode is then kept, and SQLite
 * gives its journal the same). Aborting `signal` stops the copy between two steps with its reason.
 */
export async function backup(db: Database.Database, path: string, opts: { signal?: AbortSignal } = {}): Promise<void> {
  const source = db.memory ? db : new Database(db.name, { readonly: true, fileMustExist: true });
  try {
    if (source !== db) {
      source.pragma('busy_timeout = 5000');
      // the first read opens the transaction; every step after it copies that same snapshot
      source.exec('BEGIN');
      source.prepare('SELECT count(*) FROM sqlite_master').pluck().get();
    }
    await source.backup(path, {
      progress: () => {
        opts.signal?.throwIfAborted();
        return BACKUP_STEP_PAGES;
      },
    });
  } finally {
    if (source !== db) source.close();
  }
}
