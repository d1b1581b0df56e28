/**
 * The access-token principal: what `INSOMNIA_SYNC_TOKEN` gives the folder commands instead of a
 * login session. It produces the same RemoteState (workspace + keyring) and snapshot signer as a
 * session, so push, pull, log and verify keep one code path (src/client/services/linked.ts).
 * Needs no config dir and no session file: a CI job sets INSOMNIA_SYNC_SERVER and the token.
 */
import { openEnvelope } from '../crypto/aead.js';
import { IntegrityError } from '../crypto/errors.js';
import { identityFromSecrets } from '../crypto/keys.js';
import type { Primitives } from '../crypto/primitives.js';
import { deriveWorkspaceSubkeys, type WorkspaceSubkeys } from '../crypto/workspace-keys.js';
import { fromB64, toB64 } from '../protocol/encoding.js';
import type { WorkspaceInfo } from '../protocol/types.js';
import { bearerOf, decodeAccessToken, tokenAuthorName, type AccessTokenSecrets } from './access-token.js';
import { looksLikeAccessToken, redactAccessTokens } from './token-text.js';
import type { ApiClient } from './api.js';
import { DEFAULT_SERVER } from './config.js';
import { normalizeUrl } from './session.js';
import type { ClientContext } from './context.js';
import { AuthError, IntegrityFailure, NotFoundError, UsageError } from './errors.js';
import { findWorkspace } from './find-workspace.js';
import { decryptWorkspaceName, type WorkspaceKeyring } from './keyring.js';
import type { ActiveSession } from './session.js';
import type { Manifest } from '../sync/manifest.js';

export const TOKEN_ENV = 'INSOMNIA_SYNC_TOKEN';
export const STALE_TOKEN_HINT = 'create a new one with `insomnia-sync token create` and replace the CI secret';

export interface TokenSession {
  kind: 'token';
  server: string;
  api: ApiClient;
  token: AccessTokenSecrets;
}

/** Who a folder command acts as: a logged-in account, or an access token. */
export type SyncPrincipal = ActiveSession | TokenSession;

export function isTokenSession(s: SyncPrincipal): s is TokenSession {
  return (s as TokenSession).kind === 'token';
}

export function principalServer(s: SyncPrincipal): string {
  return isTokenSession(s) ? s.server : s.secrets.server;
}

/** The token principal when INSOMNIA_SYNC_TOKEN is set (a malformed token is exit 4); null otherwise. */
export function openTokenSession(ctx: ClientContext, server?: string): TokenSession | null {
  if (ctx.accessToken === undefined) return null;
  const token = decodeAccessToken(ctx.primitives, ctx.accessToken, TOKEN_ENV);
  const target = normalizeUrl(server ?? ctx.serverOverride ?? DEFAULT_SERVER);
  return { kind: 'token', server: target, api: ctx.api(target, bearerOf(token)), token };
}

/**
 * The workspace keys the token holds: one per epoch that existed when it was made. When the
 * workspace has a newer epoch (its team key rotated), the token cannot read or write what comes
 * next, so it fails with a hint to re-issue it rather than push under an old key.
 */
export function tokenKeyring(p: Primitives, token: AccessTokenSecrets, ws: WorkspaceInfo): WorkspaceKeyring {
  const byEpoch = new Map<number, WorkspaceSubkeys>();
  for (const { epoch, wrappedKey } of ws.tokenKeys ?? []) {
    try {
      const key = openEnvelope(p, token.tokenKey, fromB64(wrappedKey), { kind: 'token-key', workspaceId: ws.id, objectId: token.id, epoch });
      byEpoch.set(epoch, deriveWorkspaceSubkeys(key));
    } catch (err) {
      if (err instanceof IntegrityError) {
        throw new IntegrityFailure(`the workspace key held for this token (epoch ${epoch}) does not decrypt with ${TOKEN_ENV}`, STALE_TOKEN_HINT);
      }
      throw err;
    }
  }
  if (byEpoch.size === 0) throw new AuthError('the server handed this access token no workspace key', STALE_TOKEN_HINT);
  const newest = Math.max(...ws.keys.map((k) => k.epoch), ...byEpoch.keys());
  if (!byEpoch.has(newest)) {
    throw new AuthError('this token predates a key rotation of its workspace and can no longer sync it', STALE_TOKEN_HINT);
  }
  return { workspaceId: ws.id, teamId: ws.teamId, epoch: newest, byEpoch };
}

export async function tokenRemote(p: Primitives, s: TokenSession, asked: Promise<WorkspaceInfo>): Promise<{ workspace: WorkspaceInfo; ring: WorkspaceKeyring }> {
  const workspace = await asked;
  return { workspace, ring: tokenKeyring(p, s.token, workspace) };
}

/**
 * The author of snapshots pushed with the token: the creating member's id and email (the member
 * vouches for the token with a certificate), the token's name, and the token's own signing key.
 */
export async function tokenSigner(p: Primitives, s: TokenSession, workspaceId: string): Promise<{ author: Manifest['author']; secretKey: Uint8Array }> {
  const res = await s.api.workspaceMembersAndTokens(workspaceId);
  const own = (res.tokens ?? []).find((t) => t.id === s.token.id);
  if (!own) throw new AuthError('the server does not list this access token for the workspace', STALE_TOKEN_HINT);
  const creator = res.members.find((m) => m.userId === own.createdBy);
  if (!creator) throw new AuthError('the member who created this access token left the team', STALE_TOKEN_HINT, 'forbidden');
  // the x25519 half is unused; identityFromSecrets is the public way to get an Ed25519 public key
  const publicKey = identityFromSecrets(p.randomBytes(32), s.token.signingSecret, p).ed25519.publicKey;
  return {
    author: { userId: creator.userId, name: tokenAuthorName(own.name), email: creator.email, signingKey: toB64(publicKey) },
    secretKey: s.token.signingSecret,
  };
}

/**
 * `clone W` with a token: a full id goes to the server as it is (it refuses another workspace);
 * a name or id prefix must match the token's own workspace, which the token names, by the rule
 * every workspace argument follows (find-workspace.ts).
 */
export async function resolveTokenWorkspace(
  p: Primitives,
  s: TokenSession,
  wanted: string,
): Promise<{ id: string; name: string; workspace: WorkspaceInfo }> {
  if (looksLikeAccessToken(wanted)) {
    throw new UsageError(`${redactAccessTokens(wanted)} is an access token, not a workspace`, `give the workspace name or id; the token goes only in ${TOKEN_ENV}`);
  }
  const id = /^[0-9a-f]{32}$/i.test(wanted) ? wanted.toLowerCase() : s.token.workspaceId;
  const { workspace, ring } = await tokenRemote(p, s, s.api.getWorkspace(id));
  const name = decryptWorkspaceName(p, ring, workspace.encryptedName);
  try {
    findWorkspace([{ id: workspace.id, name }], wanted);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw new AuthError(`this access token is for workspace "${name}" (${workspace.id.slice(0, 12)}), not ${wanted}`, undefined, 'forbidden');
  }
  return { id: workspace.id, name, workspace };
}
