/**
 * Route table (docs/protocol.md §3). Paths use fastify's `:param` syntax; the client fills them
 * with `routePath`. Auth: every route but prelogin, signup, login, recover and healthz needs
 * `Authorization: Bearer <session token>`; an access token (`Bearer isync-token.ID.SECRET`) is
 * accepted only on its own workspace's sync routes (ACCESS_TOKEN_ROUTES).
 */
export const ROUTES = {
  healthz: { method: 'GET', path: '/healthz' },
  prelogin: { method: 'POST', path: '/v1/auth/prelogin' },
  signup: { method: 'POST', path: '/v1/auth/signup' },
  login: { method: 'POST', path: '/v1/auth/login' },
  logout: { method: 'POST', path: '/v1/auth/logout' },
  me: { method: 'GET', path: '/v1/me' },
  listWorkspaces: { method: 'GET', path: '/v1/workspaces' },
  createWorkspace: { method: 'POST', path: '/v1/workspaces' },
  getWorkspace: { method: 'GET', path: '/v1/workspaces/:workspaceId' },
  renameWorkspace: { method: 'PATCH', path: '/v1/workspaces/:workspaceId' },
  deleteWorkspace: { method: 'DELETE', path: '/v1/workspaces/:workspaceId' },
  workspaceMembers: { method: 'GET', path: '/v1/workspaces/:workspaceId/members' },
  missingBlobs: { method: 'POST', path: '/v1/workspaces/:workspaceId/blobs/missing' },
  /** body: application/octet-stream, a sequence of frames (see blob-frames.ts) */
  uploadBlobs: { method: 'PUT', path: '/v1/workspaces/:workspaceId/blobs' },
  /** JSON request {ids}; answer: application/octet-stream frames, possibly fewer than asked */
  fetchBlobs: { method: 'POST', path: '/v1/workspaces/:workspaceId/blobs/fetch' },
  createSnapshot: { method: 'POST', path: '/v1/workspaces/:workspaceId/snapshots' },
  /** query: ?limit=N&before=SNAPSHOT_ID, newest first */
  listSnapshots: { method: 'GET', path: '/v1/workspaces/:workspaceId/snapshots' },
  getSnapshot: { method: 'GET', path: '/v1/workspaces/:workspaceId/snapshots/:snapshotId' },
  /** access tokens: session auth only (an access token cannot manage tokens) */
  createToken: { method: 'POST', path: '/v1/workspaces/:workspaceId/tokens' },
  /** query: ?workspaceId=ID; tokens of every workspace the caller can access */
  listTokens: { method: 'GET', path: '/v1/tokens' },
  revokeToken: { method: 'DELETE', path: '/v1/tokens/:tokenId' },
  /** account lifecycle (docs/protocol.md §3.22–3.29) */
  accountShow: { method: 'GET', path: '/v1/account' },
  listSessions: { method: 'GET', path: '/v1/account/sessions' },
  revokeSession: { method: 'DELETE', path: '/v1/account/sessions/:sessionId' },
  changePassword: { method: 'POST', path: '/v1/account/password' },
  setRecoveryKey: { method: 'PUT', path: '/v1/account/recovery' },
  deleteAccount: { method: 'POST', path: '/v1/account/delete' },
  /** no session: proves the recovery key and hands back the recovery-wrapped account key */
  recoverStart: { method: 'POST', path: '/v1/auth/recover/start' },
  /** no session: sets the new password with the recovery key; answers like login */
  recoverFinish: { method: 'POST', path: '/v1/auth/recover/finish' },
  /** teams (docs/protocol.md §3.30–3.40); session auth only */
  createTeam: { method: 'POST', path: '/v1/teams' },
  teamMembers: { method: 'GET', path: '/v1/teams/:teamId/members' },
  inviteMembers: { method: 'POST', path: '/v1/teams/:teamId/invitations' },
  withdrawInvitation: { method: 'POST', path: '/v1/teams/:teamId/invitations/withdraw' },
  acceptInvitation: { method: 'POST', path: '/v1/invitations/accept' },
  confirmMember: { method: 'POST', path: '/v1/teams/:teamId/members/:userId/confirm' },
  removeMember: { method: 'POST', path: '/v1/teams/:teamId/members/:userId/remove' },
  rotateTeam: { method: 'POST', path: '/v1/teams/:teamId/rotate' },
  leaveTeam: { method: 'POST', path: '/v1/teams/:teamId/leave' },
  /** owners only; the team and everything in it, for every member */
  deleteTeam: { method: 'DELETE', path: '/v1/teams/:teamId' },
  setMemberRole: { method: 'POST', path: '/v1/teams/:teamId/members/:userId/role' },
  verifyEmail: { method: 'POST', path: '/v1/account/verify' },
} as const;

export type RouteName = keyof typeof ROUTES;

export function routePath(name: RouteName, params: Record<string, string> = {}): string {
  return ROUTES[name].path.replace(/:([A-Za-z]+)/g, (_, key: string) => {
    const value = params[key];
    if (value === undefined) throw new Error(`missing route parameter ${key}`);
    return encodeURIComponent(value);
  });
}

/** The name of the client's validator for a route's JSON answer with that status (answer-check.ts). */
export function answerValidatorName(route: RouteName, status: number): string {
  return `${route}_${status}`;
}

/** The only routes an access token may call, all scoped to the token's workspace. */
export const ACCESS_TOKEN_ROUTES: readonly RouteName[] = [
  'getWorkspace',
  'workspaceMembers',
  'missingBlobs',
  'uploadBlobs',
  'fetchBlobs',
  'createSnapshot',
  'listSnapshots',
  'getSnapshot',
];
