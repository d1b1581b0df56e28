/**
 * Access tokens on the client (SPEC §6, docs/crypto.md "Access tokens"): the token string, the
 * certificate a member signs over the token's key, and the set of token keys whose snapshots a
 * client accepts. Pure: bytes and data in, bytes and data out.
 *
 *   token = "isync_" ‖ base64url( 0x01 ‖ token id (16) ‖ workspace id (16) ‖ secret (32)
 *                                 ‖ token key (32) ‖ Ed25519 signing secret (32) ‖ checksum (4) )
 *   checksum = first 4 bytes of SHA-256 of everything before it
 *
 * Only the id and the secret go to the server (as the bearer `isync-token.<id hex>.<secret>`); the
 * token key (which unwraps the workspace key) and the signing secret never leave the client.
 */
import { concatBytes, constantTimeEqual, fromBase64Url, fromHex, toBase64Url, toHex, utf8 } from '../crypto/encoding.js';
import { LABELS } from '../crypto/labels.js';
import { fingerprint, fingerprintsEqual, verifyDetached } from '../crypto/keys.js';
import { printableLine } from '../protocol/text.js';
import type { Primitives } from '../crypto/primitives.js';
import { AuthError, IntegrityFailure } from './errors.js';
import { ACCESS_TOKEN_PREFIX } from './token-text.js';
import { ACCESS_TOKEN_BEARER_PREFIX, type MemberPublicKeys, type TokenScope, type WorkspaceMembersResponse } from '../protocol/types.js';

export { ACCESS_TOKEN_PREFIX } from './token-text.js';
export const ACCESS_TOKEN_VERSION = 0x01;
const ID_BYTES = 16;
const KEY_BYTES = 32;
const CHECKSUM_BYTES = 4;
export const ACCESS_TOKEN_BYTES = 1 + ID_BYTES + ID_BYTES + KEY_BYTES * 3 + CHECKSUM_BYTES;

export interface AccessTokenSecrets {
  /** 32 hex chars */
  id: string;
  /** the workspace the token was made for, 32 hex chars: lets clone find it by name with no listing */
  workspaceId: string;
  /** proves the token to the server, which keeps only its SHA-256 */
  secret: Uint8Array;
  /** unwraps the workspace key (slot kind 'token-key') */
  tokenKey: Uint8Array;
  /** signs snapshots pushed with the token */
  signingSecret: Uint8Array;
}

/** A string that is not an intact token: mistyped, truncated or altered. Same exit (4) as a refused token. */
export class AccessTokenFormatError extends AuthError {
  constructor(message: string) {
    super(message, 'copy the whole token printed by `insomnia-sync token create`, or create a new one');
  }
}

export function encodeAccessToken(p: Primitives, t: AccessTokenSecrets): string {
  const body = concatBytes(
    Uint8Array.of(ACCESS_TOKEN_VERSION),
    fromHex(t.id, ID_BYTES),
    fromHex(t.workspaceId, ID_BYTES),
    exact(t.secret, 'secret'),
    exact(t.tokenKey, 'tokenKey'),
    exact(t.signingSecret, 'signingSecret'),
  );
  return ACCESS_TOKEN_PREFIX + toBase64Url(concatBytes(body, p.sha256(body).subarray(0, CHECKSUM_BYTES)));
}

/** Strict: prefix, base64url, length, version and checksum; surrounding whitespace (a pasted newline) is ignored. */
export function decodeAccessToken(p: Primitives, text: string, source = 'the access token'): AccessTokenSecrets {
  const invalid = (): AccessTokenFormatError => new AccessTokenFormatError(`${source} is not a valid token`);
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (!trimmed.startsWith(ACCESS_TOKEN_PREFIX)) throw invalid();
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(trimmed.slice(ACCESS_TOKEN_PREFIX.length), ACCESS_TOKEN_BYTES);
  } catch {
    throw invalid();
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  if (!constantTimeEqual(p.sha256(body).subarray(0, CHECKSUM_BYTES), bytes.subarray(body.length))) throw invalid();
  if (bytes[0] !== ACCESS_TOKEN_VERSION) throw invalid();
  let at = 1;
  const take = (n: number): Uint8Array => bytes.slice(at, (at += n));
  return {
    id: toHex(take(ID_BYTES)),
    workspaceId: toHex(take(ID_BYTES)),
    secret: take(KEY_BYTES),
    tokenKey: take(KEY_BYTES),
    signingSecret: take(KEY_BYTES),
  };
}

