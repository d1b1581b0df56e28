/**
 * The wire contract of insomnia-sync (docs/protocol.md). Defined once, used by the server routes
 * and by the client's API layer. All binary values in JSON are unpadded base64url strings;
 * ids are lowercase hex.
 *
 * Ids are made by the client (random 16 bytes → 32 hex chars) so that they can be bound into the
 * associated data of ciphertexts before the server ever sees them. Blob ids are 64 hex chars
 * (keyed MAC of the plaintext); snapshot ids are 64 hex chars (SHA-256 of the snapshot ciphertext,
 * which the server checks).
 */

export const API_PREFIX = '/v1';

/** Argon2id parameters as stored on the server and handed out before login. */
export interface KdfParams {
  alg: 'argon2id';
  /** memory in KiB */
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** 16 random bytes, base64url */
  salt: string;
}

export interface PreloginRequest {
  email: string;
}
export interface PreloginResponse {
  kdf: KdfParams;
}

/** Key material the server keeps for an account: public halves in clear, private halves wrapped. */
export interface AccountKeys {
  /** account key (random 32 bytes) wrapped under the password-derived wrap key */
  wrappedAccountKey: string;
  /** X25519 public key, 32 bytes */
  x25519PublicKey: string;
  /** Ed25519 public key, 32 bytes */
  ed25519PublicKey: string;
  /** X25519 secret key wrapped under the account key */
  wrappedX25519Secret: string;
  /** Ed25519 secret key wrapped under the account key */
  wrappedEd25519Secret: string;
}

export interface SignupRequest {
  /** client-generated account id, 32 hex chars */
  userId: string;
  email: string;
  name: string;
  kdf: KdfParams;
  /** HKDF-derived auth key, 32 bytes; the server stores only a hash */
  authKey: string;
  keys: AccountKeys;
  personalTeam: {
    /** client-generated team id, 32 hex chars */
    id: string;
    /** team key epoch 1 sealed to the user's own X25519 key */
    sealedTeamKey: string;
  };
  /** Client label for the session list, e.g. "insomnia-sync/0.1.0 linux" */
  client?: string;
}

export interface LoginRequest {
  email: string;
  authKey: string;
  client?: string;
}

export interface SessionInfo {
  /** bearer token, shown to the client once; the server keeps only its hash */
  token: string;
  id: string;
  expiresAt: string;
}

export interface UserInfo {
  id: string;
  email: string;
  name: string;
  createdAt: string;
}

export type TeamRole = 'owner' | 'admin' | 'member';

export interface TeamInfo {
  id: string;
  name: string;
  personal: boolean;
  role: TeamRole;
  /** current key epoch of the team */
  epoch: number;
  /** the team keys sealed to the caller, one per epoch the caller may read */
  sealedKeys: { epoch: number; sealedKey: string }[];
  /** false while the caller accepted an invitation but no owner or admin confirmed them yet (absent: true) */
  confirmed?: boolean;
  /** true while a member has left and the key awaits `team rotate`: writes are refused (absent: false) */
  rotationPending?: boolean;
}

/** Answer of signup, login and GET /v1/me. */
export interface AccountResponse {
  session?: SessionInfo;
  user: UserInfo;
  keys: AccountKeys;
  teams: TeamInfo[];
}

/** Answer of signup. */
export interface SignupResponse extends AccountResponse {
  /** false when the activation mail could not be sent (`account verify --resend` asks again); absent from older servers */
  activationMailSent?: boolean;
}

export interface MemberPublicKeys {
  userId: string;
  email: string;
  name: string;
  x25519PublicKey: string;
  ed25519PublicKey: string;
  /** only for a former (removed or departed) member: their snapshots are accepted up to this key epoch */
  untilEpoch?: number;
}

export interface WorkspaceKeyInfo {
  epoch: number;
  /** workspace content key wrapped under the team key of that epoch */
  wrappedKey: string;
}

export interface WorkspaceInfo {
  id: string;
  teamId: string;
  /** workspace name encrypted under the workspace key (the server never sees names) */
  encryptedName: string;
  /** current snapshot id or null for an empty workspace */
  head: string | null;
  keys: WorkspaceKeyInfo[];
  createdAt: string;
  updatedAt: string;
  /** bytes of ciphertext stored (blobs + snapshots) */
  size: number;
  /**
   * Only when the caller is an access token: the workspace key wrapped under the token's key, per
   * epoch the token holds (slot kind 'token-key', objectId = token id). `keys` stays the team-wrapped list.
   */
  tokenKeys?: WorkspaceKeyInfo[];
  /** Only when the caller is an access token: its scope, so a read-only token's push stops before any work. */
  tokenScope?: TokenScope;
}

