/**
 * The fields each JSON answer required at protocol revision 2 (docs/protocol.md §1.1), frozen: every
 * field required in its object, at any depth, as `a.b[].c`. Every server of revision 2 sends these,
 * the oldest of them nothing more, so an answer schema (src/protocol/route-schemas.ts) may require
 * only these: test/protocol/response-validators.test.ts fails on any other. A field added to an
 * answer since is optional in its schema, and the client reads it with a default when absent (§3
 * says which); one the client cannot do without needs a new revision (PROTOCOL_REVISION), and then
 * this list starts again.
 *
 * Made from the answer schemas at f57f9b1 (src/server/*schemas.ts there), the commit that
 * introduced the revision header; routes added since, which an older server answers with
 * `unknown_route`, as at the commit that added them.
 */
export const REVISION_2_REQUIRED: Readonly<Record<string, readonly string[]>> = {
  'healthz 200': ['ok', 'protocol'],
  'prelogin 200': ['kdf', 'kdf.alg', 'kdf.memoryKiB', 'kdf.iterations', 'kdf.parallelism', 'kdf.salt'],
  'signup 200': [
    'session.token', 'session.id', 'session.expiresAt', 'user', 'user.id', 'user.email', 'user.name', 'user.createdAt', 'keys',
    'keys.wrappedAccountKey', 'keys.x25519PublicKey', 'keys.ed25519PublicKey', 'keys.wrappedX25519Secret', 'keys.wrappedEd25519Secret', 'teams',
    'teams[].id', 'teams[].name', 'teams[].personal', 'teams[].role', 'teams[].epoch', 'teams[].sealedKeys', 'teams[].sealedKeys[].epoch',
    'teams[].sealedKeys[].sealedKey',
  ],
  'login 200': [
    'session.token', 'session.id', 'session.expiresAt', 'user', 'user.id', 'user.email', 'user.name', 'user.createdAt', 'keys',
    'keys.wrappedAccountKey', 'keys.x25519PublicKey', 'keys.ed25519PublicKey', 'keys.wrappedX25519Secret', 'keys.wrappedEd25519Secret', 'teams',
    'teams[].id', 'teams[].name', 'teams[].personal', 'teams[].role', 'teams[].epoch', 'teams[].sealedKeys', 'teams[].sealedKeys[].epoch',
    'teams[].sealedKeys[].sealedKey',
  ],
  'me 200': [
    'session.token', 'session.id', 'session.expiresAt', 'user', 'user.id', 'user.email', 'user.name', 'user.createdAt', 'keys',
    'keys.wrappedAccountKey', 'keys.x25519PublicKey', 'keys.ed25519PublicKey', 'keys.wrappedX25519Secret', 'keys.wrappedEd25519Secret', 'teams',
    'teams[].id', 'teams[].name', 'teams[].personal', 'teams[].role', 'teams[].epoch', 'teams[].sealedKeys', 'teams[].sealedKeys[].epoch',
    'teams[].sealedKeys[].sealedKey',
  ],
  'listWorkspaces 200': [
    'workspaces', 'workspaces[].id', 'workspaces[].teamId', 'workspaces[].encryptedName', 'workspaces[].head', 'workspaces[].keys',
    'workspaces[].keys[].epoch', 'workspaces[].keys[].wrappedKey', 'workspaces[].createdAt', 'workspaces[].updatedAt', 'workspaces[].size',
    'workspaces[].tokenKeys[].epoch', 'workspaces[].tokenKeys[].wrappedKey',
  ],
  'createWorkspace 200': [
    'id', 'teamId', 'encryptedName', 'head', 'keys', 'keys[].epoch', 'keys[].wrappedKey', 'createdAt', 'updatedAt', 'size', 'tokenKeys[].epoch',
    'tokenKeys[].wrappedKey',
  ],
  'getWorkspace 200': [
    'id', 'teamId', 'encryptedName', 'head', 'keys', 'keys[].epoch', 'keys[].wrappedKey', 'createdAt', 'updatedAt', 'size', 'tokenKeys[].epoch',
    'tokenKeys[].wrappedKey',
  ],
  'renameWorkspace 200': [
    'id', 'teamId', 'encryptedName', 'head', 'keys', 'keys[].epoch', 'keys[].wrappedKey', 'createdAt', 'updatedAt', 'size', 'tokenKeys[].epoch',
    'tokenKeys[].wrappedKey',
  ],
  'workspaceMembers 200': [
    'members', 'members[].userId', 'members[].email', 'members[].name', 'members[].x25519PublicKey', 'members[].ed25519PublicKey', 'tokens[].id',
    'tokens[].name', 'tokens[].scope', 'tokens[].createdBy', 'tokens[].publicKey', 'tokens[].certificate', 'tokens[].revoked',
  ],
  'missingBlobs 200': ['missing'],
  'uploadBlobs 200': ['stored'],
  'createSnapshot 200': ['head'],
  // required inside endedSessions, invitations, fields added since (optional themselves), as they are today
  'accountShow 200': [
    'user', 'user.id', 'user.email', 'user.name', 'user.createdAt', 'user.verifiedAt', 'user.passwordChangedAt', 'kdf', 'kdf.alg', 'kdf.memoryKiB',
    'kdf.iterations', 'kdf.parallelism', 'kdf.salt', 'publicKeys', 'publicKeys.x25519PublicKey', 'publicKeys.ed25519PublicKey', 'recoveryKey',
    'recoveryKey.set', 'recoveryKey.createdAt', 'sessions', 'sessions[].id', 'sessions[].client', 'sessions[].ip', 'sessions[].createdAt',
    'sessions[].lastSeenAt', 'sessions[].expiresAt', 'sessions[].current', 'usage', 'usage.workspaces', 'usage.snapshots', 'usage.blobs',
    'usage.bytes', 'teams', 'teams[].id', 'teams[].name', 'teams[].personal', 'teams[].role', 'teams[].epoch', 'workspaces', 'workspaces[].id',
    'workspaces[].teamId', 'workspaces[].encryptedName', 'workspaces[].createdAt', 'workspaces[].updatedAt', 'workspaces[].snapshots',
    'workspaces[].blobs', 'workspaces[].size', 'accessTokens', 'accessTokens[].id', 'accessTokens[].name', 'accessTokens[].scope',
    'accessTokens[].workspaceId', 'accessTokens[].createdAt', 'accessTokens[].lastUsedAt', 'accessTokens[].expiresAt', 'accessTokens[].revokedAt',
    'endedSessions[].id', 'endedSessions[].client', 'endedSessions[].ip', 'endedSessions[].createdAt', 'endedSessions[].lastSeenAt',
    'endedSessions[].expiresAt', 'endedSessions[].revokedAt', 'invitations[].id', 'invitations[].teamId', 'invitations[].teamName',
    'invitations[].role', 'invitations[].state', 'invitations[].createdAt', 'invitations[].expiresAt', 'invitations[].acceptedAt',
  ],
  'listSessions 200': [
    'sessions', 'sessions[].id', 'sessions[].client', 'sessions[].ip', 'sessions[].createdAt', 'sessions[].lastSeenAt', 'sessions[].expiresAt',
    'sessions[].current',
  ],
  // required inside liveTokens, session, fields added since (optional themselves), as they are today
  'changePassword 200': [
    'revokedSessions', 'liveTokens[].id', 'liveTokens[].workspaceId', 'liveTokens[].name', 'liveTokens[].scope', 'liveTokens[].createdBy',
    'liveTokens[].createdBy.userId', 'liveTokens[].createdBy.email', 'liveTokens[].createdBy.name', 'liveTokens[].createdAt',
    'liveTokens[].lastUsedAt', 'liveTokens[].expiresAt', 'liveTokens[].revokedAt', 'session.token', 'session.id', 'session.expiresAt',
  ],
  'setRecoveryKey 200': ['createdAt'],
  'deleteAccount 200': [
    'userId', 'email', 'deletedAt', 'backups', 'removed', 'removed.account', 'removed.sessions', 'removed.accessTokens', 'removed.recoveryKeys',
    'removed.memberships', 'removed.teams', 'removed.workspaces', 'removed.snapshots', 'removed.blobs', 'removed.invitations',
  ],
  'recoverStart 200': [
    'userId', 'wrappedAccountKeyByRecovery', 'keys', 'keys.wrappedAccountKey', 'keys.x25519PublicKey', 'keys.ed25519PublicKey',
    'keys.wrappedX25519Secret', 'keys.wrappedEd25519Secret',
  ],
  'recoverFinish 200': [
    'session.token', 'session.id', 'session.expiresAt', 'user', 'user.id', 'user.email', 'user.name', 'user.createdAt', 'keys',
    'keys.wrappedAccountKey', 'keys.x25519PublicKey', 'keys.ed25519PublicKey', 'keys.wrappedX25519Secret', 'keys.wrappedEd25519Secret', 'teams',
    'teams[].id', 'teams[].name', 'teams[].personal', 'teams[].role', 'teams[].epoch', 'teams[].sealedKeys', 'teams[].sealedKeys[].epoch',
    'teams[].sealedKeys[].sealedKey',
  ],
  'createTeam 200': ['id', 'name', 'personal', 'epoch', 'rotationPending'],
  'teamMembers 200': [
    'team', 'team.id', 'team.name', 'team.personal', 'team.epoch', 'team.rotationPending', 'members', 'members[].userId', 'members[].email',
    'members[].name', 'members[].x25519PublicKey', 'members[].ed25519PublicKey', 'members[].role', 'members[].status', 'members[].joinedAt',
    'invitations', 'invitations[].email', 'invitations[].role', 'invitations[].createdAt', 'invitations[].expiresAt',
  ],
  'inviteMembers 200': ['invited', 'invited[].email', 'invited[].expiresAt', 'failed', 'failed[].email', 'failed[].reason'],
  // a route added since (an older server answers unknown_route): as at 9909695, which added it
  'withdrawInvitation 200': ['email', 'role', 'createdAt', 'expiresAt'],
  'acceptInvitation 200': ['teamId', 'teamName', 'role'],
  'removeMember 200': ['epoch'],
  'rotateTeam 200': ['epoch'],
  'leaveTeam 200': ['rotationPending'],
  // a route added since (an older server answers unknown_route): as at bbe0580, which added it
  'deleteTeam 200': [
    'teamId', 'name', 'deletedAt', 'removed', 'removed.workspaces', 'removed.snapshots', 'removed.blobs', 'removed.memberships',
    'removed.accessTokens', 'removed.invitations',
  ],
  // a route added since (an older server answers unknown_route): as at 492ddcf, which added it
  'setMemberRole 200': ['role', 'previous'],
  'createToken 200': [
    'id', 'workspaceId', 'name', 'scope', 'createdBy', 'createdBy.userId', 'createdBy.email', 'createdBy.name', 'createdAt', 'lastUsedAt',
    'expiresAt', 'revokedAt',
  ],
  'listTokens 200': [
    'tokens', 'tokens[].id', 'tokens[].workspaceId', 'tokens[].name', 'tokens[].scope', 'tokens[].createdBy', 'tokens[].createdBy.userId',
    'tokens[].createdBy.email', 'tokens[].createdBy.name', 'tokens[].createdAt', 'tokens[].lastUsedAt', 'tokens[].expiresAt', 'tokens[].revokedAt',
  ],
  'revokeToken 200': [
    'id', 'workspaceId', 'name', 'scope', 'createdBy', 'createdBy.userId', 'createdBy.email', 'createdBy.name', 'createdAt', 'lastUsedAt',
    'expiresAt', 'revokedAt',
  ],
};
