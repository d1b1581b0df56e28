/**
 * Authentication (bearer session tokens) and authorisation (workspace access through team
 * membership). Handlers get the caller from `getAuth(request)` after `authenticate` ran as an
 * onRequest hook — before the body is read, so anonymous uploads are refused cheaply.
 */
import type { FastifyRequest } from 'fastify';
import type { EndedSessionReason, TeamRole, WorkspaceRecord } from '../../storage/store.js';
import type { ServerContext } from '../context.js';
import { ApiError, notFound, unauthorized } from '../errors.js';
import { TOKEN_PATTERN, sha256 } from '../tokens.js';
import { authenticateAccessToken, isAccessTokenBearer, STALE_TOKEN_REFUSED, tokenKeyEpoch, type TokenAuthContext } from '../access-tokens.js';

export interface AuthContext {
  userId: string;
  sessionId: string;
  /** SHA-256 of the session token presented (to tell, after the fact, how its session ended) */
  tokenHash: Uint8Array;
}

const authByRequest = new WeakMap<FastifyRequest, AuthContext>();
const tokenByRequest = new WeakMap<FastifyRequest, TokenAuthContext>();

/** The access token that authenticated this request, if it was one (never for session routes). */
export function getTokenAuth(request: FastifyRequest): TokenAuthContext | undefined {
  return tokenByRequest.get(request);
}

/** The account a request acts for (an access token's creator), or undefined before or without authentication. */
export function accountOf(request: FastifyRequest): string | undefined {
  return tokenByRequest.get(request)?.createdBy ?? authByRequest.get(request)?.userId;
}

export function getAuth(request: FastifyRequest): AuthContext {
  const auth = authByRequest.get(request);
  if (!auth) throw unauthorized();
  return auth;
}

export function makeAuthenticate(ctx: ServerContext): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header) : null;
    const token = match?.[1];
    if (token && isAccessTokenBearer(token)) {
      tokenByRequest.set(request, await authenticateAccessToken(ctx, request, token));
      return;
    }
    if (!token || !TOKEN_PATTERN.test(token)) throw unauthorized();
    const now = ctx.now();
    // sliding expiry: every use extends an idle session
    const hash = sha256(token);
    const session = await ctx.store.useSession(hash, now, new Date(now.getTime() + ctx.sessionTtlMs));
    if (!session) throw await endedSessionError(ctx, hash, now);
    authByRequest.set(request, { userId: session.userId, sessionId: session.id, tokenHash: hash });
  };
}

/** Error statuses a request can come to because its account went while it ran (a lookup or a write found it gone). */
const ACCOUNT_GONE_STATUSES: ReadonlySet<number> = new Set([401, 403, 404, 409]);

/**
 * For the error handler: the 401 of a deleted account (`sessionEnded: account_deleted`, as the next
 * request with this token gets) when the account of this request's session was deleted while the
 * request ran, after its session was checked, and the request failed with a status that can come of
 * that (the account, its personal team or its memberships gone: 401, 403, 404, 409). Null otherwise,
 * and for requests without a session. One lookup, on failing requests only.
 */
export function makeDeletedAccountCheck(ctx: ServerContext): (request: FastifyRequest, status: number) => Promise<ApiError | null> {
  return async (request, status) => {
    const auth = authByRequest.get(request);
    if (!auth || !ACCOUNT_GONE_STATUSES.has(status)) return null;
    const ended = await ctx.store.endedSession(auth.tokenHash, ctx.now());
    return ended?.reason === 'account_deleted' ? sessionEndedError(ctx, ended) : null;
  };
}

/**
 * The 401 for a session token that no longer signs in. Only its holder can ask about a token (it is
 * a 256-bit secret), so telling them when and how it ended reveals nothing to anyone else, and it is
 * what someone whose account was taken over needs to see: "signed out by a password change", not
 * "session expired". An unknown token (never issued, or purged) gets the plain answer.
 */
async function endedSessionError(ctx: ServerContext, tokenHash: Uint8Array, now: Date): Promise<ApiError> {
  const ended = await ctx.store.endedSession(tokenHash, now);
  return ended ? sessionEndedError(ctx, ended) : unauthorized();
}

function sessionEndedError(ctx: ServerContext, ended: EndedSessionReason): ApiError {
  const at = utcMinute(ended.at);
  switch (ended.reason) {
    case 'revoked':
      return new ApiError(
        'unauthorized',
        `this session was signed out on ${at} (by \`logout\`, a password change, an account recovery, or \`account sessions --revoke\` from another session)`,
        undefined,
        'revoked',
      );
    case 'expired':
      return new ApiError('unauthorized', `this session expired on ${at} (a session ends after ${span(ctx.sessionTtlMs)} unused)`, undefined, 'expired');
    case 'account_deleted':
      return new ApiError('unauthorized', `the account of this session was deleted on ${at}`, undefined, 'account_deleted');
  }
}

