/**
 * Access-token principals (SPEC §6, docs/protocol.md §3.19). A CI job presents
 * `Bearer isync-token.<id hex>.<secret base64url>`; the server keeps only SHA-256(secret), compares
 * in constant time, and lets the token reach only its own workspace's sync routes
 * (ACCESS_TOKEN_ROUTES), writing only with scope 'write'. The token key that unwraps the workspace
 * key never reaches the server.
 */
import type { FastifyRequest } from 'fastify';
import { ACCESS_TOKEN_ROUTES, ROUTES } from '../protocol/routes.js';
import type { AccessTokenRecord, TokenScope, WorkspaceKeyRecord } from '../storage/store.js';
import type { ServerContext } from './context.js';
import { ApiError, unauthorized } from './errors.js';
import { hashesEqual, sha256 } from './tokens.js';

export const ACCESS_TOKEN_BEARER = /^isync-token\.([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/;

export interface TokenAuthContext {
  tokenId: string;
  workspaceId: string;
  scope: TokenScope;
  /** the member whose team membership the token borrows */
  createdBy: string;
  /** the workspace key wrapped under the token key, handed back by GET workspace */
  keys: WorkspaceKeyRecord[];
}

/** "ROUTE_METHOD ROUTE_PATH" of every route an access token may call. */
const ALLOWED = new Set(ACCESS_TOKEN_ROUTES.map((name) => `${ROUTES[name].method} ${ROUTES[name].path}`));
/** Compared against when the id is unknown, so both paths hash and compare. */
const DUMMY_HASH = sha256('insomnia-sync dummy token secret');
/** last use is written at most this often per token: a push is dozens of requests */
const TOUCH_EVERY_MS = 60_000;
export const TOKEN_REFUSED = 'this access token is unknown, revoked or expired';
/** Its team key rotated after it was made: it holds no key of the current epoch (docs/crypto.md §10). */
export const STALE_TOKEN_REFUSED = 'this access token predates a key rotation of its workspace and can no longer sync it';

/** The newest key epoch the token holds a wrapped workspace key for (0 when none). */
export function tokenKeyEpoch(token: Pick<TokenAuthContext, 'keys'>): number {
  return Math.max(0, ...token.keys.map((k) => k.epoch));
}

export function isAccessTokenBearer(bearer: string): boolean {
  return bearer.startsWith('isync-token.');
}

/**
 * Whether the server would still let the token sync: not revoked or expired, its creator a
 * confirmed member of the workspace's team, and holding a key of the team's current epoch (the
 * checks of authenticateAccessToken and plugins/auth.ts tokenWorkspace, the route aside).
 */
export async function tokenStillWorks(ctx: ServerContext, t: AccessTokenRecord): Promise<boolean> {
  if (t.revokedAt !== null || (t.expiresAt !== null && t.expiresAt.getTime() <= ctx.now().getTime())) return false;
  const workspace = await ctx.store.getWorkspace(t.workspaceId);
  if (!workspace) return false;
  const access = await ctx.store.teamAccess(workspace.teamId, t.createdBy);
  if (access.state !== 'confirmed') return false;
  return tokenKeyEpoch(t) >= Math.max(access.team?.epoch ?? 0, ...workspace.keys.map((k) => k.epoch));
}

/** Checks the bearer, the token's state and the route; the caller records the principal. */
export async function authenticateAccessToken(ctx: ServerContext, request: FastifyRequest, bearer: string): Promise<TokenAuthContext> {
  const match = ACCESS_TOKEN_BEARER.exec(bearer);
  if (!match) throw unauthorized(TOKEN_REFUSED);
  const [, id, secret] = match as unknown as [string, string, string];
  const record: AccessTokenRecord | null = await ctx.store.getAccessToken(id);
  const presented = sha256(Buffer.from(secret, 'base64url'));
  const matches = hashesEqual(presented, record?.secretHash ?? DUMMY_HASH);
  const now = ctx.now();
  if (!record || !matches || record.revokedAt !== null || (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime())) {
    throw unauthorized(TOKEN_REFUSED);
  }
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  if (!ALLOWED.has(route)) {
    throw new ApiError('forbidden', 'an access token can only sync its workspace; this needs a login session');
  }
  if (record.lastUsedAt === null || now.getTime() - record.lastUsedAt.getTime() >= TOUCH_EVERY_MS) {
    await ctx.store.touchAccessToken(record.id, now);
  }
  return { tokenId: record.id, workspaceId: record.workspaceId, scope: record.scope, createdBy: record.createdBy, keys: record.keys };
}