/** What the token sends as `Authorization: Bearer …`: id and secret only. */
export function bearerOf(t: Pick<AccessTokenSecrets, 'id' | 'secret'>): string {
  return `${ACCESS_TOKEN_BEARER_PREFIX}${t.id}.${toBase64Url(t.secret)}`;
}

export interface TokenCertificateFields {
  workspaceId: string;
  tokenId: string;
  /** Ed25519 public key of the token, 32 bytes */
  publicKey: Uint8Array;
  scope: TokenScope;
  name: string;
}

/**
 * label ‖ 0x00 ‖ field*, each field a u32be byte length and its bytes (workspace id, token id,
 * public key, scope, name): injective, so no two certificates share a message.
 */
export function certificateMessage(c: TokenCertificateFields): Uint8Array {
  const field = (bytes: Uint8Array): Uint8Array => {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, bytes.length);
    return concatBytes(len, bytes);
  };
  return concatBytes(
    utf8(LABELS.tokenCertificate),
    Uint8Array.of(0),
    field(utf8(c.workspaceId)),
    field(utf8(c.tokenId)),
    field(exact(c.publicKey, 'publicKey')),
    field(utf8(c.scope)),
    field(utf8(c.name)),
  );
}

/** How a token appears as a snapshot author: its creator's id and email, and its own name and key. */
export function tokenAuthorName(name: string): string {
  return `token ${name}`;
}

/**
 * What this machine knows of the workspace's members independently of the server's answer: the
 * members route is the server's word, and a server holding a read-only token's signing key (it
 * must hold the workspace key to decrypt) could otherwise list that key for a member and pass the
 * token's snapshots off as the member's (docs/crypto.md §9).
 */
export interface SignerKnowledge {
  /** the account this command runs as: its entry must carry exactly these keys (own-keys.ts) */
  self?: { userId: string; email: string; x25519PublicKey: string; ed25519PublicKey: string };
  /** known-keys.json for this server: the fingerprint recorded for an account, and the account recorded for an email */
  recorded?: {
    get(userId: string): { fingerprint: string } | undefined;
    userIdOf(email: string): string | undefined;
  };
  /** the key of the access token this command runs as: a token's key, whatever the answer lists */
  ownTokenKey?: string;
}

/**
 * The Ed25519 keys whose snapshots this workspace accepts, mapped to the principal each belongs to:
 * every member, plus every write token whose certificate verifies under the key of the member who
 * created it (so the server cannot slip in a key of its own). Revoked tokens stay: what they pushed
 * before revocation is still valid history. Read-only tokens never sign. A token made by a former
 * member (removed, departed, or whose account was deleted: the server keeps such a token's key and
 * certificate) counts, like the former member's own key, only up to the member's `untilEpoch`.
 *
 * The member list is checked against itself and what this machine knows (checkMembers; any
 * contradiction is IntegrityFailure, exit 7). A key the answer (or this command's own token) also
 * names as a token's counts only by the token rules, never as a member key, unless this machine
 * itself vouches for that member's keys (its own account, or a recorded fingerprint): then the
 * token entry is the lie.
 */
export function trustedSignersOf(
  p: Primitives | undefined,
  workspaceId: string,
  res: WorkspaceMembersResponse,
  known: SignerKnowledge = {},
): Map<string, MemberPublicKeys> {
  const vouched = checkMembers(p, res.members, known);
  const tokenKeys = new Set((res.tokens ?? []).map((t) => t.publicKey));
  if (known.ownTokenKey !== undefined) tokenKeys.add(known.ownTokenKey);
  const signers = new Map<string, MemberPublicKeys>();
  for (const m of res.members) {
    if (!tokenKeys.has(m.ed25519PublicKey) || vouched.has(m.userId)) signers.set(m.ed25519PublicKey, m);
  }
  const byId = new Map(res.members.map((m) => [m.userId, m]));
  for (const t of res.tokens ?? []) {
    const creator = byId.get(t.createdBy);
    // the creator's key must count as a member key itself: no certificate chains through a token's key
    if (!creator || signers.get(creator.ed25519PublicKey) !== creator) continue;
    if (t.scope !== 'write' || signers.has(t.publicKey)) continue;
    let publicKey: Uint8Array;
    let certificate: Uint8Array;
    let creatorKey: Uint8Array;
    try {
      publicKey = fromBase64Url(t.publicKey, KEY_BYTES);
      certificate = fromBase64Url(t.certificate, 64);
      creatorKey = fromBase64Url(creator.ed25519PublicKey, KEY_BYTES);
    } catch {
      continue;
    }
    const message = certificateMessage({ workspaceId, tokenId: t.id, publicKey, scope: t.scope, name: t.name });
    if (!verifyDetached(creatorKey, certificate, message, p)) continue;
    signers.set(t.publicKey, {
      userId: creator.userId,
      email: creator.email,
      name: tokenAuthorName(t.name),
      x25519PublicKey: creator.x25519PublicKey,
      ed25519PublicKey: t.publicKey,
      // a former member's token is bound as they are: only for epochs they held
      ...(creator.untilEpoch !== undefined ? { untilEpoch: creator.untilEpoch } : {}),
    });
  }
  return signers;
}

