/**
 * The account-lifecycle part of the PostgreSQL store (issue 5), the same rules as
 * sqlite/account-store.ts. Compare-and-swaps lock the user row (SELECT … FOR UPDATE) first.
 *
 * Deleted rows: PostgreSQL keeps dead row versions until VACUUM marks their space free, and their
 * bytes until that space is reused (in the table's and its indexes' files, and ANALYZE's samples
 * in pg_statistic); unlike SQLite's secure_delete nothing is overwritten. Store.eraseDeletedRows
 * (`admin vacuum`) rewrites the tables that hold service data.
 */
import type {
  AccountMetaRecord,
  BlobSizeRecord,
  ChangeCredentialsResult,
  CredentialUpdate,
  DeleteUserResult,
  DeletionCounts,
  EndedSessionRecord,
  FormerAccessTokenRecord,
  InvitationToUserRecord,
  RecoveryRecord,
  SessionRecord,
  SessionKept,
  SessionRenewal,
  WorkspaceUsageRecord,
} from '../store.js';
import type { PgDb } from './db.js';
import { bytes, date, dateOrNull, toSession } from './rows.js';
import { forgetUserInTeams } from './team-store.js';
import { formerAccessTokenFromRow } from '../row-mapping.js';

export class BackupUnsupportedError extends Error {
  readonly code = 'backup_unsupported';
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export async function listSessionsOfUser(db: PgDb, userId: string, now: Date): Promise<SessionRecord[]> {
  const rows = await db.query(
    `SELECT id, user_id, client, ip, created_at, last_seen_at, expires_at FROM sessions
     WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at, id`,
    [userId, now],
  );
  return rows.map(toSession);
}

export async function listEndedSessionsOfUser(db: PgDb, userId: string, now: Date): Promise<EndedSessionRecord[]> {
  const rows = await db.query(
    `SELECT id, user_id, client, ip, created_at, last_seen_at, expires_at, revoked_at FROM sessions
     WHERE user_id = $1 AND (revoked_at IS NOT NULL OR expires_at <= $2) ORDER BY created_at, id`,
    [userId, now],
  );
  return rows.map((r) => ({ ...toSession(r), revokedAt: dateOrNull(r.revoked_at) }));
}

export async function listInvitationsToUser(db: PgDb, userId: string, email: string): Promise<InvitationToUserRecord[]> {
  const rows = await db.query(
    `SELECT i.id, i.team_id, t.name AS team_name, i.email, i.role, i.created_at, i.expires_at, i.accepted_at
     FROM team_invitations i JOIN teams t ON t.id = i.team_id
     WHERE i.email = $1 OR i.accepted_by = $2 ORDER BY i.created_at, i.id`,
    [email, userId],
  );
  return rows.map((r) => ({
    id: String(r.id),
    teamId: String(r.team_id),
    teamName: String(r.team_name),
    email: String(r.email),
    role: r.role === 'admin' ? 'admin' : 'member',
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
    acceptedAt: dateOrNull(r.accepted_at),
  }));
}

export async function revokeSessionOfUser(db: PgDb, userId: string, sessionId: string): Promise<boolean> {
  return (await db.exec('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL', [sessionId, userId])) > 0;
}

export async function changeCredentials(
  db: PgDb,
  userId: string,
  expectedHash: Uint8Array,
  via: 'password' | 'recovery',
  update: CredentialUpdate,
  renewal: SessionRenewal | SessionKept | null,
): Promise<ChangeCredentialsResult> {
  return db.tx(async (tx): Promise<ChangeCredentialsResult> => {
    const [user] = await tx.query('SELECT auth_key_hash FROM users WHERE id = $1 FOR UPDATE', [userId]);
    if (!user) return { ok: false, reason: 'no_user' };
    const current =
      via === 'password' ? user.auth_key_hash : (await tx.query('SELECT auth_key_hash FROM account_recovery WHERE user_id = $1', [userId]))[0]?.auth_key_hash;
    if (!current || !sameBytes(bytes(current), expectedHash)) return { ok: false, reason: 'stale' };
    await tx.exec(
      `UPDATE users SET kdf_alg = $1, kdf_memory_kib = $2, kdf_iterations = $3, kdf_parallelism = $4, kdf_salt = $5,
         auth_key_hash = $6, wrapped_account_key = $7, password_changed_at = $8 WHERE id = $9`,
      [
        update.kdf.alg,
        update.kdf.memoryKiB,
        update.kdf.iterations,
        update.kdf.parallelism,
        update.kdf.salt,
        Buffer.from(update.authKeyHash),
        update.wrappedAccountKey,
        update.at,
        userId,
      ],
    );
    // the caller's session is left out of the count: it is replaced (revoked below) or kept
    const spared = renewal === null ? null : 'keeps' in renewal ? renewal.keeps : renewal.replaces;
    const replaces = renewal !== null && 'opens' in renewal ? renewal.replaces : null;
    const revoked = await tx.exec('UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id IS DISTINCT FROM $3', [
      update.at,
      userId,
      spared,
    ]);
    await tx.exec('UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id = $3', [update.at, userId, replaces]);
    if (renewal !== null && 'opens' in renewal) {
      const s = renewal.opens;
      await tx.exec(
        `INSERT INTO sessions (id, user_id, token_hash, client, ip, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)`,
        [s.id, s.userId, Buffer.from(s.tokenHash), s.client, s.ip, s.createdAt, s.expiresAt],
      );
    }
    // A key made by whoever knew the old password must not outlive it, and a used key is spent.
    const recovery = await tx.exec('DELETE FROM account_recovery WHERE user_id = $1', [userId]);
    // A recovery follows a lost password or a stolen account: its access tokens go too.
    const tokens =
      via === 'recovery'
        ? await tx.exec('UPDATE access_tokens SET revoked_at = $1 WHERE created_by = $2 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)', [
            update.at,
            userId,
          ])
        : 0;
    return { ok: true, revokedSessions: revoked, recoveryKeyRevoked: recovery > 0, revokedTokens: tokens };
  });
}

export async function setRecovery(db: PgDb, userId: string, r: RecoveryRecord): Promise<boolean> {
  return db.tx(async (tx) => {
    if (!(await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId])).length) return false;
    await tx.exec(
      `INSERT INTO account_recovery (user_id, auth_key_hash, wrapped_account_key, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE SET auth_key_hash = excluded.auth_key_hash,
         wrapped_account_key = excluded.wrapped_account_key, created_at = excluded.created_at`,
      [userId, Buffer.from(r.authKeyHash), r.wrappedAccountKey, r.createdAt],
    );
    return true;
  });
}

