/**
 * `Store` on PostgreSQL (node-postgres pool). Several server processes may share one database:
 * every multi-row change is one transaction on one pooled connection, and the head's
 * compare-and-swap locks the workspace row (SELECT … FOR NO KEY UPDATE), so of two pushes with the
 * same parent, on any servers, exactly one moves the head and the other sees it moved.
 */
import pg from 'pg';
import {
  countWithinBytes,
  BlobIdError,
  StoreMissingError,
  type AccessTokenRecord,
  type AccountMetaRecord,
  type BlobRecord,
  type BlobSizeRecord,
  type ChangeCredentialsResult,
  type CreateAccessTokenResult,
  type CreateSessionResult,
  type PutBlobsResult,
  type CreateSnapshotResult,
  type CreateUserResult,
  type CreateWorkspaceResult,
  type DeleteUserResult,
  type EraseReport,
  type GarbageReport,
  type MemberKeysRecord,
  type NewAccessToken,
  type NewSession,
  type NewSnapshot,
  type NewUser,
  type NewWorkspace,
  type RecoveryRecord,
  type SessionRecord,
  type SnapshotRecord,
  type Store,
  type TeamMembershipRecord,
  type TeamRecord,
  type TeamRole,
  type UserRecord,
  type WorkspaceRecord,
  type WorkspaceUsageRecord,
} from '../store.js';
import type {
  AcceptInvitationResult,
  ConfirmMemberResult,
  CreateInvitationResult,
  CreateTeamResult,
  DeleteTeamResult,
  EndedSessionRecord,
  FormerAccessTokenRecord,
  InvitationRecord,
  InvitationToUserRecord,
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
import { EraseRefusedError, PgDb, createPool, type Row, type Tx } from './db.js';
import { STAMP_BLOB_ACTIVITY_SQL, checkSchemaInTx, collectGarbage } from './gc.js';
import { asRole, blobKey, bytes, date, groupBy, toAccessToken, toSession, toSnapshot, toTeam, toUser, toWorkspace, toWorkspaceKey } from './rows.js';
import * as teams from './team-store.js';
import { SchemaMismatchError } from '../schema-version.js';
import { describeUrl, driverUrl, parsePostgresUrl } from './url.js';
import { storageUnavailableReason } from '../unavailable.js';

export interface PostgresStoreOptions {
  /** apply pending migrations when opening (default true) */
  migrate?: boolean;
  /** the database must already hold our schema (StoreMissingError otherwise) */
  existing?: boolean;
  /** connections in the pool (default 10) */
  poolSize?: number;
  /** see createPool (db.ts): default the URL's connect_timeout, else 10 s */
  connectTimeoutMs?: number;
  /** see createPool (db.ts): the statement_timeout of connections that have none, default 20 s */
  statementTimeoutMs?: number;
}

/** Blob inserts go to the server in groups of about this many bytes (one statement each). */
const INSERT_BATCH_BYTES = 4 * 1024 * 1024;
/** …and at most this many rows, well under PostgreSQL's 65,535 parameters per statement. */
const INSERT_BATCH_ROWS = 5000;

export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
  parsePostgresUrl(url);
  const pool = createPool(driverUrl(url), options);
  const store = new PostgresStore(pool, url);
  let hasSchema: boolean;
  try {
    // to_regclass follows the connection's search_path, as every later query does
    const { rows } = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
    hasSchema = rows[0]?.t != null;
    if (options.migrate !== false && (hasSchema || !options.existing)) await store.migrate();
    // not migrating (the operator commands): still refused on a schema this build does not know
    else if (hasSchema) await store.checkSchema();
  } catch (err) {
    const failure =
      err instanceof SchemaMismatchError || err instanceof PostgresUnavailableError
        ? err
        : new PostgresUnavailableError(await failureMessage(pool, url, err), { cause: err });
    await pool.end().catch(() => {});
    throw failure;
  }
  if (options.existing && !hasSchema) {
    await pool.end().catch(() => {});
    throw new StoreMissingError(`PostgreSQL at ${describeUrl(url)} has no insomnia-sync schema`);
  }
  return store;
}

/**
 * One line for a failure to open or migrate: where (never the user or password), the driver's
 * words, and what to do (for a missing privilege, the grants, naming the role and schema).
 */