export interface CreateWorkspaceRequest {
  id: string;
  teamId: string;
  encryptedName: string;
  key: WorkspaceKeyInfo;
}

export interface RenameWorkspaceRequest {
  encryptedName: string;
}

export interface WorkspaceListResponse {
  workspaces: WorkspaceInfo[];
}

/** Public keys of every member of the workspace's team, so clients can check snapshot authors. */
export interface WorkspaceMembersResponse {
  members: MemberPublicKeys[];
  /** the workspace's access tokens (revoked ones too: their past snapshots stay verifiable) */
  tokens?: TokenSignerInfo[];
}

export interface MissingBlobsRequest {
  /** at most MAX_IDS_PER_REQUEST blob ids */
  ids: string[];
}
export interface MissingBlobsResponse {
  missing: string[];
}

export interface FetchBlobsRequest {
  ids: string[];
}

export interface BlobUploadResponse {
  stored: number;
}

export interface CreateSnapshotRequest {
  /** SHA-256 (hex) of `data` decoded; the server checks it */
  id: string;
  /** parent snapshot id, null for the first snapshot */
  parent: string | null;
  /** the encrypted, signed manifest */
  data: string;
  /**
   * The blob ids the manifest references that the client's last synced snapshot did not (a superset
   * is fine). The server refuses the snapshot if one is missing and records them as referenced.
   * Blobs the older snapshots reference exist already, so the union over the history is every
   * blob any snapshot references: what garbage collection must keep.
   */
  blobIds: string[];
}

export interface SnapshotInfo {
  id: string;
  parent: string | null;
  createdAt: string;
  /** encrypted signed manifest */
  data: string;
}

export interface CreateSnapshotResponse {
  head: string;
}

export interface SnapshotListResponse {
  snapshots: SnapshotInfo[];
}

export const LIMITS = {
  /** ids per missing/fetch call */
  maxIdsPerRequest: 10_000,
  /** body of a blob upload batch */
  maxBlobBatchBytes: 64 * 1024 * 1024,
  /** one encrypted blob (a chunk of at most 1 MiB plus envelope overhead) */
  maxBlobBytes: 1024 * 1024 + 1024,
  /** the envelope of an empty chunk (ENVELOPE_OVERHEAD of crypto/aead.ts): no real blob is shorter */
  minBlobBytes: 41,
  /** JSON bodies (snapshots carry big manifests) */
  maxJsonBodyBytes: 64 * 1024 * 1024,
  /** fetch answers are cut at about this many bytes; the client asks again for the rest */
  maxFetchBytes: 16 * 1024 * 1024,
  /** snapshot lists are cut before this many bytes of snapshot data (at least one snapshot) */
  maxSnapshotListBytes: 32 * 1024 * 1024,
  /** snapshots in one list answer, whatever `limit` asks */
  maxSnapshotsPerList: 1000,
  maxNameChars: 200,
  maxEmailChars: 254,
} as const;

export const ID_PATTERN = '^[0-9a-f]{32}$';
export const HASH_ID_PATTERN = '^[0-9a-f]{64}$';

// Access tokens (docs/protocol.md §3.19–3.21, SPEC §6)

export type TokenScope = 'read' | 'write';

/** Bearer credential of an access token: `isync-token.<token id hex>.<secret base64url>`. */
export const ACCESS_TOKEN_BEARER_PREFIX = 'isync-token.';

export interface CreateTokenRequest {
  /** client-generated, 32 hex chars */
  id: string;
  name: string;
  scope: TokenScope;
  /** SHA-256 of the token's 32-byte secret; the secret itself never travels at creation */
  secretHash: string;
  /** ISO time, or null for a token that never expires */
  expiresAt: string | null;
  /** the token's Ed25519 public key, 32 bytes */
  publicKey: string;
  /** the creator's Ed25519 signature over the token certificate (docs/crypto.md), 64 bytes */
  certificate: string;
  /** the workspace key wrapped under the token key, one per epoch; must include the newest */
  keys: WorkspaceKeyInfo[];
}

export interface TokenInfo {
  id: string;
  workspaceId: string;
  name: string;
  scope: TokenScope;
  createdBy: { userId: string; email: string; name: string };
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  /**
   * the newest key epoch the token holds a workspace key for: below the workspace's newest epoch
   * the token can no longer sync (its team key rotated). Absent from servers before it was added.
   */
  keyEpoch?: number;
}

export interface TokenListResponse {
  tokens: TokenInfo[];
}

/** What clients need to accept snapshots signed by a token: its key and the creator's certificate. */
export interface TokenSignerInfo {
  id: string;
  name: string;
  scope: TokenScope;
  /** user id of the member who created (and certified) the token */
  createdBy: string;
  publicKey: string;
  certificate: string;
  revoked: boolean;
}

