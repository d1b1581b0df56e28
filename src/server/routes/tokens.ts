/**
 * Access tokens: create, list, revoke (docs/protocol.md §3.19–3.21). Session principals only: the
 * authenticate hook refuses access tokens on these routes. The server stores the token's secret
 * hash, public key, certificate and wrapped keys; it can neither use the token nor read the keys.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromB64 } from '../../protocol/encoding.js';
import { ROUTES } from '../../protocol/routes.js';
import { isPrintableLine } from '../../protocol/text.js';
import type * as T from '../../protocol/types.js';
import type { AccessTokenRecord, FormerAccessTokenRecord } from '../../storage/store.js';
import type { ServerContext } from '../context.js';
import { ApiError, badRequest, notFound, unauthorized } from '../errors.js';
import { getAuth, ROLES_FOR, type WorkspaceGuard } from '../plugins/auth.js';
import { tokenSchemas } from '../../protocol/token-schemas.js';
import { tokenKeyEpoch } from '../access-tokens.js';

/** the farthest expiry a token may get; a CI secret that never expires must say `null` explicitly */
const MAX_LIFETIME_MS = 5 * 366 * 24 * 60 * 60 * 1000;

export function tokenView(t: AccessTokenRecord): T.TokenInfo {
  return {
    id: t.id,
    workspaceId: t.workspaceId,
    name: t.name,
    scope: t.scope,
    createdBy: { userId: t.createdBy, email: t.creatorEmail, name: t.creatorName },
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
    keyEpoch: tokenKeyEpoch(t),
  };
}

export function tokenSignerView(t: AccessTokenRecord): T.TokenSignerInfo {
  return signerView(t, t.revokedAt !== null);
}

function signerView(t: AccessTokenRecord | FormerAccessTokenRecord, revoked: boolean): T.TokenSignerInfo {
  return { id: t.id, name: t.name, scope: t.scope, createdBy: t.createdBy, publicKey: t.publicKey, certificate: t.certificate, revoked };
}

/** A write token kept only as a signer after its creator deleted the account: revoked, never usable. */
export function formerTokenSignerView(t: FormerAccessTokenRecord): T.TokenSignerInfo {
  return signerView(t, true);
}

