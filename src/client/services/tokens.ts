/**
 * token create | list | revoke (SPEC §6). Creating a token wraps the workspace key of every epoch
 * under a fresh token key and certifies the token's signing key with the creator's identity key;
 * the server gets the secret's hash, the wrapped keys and the certificate, never the token itself.
 */
import { openEnvelope, sealEnvelope } from '../../crypto/aead.js';
import { IntegrityError } from '../../crypto/errors.js';
import { identityFromSecrets, signDetached } from '../../crypto/keys.js';
import { toHex } from '../../crypto/hex.js';
import { generateKey } from '../../crypto/workspace-keys.js';
import { fromB64, toB64 } from '../../protocol/encoding.js';
import { isPrintableLine } from '../../protocol/text.js';
import type { TokenInfo, TokenScope, WorkspaceKeyInfo } from '../../protocol/types.js';
import { certificateMessage, encodeAccessToken } from '../access-token.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, UsageError } from '../errors.js';
import { teamKeys } from '../keyring.js';
import { requireSession } from '../session.js';
import { listWorkspaces, resolveWorkspace } from './workspaces.js';

export const DEFAULT_TOKEN_EXPIRY = '90d';
export const DEFAULT_TOKEN_NAME = 'ci';
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `90d`, `12h`, `30m`, `2w`, `45s` → milliseconds; `never` → null. */
export function parseExpiry(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (t === 'never') return null;
  const m = /^([1-9][0-9]{0,5})([smhdw])$/.exec(t);
  if (!m) throw new UsageError(`--expires takes a duration like 30d, 12h, 90m, 2w or "never", not ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function checkTokenName(name: string): string {
  const n = name.trim();
  if (!n || n.length > 100 || !isPrintableLine(n)) throw new UsageError('a token name has 1 to 100 printable characters');
  return n;
}

export interface CreatedToken {
  /** the token itself: shown once, never stored anywhere by this tool */
  token: string;
  id: string;
  name: string;
  scope: TokenScope;
  workspaceId: string;
  workspace: string;
  createdAt: string;
  expiresAt: string | null;
}

export async function createToken(
  ctx: ClientContext,
  opts: { workspace: string; readOnly?: boolean; expiresInMs: number | null; name?: string },
): Promise<CreatedToken> {
  const p = ctx.primitives;
  const session = requireSession(ctx);
  const name = checkTokenName(opts.name ?? DEFAULT_TOKEN_NAME);
  const scope: TokenScope = opts.readOnly ? 'read' : 'write';
  const found = await resolveWorkspace(ctx, session, opts.workspace);
  const ws = found.workspace;
  const me = await session.api.me();
  const team = me.teams.find((t) => t.id === ws.teamId);
  if (!team) throw new AuthError('you are not a member of the team that owns this workspace', undefined, 'forbidden');
  const tkeys = teamKeys(p, session, team);

  const id = toHex(p.randomBytes(16));
  const secret = p.randomBytes(32);
  const tokenKey = generateKey(p);
  const signingSecret = p.randomBytes(32);
  const publicKey = identityFromSecrets(p.randomBytes(32), signingSecret, p).ed25519.publicKey;

  const keys: WorkspaceKeyInfo[] = [];
  for (const { epoch, wrappedKey } of ws.keys) {
    const teamKey = tkeys.get(epoch);
    if (!teamKey) continue;
    let workspaceKey: Uint8Array;
    try {
      workspaceKey = openEnvelope(p, teamKey, fromB64(wrappedKey), { kind: 'workspace-key', workspaceId: ws.id, epoch });
    } catch (err) {
      if (err instanceof IntegrityError) throw new IntegrityFailure(`the key of this workspace (epoch ${epoch}) does not decrypt`);
      throw err;
    }
    const rewrapped = sealEnvelope(p, tokenKey, workspaceKey, { kind: 'token-key', workspaceId: ws.id, objectId: id, epoch });
    keys.push({ epoch, wrappedKey: toB64(rewrapped) });
  }
  if (keys.length === 0) throw new AuthError('you hold no key for this workspace yet', 'ask a team owner or admin to confirm you', 'forbidden');

  const certificate = signDetached(session.identity.ed25519.secretKey, certificateMessage({ workspaceId: ws.id, tokenId: id, publicKey, scope, name }), p);
  const expiresAt = opts.expiresInMs === null ? null : new Date(Date.now() + opts.expiresInMs).toISOString();
  const info = await session.api.createToken(ws.id, {
    id,
    name,
    scope,
    secretHash: toB64(p.sha256(secret)),
    expiresAt,
    publicKey: toB64(publicKey),
    certificate: toB64(certificate),
    keys,
  });
  return {
    token: encodeAccessToken(p, { id, workspaceId: ws.id, secret, tokenKey, signingSecret }),
    id,
    name: info.name,
    scope: info.scope,
    workspaceId: ws.id,
    workspace: found.name,
    createdAt: info.createdAt,
    expiresAt: info.expiresAt,
  };
}

export interface TokenSummary {
  id: string;
  name: string;
  scope: TokenScope;
  workspaceId: string;
  workspace: string;
  createdBy: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'active' | 'expired' | 'revoked';
}

function summarize(t: TokenInfo, workspaceNames: Map<string, string>, now = Date.now()): TokenSummary {
  const status = t.revokedAt ? 'revoked' : t.expiresAt && Date.parse(t.expiresAt) <= now ? 'expired' : 'active';
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    workspaceId: t.workspaceId,
    workspace: workspaceNames.get(t.workspaceId) ?? t.workspaceId.slice(0, 12),
    createdBy: t.createdBy.email,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    expiresAt: t.expiresAt,
    revokedAt: t.revokedAt,
    status,
  };
}

/** Tokens of every workspace you can reach (or of one), with workspace names decrypted here. */
export async function listTokens(ctx: ClientContext, opts: { workspace?: string } = {}): Promise<{ tokens: TokenSummary[] }> {
  const session = requireSession(ctx);
  const workspaces = await listWorkspaces(ctx, session);
  const names = new Map(workspaces.map((w) => [w.id, w.name]));
  let workspaceId: string | undefined;
  if (opts.workspace) workspaceId = (await resolveWorkspace(ctx, session, opts.workspace)).id;
  const tokens = await session.api.listTokens(workspaceId);
  return { tokens: tokens.map((t) => summarize(t, names)) };
}

/** By full id or a unique prefix (≥ 6 chars) of a token you can see. Effective on the token's next request. */
export async function revokeToken(ctx: ClientContext, opts: { id: string }): Promise<TokenSummary> {
  const session = requireSession(ctx);
  const wanted = opts.id.trim().toLowerCase();
  let id = wanted;
  if (!/^[0-9a-f]{32}$/.test(wanted)) {
    if (!/^[0-9a-f]{6,31}$/.test(wanted)) throw new UsageError('give the token id (or at least its first 6 characters) from `insomnia-sync token list`');
    const hits = (await session.api.listTokens()).filter((t) => t.id.startsWith(wanted));
    if (hits.length === 0) throw new NotFoundError(`no token ${opts.id}`, 'see `insomnia-sync token list`');
    if (hits.length > 1) throw new UsageError(`token prefix ${opts.id} is ambiguous`, 'give more characters of the id');
    id = hits[0]!.id;
  }
  const revoked = await session.api.revokeToken(id);
  const workspaces = await listWorkspaces(ctx, session);
  return summarize(revoked, new Map(workspaces.map((w) => [w.id, w.name])));
}
