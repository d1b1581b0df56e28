/**
 * SQLite schema, as an ordered list: entry i is schema version i + 1. Never edit an entry that has
 * shipped; append a new one. Each applied entry is recorded with the sha256 of its text, and a
 * database whose recorded checksum differs is refused (schema-version.ts), so even a comment or
 * whitespace change to a shipped entry stops servers. Times are milliseconds since the epoch (INTEGER).
 */
// Entry 1 was last changed before any release (blob ids TEXT → BLOB); from the first release on, append only.
export const SQLITE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kdf_alg TEXT NOT NULL,
    kdf_memory_kib INTEGER NOT NULL,
    kdf_iterations INTEGER NOT NULL,
    kdf_parallelism INTEGER NOT NULL,
    kdf_salt TEXT NOT NULL,
    auth_key_hash BLOB NOT NULL,
    wrapped_account_key TEXT NOT NULL,
    x25519_public_key TEXT NOT NULL,
    ed25519_public_key TEXT NOT NULL,
    wrapped_x25519_secret TEXT NOT NULL,
    wrapped_ed25519_secret TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    client TEXT,
    ip TEXT,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE INDEX sessions_user ON sessions(user_id);

  CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    personal INTEGER NOT NULL,
    epoch INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
  );
  CREATE INDEX team_members_user ON team_members(user_id);

  CREATE TABLE team_keys (
    team_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    sealed_key TEXT NOT NULL,
    PRIMARY KEY (team_id, user_id, epoch),
    FOREIGN KEY (team_id, user_id) REFERENCES team_members(team_id, user_id) ON DELETE CASCADE
  );
  CREATE INDEX team_keys_user ON team_keys(user_id);

  CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    encrypted_name TEXT NOT NULL,
    head TEXT,
    size INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX workspaces_team ON workspaces(team_id);

  CREATE TABLE workspace_keys (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    wrapped_key TEXT NOT NULL,
    PRIMARY KEY (workspace_id, epoch)
  );

  -- ids are the 32 raw bytes of the hex id: half the key size of TEXT in the table and its index.
  -- A rowid table: with blob data inline, WITHOUT ROWID made inserts 2-4x and lookups 20x slower.
  CREATE TABLE blobs (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id BLOB NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, id)
  );

  CREATE TABLE snapshots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    parent TEXT,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (workspace_id, id)
  );
  CREATE INDEX snapshots_workspace_seq ON snapshots(workspace_id, seq);

  -- which blobs each snapshot references, so a garbage collector can find unreferenced blobs
  CREATE TABLE snapshot_blobs (
    workspace_id TEXT NOT NULL,
    snapshot_id TEXT NOT NULL,
    blob_id BLOB NOT NULL,
    PRIMARY KEY (workspace_id, snapshot_id, blob_id),
    FOREIGN KEY (workspace_id, snapshot_id) REFERENCES snapshots(workspace_id, id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  CREATE INDEX snapshot_blobs_blob ON snapshot_blobs(workspace_id, blob_id);
  `,
  // 2: access tokens (issue 4)
  `
  -- the secret is kept only as its SHA-256; the token key never reaches the server
  CREATE TABLE access_tokens (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    secret_hash BLOB NOT NULL,
    public_key TEXT NOT NULL,
    certificate TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
  );
  CREATE INDEX access_tokens_workspace ON access_tokens(workspace_id);
  CREATE INDEX access_tokens_creator ON access_tokens(created_by);

  CREATE TABLE access_token_keys (
    token_id TEXT NOT NULL REFERENCES access_tokens(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    wrapped_key TEXT NOT NULL,
    PRIMARY KEY (token_id, epoch)
  );
  `,
  // 3: account lifecycle (issue 5): verification and password-change times, recovery keys
  `
  -- when the email address was confirmed (set by account activation); null until then
  ALTER TABLE users ADD COLUMN verified_at INTEGER;
  ALTER TABLE users ADD COLUMN password_changed_at INTEGER;

  -- the account key wrapped under a key derived from the user's recovery key, and a hash of the
  -- recovery auth value (docs/crypto.md §3.2); at most one per account
  CREATE TABLE account_recovery (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    auth_key_hash BLOB NOT NULL,
    wrapped_account_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 4: teams (issue 3): invitations, confirmation, former members, pending rotation, email verification
  `
  -- 1 from accepting an invitation until an owner or admin sealed the team keys to the member
  -- (\`team confirm\`); 0 (the default) for everyone else, so existing inserts mean "confirmed"
  ALTER TABLE team_members ADD COLUMN pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1));
  -- 1 after a member left: writes wait until an owner or admin rotates the team key
  ALTER TABLE teams ADD COLUMN rotation_pending INTEGER NOT NULL DEFAULT 0;

  -- the code is kept only as its SHA-256; bound to the address it was mailed to
  CREATE TABLE team_invitations (
    id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    code_hash BLOB NOT NULL UNIQUE,
    invited_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT REFERENCES users(id) ON DELETE SET NULL
  );
  CREATE INDEX team_invitations_team ON team_invitations(team_id);
  CREATE INDEX team_invitations_email ON team_invitations(email);

  -- removed or departed members: their public keys stay so their old snapshots stay verifiable,
  -- accepted only for snapshots of epochs up to until_epoch (the last one they held)
  CREATE TABLE team_former_members (
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    until_epoch INTEGER NOT NULL,
    removed_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
  );

  -- activation codes (SHA-256 only), one live code per account
  CREATE TABLE email_verifications (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    expires_at INTEGER NOT NULL
  );
  `,
  // 5: garbage collection (issue 6): when a client last checked for or uploaded blobs of a workspace
  `
  -- garbage collection leaves a workspace alone until this is older than its grace period, so a
  -- push in progress keeps the unreferenced blobs it found already stored (src/storage/sqlite/gc.ts)
  ALTER TABLE workspaces ADD COLUMN blob_activity_at INTEGER;
  UPDATE workspaces SET blob_activity_at = updated_at;
  `,
  // 6: former members outlive their account: public keys copied in, no reference to users
  `
  -- Deleting an account must not make its old snapshots unverifiable for the team, yet must remove
  -- its personal data: the record keeps the random id and public keys (what a signature check
  -- needs) and never the email or name. Signups may not reuse an id listed here.
  CREATE TABLE team_former_members_6 (
    team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL,
    x25519_public_key TEXT NOT NULL,
    ed25519_public_key TEXT NOT NULL,
    until_epoch INTEGER NOT NULL,
    removed_at INTEGER NOT NULL,
    PRIMARY KEY (team_id, user_id)
  );
  INSERT INTO team_former_members_6 (team_id, user_id, x25519_public_key, ed25519_public_key, until_epoch, removed_at)
    SELECT f.team_id, f.user_id, u.x25519_public_key, u.ed25519_public_key, f.until_epoch, f.removed_at
    FROM team_former_members f JOIN users u ON u.id = f.user_id;
  DROP TABLE team_former_members;
  ALTER TABLE team_former_members_6 RENAME TO team_former_members;
  CREATE INDEX team_former_members_user ON team_former_members(user_id);
  `,
  // 7: rate-limit counters in the database, shared by every server process on it
  `
  -- one row per key and its current window; the key is an HMAC of the bucket and the client IP or account
  -- under the server secret, so the table names neither (src/server/rate-limits.ts)
  CREATE TABLE rate_limit_counts (
    key BLOB PRIMARY KEY,
    window_start INTEGER NOT NULL,
    count INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX rate_limit_counts_window ON rate_limit_counts(window_start);
  `,
  // 8: write tokens outlive their creator's account as signers only, as former members do
  `
  -- Deleting an account must not make the snapshots its write tokens pushed to a shared team
  -- unverifiable for the others: what the signature check needs stays (the token's key, and the
  -- certificate the creator signed, checked against the former-member record's key), and nothing
  -- that could use the token or name its creator: no secret hash, no wrapped keys, no email or name.
  CREATE TABLE former_access_tokens (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
    created_by TEXT NOT NULL,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    public_key TEXT NOT NULL,
    certificate TEXT NOT NULL,
    revoked_at INTEGER NOT NULL
  );
  CREATE INDEX former_access_tokens_workspace ON former_access_tokens(workspace_id);
  `,
  // 9: invitations of a deleted team keep counting toward their inviter's hourly cap
  `
  -- Deleting a team deletes its invitations, yet each was a mail sent: what the cap on invitations
  -- an hour needs stays (who sent one, and when), never the address, the team or the code. No
  -- reference to users, so deleting a team takes no lock on accounts; account deletion deletes the
  -- account's rows, and rows older than the cap's hour are pruned (src/storage/sqlite/team-store.ts).
  CREATE TABLE deleted_team_invitations (
    invited_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX deleted_team_invitations_by ON deleted_team_invitations(invited_by, created_at);
  CREATE INDEX deleted_team_invitations_at ON deleted_team_invitations(created_at);
  `,
  // 10: activation mails counted per account; sessions of deleted accounts known by their token's hash
  `
  -- The cap on activation mails an account may have sent (src/server/teams/verification.ts): when
  -- each went, nothing else. Rows older than the cap's longest window are pruned as mails are sent,
  -- and the account's go when its address is verified or the account is deleted.
  CREATE TABLE activation_mails (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sent_at INTEGER NOT NULL
  );
  CREATE INDEX activation_mails_user ON activation_mails(user_id, sent_at);
  CREATE INDEX activation_mails_at ON activation_mails(sent_at);

  -- A machine still signed in to a deleted account is told the account was deleted, not that its
  -- session expired: the SHA-256 of each of the account's session tokens, when it was deleted, and
  -- until when the session would have lasted (purged after that). No account id, email, IP or
  -- client: only the holder of the token can link a row to anything.
  CREATE TABLE deleted_account_sessions (
    token_hash BLOB PRIMARY KEY,
    deleted_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX deleted_account_sessions_expiry ON deleted_account_sessions(expires_at);
  `,
];
