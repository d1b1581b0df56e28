/**
 * The storage contract of the sync server. Routes know storage only through `Store`; each backend
 * (SQLite now, PostgreSQL later) implements it and passes test/storage/store-contract.ts.
 *
 * Every method is async because network databases are. A method that changes more than one row does
 * so atomically: either all of its effects are visible afterwards or none are. Times are `Date`s;
 * binary values the server must compare (token and auth-key hashes, ciphertext) are bytes; opaque
 * client values it only hands back (wrapped keys, encrypted names) are kept as the base64url text
 * the client sent.
 */

export type TeamRole = 'owner' | 'admin' | 'member';

export interface KdfRecord {
  alg: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** base64url */
  salt: string;
}

export interface AccountKeysRecord {
  wrappedAccountKey: string;
  x25519PublicKey: string;
  ed25519PublicKey: string;
  wrappedX25519Secret: string;
  wrappedEd25519Secret: string;
}

export interface UserRecord {
  id: string;
  /** normalised (trimmed, lower case) */
  email: string;
  name: string;
  kdf: KdfRecord;
  /** SHA-256 of the client's auth key */
  authKeyHash: Uint8Array;
  keys: AccountKeysRecord;
  createdAt: Date;
}

export interface NewUser extends UserRecord {
  personalTeam: { id: string; name: string; sealedTeamKey: string };
}