/** `2026-12-06 14:03 UTC` */
export function utcMinute(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function span(ms: number): string {
  const [n, unit] = ms >= 86_400_000 ? [Math.round(ms / 86_400_000), 'day'] : ms >= 3_600_000 ? [Math.round(ms / 3_600_000), 'hour'] : [Math.max(1, Math.round(ms / 60_000)), 'minute'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** read: content and history; write: push; manage: rename or delete the workspace itself. */
export type Access = 'read' | 'write' | 'manage';

/** Roles of confirmed members allowed each kind of access (docs/protocol.md §8). */
export const ROLES_FOR: Record<Access, readonly TeamRole[]> = {
  read: ['owner', 'admin', 'member'],
  write: ['owner', 'admin', 'member'],
  manage: ['owner', 'admin'],
};

export type WorkspaceGuard = (request: FastifyRequest, workspaceId: string, need: Access) => Promise<WorkspaceRecord>;

/**
 * The workspace, if the caller's team role allows `need`. A workspace outside the caller's teams is
 * `not_found`, never `forbidden`, so ids of other people's workspaces cannot be probed.
 */
export function makeRequireWorkspaceAccess(ctx: ServerContext): WorkspaceGuard {
  return async (request, workspaceId, need) => {
    const tokenAuth = tokenByRequest.get(request);
    if (tokenAuth) return tokenWorkspace(ctx, tokenAuth, workspaceId, need);
    const auth = getAuth(request);
    const workspace = await ctx.store.getWorkspace(workspaceId);
    if (!workspace) throw notFound('workspace not found');
    const access = await ctx.store.teamAccess(workspace.teamId, auth.userId);
    // removed members learn why (their next command exits 4); strangers learn nothing
    if (access.state === 'former') throw new ApiError('forbidden', 'you were removed from (or left) the team that owns this workspace');
    if (access.state === 'accepted') throw new ApiError('forbidden', 'an owner or admin of this team has not confirmed you yet');
    const role = access.state === 'confirmed' ? access.role : null;
    if (!role) throw notFound('workspace not found');
    if (!ROLES_FOR[need].includes(role)) throw new ApiError('forbidden', `your role (${role}) does not allow this`);
    if (need === 'write' && access.team?.rotationPending) throw rotationPending(access.team);
    return workspace;
  };
}

/**
 * A token reaches only its own workspace (another one is `forbidden` before any lookup, so nothing
 * about it leaks), writes only with scope 'write', only while its creator may do the same, and only
 * while it holds the key of the team's current epoch: one made before a rotation is refused
 * (`unauthorized`, like a revoked token) for reads and writes alike (docs/crypto.md §10).
 */
async function tokenWorkspace(ctx: ServerContext, token: TokenAuthContext, workspaceId: string, need: Access): Promise<WorkspaceRecord> {
  if (token.workspaceId !== workspaceId) throw new ApiError('forbidden', 'this access token is for another workspace');
  if (need === 'write' && token.scope !== 'write') throw new ApiError('forbidden', 'this access token is read-only');
  const workspace = await ctx.store.getWorkspace(workspaceId);
  if (!workspace) throw notFound('workspace not found');
  const access = await ctx.store.teamAccess(workspace.teamId, token.createdBy);
  const current = Math.max(access.team?.epoch ?? 0, ...workspace.keys.map((k) => k.epoch));
  if (tokenKeyEpoch(token) < current) throw unauthorized(STALE_TOKEN_REFUSED);
  const role = access.state === 'confirmed' ? access.role : null;
  if (!role || !ROLES_FOR[need].includes(role)) {
    throw new ApiError('forbidden', "the member who created this access token no longer has this access; create a new token");
  }
  if (need === 'write' && access.team?.rotationPending) throw rotationPending(access.team);
  return workspace;
}

/**
 * A member left and the team key they held would still protect what is written now (content, a new
 * workspace's key, a new name): refuse until someone rotates (docs/protocol.md §8).
 */
export function rotationPending(team: { id: string; name: string }): ApiError {
  // the id prefix, not the name, in the command: it pastes into any shell as it is
  return new ApiError(
    'conflict',
    `a member left team ${team.name} and its key has not been rotated yet; an owner or admin must run \`insomnia-sync team rotate --team ${team.id.slice(0, 12)}\``,
  );
}