export async function getRecovery(db: PgDb, userId: string): Promise<RecoveryRecord | null> {
  const [row] = await db.query('SELECT auth_key_hash, wrapped_account_key, created_at FROM account_recovery WHERE user_id = $1', [userId]);
  if (!row) return null;
  return { authKeyHash: bytes(row.auth_key_hash), wrappedAccountKey: String(row.wrapped_account_key), createdAt: date(row.created_at) };
}

export async function getAccountMeta(db: PgDb, userId: string): Promise<AccountMetaRecord | null> {
  const [row] = await db.query(
    `SELECT u.verified_at, u.password_changed_at, r.created_at AS recovery_created_at
     FROM users u LEFT JOIN account_recovery r ON r.user_id = u.id WHERE u.id = $1`,
    [userId],
  );
  if (!row) return null;
  return {
    verifiedAt: dateOrNull(row.verified_at),
    passwordChangedAt: dateOrNull(row.password_changed_at),
    recoveryCreatedAt: dateOrNull(row.recovery_created_at),
  };
}

export async function workspaceUsageOfUser(db: PgDb, userId: string): Promise<WorkspaceUsageRecord[]> {
  const rows = await db.query(
    `SELECT w.id, w.team_id, w.size,
       (SELECT count(*) FROM snapshots s WHERE s.workspace_id = w.id) AS snapshots,
       (SELECT count(*) FROM blobs b WHERE b.workspace_id = w.id) AS blobs
     FROM workspaces w JOIN team_members m ON m.team_id = w.team_id
     WHERE m.user_id = $1 AND NOT m.pending ORDER BY w.created_at, w.id`,
    [userId],
  );
  return rows.map((r) => ({
    workspaceId: String(r.id),
    teamId: String(r.team_id),
    snapshots: Number(r.snapshots),
    blobs: Number(r.blobs),
    bytes: Number(r.size),
  }));
}

export async function listBlobSizes(db: PgDb, workspaceId: string): Promise<BlobSizeRecord[]> {
  const rows = await db.query('SELECT id, size FROM blobs WHERE workspace_id = $1 ORDER BY id', [workspaceId]);
  return rows.map((r) => ({ id: (r.id as Buffer).toString('hex'), size: Number(r.size) }));
}