async function failureMessage(pool: pg.Pool, url: string, err: unknown): Promise<string> {
  const message = (err as Error).message;
  const code = (err as { code?: unknown }).code;
  let hint = '';
  if (storageUnavailableReason(err) === 'database not answering' || /^(timeout exceeded when trying to connect|Connection terminated due to connection timeout)$/.test(message)) {
    hint = ": the database did not answer in time; check that PostgreSQL is running and reachable (the URL's connect_timeout, in seconds, sets the wait for a connection)";
  } else if (code === '57014') {
    hint = ': the statement ran past its statement_timeout, e.g. waiting for a lock another transaction holds; try again when it has ended';
  } else if (typeof code === 'string' && TLS_TRUST_CODES.has(code)) {
    hint =
      ": the database's TLS certificate is not trusted: name the CA that issued it with sslrootcert=FILE and use sslmode=verify-full (psql and pg_dump read both too), and connect by the host name the certificate was issued for";
  } else if (code === '55P03') {
    hint = ': another transaction holds a lock on the table; try again when it has ended';
  } else if (/^The server does not support SSL connections$/.test(message)) {
    hint = ': the URL asks for TLS (sslmode) and the database offers none: turn on ssl in its postgresql.conf';
  } else if (code === '42501' || code === '3F000') {
    const { role, schema } = await whoAndWhere(pool);
    const serving = `GRANT USAGE ON SCHEMA ${schema} TO ${role}, SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} and USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema}`;
    // a table or sequence refused: the data grants; a schema refused, or "must be owner": migrating
    hint = /^permission denied for (table|sequence|relation|view)\b/.test(message)
      ? `: the server's role needs ${serving}`
      : `: creating or changing the tables needs a role that may create in the schema and owns its tables (GRANT CREATE ON SCHEMA ${schema} TO ${role}, or run "insomnia-sync-server migrate" as the schema's owner and the server as this role); serving needs only ${serving}`;
  }
  return `PostgreSQL at ${describeUrl(url)}: ${message}${hint}`;
}

/** Node's TLS errors for a certificate it cannot verify (unknown CA, self-signed, wrong name, expired). */
const TLS_TRUST_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

/** The current role and the first schema of its search_path, as identifiers (placeholders when unknown). */
async function whoAndWhere(pool: pg.Pool): Promise<{ role: string; schema: string }> {
  try {
    const { rows } = await pool.query<{ role: string; schema: string | null }>(
      "SELECT quote_ident(current_user) AS role, quote_ident(coalesce(current_schema(), split_part(current_setting('search_path'), ',', 1))) AS schema",
    );
    return { role: rows[0]?.role ?? 'ROLE', schema: rows[0]?.schema?.trim() || 'SCHEMA' };
  } catch {
    return { role: 'ROLE', schema: 'SCHEMA' };
  }
}

/** The database could not be reached, or refused the login or the schema migration, at open. */
export class PostgresUnavailableError extends Error {
  readonly code = 'store_unavailable';
}

export class PostgresStore implements Store {
  private readonly db: PgDb;
  private closed = false;

  constructor(
    pool: pg.Pool,
    private readonly url: string,
  ) {
    this.db = new PgDb(pool);
  }

  /** Errors but a newer or different schema name the database, like every failure to open. */
  async migrate(): Promise<number[]> {
    try {
      return await this.db.migrate();
    } catch (err) {
      if (err instanceof SchemaMismatchError) throw err;
      throw new PostgresUnavailableError(await failureMessage(this.db.pool, this.url, err), { cause: err });
    }
  }

  /** Throws SchemaMismatchError for a schema newer than this build's or a migration that differs. */
  async checkSchema(): Promise<void> {
    return this.db.checkSchema();
  }

  // users

