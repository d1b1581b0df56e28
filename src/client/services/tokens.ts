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
import type { TokenInfo, TokenScope, WorkspaceInfo, WorkspaceKeyInfo } from '../../protocol/types.js';
import { certificateMessage, encodeAccessToken } from '../access-token.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, UsageError } from '../errors.js';
import { requireCurrentKeys, teamKeys } from '../keyring.js';
import { requireSession, type ActiveSession } from '../session.js';
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
  session.trust.checkWorkspaceTeam(ws.id, ws.teamId);
  const team = me.teams.find((t) => t.id === ws.teamId);
  if (!team) throw new AuthError('you are not a member of the team that owns this workspace', undefined, 'forbidden');
  const tkeys = await teamKeys(p, session, team);

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
  // A token would write under the newest key handed to it: one older than the team's is withheld.
  requireCurrentKeys({ workspaceId: ws.id, teamId: ws.teamId, epoch: Math.max(...keys.map((k) => k.epoch)), byEpoch: new Map(), teamEpoch: Math.max(...tkeys.keys()) });

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
  /** `stale`: not revoked or expired, yet refused: see `staleBecause` */
  status: 'active' | 'expired' | 'revoked' | 'stale';
  /** why a stale token no longer works; create a new one */
  staleBecause?: 'key-rotated' | 'creator-left';
}

/** What a token's standing depends on beyond itself; a field left out is not known and not held against it. */
export interface TokenContext {
  workspaceNames: Map<string, string>;
  /** each workspace's newest key epoch */
  workspaceEpochs?: Map<string, number>;
  /** per workspace, the user ids of its team's confirmed members */
  confirmedMembers?: Map<string, Set<string>>;
}

export function tokenStanding(t: TokenInfo, c: TokenContext, now = Date.now()): Pick<TokenSummary, 'status' | 'staleBecause'> {
  if (t.revokedAt) return { status: 'revoked' };
  if (t.expiresAt && Date.parse(t.expiresAt) <= now) return { status: 'expired' };
  // The server refuses a token whose creator is no longer a confirmed member (it acts with their standing).
  const members = c.confirmedMembers?.get(t.workspaceId);
  if (members && !members.has(t.createdBy.userId)) return { status: 'stale', staleBecause: 'creator-left' };
  // A token holds the keys of the epochs it was made in (tokenKeyring refuses it after a rotation).
  const newest = c.workspaceEpochs?.get(t.workspaceId);
  if (t.keyEpoch !== undefined && newest !== undefined && t.keyEpoch < newest) return { status: 'stale', staleBecause: 'key-rotated' };
  return { status: 'active' };
}

function summarize(t: TokenInfo, c: TokenContext, now = Date.now()): TokenSummary {
  const workspaceNames = c.workspaceNames;
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
    ...tokenStanding(t, c, now),
  };
}

/** Tokens of every workspace you can reach (or of one), with workspace names decrypted here. */
export async function listTokens(ctx: ClientContext, opts: { workspace?: string } = {}): Promise<{ tokens: TokenSummary[] }> {
  const session = requireSession(ctx);
  const workspaces = await listWorkspaces(ctx, session);
  let workspaceId: string | undefined;
  if (opts.workspace) workspaceId = (await resolveWorkspace(ctx, session, opts.workspace)).id;
  const tokens = await session.api.listTokens(workspaceId);
  const c = await tokenContext(session, workspaces, tokens);
  return { tokens: tokens.map((t) => summarize(t, c)) };
}

/** The workspaces' epochs (listed already) and, for teams with a token that could still work, one members request each. */
async function tokenContext(session: ActiveSession, workspaces: { id: string; name: string; workspace: WorkspaceInfo }[], tokens: TokenInfo[]): Promise<TokenContext> {
  const c: Required<TokenContext> = {
    workspaceNames: new Map(workspaces.map((w) => [w.id, w.name])),
    workspaceEpochs: new Map(workspaces.map((w) => [w.id, Math.max(0, ...w.workspace.keys.map((k) => k.epoch))])),
    confirmedMembers: new Map(),
  };
  const teamOf = new Map(workspaces.map((w) => [w.id, w.workspace.teamId]));
  const now = Date.now();
  const teams = new Set(tokens.filter((t) => tokenStanding(t, c, now).status === 'active').flatMap((t) => teamOf.get(t.workspaceId) ?? []));
  const members = new Map(
    await Promise.all(
      [...teams].map(async (teamId) => {
        const res = await session.api.teamMembers(teamId);
        return [teamId, new Set(res.members.filter((m) => m.status === 'confirmed').map((m) => m.userId))] as const;
      }),
    ),
  );
  for (const [wsId, teamId] of teamOf) {
    const m = members.get(teamId);
    if (m) c.confirmedMembers.set(wsId, m);
  }
  return c;
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
  return summarize(revoked, { workspaceNames: new Map(workspaces.map((w) => [w.id, w.name])) });
}