/**
 * Refuses a member list that contradicts itself or this machine: one account, email or signing key
 * listed twice (one of the two is not theirs: the rule a rotation applies, crypto.md §5.1); our own
 * account, email or signing key with keys or an id that are not ours; a member whose fingerprint
 * known-keys.json records with other keys, or a recorded email under an account never recorded.
 * Returns the members whose keys this machine vouches for.
 */
function checkMembers(p: Primitives | undefined, members: readonly MemberPublicKeys[], known: SignerKnowledge): Set<string> {
  const seen = new Map<string, string>();
  const vouched = new Set<string>();
  const { self } = known;
  for (const m of members) {
    const who = shown(m);
    for (const key of [`id:${m.userId}`, `key:${m.ed25519PublicKey}`, ...(m.email ? [`email:${m.email}`] : [])]) {
      const first = seen.get(key);
      if (first !== undefined) {
        const what = key.startsWith('key:') ? `one signing key for both ${first} and ${who}` : `${who} twice`;
        throw new IntegrityFailure(`the server lists ${what} among the members of this workspace: one of the two is not who it says`, TAMPERED_HINT);
      }
      seen.set(key, who);
    }
  }
  for (const m of members) {
    if (self && (m.userId === self.userId || (self.email !== '' && m.email === self.email) || m.ed25519PublicKey === self.ed25519PublicKey)) {
      if (m.userId !== self.userId || m.x25519PublicKey !== self.x25519PublicKey || m.ed25519PublicKey !== self.ed25519PublicKey) {
        throw new IntegrityFailure('the server lists your own account among the members of this workspace with keys or an account id that are not yours', TAMPERED_HINT);
      }
      vouched.add(m.userId);
      continue;
    }
    const record = known.recorded?.get(m.userId);
    if (record === undefined) {
      // a person recorded here under another account: the server's double, unless that account is recorded too
      const other = m.email ? known.recorded?.userIdOf(m.email) : undefined;
      if (other !== undefined && other !== m.userId) {
        throw new IntegrityFailure(
          `the server lists ${shown(m)} among the members of this workspace under another account than the one recorded on this machine`,
          'if they really made a new account, check its fingerprint with them and record it: `insomnia-sync team confirm EMAIL --team T --fingerprint FP`',
        );
      }
      continue;
    }
    if (!fingerprintsEqual(record.fingerprint, memberFingerprint(p, m))) {
      throw new IntegrityFailure(`the server lists ${shown(m)} among the members of this workspace with keys that do not match the fingerprint this machine recorded for them`, TAMPERED_HINT);
    }
    vouched.add(m.userId);
  }
  return vouched;
}

/** A member as messages name them: the email (server text, made printable), else the account id. */
function shown(m: MemberPublicKeys): string {
  return printableLine(String(m.email || m.userId));
}

const TAMPERED_HINT = "nothing was changed here; the server, or something between you and it, altered the workspace's member list: contact its operator";

/** The fingerprint of a listed member's keys; '' (matching none) when they are not two 32-byte keys. */
function memberFingerprint(p: Primitives | undefined, m: MemberPublicKeys): string {
  try {
    return fingerprint(fromBase64Url(m.x25519PublicKey, KEY_BYTES), fromBase64Url(m.ed25519PublicKey, KEY_BYTES), p);
  } catch {
    return '';
  }
}

function exact(bytes: Uint8Array, name: string): Uint8Array {
  if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_BYTES) throw new TypeError(`${name} must be ${KEY_BYTES} bytes`);
  return bytes;
}