export async function deleteUser(db: PgDb, userId: string, expectedAuthKeyHash: Uint8Array): Promise<DeleteUserResult> {
  return db.tx(async (tx): Promise<DeleteUserResult> => {
    const count = async (sql: string, params: unknown[]): Promise<number> => Number((await tx.query(sql, params))[0]?.n ?? 0);
    const [user] = await tx.query('SELECT email, auth_key_hash FROM users WHERE id = $1 FOR UPDATE', [userId]);
    if (!user) return { ok: false, reason: 'no_user' };
    if (!sameBytes(bytes(user.auth_key_hash), expectedAuthKeyHash)) return { ok: false, reason: 'stale' };
    // The account's teams are locked before the sole-owner check, as role changes and departures
    // lock them: another owner stepping down at the same moment cannot leave a team without one.
    await tx.query('SELECT t.id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = $1 ORDER BY t.id FOR UPDATE OF t', [userId]);

    const memberships = await tx.query(
      `SELECT t.id, t.name, m.role,
         (SELECT count(*) FROM team_members o WHERE o.team_id = t.id AND o.user_id <> m.user_id) AS others,
         (SELECT count(*) FROM team_members o WHERE o.team_id = t.id AND o.user_id <> m.user_id AND o.role = 'owner') AS other_owners
       FROM team_members m JOIN teams t ON t.id = m.team_id WHERE m.user_id = $1 ORDER BY t.created_at, t.id`,
      [userId],
    );
    const blocking = memberships.filter((m) => m.role === 'owner' && Number(m.others) > 0 && Number(m.other_owners) === 0);
    if (blocking.length > 0) {
      return { ok: false, reason: 'sole_owner', teams: blocking.map((m) => ({ id: String(m.id), name: String(m.name) })) };
    }
    // Teams nobody else belongs to go with the account: no one else could ever read them.
    const ownTeams = memberships.filter((m) => Number(m.others) === 0).map((m) => String(m.id));
    // The workspaces this goes on to delete or refer to, locked now, before the invitations and
    // tokens, in the order deleteTeam (team, workspaces, then members and invitations) and
    // deleteWorkspace (workspace, then its tokens) lock them: those of the teams that go with the
    // account FOR UPDATE (deleted below), those its write tokens are kept for (former_access_tokens
    // below) FOR KEY SHARE, what that foreign key takes. Locked after the invitations and tokens, a
    // deleteTeam of a team it had left, or a deleteWorkspace of one of its own, deadlocked with it.
    // One whose deletion commits meanwhile is skipped, and not counted. Both sets together by id,
    // as deleteTeam locks its workspaces: taken one set after the other, two account deletions,
    // each of the only member left of a team whose workspace holds the other's write token, each
    // held its own workspace and waited for the other's (a deadlock). Neither set can grow while
    // this runs: a new workspace of the locked teams, or a new token of the locked account, waits.
    const workspaces = await tx.query(
      `SELECT id, team_id = ANY($1::text[]) AS own FROM workspaces
       WHERE team_id = ANY($1::text[]) OR id IN (SELECT workspace_id FROM access_tokens WHERE created_by = $2 AND scope = 'write')
       ORDER BY id`,
      [ownTeams, userId],
    );
    // each run of one lock mode in one statement, in the same order
    for (let i = 0; i < workspaces.length; ) {
      const own = workspaces[i]!.own === true;
      let end = i;
      while (end < workspaces.length && (workspaces[end]!.own === true) === own) end++;
      const ids = workspaces.slice(i, end).map((w) => String(w.id));
      await tx.query(`SELECT 1 FROM workspaces WHERE id = ANY($1::text[]) ORDER BY id FOR ${own ? 'UPDATE' : 'KEY SHARE'}`, [ids]);
      i = end;
    }

    const removed: DeletionCounts = {
      sessions: await count('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [userId]),
      accessTokens: 0,
      recoveryKeys: await count('SELECT count(*) AS n FROM account_recovery WHERE user_id = $1', [userId]),
      memberships: memberships.length,
      teams: ownTeams.length,
      workspaces: 0,
      snapshots: 0,
      blobs: 0,
      invitations: 0,
    };
    if (ownTeams.length > 0) {
      removed.workspaces = await count('SELECT count(*) AS n FROM workspaces WHERE team_id = ANY($1::text[])', [ownTeams]);
      removed.snapshots = await count(
        'SELECT count(*) AS n FROM snapshots s JOIN workspaces w ON w.id = s.workspace_id WHERE w.team_id = ANY($1::text[])',
        [ownTeams],
      );
      removed.blobs = await count('SELECT count(*) AS n FROM blobs b JOIN workspaces w ON w.id = b.workspace_id WHERE w.team_id = ANY($1::text[])', [
        ownTeams,
      ]);
    }
    // tokens the user made, and tokens of the workspaces that go with the account
    removed.accessTokens = await count(
      `SELECT count(*) AS n FROM access_tokens WHERE created_by = $1
         OR workspace_id IN (SELECT w.id FROM workspaces w WHERE w.team_id = ANY($2::text[]))`,
      [userId, ownTeams],
    );
    // invitations to this address go; shared teams it held keys in keep its public keys as a
    // former member's (for its old snapshots) and become rotation-pending
    const now = new Date();
    removed.invitations = await forgetUserInTeams(tx, userId, String(user.email), now);
    // What its write tokens pushed to such a team must stay verifiable as well: key and
    // certificate stay (checked against the former-member record's key), the token itself goes.
    // The workspaces are held FOR KEY SHARE (what the foreign key takes): one whose deletion (which
    // takes no team lock) commits meanwhile is skipped, its tokens gone with it, not a failure.
    await tx.exec(
      `INSERT INTO former_access_tokens (id, workspace_id, created_by, name, scope, public_key, certificate, revoked_at)
       SELECT t.id, t.workspace_id, t.created_by, t.name, t.scope, t.public_key, t.certificate, coalesce(t.revoked_at, $1)
       FROM access_tokens t JOIN workspaces w ON w.id = t.workspace_id
         JOIN team_former_members f ON f.team_id = w.team_id AND f.user_id = t.created_by
       WHERE t.created_by = $2 AND t.scope = 'write'
       FOR KEY SHARE OF w
       ON CONFLICT (id) DO NOTHING`,
      [now, userId],
    );
    await tx.exec('DELETE FROM access_tokens WHERE created_by = $1', [userId]);
    // workspaces cascade to keys, blobs, snapshots, snapshot links and tokens; teams to members and keys
    if (ownTeams.length > 0) {
      await tx.exec('DELETE FROM workspaces WHERE team_id = ANY($1::text[])', [ownTeams]);
      await tx.exec('DELETE FROM teams WHERE id = ANY($1::text[])', [ownTeams]);
    }
    // the user row cascades to sessions, memberships (and their team keys) and the recovery record
    // what the invitation cap kept of deleted teams' invitations (no foreign key: deleted here)
    await tx.exec('DELETE FROM deleted_team_invitations WHERE invited_by = $1', [userId]);
    // the hash of each session token not yet expired, so that its holder is told the account was
    // deleted (endedSession); no account id, IP or client
    await tx.exec(
      `INSERT INTO deleted_account_sessions (token_hash, deleted_at, expires_at)
       SELECT token_hash, $2, expires_at FROM sessions WHERE user_id = $1 AND expires_at > $2
       ON CONFLICT (token_hash) DO NOTHING`,
      [userId, now],
    );
    await tx.exec('DELETE FROM users WHERE id = $1', [userId]);
    return { ok: true, removed, teamIds: ownTeams };
  });
}

export async function workspaceFormerAccessTokens(db: PgDb, workspaceId: string): Promise<FormerAccessTokenRecord[]> {
  const rows = await db.query(
    `SELECT id, workspace_id, created_by, name, scope, public_key, certificate, revoked_at FROM former_access_tokens
     WHERE workspace_id = $1 ORDER BY revoked_at, id`,
    [workspaceId],
  );
  return rows.map((r) => formerAccessTokenFromRow(r, date));
}

/**
 * `insomnia-sync-server backup` copies a SQLite file; a PostgreSQL database is backed up with
 * PostgreSQL's own tools, which take a consistent snapshot while the servers keep running.
 */
export async function backup(_path: string): Promise<void> {
  throw new BackupUnsupportedError(
    'backup writes SQLite files only; back up a PostgreSQL database with pg_dump, e.g. ' +
      'pg_dump --format=custom --file sync.dump "$INSOMNIA_SYNC_DB" (restore with pg_restore)',
  );
}