// Account lifecycle (docs/protocol.md §3.22–3.29)

/** A live session as the account owner sees it; never the token. */
export interface SessionView {
  id: string;
  client: string | null;
  ip: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  /** the session making this request */
  current: boolean;
}

/** An ended session the server still stores (until its cleanup), as its owner sees it. */
export interface EndedSessionView extends Omit<SessionView, 'current'> {
  /** null: it expired without being revoked */
  revokedAt: string | null;
}

export interface InvitationView {
  id: string;
  teamId: string;
  teamName: string;
  role: 'admin' | 'member';
  /** `ended`: expired, or cancelled by a newer invitation */
  state: 'open' | 'accepted' | 'ended';
  createdAt: string;
  expiresAt: string;
  acceptedAt: string | null;
}

export interface SessionListResponse {
  sessions: SessionView[];
}

export interface WorkspaceUsage {
  id: string;
  teamId: string;
  /** encrypted under the workspace key: the server cannot read it */
  encryptedName: string;
  createdAt: string;
  updatedAt: string;
  snapshots: number;
  blobs: number;
  /** bytes of ciphertext stored (blobs + snapshots) */
  size: number;
}

/** GET /v1/account: every piece of service data the server holds about the caller, nothing secret. */
export interface AccountDataResponse {
  user: UserInfo & { verifiedAt: string | null; passwordChangedAt: string | null };
  /** Argon2id parameters and salt (also answered by prelogin) */
  kdf: KdfParams;
  publicKeys: { x25519PublicKey: string; ed25519PublicKey: string };
  recoveryKey: { set: boolean; createdAt: string | null };
  /** live sessions */
  sessions: SessionView[];
  /**
   * sessions that ended (revoked, logged out, expired) but are still stored until the server's
   * cleanup. Absent from servers before it was added: the client reads [] (src/client/api.ts).
   */
  endedSessions?: EndedSessionView[];
  /**
   * invitations to the account's address or accepted by it, in every state, until deleted. Absent
   * from servers before it was added: the client reads [].
   */
  invitations?: InvitationView[];
  usage: { workspaces: number; snapshots: number; blobs: number; bytes: number };
  teams: { id: string; name: string; personal: boolean; role: TeamRole; epoch: number }[];
  workspaces: WorkspaceUsage[];
  /** every access token this account created (in any team, even one it left): never a secret */
  accessTokens: {
    id: string;
    name: string;
    scope: 'read' | 'write';
    workspaceId: string;
    createdAt: string;
    lastUsedAt: string | null;
    expiresAt: string | null;
    revokedAt: string | null;
  }[];
}

/** Every request that changes or removes credentials carries a fresh proof of the password. */
export interface PasswordProof {
  /** the auth key derived from the current password (32 bytes) */
  authKey: string;
}

export interface ChangePasswordRequest extends PasswordProof {
  newKdf: KdfParams;
  newAuthKey: string;
  /** the same account key, wrapped under the new password's wrap key */
  wrappedAccountKey: string;
  /**
   * End the caller's session too and answer with a new one (`session`). Without it the server
   * keeps the caller's session: a client from before the field would not store a new one, and its
   * next request would be signed out. Servers before it reject the field (400 `bad_request`).
   */
  renewSession?: boolean;
}

export interface ChangePasswordResponse {
  /** sessions signed out, but the one the change was made from (renewed: `session`, or kept) */
  revokedSessions: number;
  /**
   * a recovery key existed and was revoked with the old password. Absent from servers before it
   * was added, which kept the recovery key: the client reads false.
   */
  recoveryKeyRevoked?: boolean;
  /**
   * The caller's access tokens that still work (not revoked or expired, not stale): a password
   * change does not revoke them, so the client lists them. Absent from servers before it was added.
   */
  liveTokens?: TokenInfo[];
  /**
   * The caller's new session, when the request asked for it (`renewSession`). The one the request
   * was made with ended with every other (a copy of it, from a backup of that machine, must not
   * outlive the change), so the client keeps this one in its place. Absent otherwise, and from
   * servers before it was added: those kept the caller's session.
   */
  session?: SessionInfo;
}

export interface SetRecoveryKeyRequest extends PasswordProof {
  /** HKDF of the recovery key (32 bytes); the server stores only its hash */
  recoveryAuthKey: string;
  /** the account key wrapped under the recovery wrap key (slot kind `recovery`) */
  wrappedAccountKey: string;
}

export interface SetRecoveryKeyResponse {
  createdAt: string;
}

export interface RecoverStartRequest {
  email: string;
  recoveryAuthKey: string;
}

export interface RecoverStartResponse {
  userId: string;
  /** the account key wrapped under the recovery wrap key */
  wrappedAccountKeyByRecovery: string;
  keys: AccountKeys;
}

