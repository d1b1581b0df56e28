/**
 * PostgreSQL schema, as an ordered list: entry i is schema version i + 1, the same versions as
 * SQLITE_MIGRATIONS (version N here holds what version N holds there). Never edit an entry that has
 * shipped; append a new one: applied entries are recorded with the sha256 of their text, and a
 * database whose recorded checksum differs is refused (schema-version.ts). Times are timestamptz (millisecond values round-trip exactly), blobs
 * and hashes bytea, counters bigint.
 */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id text PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    kdf_alg text NOT NULL,
    kdf_memory_kib integer NOT NULL,
    kdf_iterations integer NOT NULL,
    kdf_parallelism integer NOT NULL,
    kdf_salt text NOT NULL,
    auth_key_hash bytea NOT NULL,
    wrapped_account_key text NOT NULL,
    x25519_public_key text NOT NULL,
    ed25519_public_key text NOT NULL,
    wrapped_x25519_secret text NOT NULL,
    wrapped_ed25519_secret text NOT NULL,
    created_at timestamptz NOT NULL
  );

  CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    client text,
    ip text,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
  );
  CREATE INDEX sessions_user ON sessions(user_id);

  CREATE TABLE teams (
    id text PRIMARY KEY,
    name text NOT NULL,
    personal boolean NOT NULL,
    epoch integer NOT NULL,
    created_at timestamptz NOT NULL
  );

  CREATE TABLE team_members (
    team_id text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (team_id, user_id)
  );
  CREATE INDEX team_members_user ON team_members(user_id);

  CREATE TABLE team_keys (
    team_id text NOT NULL,
    user_id text NOT NULL,
    epoch integer NOT NULL,
    sealed_key text NOT NULL,
    PRIMARY KEY (team_id, user_id, epoch),
    FOREIGN KEY (team_id, user_id) REFERENCES team_members(team_id, user_id) ON DELETE CASCADE
  );
  CREATE INDEX team_keys_user ON team_keys(user_id);

  CREATE TABLE workspaces (
    id text PRIMARY KEY,
    team_id text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    encrypted_name text NOT NULL,
    head text,
    size bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
  );
  CREATE INDEX workspaces_team ON workspaces(team_id);

  CREATE TABLE workspace_keys (
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    epoch integer NOT NULL,
    wrapped_key text NOT NULL,
    PRIMARY KEY (workspace_id, epoch)
  );

  -- ids are the 32 raw bytes of the hex id, as in SQLite
  CREATE TABLE blobs (
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id bytea NOT NULL,
    size integer NOT NULL,
    data bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (workspace_id, id)
  );
  -- ciphertext does not compress: EXTERNAL stores large values out of line without trying
  ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

  CREATE TABLE snapshots (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id text NOT NULL,
    parent text,
    data bytea NOT NULL,
    created_at timestamptz NOT NULL,
    UNIQUE (workspace_id, id)
  );
  ALTER TABLE snapshots ALTER COLUMN data SET STORAGE EXTERNAL;
  CREATE INDEX snapshots_workspace_seq ON snapshots(workspace_id, seq);

  -- which blobs each snapshot references, so a garbage collector can find unreferenced blobs
  CREATE TABLE snapshot_blobs (
    workspace_id text NOT NULL,
    snapshot_id text NOT NULL,
    blob_id bytea NOT NULL,
    PRIMARY KEY (workspace_id, snapshot_id, blob_id),
    FOREIGN KEY (workspace_id, snapshot_id) REFERENCES snapshots(workspace_id, id) ON DELETE CASCADE
  );
  CREATE INDEX snapshot_blobs_blob ON snapshot_blobs(workspace_id, blob_id);
  `,
  // 2: access tokens (issue 4)
  `
  -- the secret is kept only as its SHA-256; the token key never reaches the server
  CREATE TABLE access_tokens (
    id text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name text NOT NULL,
    scope text NOT NULL CHECK (scope IN ('read', 'write')),
    secret_hash bytea NOT NULL,
    public_key text NOT NULL,
    certificate text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz,
    expires_at timestamptz,
    revoked_at timestamptz
  );
  CREATE INDEX access_tokens_workspace ON access_tokens(workspace_id);
  CREATE INDEX access_tokens_creator ON access_tokens(created_by);

  CREATE TABLE access_token_keys (
    token_id text NOT NULL REFERENCES access_tokens(id) ON DELETE CASCADE,
    epoch integer NOT NULL,
    wrapped_key text NOT NULL,
    PRIMARY KEY (token_id, epoch)
  );
  `,
  // 3: account lifecycle (issue 5): verification and password-change times, recovery keys
  `
  ALTER TABLE users ADD COLUMN verified_at timestamptz;
  ALTER TABLE users ADD COLUMN password_changed_at timestamptz;

  CREATE TABLE account_recovery (
    user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    auth_key_hash bytea NOT NULL,
    wrapped_account_key text NOT NULL,
    created_at timestamptz NOT NULL
  );
  `,
  // 4: teams (issue 3): invitations, confirmation, former members, pending rotation, email verification
  `
  -- true from accepting an invitation until an owner or admin sealed the team keys to the member
  -- (\`team confirm\`); false (the default) for everyone else, so existing inserts mean "confirmed"
  ALTER TABLE team_members ADD COLUMN pending boolean NOT NULL DEFAULT false;
  -- true after a member left: writes wait until an owner or admin rotates the team key
  ALTER TABLE teams ADD COLUMN rotation_pending boolean NOT NULL DEFAULT false;

  CREATE TABLE team_invitations (
    id text PRIMARY KEY,
    team_id text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    email text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'member')),
    code_hash bytea NOT NULL UNIQUE,
    invited_by text REFERENCES users(id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text REFERENCES users(id) ON DELETE SET NULL
  );
  CREATE INDEX team_invitations_team ON team_invitations(team_id);
  CREATE INDEX team_invitations_email ON team_invitations(email);

  CREATE TABLE team_former_members (
    team_id text NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    until_epoch integer NOT NULL,
    removed_at timestamptz NOT NULL,
    PRIMARY KEY (team_id, user_id)
  );

  CREATE TABLE email_verifications (
    user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email text NOT NULL,
    code_hash bytea NOT NULL,
    expires_at timestamptz NOT NULL
  );
  `,
  // 5: garbage collection (issue 6): when a client last checked for or uploaded blobs of a workspace
  `
  -- garbage collection leaves a workspace alone until this is older than its grace period, so a
  -- push in progress keeps the unreferenced blobs it found already stored (src/storage/postgres/gc.ts)
  ALTER TABLE workspaces ADD COLUMN blob_activity_at timestamptz;
  UPDATE workspaces SET blob_activity_at = updated_at;
  `,
  // 6: former members outlive their account: public keys copied in, no reference to users
  `
  -- as in SQLite: the id and public keys stay for old signatures, never the email or name
  ALTER TABLE team_former_members DROP CONSTRAINT team_former_members_user_id_fkey;
  ALTER TABLE team_former_members ADD COLUMN x25519_public_key text, ADD COLUMN ed25519_public_key text;
  UPDATE team_former_members f SET x25519_public_key = u.x25519_public_key, ed25519_public_key = u.ed25519_public_key
    FROM users u WHERE u.id = f.user_id;
  ALTER TABLE team_former_members ALTER COLUMN x25519_public_key SET NOT NULL, ALTER COLUMN ed25519_public_key SET NOT NULL;
  CREATE INDEX team_former_members_user ON team_former_members(user_id);
  `,
  // 7: rate-limit counters in the database, shared by every server process on it
  `
  -- as in SQLite: keys are HMACs under the server secret, never an address or an account
  CREATE TABLE rate_limit_counts (
    key bytea PRIMARY KEY,
    window_start timestamptz NOT NULL,
    count integer NOT NULL
  );
  CREATE INDEX rate_limit_counts_window ON rate_limit_counts(window_start);
  `,
  // 8: write tokens outlive their creator's account as signers only, as former members do
  `
  -- as in SQLite: key and certificate for old signatures; no secret hash, wrapped keys, email or name
  CREATE TABLE former_access_tokens (
    id text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by text NOT NULL,
    name text NOT NULL,
    scope text NOT NULL CHECK (scope IN ('read', 'write')),
    public_key text NOT NULL,
    certificate text NOT NULL,
    revoked_at timestamptz NOT NULL
  );
  CREATE INDEX former_access_tokens_workspace ON former_access_tokens(workspace_id);
  `,
  // 9: invitations of a deleted team keep counting toward their inviter's hourly cap
  `
  -- as in SQLite: who sent an invitation and when, never the address, the team or the code; no
  -- reference to users (no lock on accounts while a team is deleted)
  CREATE TABLE deleted_team_invitations (
    invited_by text NOT NULL,
    created_at timestamptz NOT NULL
  );
  CREATE INDEX deleted_team_invitations_by ON deleted_team_invitations(invited_by, created_at);
  CREATE INDEX deleted_team_invitations_at ON deleted_team_invitations(created_at);
  `,
  // 10: activation mails counted per account; sessions of deleted accounts known by their token's hash
  `
  -- as in SQLite: when each activation mail went, nothing else; pruned as mails are sent
  CREATE TABLE activation_mails (
    user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sent_at timestamptz NOT NULL
  );
  CREATE INDEX activation_mails_user ON activation_mails(user_id, sent_at);
  CREATE INDEX activation_mails_at ON activation_mails(sent_at);

  -- as in SQLite: a deleted account's session token hashes, no account id, email, IP or client
  CREATE TABLE deleted_account_sessions (
    token_hash bytea PRIMARY KEY,
    deleted_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
  );
  CREATE INDEX deleted_account_sessions_expiry ON deleted_account_sessions(expires_at);
  `,
];