export interface SessionRecord {
  id: string;
  userId: string;
  client: string | null;
  ip: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export interface NewSession {
  id: string;
  userId: string;
  /** SHA-256 of the bearer token; the token itself is never stored */
  tokenHash: Uint8Array;
  client: string | null;
  ip: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export interface TeamRecord {
  id: string;
  name: string;
  personal: boolean;
  /** current key epoch */
  epoch: number;
}

export interface TeamMembershipRecord extends TeamRecord {
  role: TeamRole;
  /** team keys sealed to this member, ascending by epoch */
  sealedKeys: { epoch: number; sealedKey: string }[];
  /**
   * Present, and false, only while an accepted member waits for an owner or admin to seal the team
   * key to them; absent for a confirmed member (so records read as before teams had states).
   */
  confirmed?: false;
  /** Present, and true, only while a member has left and nobody has rotated the team key yet. */
  rotationPending?: true;
}

export interface WorkspaceKeyRecord {
  epoch: number;
  wrappedKey: string;
}

export interface WorkspaceRecord {
  id: string;
  teamId: string;
  encryptedName: string;
  head: string | null;
  /** ascending by epoch */
  keys: WorkspaceKeyRecord[];
  createdAt: Date;
  updatedAt: Date;
  /** usage counter: bytes of ciphertext stored (blobs + snapshots) */
  size: number;
}

export interface NewWorkspace {
  id: string;
  teamId: string;
  encryptedName: string;
  key: WorkspaceKeyRecord;
  createdAt: Date;
}

export interface MemberKeysRecord {
  userId: string;
  email: string;
  name: string;
  role: TeamRole;
  x25519PublicKey: string;
  ed25519PublicKey: string;
  /** only for a former member: the last epoch they held; their signatures count up to it */
  untilEpoch?: number;
}

export interface BlobRecord {
  /** 64 lowercase hex chars */
  id: string;
  data: Uint8Array;
}

/** A stored blob's id and data length, without the data. */
export interface BlobSizeRecord {
  /** 64 lowercase hex chars */
  id: string;
  size: number;
}

/** A blob id that is not 64 hex chars, given to a method that stores it. */
export class BlobIdError extends Error {
  readonly code = 'bad_blob_id';
}

/**
 * Opening with `existing: true` found no database there, or one without our schema. Operator
 * commands open that way: a mistyped path must fail, not become a new empty database.
 */
export class StoreMissingError extends Error {
  readonly code = 'store_missing';
}

/**
 * A local database file cannot be opened or created where its URL points (a missing folder, a
 * file in the way, no permission): the message names the path and the fix, not the flag that gave
 * it, which the caller adds.
 */
export class StorePathError extends Error {
  readonly code = 'store_path';
}

/** The database URL (or its backend's settings in it) cannot be used as given; nothing was opened. */
export class StoreConfigError extends Error {
  readonly code = 'store_config';
}

export interface SnapshotRecord {
  id: string;
  parent: string | null;
  data: Uint8Array;
  createdAt: Date;
}

export interface NewSnapshot {
  id: string;
  parent: string | null;
  data: Uint8Array;
  /** every blob the snapshot references; duplicates are allowed */
  blobIds: readonly string[];
  createdAt: Date;
  /**
   * The key epoch the writer says it encrypted under. When given, the snapshot is stored only if
   * it is the current epoch of the workspace's team, checked in the same transaction (a rotation
   * cannot slip in between): otherwise reason 'stale_epoch'.
   */
  epoch?: number;
}

export type CreateUserResult = { ok: true } | { ok: false; reason: 'email_taken' | 'id_taken' };

export type CreateWorkspaceResult =
  | { ok: true; workspace: WorkspaceRecord }
  | { ok: false; reason: 'id_taken' | 'no_team' }
  /** the key is not wrapped under the team's current epoch (`epoch` here); nothing was written */
  | { ok: false; reason: 'stale_epoch'; epoch: number };

export type CreateSnapshotResult =
  | { ok: true; head: string }
  /** the head is not `parent`: someone else pushed first */
  | { ok: false; reason: 'conflict'; head: string | null }
  /** some referenced blobs are not stored; nothing was written */
  | { ok: false; reason: 'missing_blobs'; missing: string[] }
  /** a snapshot with this id already exists in the workspace */
  | { ok: false; reason: 'exists' }
  /** `epoch` was given and is not the team's current epoch (`epoch` here); nothing was written */
  | { ok: false; reason: 'stale_epoch'; epoch: number }
  | { ok: false; reason: 'no_workspace' };

export type TokenScope = 'read' | 'write';

export interface NewAccessToken {
  /** 32 hex chars, chosen by the client */
  id: string;
  workspaceId: string;
  /** the member who created (and certified) it */
  createdBy: string;
  name: string;
  scope: TokenScope;
  /** SHA-256 of the token secret; the secret itself is never stored */
  secretHash: Uint8Array;
  /** the token's Ed25519 public key and the creator's certificate, base64url */
  publicKey: string;
  certificate: string;
  /** the workspace key wrapped under the token key, per epoch */
  keys: WorkspaceKeyRecord[];
  createdAt: Date;
  expiresAt: Date | null;
}

export interface AccessTokenRecord extends NewAccessToken {
  creatorEmail: string;
  creatorName: string;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/**
 * A store method that inserts rows referring to a workspace or an account answers no_workspace or
 * no_user when that row is gone, also when a deletion commits between the route's access check and
 * the insert (PostgreSQL: the method holds the row with FOR KEY SHARE, so it waits for such a
 * deletion and then finds nothing, instead of failing the foreign key): the route answers as if
 * the request had come after the deletion. Only those rows: any other foreign-key failure stays
 * an error, a bug to see in the log.
 */
export type CreateAccessTokenResult = { ok: true } | { ok: false; reason: 'id_taken' | 'no_workspace' | 'no_user' };

export type PutBlobsResult = { ok: true; stored: number } | { ok: false; reason: 'no_workspace' };

/** `no_user`: the account was deleted (see CreateAccessTokenResult) */
export type CreateSessionResult = { ok: true } | { ok: false; reason: 'no_user' };

/**
 * What stays of a write token whose creator deleted the account while the token's team keeps a
 * former-member record of them (docs/protocol.md §3.27): what checking the snapshots it signed
 * needs, and nothing that could use it or name its creator — no secret hash, no wrapped keys, no
 * creator email or name, no times of use. The token itself is gone: it was revoked at the deletion.
 */
export interface FormerAccessTokenRecord {
  id: string;
  workspaceId: string;
  /** the deleted account's random id, as its former-member record keeps it */
  createdBy: string;
  name: string;
  scope: TokenScope;
  publicKey: string;
  certificate: string;
  /** when it was revoked, or else when its creator's account was deleted */
  revokedAt: Date;
}

export interface Store {
  /** Applies pending schema migrations; returns the versions applied (empty when up to date). */
  migrate(): Promise<number[]>;

  // users
  /** Creates the user, their personal team (role owner) and its sealed key epoch 1, atomically. */
  createUser(user: NewUser): Promise<CreateUserResult>;
  getUserByEmail(email: string): Promise<UserRecord | null>;
  getUserById(id: string): Promise<UserRecord | null>;

  // sessions
  /** Stores the session; no_user once the account is deleted (a login racing `account delete`). */
  createSession(session: NewSession): Promise<CreateSessionResult>;
  /**
   * Finds the live session (not revoked, `expiresAt` after `now`) with this token hash, records
   * `now` as its last use and moves its expiry to `newExpiresAt`. Null when none.
   */
  useSession(tokenHash: Uint8Array, now: Date, newExpiresAt: Date): Promise<SessionRecord | null>;
  revokeSession(sessionId: string): Promise<boolean>;
  /** Revokes every session of the user except `exceptSessionId`; returns how many. */
  revokeUserSessions(userId: string, exceptSessionId?: string): Promise<number>;
  /**
   * Why the session of this token hash is not live, for the 401 its holder gets: `revoked` (logout,
   * password change, recovery, `account sessions --revoke`) or `expired`, with when, while its row
   * is stored (purgeEnded); `account_deleted`, with when, while deleteUser's record of the
   * account's sessions lasts (until they would have expired). Null for a live or unknown hash.
   */
  endedSession(tokenHash: Uint8Array, now: Date): Promise<EndedSessionReason | null>;

  // teams
  listTeamsOfUser(userId: string): Promise<TeamMembershipRecord[]>;
  /** The role of a confirmed member; null for anyone else (accepted-not-confirmed members too). */
  getTeamRole(teamId: string, userId: string): Promise<TeamRole | null>;
  getTeam(teamId: string): Promise<TeamRecord | null>;

  // workspaces
  /**
   * Creates the workspace with its first key, in one transaction that also checks the team exists
   * and that `key.epoch` is the team's current epoch (a key under an older team key would be one a
   * removed member can open; a rotation between the caller's check and the insert is caught here).
   */
  createWorkspace(workspace: NewWorkspace): Promise<CreateWorkspaceResult>;
  /**
   * Every workspace of every team the user belongs to, oldest first; the whole list read at one
   * moment, so no head is older than the keys answered with it (docs/crypto.md §5.2, epoch marks).
   */
  listWorkspacesOfUser(userId: string): Promise<WorkspaceRecord[]>;
  getWorkspace(id: string): Promise<WorkspaceRecord | null>;
  renameWorkspace(id: string, encryptedName: string, now: Date): Promise<WorkspaceRecord | null>;
  /** Deletes the workspace with its keys, blobs and snapshots. */
  deleteWorkspace(id: string): Promise<boolean>;
  /**
   * Public keys of every confirmed member of the workspace's team, then of its former members with
   * `untilEpoch` (those confirmed again appear once, as members). A former member whose account was
   * deleted has empty email and name.
   */
  workspaceMembers(workspaceId: string): Promise<MemberKeysRecord[]>;

  // blobs
  /** The ids of `ids` not stored in the workspace, in the order given, without duplicates. */
  missingBlobs(workspaceId: string, ids: readonly string[]): Promise<string[]>;
  /**
   * Stores the blobs in one transaction; ids already stored are left alone. Returns how many were
   * new, or no_workspace (nothing stored) when the workspace is gone, also when its deletion
   * commits while this runs. An id that is not 64 hex chars throws BlobIdError and stores nothing.
   */
  putBlobs(workspaceId: string, blobs: readonly BlobRecord[]): Promise<PutBlobsResult>;
  /**
   * The stored blobs among `ids`, in request order, unknown ids skipped, stopping before the sum of
   * data lengths would exceed `maxBytes` — but always at least one blob when any is found.
   */
  getBlobs(workspaceId: string, ids: readonly string[], maxBytes: number): Promise<BlobRecord[]>;
  /**
   * What `getBlobs` would return, without the data: ids and sizes, chosen the same way in one read.
   * The fetch route streams the answer from this plan with `readBlobs`, a group at a time.
   */
  planBlobFetch(workspaceId: string, ids: readonly string[], maxBytes: number): Promise<BlobSizeRecord[]>;
  /** The data of each id, in order; null for an id not stored (or no longer: its workspace was deleted). */
  readBlobs(workspaceId: string, ids: readonly string[]): Promise<(Uint8Array | null)[]>;

  // snapshots
  /**
   * Compare-and-swap of the head, in one transaction: stores the snapshot and moves the head to it
   * only if the head is `parent` (null: the workspace is empty), every referenced blob is stored,
   * and (when `epoch` is given) the team is at that epoch.
   */
  createSnapshot(workspaceId: string, snapshot: NewSnapshot): Promise<CreateSnapshotResult>;
  /**
   * Newest first; `before` (a snapshot id) starts after that snapshot; unknown `before` → [].
   * With `maxBytes`, stops before the snapshot that would take the data past it (but returns at
   * least one): the data is read only for the snapshots returned.
   */
  listSnapshots(workspaceId: string, opts: { limit: number; before?: string; maxBytes?: number }): Promise<SnapshotRecord[]>;
  getSnapshot(workspaceId: string, id: string): Promise<SnapshotRecord | null>;
  /** Blob ids referenced by a snapshot (for garbage collection and verification). */
  snapshotBlobIds(workspaceId: string, snapshotId: string): Promise<string[]>;

  // access tokens (deleted with their workspace or their creator)
  /**
   * Stores the token and its wrapped keys atomically; no_workspace or no_user when the workspace or
   * the creator's account is gone (deleted while the request ran, too).
   */
  createAccessToken(token: NewAccessToken): Promise<CreateAccessTokenResult>;
  /** Any token with this id, revoked or expired ones included (the caller decides). */
  getAccessToken(id: string): Promise<AccessTokenRecord | null>;
  /** Records `now` as the token's last use. */
  touchAccessToken(id: string, now: Date): Promise<void>;
  /** Every token the user created, in any workspace, revoked and expired ones included, oldest first. */
  listAccessTokensCreatedBy(userId: string): Promise<AccessTokenRecord[]>;
  /** Tokens of every workspace of the teams the user is a confirmed member of (optionally one workspace), oldest first. */
  listAccessTokensOfUser(userId: string, workspaceId?: string): Promise<AccessTokenRecord[]>;
  /** Every token of the workspace, revoked and expired ones included, oldest first. */
  workspaceAccessTokens(workspaceId: string): Promise<AccessTokenRecord[]>;
  /**
   * The signer-only records account deletion kept of the workspace's write tokens whose creator
   * deleted the account (FormerAccessTokenRecord), oldest revocation first.
   */
  workspaceFormerAccessTokens(workspaceId: string): Promise<FormerAccessTokenRecord[]>;
  /** Marks the token revoked at `now`; false when unknown or already revoked. */
  revokeAccessToken(id: string, now: Date): Promise<boolean>;

  /**
   * One cheap read of the database itself (for GET /healthz): resolves when it can serve, rejects
   * with the backend's error (see storageUnavailableReason) when it cannot.
   */
  ping(): Promise<void>;
  /**
   * Rejects with SchemaMismatchError (schema-version.ts) when the database's schema is newer than
   * this build's (a newer server migrated it meanwhile) or an applied migration differs from it;
   * reads only. Garbage collection checks the same inside each of its transactions.
   */
  checkSchema(): Promise<void>;
  close(): Promise<void>;

  // account lifecycle (issue 5)
  /** The user's live sessions (not revoked, `expiresAt` after `now`), oldest first. */
  listSessionsOfUser(userId: string, now: Date): Promise<SessionRecord[]>;
  /**
   * The user's ended sessions (revoked, logged out, or `expiresAt` not after `now`) still stored,
   * with their IP and client until `purgeEnded` deletes them; oldest first.
   */
  listEndedSessionsOfUser(userId: string, now: Date): Promise<EndedSessionRecord[]>;
  /**
   * Every stored invitation to `email` or accepted by the user, whatever became of it (open,
   * accepted, expired or cancelled), with its team's name; oldest first. The ones deleteUser removes.
   */
  listInvitationsToUser(userId: string, email: string): Promise<InvitationToUserRecord[]>;
  /** Revokes one session only if it belongs to the user; false when none was live. */
  revokeSessionOfUser(userId: string, sessionId: string): Promise<boolean>;
  /**
   * Password change and recovery, atomically: only if the stored auth-key hash (with
   * `via: 'recovery'`, the recovery record's hash) still equals `expectedHash`, swaps KDF params,
   * auth-key hash and wrapped account key, records the time, revokes every session of the
   * user, the caller's own too (a copy of its token, taken from a backup of that machine, must not
   * outlive the change), and deletes the recovery record: a password change revokes the recovery
   * key (whoever knew the old password may have made it), and a recovery spends it. A recovery
   * also revokes every live access token the user created (the user lost control of the account:
   * whoever had it may have made or seen them); a password change leaves them (the caller lists
   * them for the user to decide). With a `SessionRenewal`, the caller's new session is opened after
   * the revocations in the same transaction: no failure in between leaves the caller without one.
   * With `{keeps}` (a password change asked for by a client that cannot take a new session), that
   * session alone stays live; with null, none does.
   */
  changeCredentials(
    userId: string,
    expectedHash: Uint8Array,
    via: 'password' | 'recovery',
    update: CredentialUpdate,
    renewal: SessionRenewal | SessionKept | null,
  ): Promise<ChangeCredentialsResult>;
  /** Sets (or replaces) the user's recovery record; false when the user does not exist. */
  setRecovery(userId: string, recovery: RecoveryRecord): Promise<boolean>;
  getRecovery(userId: string): Promise<RecoveryRecord | null>;
  /** Lifecycle facts of the account that UserRecord does not carry; null when no such user. */
  getAccountMeta(userId: string): Promise<AccountMetaRecord | null>;
  /** Usage counters of every workspace the user can reach, oldest first. */
  workspaceUsageOfUser(userId: string): Promise<WorkspaceUsageRecord[]>;
  /** Every stored blob of the workspace (id and size), ascending by id. */
  listBlobSizes(workspaceId: string): Promise<BlobSizeRecord[]>;
  /**
   * Account deletion in one transaction, only if the stored auth-key hash still equals
   * `expectedAuthKeyHash`: the user, sessions, access tokens, recovery record, memberships and
   * team keys, every team the user is the only member of with its workspaces, blobs and
   * snapshots, and every invitation to the address or accepted by the user. Refused, removing
   * nothing, when the user is the only owner of a team that has other members. Deleted rows are
   * overwritten, not just unlinked. Kept: in each shared team the user held keys in, a former
   * member's record (id, public keys, last epoch; no email or name), so that the user's old
   * snapshots stay verifiable, and the team becomes rotation-pending; and of each write token the
   * user made in a workspace of a team that keeps such a record, a FormerAccessTokenRecord, so that
   * what the token pushed stays verifiable too. The tokens themselves (secret hash, wrapped keys) go.
   * Invitations the user sent that are still open in teams that stay are withdrawn (as
   * withdrawInvitation; their mails, which name the user, go too). And of each of the user's
   * sessions not yet expired, the token's hash with the deletion time and the session's expiry
   * (endedSession), and nothing else: purged once expired.
   */
  deleteUser(userId: string, expectedAuthKeyHash: Uint8Array): Promise<DeleteUserResult>;
  /**
   * A consistent copy of the whole database at `path`, taken while it stays online and finished
   * however often others write meanwhile. `path` may be an empty file made beforehand. Aborting
   * `signal` stops the copy (rejecting with its reason) and leaves `path` to the caller.
   */
  backup(path: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Makes the database files forget deleted rows of service data (`insomnia-sync-server admin
   * vacuum`). SQLite overwrites rows as it deletes them (secure_delete): this only truncates the
   * write-ahead log. PostgreSQL only marks a deleted row's space free, so its bytes (emails too)
   * stay in the table's file, in its indexes' files, and in pg_statistic (ANALYZE keeps sample
   * values of each column) until that space is reused: this rewrites each table that holds service
   * data with its indexes (VACUUM (FULL, ANALYZE), one table at a time, waiting at most
   * ERASE_LOCK_TIMEOUT_MS for its lock), then pg_statistic when the role is a superuser. Rejects
   * before changing anything when the role does not own those tables.
   */
  eraseDeletedRows(): Promise<EraseReport>;

  // teams (issue 3): invitations, confirmation, removal with key rotation, email verification
  /**
   * Creates a (non-personal) team with the creator as its confirmed owner and epoch 1 sealed to
   * them; no_user (nothing stored) when the owner's account is gone, deleted while the request ran too.
   */
  createTeam(team: NewTeam): Promise<CreateTeamResult>;
  /** Where the user stands in the team, with the team itself (null when no such team). */
  teamAccess(teamId: string, userId: string): Promise<TeamAccessRecord>;
  /** Members (confirmed and accepted-not-confirmed) with their public keys, oldest first. */
  teamMembers(teamId: string): Promise<TeamMemberRecord[]>;
  /** Invitations neither accepted nor expired at `now`, oldest first. */
  listInvitations(teamId: string, now: Date): Promise<InvitationRecord[]>;
  /**
   * Stores an invitation; an open one to the same address and team is cancelled (its code stops
   * working) but kept until it is purged, since each was a mail sent. Refuses `no_team` when the
   * team no longer exists (deleted since the caller looked it up), `no_user` when the inviter's
   * account does (deleted while the request ran; checked first). With `limit`, refuses `limit`
   * when the inviter created `max` invitations since `limit.since` (countInvitationsBy), counted in
   * the same transaction as the insert.
   */
  createInvitation(invitation: NewInvitation, limit?: { max: number; since: Date }): Promise<CreateInvitationResult>;
  /**
   * How many invitations the user created since `since`, whatever became of them (a cap on mail
   * sent): those of teams deleted since then included, as far as deleteTeam's `countedSince` kept them.
   */
  countInvitationsBy(userId: string, since: Date): Promise<number>;
  /**
   * Withdraws the team's open invitation to `email` (normalised), as a newer invitation replaces one:
   * its code stops working (it answers as an unknown code) and it ends at `now`, kept until purged
   * since it was a mail sent. Null when the team has no invitation to the address open at `now`.
   */
  withdrawInvitation(teamId: string, email: string, now: Date): Promise<InvitationRecord | null>;
  /**
   * Accepts atomically: only an unused, unexpired code sent to `email` makes the user an accepted
   * (not yet confirmed) member with the invited role, marks the code used and the address verified.
   * A code for another address is not used up. `no_user` (checked first) when the account is gone,
   * `no_team` when the team was deleted while this ran (one deleted before took its invitations:
   * `unknown`); nothing stored either way.
   */
  acceptInvitation(codeHash: Uint8Array, userId: string, email: string, now: Date): Promise<AcceptInvitationResult>;
  /**
   * Seals the team keys to an accepted member and marks them confirmed; must include the team's
   * epoch. not_member also for one removed while this runs (removeUnconfirmedMember).
   */
  confirmMember(teamId: string, userId: string, sealedKeys: SealedKeyRecord[], now: Date): Promise<ConfirmMemberResult>;
  /**
   * Key rotation in one transaction, by compare-and-swap on the team's epoch: optionally removes a
   * member (kept as a former member), seals epoch + 1 to exactly the remaining confirmed members,
   * adds epoch + 1 keys for exactly the team's workspaces, and clears a pending rotation. A workspace
   * deleted while this runs is no longer the team's: workspaces_changed.
   */
  rotateTeam(teamId: string, rotation: TeamRotation): Promise<RotateTeamResult>;
  /**
   * Removes a member who accepted but was never confirmed: they hold no team key, so nothing is
   * rotated and no former-member record is made. Refuses one confirmed meanwhile (their removal
   * must rotate: rotateTeam).
   */
  removeUnconfirmedMember(teamId: string, userId: string): Promise<RemoveUnconfirmedResult>;
  /** Ends the user's membership; a confirmed leaver leaves the team `rotationPending`. */
  leaveTeam(teamId: string, userId: string, now: Date): Promise<LeaveTeamResult>;
  /**
   * Team deletion in one transaction, only by a confirmed owner (`userId`) and never of a personal
   * team: the team, its workspaces with their keys, blobs, snapshots and blob references, the
   * access tokens of those workspaces (live and signer-only records), memberships with their sealed
   * team keys, former-member records and invitations (open or accepted). Blobs belong to one
   * workspace (no blob is shared across workspaces), so no other workspace loses any. Deleted rows
   * are overwritten, not just unlinked, as for deleteUser. Invitations created since `countedSince`
   * keep counting for their inviter in countInvitationsBy: only who sent each and when is kept, not
   * the address, the team or the code (protocol §3.40).
   */
  deleteTeam(teamId: string, userId: string, countedSince: Date): Promise<DeleteTeamResult>;
  /**
   * Sets the role of a confirmed or accepted member, in one transaction: the team keeps a confirmed
   * owner, only a confirmed member becomes owner (an owner without the team key could not rotate
   * it), and unless `byOwner`, an owner's role and the owner role are out of reach.
   */
  setMemberRole(teamId: string, userId: string, role: TeamRole, opts: { byOwner: boolean }): Promise<SetMemberRoleResult>;
  /** Replaces the account's activation code; no_user (nothing stored) when the account is gone, deleted meanwhile too. */
  setEmailVerification(userId: string, email: string, codeHash: Uint8Array, expiresAt: Date): Promise<SetEmailVerificationResult>;
  /**
   * Records an activation mail to the account at `at`, in one transaction with the check: refused
   * (`limit`, nothing recorded) when, for one of `caps`, `max` mails are recorded since its `since`;
   * `cap` is its index and `oldest` the first of those mails (the cap frees a mail when it leaves
   * the window). With no caps, always recorded, unless the account is gone (deleted meanwhile too):
   * then `no_user` and nothing recorded. Records of any account older than the earliest
   * `since` are deleted on the way; verifyEmail and deleteUser delete the account's.
   */
  recordActivationMail(userId: string, at: Date, caps: readonly { max: number; since: Date }[]): Promise<RecordActivationMailResult>;
  /**
   * Takes back one mail recordActivationMail recorded for the account at `at`: it could not be
   * sent, so it must not count toward the caps. The record is taken before sending (the cap
   * check and the record are one transaction, so concurrent requests cannot exceed it) and given
   * back on failure. False when there was none.
   */
  releaseActivationMail(userId: string, at: Date): Promise<boolean>;
  /**
   * Marks the address verified if the code matches, is unexpired and was sent to the account's
   * current address; the account's activation mail records go (recordActivationMail).
   */
  verifyEmail(userId: string, codeHash: Uint8Array, now: Date): Promise<VerifyEmailResult>;

  // garbage collection (issue 6)
  /**
   * Deletes the blobs no snapshot of their workspace references, only in workspaces whose last
   * blob activity (`missingBlobs` and `putBlobs` record the time of every call) is before
   * `olderThan`: a push in progress may count on an unreferenced blob it found stored. Works in
   * batches, each its own short transaction that looks at up to GC_BATCH_BLOBS blobs of one
   * workspace (in id order) and deletes up to GC_BATCH_BYTES of them, after checking again that
   * the workspace is still idle: a push that starts meanwhile stops the collection of its
   * workspace at once. Lowers each workspace's size counter by what each batch removed. Between
   * batches it awaits `pause` (default: one turn of the event loop, so that a server running it
   * keeps answering requests), and stops early, with what it did so far, once `signal` is aborted.
   * `dryRun`: counts, deletes nothing. Each batch first checks, in its transaction, that the schema
   * is still this build's (SchemaMismatchError otherwise): a newer schema may have tables that
   * reference blobs this build does not know of.
   */
  collectGarbage(opts: { olderThan: Date; dryRun?: boolean; pause?: () => Promise<void>; signal?: AbortSignal }): Promise<GarbageReport>;
  /**
   * Deletes what ended before `before`: sessions that expired (revoked or not), the records of
   * deleted accounts' sessions that would have (endedSession), and invitations never accepted
   * (expired or cancelled), which hold an address. A session revoked (or logged out) before
   * `before` but not yet expired stays until then, without its IP address and client name, so that
   * a machine still holding its token learns it was signed out (endedSession) rather than nothing.
   * `dryRun`: counts, changes nothing. Checks the schema in its transaction, as collectGarbage does.
   * A row another transaction holds meanwhile (PostgreSQL: an account deletion taking the account's
   * sessions and the invitations to its address) is left for the next purge rather than waited for,
   * so the purge never takes part in a deadlock.
   */
  purgeEnded(before: Date, opts?: { dryRun?: boolean }): Promise<{ sessions: number; invitations: number }>;

  // rate limits: counted in the database so every server process on it shares them
  /**
   * Counts one attempt under `key`, atomically, in its window: the window opened by the key's first
   * attempt, or a new one from `now` when that is `windowMs` old. Returns the window's count with
   * this attempt and when the window began. `key` is opaque bytes (the server passes an HMAC, so the
   * table names no address or account).
   */
  countAttempt(key: Uint8Array, now: Date, windowMs: number): Promise<{ count: number; windowStart: Date }>;
  /** Forgets the keys whose window began before `before`; returns how many. */
  pruneAttempts(before: Date): Promise<number>;
}

/** What eraseDeletedRows did. */
export interface EraseReport {
  /** tables rewritten with their indexes (PostgreSQL) */
  tables: string[];
  /** PostgreSQL: pg_statistic rewritten too (false: the role is no superuser, it was left); SQLite: null */
  statistics: boolean | null;
  /** SQLite: the write-ahead log is now empty (false: another connection was reading); PostgreSQL: null */
  walTruncated: boolean | null;
}

/** How long eraseDeletedRows waits for each table's lock (its wait holds up every request for the table). */
export const ERASE_LOCK_TIMEOUT_MS = 5_000;

/** What one garbage collection removed (or, dry, would remove). */
/** Garbage collection looks at up to this many blobs per transaction (collectGarbage)… */
export const GC_BATCH_BLOBS = 1000;
/** …and deletes up to this many bytes of them (at least one blob): SQLite overwrites what it deletes. */
export const GC_BATCH_BYTES = 16 * 1024 * 1024;

/** Between two batches of garbage collection: the event loop gets a turn. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What one gc batch did in a workspace: null when the workspace is no longer idle. */
export type GcBatch = { blobs: number; bytes: number; last: Buffer; done: boolean } | null;

/**
 * The batch loop both stores' collectGarbage share: each workspace batch after batch (from the
 * last blob id the previous one looked at) until it is done or no longer idle, a pause between
 * batches, the report summed; an abort stops before the next batch with what was done so far.
 */
export async function collectInBatches(
  workspaceIds: readonly string[],
  batch: (workspaceId: string, after: Buffer) => GcBatch | Promise<GcBatch>,
  opts: { pause: () => Promise<void>; signal?: AbortSignal | undefined },
): Promise<GarbageReport> {
  const report: GarbageReport = { workspaces: 0, blobs: 0, bytes: 0 };
  for (const workspaceId of workspaceIds) {
    let found = false;
    let after: Buffer = Buffer.alloc(0);
    for (;;) {
      if (opts.signal?.aborted) return report;
      const one = await batch(workspaceId, after);
      if (one) {
        report.blobs += one.blobs;
        report.bytes += one.bytes;
        if (one.blobs > 0 && !found) {
          found = true;
          report.workspaces++;
        }
      }
      await opts.pause();
      if (!one || one.done) break;
      after = one.last;
    }
  }
  return report;
}

export interface GarbageReport {
  /** workspaces that had garbage */
  workspaces: number;
  blobs: number;
  bytes: number;
}

// account lifecycle (issue 5)

export interface CredentialUpdate {
  kdf: KdfRecord;
  authKeyHash: Uint8Array;
  wrappedAccountKey: string;
  at: Date;
}

/** The session a credential change opens for its caller (Store.changeCredentials). */
export interface SessionRenewal {
  /** the session the change was made from: revoked with the others, but not counted in `revokedSessions` */
  replaces: string | null;
  opens: NewSession;
}

/**
 * The caller's session a credential change leaves live (Store.changeCredentials): a client from
 * before SessionRenewal ignores the new session it would be answered with, so ending its own would
 * sign it out.
 */
export interface SessionKept {
  keeps: string;
}

export type ChangeCredentialsResult =
  /**
   * `revokedSessions`: sessions revoked but `renewal.replaces` or `keeps` (those of other machines, or copies);
   * `recoveryKeyRevoked`: a recovery record existed and was deleted; `revokedTokens`: live access
   * tokens the user created that were revoked (a recovery only; 0 for a password change)
   */
  | { ok: true; revokedSessions: number; recoveryKeyRevoked: boolean; revokedTokens: number }
  | { ok: false; reason: 'stale' | 'no_user' };

export interface RecoveryRecord {
  /** SHA-256 of the recovery auth key */
  authKeyHash: Uint8Array;
  /** the account key wrapped under the recovery wrap key (base64url) */
  wrappedAccountKey: string;
  createdAt: Date;
}

/** Store.endedSession: why a token no longer signs in, and since when. */
export interface EndedSessionReason {
  reason: 'revoked' | 'expired' | 'account_deleted';
  at: Date;
}

export type RecordActivationMailResult = { ok: true } | { ok: false; reason: 'limit'; cap: number; oldest: Date } | { ok: false; reason: 'no_user' };

/** `no_user`: the account was deleted (see CreateAccessTokenResult) */
export type SetEmailVerificationResult = { ok: true } | { ok: false; reason: 'no_user' };

export interface EndedSessionRecord extends SessionRecord {
  /** null for a session that expired without being revoked */
  revokedAt: Date | null;
}

export interface InvitationToUserRecord {
  id: string;
  teamId: string;
  teamName: string;
  email: string;
  role: 'admin' | 'member';
  createdAt: Date;
  /** a cancelled invitation (replaced by a newer one, or withdrawn) expired when it was cancelled */
  expiresAt: Date;
  acceptedAt: Date | null;
}

export interface AccountMetaRecord {
  verifiedAt: Date | null;
  passwordChangedAt: Date | null;
  recoveryCreatedAt: Date | null;
}

export interface WorkspaceUsageRecord {
  workspaceId: string;
  teamId: string;
  snapshots: number;
  blobs: number;
  /** bytes of ciphertext stored (blobs + snapshots), as WorkspaceRecord.size */
  bytes: number;
}

export interface DeletionCounts {
  sessions: number;
  accessTokens: number;
  recoveryKeys: number;
  memberships: number;
  teams: number;
  workspaces: number;
  snapshots: number;
  blobs: number;
  invitations: number;
}

export type DeleteUserResult =
  /** `teamIds`: the teams that went with the account (no one else belonged to them) */
  | { ok: true; removed: DeletionCounts; teamIds: string[] }
  | { ok: false; reason: 'sole_owner'; teams: { id: string; name: string }[] }
  | { ok: false; reason: 'stale' | 'no_user' };

// teams (issue 3)

export interface NewTeam {
  id: string;
  name: string;
  ownerId: string;
  /** epoch 1 sealed to the owner */
  sealedTeamKey: string;
  createdAt: Date;
}

export interface TeamAccessRecord {
  team: (TeamRecord & { rotationPending: boolean }) | null;
  state: 'confirmed' | 'accepted' | 'former' | 'none';
  /** for confirmed and accepted members */
  role: TeamRole | null;
}

export interface TeamMemberRecord extends MemberKeysRecord {
  confirmed: boolean;
  joinedAt: Date;
}

export interface SealedKeyRecord {
  epoch: number;
  sealedKey: string;
}

export interface NewInvitation {
  id: string;
  teamId: string;
  /** normalised */
  email: string;
  role: 'admin' | 'member';
  /** SHA-256 of the code */
  codeHash: Uint8Array;
  invitedBy: string;
  createdAt: Date;
  expiresAt: Date;
}

export interface InvitationRecord {
  id: string;
  teamId: string;
  email: string;
  role: 'admin' | 'member';
  invitedBy: string | null;
  createdAt: Date;
  expiresAt: Date;
}

export type AcceptInvitationResult =
  | { ok: true; teamId: string; teamName: string; role: TeamRole }
  | { ok: false; reason: 'unknown' | 'used' | 'expired' | 'other_address' | 'already_member' | 'no_team' | 'no_user' };

export type ConfirmMemberResult =
  | { ok: true }
  | { ok: false; reason: 'not_member' | 'already_confirmed' | 'missing_epoch' };

export interface TeamRotation {
  /** the team's epoch the client rotated from; the new epoch is this + 1 */
  expectedEpoch: number;
  removeUserId: string | null;
  /** the new team key sealed to each remaining confirmed member */
  sealedKeys: { userId: string; sealedKey: string }[];
  /** each workspace's new content key, wrapped under the new team key */
  workspaceKeys: { workspaceId: string; wrappedKey: string }[];
  now: Date;
}

export type RotateTeamResult =
  | { ok: true; epoch: number }
  | { ok: false; reason: 'stale' | 'not_member' | 'last_owner' | 'members_changed' | 'workspaces_changed' | 'no_team' };

export type RemoveUnconfirmedResult = { ok: true } | { ok: false; reason: 'not_member' | 'confirmed' };

export type LeaveTeamResult =
  | { ok: true; rotationPending: boolean }
  | { ok: false; reason: 'not_member' | 'personal' | 'last_owner' | 'last_member' };

export type CreateInvitationResult = { ok: true } | { ok: false; reason: 'no_team' | 'no_user' | 'limit' };

/** `no_user`: the owner's account was deleted (see CreateAccessTokenResult) */
export type CreateTeamResult = { ok: true } | { ok: false; reason: 'id_taken' | 'no_user' };

/** What team deletion removed (Store.deleteTeam). */
export interface TeamDeletionCounts {
  workspaces: number;
  snapshots: number;
  blobs: number;
  /** confirmed and accepted members, the owner deleting it included */
  memberships: number;
  /** tokens of the team's workspaces, revoked and expired ones included */
  accessTokens: number;
  /** every stored invitation of the team: open, accepted, expired or cancelled */
  invitations: number;
}

export type DeleteTeamResult =
  | { ok: true; name: string; removed: TeamDeletionCounts }
  /** `not_member`: no such team, or the user is not a confirmed member of it */
  | { ok: false; reason: 'not_member' | 'not_owner' | 'personal' };

export type SetMemberRoleResult =
  | { ok: true; previous: TeamRole }
  | { ok: false; reason: 'not_member' | 'last_owner' | 'unconfirmed_owner' | 'owner_only' };

export type VerifyEmailResult = { ok: true } | { ok: false; reason: 'wrong_code' | 'expired' | 'already_verified' };

/** The rule both stores apply to a role change (Store.setMemberRole), to the team's members as they are. */
export function roleChangeRefusal(
  members: readonly { target: boolean; role: TeamRole; confirmed: boolean }[],
  role: TeamRole,
  opts: { byOwner: boolean },
): 'last_owner' | 'unconfirmed_owner' | 'owner_only' | null {
  const target = members.find((m) => m.target);
  if (!target) throw new Error('roleChangeRefusal: no target member');
  if (!opts.byOwner && (target.role === 'owner' || role === 'owner')) return 'owner_only';
  if (role === 'owner' && !target.confirmed) return 'unconfirmed_owner';
  if (target.role === 'owner' && role !== 'owner' && !members.some((m) => !m.target && m.role === 'owner' && m.confirmed)) return 'last_owner';
  return null;
}

/** How many of `sizes`, taken in order, fit in `maxBytes` — at least one, when there is one. */
export function countWithinBytes(sizes: readonly number[], maxBytes: number): number {
  let total = 0;
  let n = 0;
  for (const size of sizes) {
    if (n > 0 && total + size > maxBytes) break;
    total += size;
    n++;
  }
  return n;
}