export function registerTokenRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  authenticate: (r: FastifyRequest) => Promise<void>,
  requireWorkspaceAccess: WorkspaceGuard,
): void {
  const { store } = ctx;

  app.route<{ Params: { workspaceId: string }; Body: T.CreateTokenRequest }>({
    method: ROUTES.createToken.method,
    url: ROUTES.createToken.path,
    schema: tokenSchemas.createToken,
    onRequest: authenticate,
    handler: async (request): Promise<T.TokenInfo> => {
      const userId = getAuth(request).userId;
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'write');
      const body = request.body;
      const now = ctx.now();
      const name = body.name.trim();
      if (!name || !isPrintableLine(name)) throw badRequest('a token name has 1 to 100 printable characters');
      let expiresAt: Date | null = null;
      if (body.expiresAt !== null) {
        expiresAt = new Date(body.expiresAt);
        if (Number.isNaN(expiresAt.getTime())) throw badRequest('expiresAt is not a valid time');
        if (expiresAt.getTime() <= now.getTime()) throw badRequest('expiresAt is in the past');
        if (expiresAt.getTime() - now.getTime() > MAX_LIFETIME_MS) throw badRequest('a token may live at most 5 years (or never expire)');
      }
      const epochs = body.keys.map((k) => k.epoch);
      const known = new Set(ws.keys.map((k) => k.epoch));
      const newest = Math.max(...known);
      if (new Set(epochs).size !== epochs.length) throw badRequest('one wrapped key per epoch');
      if (epochs.some((e) => !known.has(e))) throw badRequest('a wrapped key names an epoch the workspace does not have');
      if (!epochs.includes(newest)) throw badRequest(`the token must hold the workspace key of the newest epoch (${newest})`);
      await refuseKeyInUse(ctx, ws.id, body.id, body.publicKey);
      const result = await store.createAccessToken({
        id: body.id,
        workspaceId: ws.id,
        createdBy: userId,
        name,
        scope: body.scope,
        secretHash: fromB64(body.secretHash, 32),
        publicKey: body.publicKey,
        certificate: body.certificate,
        keys: body.keys.map((k) => ({ epoch: k.epoch, wrappedKey: k.wrappedKey })),
        createdAt: now,
        expiresAt,
      });
      if (!result.ok) {
        // deleted after the access check: as if this request had come after the deletion
        if (result.reason === 'no_workspace') throw notFound('workspace not found');
        if (result.reason === 'no_user') throw unauthorized();
        throw new ApiError('already_exists', 'a token with this id already exists');
      }
      // gone already: its workspace (or its creator's account) was deleted right after it was made
      const created = await store.getAccessToken(body.id);
      if (!created) throw notFound('workspace not found');
      return tokenView(created);
    },
  });

  app.route<{ Querystring: { workspaceId?: string } }>({
    method: ROUTES.listTokens.method,
    url: ROUTES.listTokens.path,
    schema: tokenSchemas.listTokens,
    onRequest: authenticate,
    handler: async (request): Promise<T.TokenListResponse> => {
      const list = await store.listAccessTokensOfUser(getAuth(request).userId, request.query.workspaceId);
      return { tokens: list.map(tokenView) };
    },
  });

  app.route<{ Params: { tokenId: string } }>({
    method: ROUTES.revokeToken.method,
    url: ROUTES.revokeToken.path,
    schema: tokenSchemas.revokeToken,
    onRequest: authenticate,
    handler: async (request): Promise<T.TokenInfo> => {
      const userId = getAuth(request).userId;
      const token = await store.getAccessToken(request.params.tokenId);
      // a token of a workspace the caller cannot reach is as unknown as one that does not exist
      if (!token) throw notFound('token not found');
      // 'read': revoking takes access away and encrypts nothing, so a pending rotation does not stop it
      const ws = await requireWorkspaceAccess(request, token.workspaceId, 'read').catch((err: unknown) => {
        if (err instanceof ApiError && err.code === 'not_found') throw notFound('token not found');
        throw err;
      });
      // Seeing a teammate's token is not owning it: only its creator, or whoever manages the
      // workspace, may cut off someone else's CI (docs/protocol.md §3.21).
      if (token.createdBy !== userId) {
        const access = await store.teamAccess(ws.teamId, userId);
        if (!access.role || !ROLES_FOR.manage.includes(access.role)) {
          throw new ApiError('forbidden', `only the member who created this token (${token.creatorEmail}) or an owner or admin of ${access.team?.name ?? 'its team'} can revoke it`);
        }
      }
      await store.revokeAccessToken(token.id, ctx.now());
      const after = await store.getAccessToken(token.id);
      return tokenView(after ?? token);
    },
  });
}

/**
 * A token's signing key must be its own. Clients take a key listed as a token's only by the token
 * rules (a write certificate), never as the member's it copies (docs/crypto.md §9): a member who
 * certified a teammate's public key as a "token" would make machines that have no record of that
 * teammate refuse everything the teammate signed, and revoking would not help (revoked tokens stay
 * listed). An honest client draws a fresh random key, so it never meets this. Compared as bytes:
 * base64url has more than one spelling of some keys.
 */
async function refuseKeyInUse(ctx: ServerContext, workspaceId: string, tokenId: string, publicKey: string): Promise<void> {
  const key = Buffer.from(publicKey, 'base64url');
  const [members, live, former] = await Promise.all([
    ctx.store.workspaceMembers(workspaceId),
    ctx.store.workspaceAccessTokens(workspaceId),
    ctx.store.workspaceFormerAccessTokens(workspaceId),
  ]);
  // a token of the same id is this request sent again: the store answers already_exists
  const taken = [...members.map((m) => m.ed25519PublicKey), ...[...live, ...former].filter((t) => t.id !== tokenId).map((t) => t.publicKey)];
  if (taken.some((k) => key.equals(Buffer.from(k, 'base64url')))) {
    throw badRequest("the token's public key is already a member's or another token's key in this workspace");
  }
}