/** The new session, as login answers, and how many live access tokens the recovery revoked. */
export interface RecoverFinishResponse extends AccountResponse {
  /** absent from servers before a recovery revoked tokens */
  revokedTokens?: number;
}

export interface RecoverFinishRequest {
  email: string;
  recoveryAuthKey: string;
  newKdf: KdfParams;
  newAuthKey: string;
  wrappedAccountKey: string;
  client?: string;
}

export type DeleteAccountRequest = PasswordProof;

/** What account deletion removed: the receipt the server answers (and mails). */
export interface DeletionReceipt {
  userId: string;
  email: string;
  deletedAt: string;
  removed: {
    account: 1;
    sessions: number;
    accessTokens: number;
    recoveryKeys: number;
    memberships: number;
    teams: number;
    workspaces: number;
    snapshots: number;
    blobs: number;
    invitations: number;
  };
  /** the backup policy, in words */
  backups: string;
}

// Teams (docs/protocol.md §3.30–3.38)

export interface CreateTeamRequest {
  /** client-generated, 32 hex chars */
  id: string;
  name: string;
  /** team key epoch 1 sealed to the creator's X25519 key */
  sealedTeamKey: string;
}

export interface TeamSummary {
  id: string;
  name: string;
  personal: boolean;
  epoch: number;
  /** a member left: writes are refused until an owner or admin rotates the key (`team rotate`) */
  rotationPending: boolean;
}

export interface TeamMemberInfo extends MemberPublicKeys {
  role: TeamRole;
  /** accepted: joined with an invitation, holds no key until confirmed */
  status: 'confirmed' | 'accepted';
  joinedAt: string;
}

export interface InvitationInfo {
  email: string;
  role: 'admin' | 'member';
  createdAt: string;
  expiresAt: string;
}

export interface TeamMembersResponse {
  team: TeamSummary;
  members: TeamMemberInfo[];
  /** open invitations; only owners and admins see them (empty for members) */
  invitations: InvitationInfo[];
}

export interface InviteRequest {
  /** at most 100 addresses */
  emails: string[];
  role: 'admin' | 'member';
}

export interface InviteResponse {
  invited: { email: string; expiresAt: string }[];
  /** addresses refused one by one (malformed, already a member, mail failed); the rest still went out */
  failed: { email: string; reason: string }[];
}

/** Withdraws the team's open invitation to one address (docs/protocol.md §3.40). */
export interface WithdrawInvitationRequest {
  email: string;
}

/** the invitation withdrawn: its code now answers as an unknown one */
export type WithdrawInvitationResponse = InvitationInfo;

export interface AcceptInvitationRequest {
  code: string;
}

export interface AcceptInvitationResponse {
  teamId: string;
  teamName: string;
  role: TeamRole;
}

export interface ConfirmMemberRequest {
  /** every team key epoch the confirmer holds, sealed to the member; must include the current one */
  sealedKeys: { epoch: number; sealedKey: string }[];
}

export interface RotateTeamRequest {
  /** the team's current epoch; the new key is epoch + 1 (compare-and-swap) */
  epoch: number;
  /** the new team key sealed to every remaining confirmed member */
  sealedKeys: { userId: string; sealedKey: string }[];
  /** a new content key for every workspace of the team, wrapped under the new team key */
  workspaceKeys: { workspaceId: string; wrappedKey: string }[];
}

/**
 * Removing a member: a rotation (RotateTeamRequest), or `{epoch}` alone for a member who accepted
 * but was never confirmed, who holds no team key, so nothing needs rotating.
 */
export type RemoveMemberRequest = RotateTeamRequest | { epoch: number };

export interface RotateTeamResponse {
  epoch: number;
}

export interface LeaveTeamResponse {
  rotationPending: boolean;
}

/** DELETE /v1/teams/:teamId (docs/protocol.md §3.40): what went with the team. */
export interface TeamDeletionReceipt {
  teamId: string;
  name: string;
  deletedAt: string;
  removed: {
    workspaces: number;
    snapshots: number;
    blobs: number;
    /** confirmed and accepted members, the owner deleting it included */
    memberships: number;
    /** tokens of the team's workspaces, revoked and expired ones included */
    accessTokens: number;
    /** every stored invitation of the team, open or not */
    invitations: number;
  };
}

export interface SetMemberRoleRequest {
  role: TeamRole;
}

export interface SetMemberRoleResponse {
  role: TeamRole;
  /** the role before; equal to `role` when nothing changed */
  previous: TeamRole;
}

export interface VerifyEmailRequest {
  code?: string;
  /** mail a new code instead (the old one stops working) */
  resend?: boolean;
}