  async createUser(user: NewUser): Promise<CreateUserResult> {
    return this.db.tx(async (tx): Promise<CreateUserResult> => {
      if ((await tx.query('SELECT 1 FROM users WHERE email = $1', [user.email])).length) return { ok: false, reason: 'email_taken' };
      if ((await tx.query('SELECT 1 FROM users WHERE id = $1', [user.id])).length) return { ok: false, reason: 'id_taken' };
      // the id of a deleted account still names its old signatures in the teams it was in
      if ((await tx.query('SELECT 1 FROM team_former_members WHERE user_id = $1', [user.id])).length) return { ok: false, reason: 'id_taken' };
      if ((await tx.query('SELECT 1 FROM teams WHERE id = $1', [user.personalTeam.id])).length) return { ok: false, reason: 'id_taken' };
      const at = user.createdAt;
      await tx.exec(
        `INSERT INTO users (id, email, name, kdf_alg, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt,
           auth_key_hash, wrapped_account_key, x25519_public_key, ed25519_public_key, wrapped_x25519_secret,
           wrapped_ed25519_secret, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
        [
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
        ],
      );
      const team = user.personalTeam;
      await tx.exec('INSERT INTO teams (id, name, personal, epoch, created_at) VALUES ($1, $2, true, 1, $3)', [team.id, team.name, at]);
      await tx.exec("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)", [
        team.id,
        user.id,
        at,
      ]);
      await tx.exec('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES ($1, $2, 1, $3)', [team.id, user.id, team.sealedTeamKey]);
      return { ok: true };
    });
  }

  async getUserByEmail(email: string): Promise<UserRecord | null> {
    const [row] = await this.db.query('SELECT * FROM users WHERE email = $1', [email]);
    return row ? toUser(row) : null;
  }

  async getUserById(id: string): Promise<UserRecord | null> {
    const [row] = await this.db.query('SELECT * FROM users WHERE id = $1', [id]);
    return row ? toUser(row) : null;
  }

  // sessions

  async createSession(s: NewSession): Promise<CreateSessionResult> {
    // One statement: the insert happens only if the account row is there, locked FOR KEY SHARE (as
    // the foreign key would lock it), so an account deletion committing meanwhile makes it insert nothing.
    const inserted = await this.db.exec(
      `INSERT INTO sessions (id, user_id, token_hash, client, ip, created_at, last_seen_at, expires_at)
       SELECT $1, u.id, $3, $4, $5, $6, $6, $7 FROM (SELECT id FROM users WHERE id = $2 FOR KEY SHARE) u`,
      [s.id, s.userId, Buffer.from(s.tokenHash), s.client, s.ip, s.createdAt, s.expiresAt],
    );
    return inserted > 0 ? { ok: true } : { ok: false, reason: 'no_user' };
  }

  async useSession(tokenHash: Uint8Array, now: Date, newExpiresAt: Date): Promise<SessionRecord | null> {
    const [row] = await this.db.query(
      `UPDATE sessions SET last_seen_at = $1, expires_at = $2
       WHERE token_hash = $3 AND revoked_at IS NULL AND expires_at > $1
       RETURNING id, user_id, client, ip, created_at, last_seen_at, expires_at`,
      [now, newExpiresAt, Buffer.from(tokenHash)],
    );
    return row ? toSession(row) : null;
  }

  async revokeSession(sessionId: string): Promise<boolean> {
    return (await this.db.exec('UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [sessionId])) > 0;
  }

  async endedSession(tokenHash: Uint8Array, now: Date): Promise<EndedSessionReason | null> {
    const hash = Buffer.from(tokenHash);
    const [row] = await this.db.query('SELECT revoked_at, expires_at FROM sessions WHERE token_hash = $1', [hash]);
    if (row) {
      if (row.revoked_at !== null) return { reason: 'revoked', at: date(row.revoked_at) };
      return date(row.expires_at).getTime() <= now.getTime() ? { reason: 'expired', at: date(row.expires_at) } : null;
    }
    const [gone] = await this.db.query('SELECT deleted_at FROM deleted_account_sessions WHERE token_hash = $1', [hash]);
    return gone ? { reason: 'account_deleted', at: date(gone.deleted_at) } : null;
  }

  async revokeUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    return this.db.exec('UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2', [
      userId,
      exceptSessionId ?? null,
    ]);
  }

  // teams

  async listTeamsOfUser(userId: string): Promise<TeamMembershipRecord[]> {
    const rows = await this.db.query(
      `SELECT t.id, t.name, t.personal, t.epoch, t.rotation_pending, m.role, m.pending FROM team_members m JOIN teams t ON t.id = m.team_id
       WHERE m.user_id = $1 ORDER BY t.created_at, t.id`,
      [userId],
    );
    const keys = await this.db.query('SELECT team_id, epoch, sealed_key FROM team_keys WHERE user_id = $1 ORDER BY team_id, epoch', [userId]);
    const byTeam = groupBy(keys, 'team_id');
    return rows.map((t) => ({
      ...toTeam(t),
      role: asRole(t.role),
      // only when false: a confirmed membership reads as before teams had states
      ...(t.pending === true ? { confirmed: false as const } : {}),
      ...(t.rotation_pending === true ? { rotationPending: true as const } : {}),
      sealedKeys: (byTeam.get(String(t.id)) ?? []).map((k) => ({ epoch: Number(k.epoch), sealedKey: String(k.sealed_key) })),
    }));
  }

  async getTeamRole(teamId: string, userId: string): Promise<TeamRole | null> {
    const [row] = await this.db.query('SELECT role FROM team_members WHERE team_id = $1 AND user_id = $2 AND NOT pending', [
      teamId,
      userId,
    ]);
    return row ? asRole(row.role) : null;
  }

  async getTeam(teamId: string): Promise<TeamRecord | null> {
    const [row] = await this.db.query('SELECT id, name, personal, epoch FROM teams WHERE id = $1', [teamId]);
    return row ? toTeam(row) : null;
  }

  // workspaces

  async createWorkspace(w: NewWorkspace): Promise<CreateWorkspaceResult> {
    return this.db.tx(async (tx): Promise<CreateWorkspaceResult> => {
      // FOR SHARE: a rotation (which locks the team row FOR UPDATE and lists its workspaces) runs
      // wholly before or after this, so the epoch checked is the one the workspace is born under
      const [team] = await tx.query('SELECT epoch FROM teams WHERE id = $1 FOR SHARE', [w.teamId]);
      if (!team) return { ok: false, reason: 'no_team' };
      if ((await tx.query('SELECT 1 FROM workspaces WHERE id = $1', [w.id])).length) return { ok: false, reason: 'id_taken' };
      if (w.key.epoch !== Number(team.epoch)) return { ok: false, reason: 'stale_epoch', epoch: Number(team.epoch) };
      await tx.exec(
        'INSERT INTO workspaces (id, team_id, encrypted_name, head, size, created_at, updated_at) VALUES ($1, $2, $3, NULL, 0, $4, $4)',
        [w.id, w.teamId, w.encryptedName, w.createdAt],
      );
      await tx.exec('INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) VALUES ($1, $2, $3)', [w.id, w.key.epoch, w.key.wrappedKey]);
      return { ok: true, workspace: (await loadWorkspace(tx, w.id))! };
    });
  }

  async listWorkspacesOfUser(userId: string): Promise<WorkspaceRecord[]> {
    // One statement, so one snapshot: each head is the one its keys were there with, as clients
    // rely on (the epoch marks of docs/crypto.md §5.2). Two statements (heads, then keys) could pair
    // a rotation's new key with the head from before a push that landed just ahead of it.
    const rows = await this.db.query(
      `SELECT w.*, coalesce((
         SELECT json_agg(json_build_object('epoch', k.epoch, 'wrapped_key', k.wrapped_key) ORDER BY k.epoch)
         FROM workspace_keys k WHERE k.workspace_id = w.id), '[]'::json) AS workspace_keys
       FROM workspaces w JOIN team_members m ON m.team_id = w.team_id
       WHERE m.user_id = $1 AND NOT m.pending ORDER BY w.created_at, w.id`,
      [userId],
    );
    return rows.map((r) => toWorkspace(r, (r.workspace_keys as Row[]).map(toWorkspaceKey)));
  }

  async getWorkspace(id: string): Promise<WorkspaceRecord | null> {
    return loadWorkspace(this.db, id);
  }

  async renameWorkspace(id: string, encryptedName: string, now: Date): Promise<WorkspaceRecord | null> {
    const changed = await this.db.exec('UPDATE workspaces SET encrypted_name = $1, updated_at = $2 WHERE id = $3', [encryptedName, now, id]);
    return changed > 0 ? loadWorkspace(this.db, id) : null;
  }

  async deleteWorkspace(id: string): Promise<boolean> {
    // foreign keys cascade to keys, blobs, snapshots, snapshot links and tokens
    return (await this.db.exec('DELETE FROM workspaces WHERE id = $1', [id])) > 0;
  }

  async workspaceMembers(workspaceId: string): Promise<MemberKeysRecord[]> {
    const rows = await this.db.query(
      `SELECT u.id, u.email, u.name, m.role, u.x25519_public_key, u.ed25519_public_key
       FROM workspaces w JOIN team_members m ON m.team_id = w.team_id JOIN users u ON u.id = m.user_id
       WHERE w.id = $1 AND NOT m.pending ORDER BY m.created_at, u.id`,
      [workspaceId],
    );
    // Former members stay listed (flagged by untilEpoch) so their old snapshots stay verifiable, with
    // the keys copied when they left: a deleted account has no users row (and no email or name)
    // left. One who is a confirmed member again is listed once, as a member.
    const former = await this.db.query(
      `SELECT f.user_id AS id, coalesce(u.email, '') AS email, coalesce(u.name, '') AS name, f.x25519_public_key,
         f.ed25519_public_key, f.until_epoch
       FROM workspaces w JOIN team_former_members f ON f.team_id = w.team_id LEFT JOIN users u ON u.id = f.user_id
       WHERE w.id = $1 AND NOT EXISTS (
         SELECT 1 FROM team_members m WHERE m.team_id = f.team_id AND m.user_id = f.user_id AND NOT m.pending)
       ORDER BY f.removed_at, f.user_id`,
      [workspaceId],
    );
    const keysOf = (r: Row) => ({
      userId: String(r.id),
      email: String(r.email),
      name: String(r.name),
      x25519PublicKey: String(r.x25519_public_key),
      ed25519PublicKey: String(r.ed25519_public_key),
    });
    return [
      ...rows.map((r): MemberKeysRecord => ({ ...keysOf(r), role: asRole(r.role) })),
      ...former.map((r): MemberKeysRecord => ({ ...keysOf(r), role: 'member', untilEpoch: Number(r.until_epoch) })),
    ];
  }

  // blobs

  async missingBlobs(workspaceId: string, ids: readonly string[]): Promise<string[]> {
    // stamped (and committed) before the read: garbage collection then spares what this push is told is stored
    await this.db.exec(STAMP_BLOB_ACTIVITY_SQL, [new Date(), workspaceId]);
    return missing(this.db, workspaceId, ids);
  }

  async putBlobs(workspaceId: string, blobs: readonly BlobRecord[]): Promise<PutBlobsResult> {
    // keys first: a bad id must fail before the transaction, so nothing is stored
    const rows = blobs.map((b) => {
      const key = blobKey(b.id);
      if (key === null) throw new BlobIdError('blob id must be 64 hex chars');
      return { key, data: asBuffer(b.data) };
    });
    // Concurrent pushes of overlapping blobs lock the same keys; taking them in one global order
    // keeps two such transactions from deadlocking on each other.
    rows.sort((a, b) => Buffer.compare(a.key, b.key));
    return this.db.tx(async (tx): Promise<PutBlobsResult> => {
      // The route checked access, but a workspace deletion may commit before the inserts: held
      // FOR KEY SHARE (what the foreign key takes, so pushes and GC are not held up), the row is
      // either there until this commits, or found gone after the deletion committed.
      if ((await tx.query('SELECT 1 FROM workspaces WHERE id = $1 FOR KEY SHARE', [workspaceId])).length === 0) return { ok: false, reason: 'no_workspace' };
      const at = new Date();
      let stored = 0;
      let bytes = 0;
      for (let start = 0; start < rows.length; ) {
        let end = start;
        let batchBytes = 0;
        while (end < rows.length && end - start < INSERT_BATCH_ROWS && (end === start || batchBytes + rows[end]!.data.length <= INSERT_BATCH_BYTES)) {
          batchBytes += rows[end]!.data.length;
          end++;
        }
        const batch = rows.slice(start, end);
        // One parameter per id and per data: node-postgres sends Buffers in binary, while a bytea[]
        // array parameter goes as hex text (measured: 100 MB in 4 KB blobs took 7.7 s that way).
        const params: unknown[] = [workspaceId, at];
        const values = batch.map((r) => {
          params.push(r.key, r.data);
          return `($1, $${params.length - 1}::bytea, $${params.length}::bytea, $2::timestamptz)`;
        });
        const inserted = await tx.query<{ size: number }>(
          `INSERT INTO blobs (workspace_id, id, data, created_at, size)
           SELECT v.w, v.id, v.data, v.at, length(v.data) FROM (VALUES ${values.join(', ')}) AS v(w, id, data, at)
           ON CONFLICT DO NOTHING RETURNING size`,
          params,
        );
        stored += inserted.length;
        for (const r of inserted) bytes += Number(r.size);
        start = end;
      }
      await tx.exec('UPDATE workspaces SET size = size + $1, blob_activity_at = $2 WHERE id = $3', [bytes, at, workspaceId]);
      return { ok: true, stored };
    });
  }

  async getBlobs(workspaceId: string, ids: readonly string[], maxBytes: number): Promise<BlobRecord[]> {
    const plan = await this.planBlobFetch(workspaceId, ids, maxBytes);
    if (plan.length === 0) return [];
    const data = await this.readBlobs(workspaceId, plan.map((p) => p.id));
    const out: BlobRecord[] = [];
    plan.forEach((p, i) => {
      const d = data[i];
      // a blob deleted between the two reads (its workspace went) is skipped like an unknown id
      if (d) out.push({ id: p.id, data: d });
    });
    return out;
  }

  async planBlobFetch(workspaceId: string, ids: readonly string[], maxBytes: number): Promise<BlobSizeRecord[]> {
    const keys = validKeys(ids);
    if (keys.length === 0) return [];
    const rows = await this.db.query('SELECT id, size FROM blobs WHERE workspace_id = $1 AND id = ANY($2::bytea[])', [workspaceId, keys]);
    const sizes = new Map(rows.map((r) => [(r.id as Buffer).toString('hex'), Number(r.size)]));
    const out: BlobSizeRecord[] = [];
    let total = 0;
    for (const id of ids) {
      const size = sizes.get(id.toLowerCase());
      if (size === undefined) continue;
      if (out.length > 0 && total + size > maxBytes) break;
      out.push({ id, size });
      total += size;
    }
    return out;
  }

  async readBlobs(workspaceId: string, ids: readonly string[]): Promise<(Uint8Array | null)[]> {
    const keys = validKeys(ids);
    if (keys.length === 0) return ids.map(() => null);
    const rows = await this.db.query('SELECT id, data FROM blobs WHERE workspace_id = $1 AND id = ANY($2::bytea[])', [workspaceId, keys]);
    const byId = new Map(rows.map((r) => [(r.id as Buffer).toString('hex'), bytes(r.data)]));
    return ids.map((id) => byId.get(id.toLowerCase()) ?? null);
  }

  // snapshots

  async createSnapshot(workspaceId: string, s: NewSnapshot): Promise<CreateSnapshotResult> {
    return this.db.tx(async (tx): Promise<CreateSnapshotResult> => {
      if (s.epoch !== undefined) {
        // The team row first (FOR SHARE, as rotations lock it FOR UPDATE, in the same order): a
        // rotation commits wholly before this reads the epoch, or waits until this commits.
        const [team] = await tx.query('SELECT t.epoch FROM teams t JOIN workspaces w ON w.team_id = t.id WHERE w.id = $1 FOR SHARE OF t', [workspaceId]);
        if (!team) return { ok: false, reason: 'no_workspace' };
        if (s.epoch !== Number(team.epoch)) return { ok: false, reason: 'stale_epoch', epoch: Number(team.epoch) };
      }
      // The row lock is the compare-and-swap: a second push waits here until the first commits,
      // then reads the head the first one wrote.
      const [ws] = await tx.query('SELECT head FROM workspaces WHERE id = $1 FOR NO KEY UPDATE', [workspaceId]);
      if (!ws) return { ok: false, reason: 'no_workspace' };
      const head = ws.head === null ? null : String(ws.head);
      if (head !== s.parent) return { ok: false, reason: 'conflict', head };
      if ((await tx.query('SELECT 1 FROM snapshots WHERE workspace_id = $1 AND id = $2', [workspaceId, s.id])).length) {
        return { ok: false, reason: 'exists' };
      }
      const unique = [...new Set(s.blobIds)];
      const absent = await missing(tx, workspaceId, unique);
      if (absent.length > 0) return { ok: false, reason: 'missing_blobs', missing: absent };
      const data = asBuffer(s.data);
      await tx.exec('INSERT INTO snapshots (workspace_id, id, parent, data, created_at) VALUES ($1, $2, $3, $4, $5)', [
        workspaceId,
        s.id,
        s.parent,
        data,
        s.createdAt,
      ]);
      if (unique.length > 0) {
        // every id is stored (checked above), so every key decodes; ON CONFLICT: two spellings of one id
        await tx.exec(
          `INSERT INTO snapshot_blobs (workspace_id, snapshot_id, blob_id) SELECT $1, $2, k FROM unnest($3::bytea[]) AS k
           ON CONFLICT DO NOTHING`,
          [workspaceId, s.id, validKeys(unique)],
        );
      }
      await tx.exec('UPDATE workspaces SET head = $1, updated_at = $2, size = size + $3 WHERE id = $4', [s.id, s.createdAt, data.length, workspaceId]);
      return { ok: true, head: s.id };
    });
  }

  async listSnapshots(workspaceId: string, opts: { limit: number; before?: string; maxBytes?: number }): Promise<SnapshotRecord[]> {
    const page =
      opts.before === undefined
        ? { where: 'workspace_id = $1', args: [workspaceId] }
        : { where: 'workspace_id = $1 AND seq < (SELECT seq FROM snapshots WHERE workspace_id = $1 AND id = $2)', args: [workspaceId, opts.before] };
    const limitAt = `$${page.args.length + 1}`;
    let limit = opts.limit;
    if (opts.maxBytes !== undefined) {
      // sizes first, so no more data is read than is sent
      const sizes = await this.db.query(`SELECT octet_length(data) AS size FROM snapshots WHERE ${page.where} ORDER BY seq DESC LIMIT ${limitAt}`, [...page.args, limit]);
      limit = countWithinBytes(sizes.map((r) => Number(r.size)), opts.maxBytes);
      if (limit === 0) return [];
    }
    const rows = await this.db.query(`SELECT id, parent, data, created_at FROM snapshots WHERE ${page.where} ORDER BY seq DESC LIMIT ${limitAt}`, [...page.args, limit]);
    return rows.map(toSnapshot);
  }

  async getSnapshot(workspaceId: string, id: string): Promise<SnapshotRecord | null> {
    const [row] = await this.db.query('SELECT id, parent, data, created_at FROM snapshots WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? toSnapshot(row) : null;
  }

  async snapshotBlobIds(workspaceId: string, snapshotId: string): Promise<string[]> {
    const rows = await this.db.query('SELECT blob_id FROM snapshot_blobs WHERE workspace_id = $1 AND snapshot_id = $2 ORDER BY blob_id', [
      workspaceId,
      snapshotId,
    ]);
    // bytea sorts bytewise, which is the order of the lowercase hex
    return rows.map((r) => (r.blob_id as Buffer).toString('hex'));
  }

  // access tokens

  async createAccessToken(t: NewAccessToken): Promise<CreateAccessTokenResult> {
    return this.db.tx(async (tx): Promise<CreateAccessTokenResult> => {
      // Both rows the token refers to, held until it commits (a deletion of either then waits) or
      // found gone (one committed first): the account before the workspace, as deleteUser locks them.
      if (!(await tx.query('SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE', [t.createdBy])).length) return { ok: false, reason: 'no_user' };
      if (!(await tx.query('SELECT 1 FROM workspaces WHERE id = $1 FOR KEY SHARE', [t.workspaceId])).length) return { ok: false, reason: 'no_workspace' };
      // nor the id of a token kept as a signer after its creator's account was deleted
      if ((await tx.query('SELECT 1 FROM access_tokens WHERE id = $1 UNION ALL SELECT 1 FROM former_access_tokens WHERE id = $1', [t.id])).length) {
        return { ok: false, reason: 'id_taken' };
      }
      await tx.exec(
        `INSERT INTO access_tokens (id, workspace_id, created_by, name, scope, secret_hash, public_key, certificate, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [t.id, t.workspaceId, t.createdBy, t.name, t.scope, Buffer.from(t.secretHash), t.publicKey, t.certificate, t.createdAt, t.expiresAt],
      );
      for (const k of t.keys) {
        await tx.exec('INSERT INTO access_token_keys (token_id, epoch, wrapped_key) VALUES ($1, $2, $3)', [t.id, k.epoch, k.wrappedKey]);
      }
      return { ok: true };
    });
  }

  private async tokensWhere(where: string, params: unknown[]): Promise<AccessTokenRecord[]> {
    const rows = await this.db.query(
      `SELECT t.*, u.email AS creator_email, u.name AS creator_name FROM access_tokens t JOIN users u ON u.id = t.created_by
       WHERE ${where} ORDER BY t.created_at, t.id`,
      params,
    );
    if (rows.length === 0) return [];
    const keys = await this.db.query('SELECT token_id, epoch, wrapped_key FROM access_token_keys WHERE token_id = ANY($1::text[]) ORDER BY token_id, epoch', [
      rows.map((r) => String(r.id)),
    ]);
    const byToken = groupBy(keys, 'token_id');
    return rows.map((r) => toAccessToken(r, (byToken.get(String(r.id)) ?? []).map(toWorkspaceKey)));
  }

  async getAccessToken(id: string): Promise<AccessTokenRecord | null> {
    return (await this.tokensWhere('t.id = $1', [id]))[0] ?? null;
  }

  async touchAccessToken(id: string, now: Date): Promise<void> {
    await this.db.exec('UPDATE access_tokens SET last_used_at = $1 WHERE id = $2', [now, id]);
  }

  async listAccessTokensCreatedBy(userId: string): Promise<AccessTokenRecord[]> {
    return this.tokensWhere('t.created_by = $1', [userId]);
  }

  async listAccessTokensOfUser(userId: string, workspaceId?: string): Promise<AccessTokenRecord[]> {
    // confirmed members only: one who was accepted but not confirmed holds no key of the team
    const member =
      't.workspace_id IN (SELECT w.id FROM workspaces w JOIN team_members m ON m.team_id = w.team_id WHERE m.user_id = $1 AND NOT m.pending)';
    return workspaceId === undefined ? this.tokensWhere(member, [userId]) : this.tokensWhere(`${member} AND t.workspace_id = $2`, [userId, workspaceId]);
  }

  async workspaceAccessTokens(workspaceId: string): Promise<AccessTokenRecord[]> {
    return this.tokensWhere('t.workspace_id = $1', [workspaceId]);
  }

  async workspaceFormerAccessTokens(workspaceId: string): Promise<FormerAccessTokenRecord[]> {
    return account.workspaceFormerAccessTokens(this.db, workspaceId);
  }

  async revokeAccessToken(id: string, now: Date): Promise<boolean> {
    return (await this.db.exec('UPDATE access_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [now, id])) > 0;
  }

  async ping(): Promise<void> {
    await this.db.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.pool.end();
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
    return account.deleteUser(this.db, userId, expectedAuthKeyHash);
  }
  async backup(path: string): Promise<void> {
    return account.backup(path);
  }
  async eraseDeletedRows(): Promise<EraseReport> {
    try {
      return await this.db.eraseDeletedRows();
    } catch (err) {
      if (err instanceof EraseRefusedError) throw new EraseRefusedError(`PostgreSQL at ${describeUrl(this.url)}: ${err.message}`, { cause: err });
      throw new PostgresUnavailableError(await failureMessage(this.db.pool, this.url, err), { cause: err });
    }
  }

  // garbage collection (issue 6): implemented in gc.ts

  async collectGarbage(opts: { olderThan: Date; dryRun?: boolean; pause?: () => Promise<void>; signal?: AbortSignal }): Promise<GarbageReport> {
    return collectGarbage(this.db, opts);
  }
  async purgeEnded(before: Date, opts: { dryRun?: boolean } = {}): Promise<{ sessions: number; invitations: number }> {
    return this.db.tx(async (tx) => {
      // a newer server may have migrated the schema since this one opened it (as collectGarbage)
      await checkSchemaInTx(tx);
      // Rows another transaction holds are skipped, left for the next purge: waiting for them could
      // deadlock. An account deletion takes the invitations to its address, then (the account row's
      // cascade) its sessions; the purge takes sessions, then invitations. Never waiting for a row,
      // the purge cannot be part of a cycle, whatever order anyone else takes them in.
      const mine = (table: string, key: string, where: string): string => `${key} IN (SELECT ${key} FROM ${table} WHERE ${where} FOR UPDATE SKIP LOCKED)`;
      const run = async (table: string, key: string, where: string): Promise<number> => {
        const sql = opts.dryRun
          ? `SELECT count(*) AS n FROM ${table} WHERE ${where}`
          : `WITH d AS (DELETE FROM ${table} WHERE ${mine(table, key, where)} RETURNING 1) SELECT count(*) AS n FROM d`;
        return Number((await tx.query(sql, [before]))[0]?.n ?? 0);
      };
      // signed out but not expired: kept for endedSession, without what says where and what it was
      if (!opts.dryRun) {
        await tx.exec(`UPDATE sessions SET ip = NULL, client = NULL WHERE ${mine('sessions', 'id', 'revoked_at < $1 AND (ip IS NOT NULL OR client IS NOT NULL)')}`, [before]);
      }
      return {
        sessions: (await run('sessions', 'id', 'expires_at < $1')) + (await run('deleted_account_sessions', 'token_hash', 'expires_at < $1')),
        invitations: await run('team_invitations', 'id', 'accepted_at IS NULL AND expires_at < $1'),
      };
    });
  }

  // rate limits

  async countAttempt(key: Uint8Array, now: Date, windowMs: number): Promise<{ count: number; windowStart: Date }> {
    const stale = new Date(now.getTime() - windowMs);
    // SET reads the row as it was: both CASEs see the old window
    const rows = await this.db.query<{ count: number; window_start: Date }>(
      `INSERT INTO rate_limit_counts AS r (key, window_start, count) VALUES ($1, $2, 1)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN r.window_start <= $3 THEN 1 ELSE r.count + 1 END,
         window_start = CASE WHEN r.window_start <= $3 THEN excluded.window_start ELSE r.window_start END
       RETURNING count, window_start`,
      [Buffer.from(key), now, stale],
    );
    const row = rows[0]!;
    return { count: Number(row.count), windowStart: row.window_start };
  }

  async pruneAttempts(before: Date): Promise<number> {
    return this.db.exec('DELETE FROM rate_limit_counts WHERE window_start < $1', [before]);
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
    return teams.deleteTeam(this.db, teamId, userId, countedSince);
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

async function loadWorkspace(q: Tx, id: string): Promise<WorkspaceRecord | null> {
  // The keys first, then the row: the head answered was read after every key answered, as clients
  // rely on (the epoch marks of docs/crypto.md §5.2). A workspace created in between has its first
  // key (inserted in the same transaction as the row) by the time the row is seen: read them again.
  const keysSql = 'SELECT epoch, wrapped_key FROM workspace_keys WHERE workspace_id = $1 ORDER BY epoch';
  let keys = await q.query(keysSql, [id]);
  const [row] = await q.query('SELECT * FROM workspaces WHERE id = $1', [id]);
  if (!row) return null;
  if (keys.length === 0) keys = await q.query(keysSql, [id]);
  return toWorkspace(row, keys.map(toWorkspaceKey));
}

/** The stored form of every well-formed id (malformed ones can match nothing). */
function validKeys(ids: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  for (const id of ids) {
    const key = blobKey(id);
    if (key !== null) out.push(key);
  }
  return out;
}

/** The ids not stored in the workspace, in request order, without duplicates; malformed ids count as missing. */
async function missing(q: Tx, workspaceId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const keys = validKeys(ids);
  const found = new Set<string>();
  if (keys.length > 0) {
    const rows = await q.query('SELECT id FROM blobs WHERE workspace_id = $1 AND id = ANY($2::bytea[])', [workspaceId, keys]);
    for (const r of rows) found.add((r.id as Buffer).toString('hex'));
  }
  const out = new Set<string>();
  // hex decoding ignores case, as SQLite's unhex() does
  for (const id of ids) if (!found.has(id.toLowerCase())) out.add(id);
  return [...out];
}

/** A Buffer view of the bytes, for binding as bytea without a copy. */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
