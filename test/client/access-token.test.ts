/** The access-token string, its certificate, and which token keys a client trusts as snapshot signers. */
import { describe, expect, it } from 'vitest';
import { fingerprint, generateIdentity, signDetached } from '../../src/crypto/keys.js';
import { IntegrityFailure } from '../../src/client/errors.js';
import { toBase64Url, toHex } from '../../src/crypto/encoding.js';
import { noblePrimitives as p } from '../../src/crypto/primitives.js';
import {
  ACCESS_TOKEN_PREFIX,
  AccessTokenFormatError,
  bearerOf,
  certificateMessage,
  decodeAccessToken,
  encodeAccessToken,
  trustedSignersOf,
  type AccessTokenSecrets,
  type SignerKnowledge,
} from '../../src/client/access-token.js';
import { ACCESS_TOKEN_BEARER } from '../../src/server/access-tokens.js';
import type { TokenScope, WorkspaceMembersResponse } from '../../src/protocol/types.js';

function secrets(): AccessTokenSecrets {
  return {
    id: toHex(p.randomBytes(16)),
    workspaceId: toHex(p.randomBytes(16)),
    secret: p.randomBytes(32),
    tokenKey: p.randomBytes(32),
    signingSecret: p.randomBytes(32),
  };
}

describe('token string', () => {
  it('round-trips, ignoring surrounding whitespace, and has the documented length', () => {
    const s = secrets();
    const text = encodeAccessToken(p, s);
    expect(text.startsWith(ACCESS_TOKEN_PREFIX)).toBe(true);
    expect(text).toHaveLength(ACCESS_TOKEN_PREFIX.length + Math.ceil((133 * 4) / 3));
    expect(decodeAccessToken(p, `  ${text}\n`)).toEqual(s);
  });

  it('rejects every single-character change, truncation, extension and a wrong prefix as exit-4 errors', () => {
    const text = encodeAccessToken(p, secrets());
    const bad: string[] = [text.slice(0, -1), text + 'A', 'isync' + text.slice(6), 'ghp_' + text.slice(6), ''];
    for (let i = ACCESS_TOKEN_PREFIX.length; i < text.length; i += 7) {
      bad.push(text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1));
    }
    for (const b of bad) {
      let caught: unknown;
      try {
        decodeAccessToken(p, b, 'INSOMNIA_SYNC_TOKEN');
      } catch (err) {
        caught = err;
      }
      expect(caught, b).toBeInstanceOf(AccessTokenFormatError);
      expect((caught as AccessTokenFormatError).code).toBe('unauthorized');
      expect((caught as Error).message).toBe('INSOMNIA_SYNC_TOKEN is not a valid token');
    }
  });

  it('rejects an unknown version even with a matching checksum', () => {
    const text = encodeAccessToken(p, secrets());
    const bytes = Buffer.from(text.slice(ACCESS_TOKEN_PREFIX.length), 'base64url');
    bytes[0] = 2;
    const body = bytes.subarray(0, bytes.length - 4);
    bytes.set(p.sha256(body).subarray(0, 4), body.length);
    expect(() => decodeAccessToken(p, ACCESS_TOKEN_PREFIX + bytes.toString('base64url'))).toThrow(AccessTokenFormatError);
  });

  it('sends only the id and the secret, in the form the server parses', () => {
    const s = secrets();
    const b = bearerOf(s);
    const m = ACCESS_TOKEN_BEARER.exec(b);
    expect(m?.[1]).toBe(s.id);
    expect(m?.[2]).toBe(toBase64Url(s.secret));
    expect(b).not.toContain(toBase64Url(s.tokenKey));
    expect(b).not.toContain(toBase64Url(s.signingSecret));
  });
});

const tokenSeeds = new Map<string, Uint8Array>();

describe('trusted signers', () => {
  const workspaceId = toHex(p.randomBytes(16));
  const alice = generateIdentity(p);
  const mallory = generateIdentity(p);
  const aliceId = toHex(p.randomBytes(16));
  const member = {
    userId: aliceId,
    email: 'alice@example.com',
    name: 'alice',
    x25519PublicKey: toBase64Url(alice.x25519.publicKey),
    ed25519PublicKey: toBase64Url(alice.ed25519.publicKey),
  };

  /** known-keys.json on a machine that recorded alice's fingerprint */
  const aliceRecorded = (): SignerKnowledge => ({
    recorded: {
      get: (id) => (id === aliceId ? { fingerprint: fingerprint(alice.x25519.publicKey, alice.ed25519.publicKey, p) } : undefined),
      userIdOf: (email) => (email === member.email ? aliceId : undefined),
    },
  });

  function token(opts: { scope?: TokenScope; signer?: Uint8Array; createdBy?: string; name?: string; certifiedName?: string; certifiedWorkspace?: string } = {}) {
    const id = toHex(p.randomBytes(16));
    const keys = generateIdentity(p);
    const key = keys.ed25519.publicKey;
    tokenSeeds.set(toBase64Url(key), keys.ed25519.secretKey);
    const scope = opts.scope ?? 'write';
    const name = opts.name ?? 'ci';
    const message = certificateMessage({ workspaceId: opts.certifiedWorkspace ?? workspaceId, tokenId: id, publicKey: key, scope, name: opts.certifiedName ?? name });
    return {
      id,
      name,
      scope,
      createdBy: opts.createdBy ?? aliceId,
      publicKey: toBase64Url(key),
      certificate: toBase64Url(signDetached(opts.signer ?? alice.ed25519.secretKey, message, p)),
      revoked: false,
    };
  }

  it('accepts members and certified write tokens (revoked ones too), as their creator', () => {
    const good = token({ name: 'deploy' });
    const revoked = { ...token(), revoked: true };
    const res: WorkspaceMembersResponse = { members: [member], tokens: [good, revoked] };
    const signers = trustedSignersOf(p, workspaceId, res);
    expect(signers.get(member.ed25519PublicKey)).toEqual(member);
    expect(signers.get(good.publicKey)).toMatchObject({ userId: aliceId, email: 'alice@example.com', name: 'token deploy', ed25519PublicKey: good.publicKey });
    expect(signers.has(revoked.publicKey)).toBe(true);
    expect(signers.size).toBe(3);
  });

  it('ignores read-only tokens, foreign certificates, altered names, other workspaces and unknown creators', () => {
    const bad = [
      token({ scope: 'read' }),
      token({ signer: mallory.ed25519.secretKey }),
      token({ name: 'renamed by the server', certifiedName: 'ci' }),
      token({ certifiedWorkspace: toHex(p.randomBytes(16)) }),
      token({ createdBy: toHex(p.randomBytes(16)) }),
      { ...token(), certificate: 'not base64 !' },
    ];
    const signers = trustedSignersOf(p, workspaceId, { members: [member], tokens: bad });
    expect([...signers.keys()]).toEqual([member.ed25519PublicKey]);
  });

  it("a former member's tokens (kept after the account was deleted) count only up to the member's untilEpoch", () => {
    // what the server lists for a deleted account: the id and keys, no email or name
    const former = { ...member, email: '', name: '', untilEpoch: 3 };
    const kept = { ...token({ name: 'ci' }), revoked: true };
    const signers = trustedSignersOf(p, workspaceId, { members: [former], tokens: [kept] });
    expect(signers.get(kept.publicKey)).toEqual({
      userId: aliceId,
      email: '',
      name: 'token ci',
      x25519PublicKey: member.x25519PublicKey,
      ed25519PublicKey: kept.publicKey,
      untilEpoch: 3,
    });
    // a current member's token has no bound
    expect(trustedSignersOf(p, workspaceId, { members: [member], tokens: [kept] }).get(kept.publicKey)!.untilEpoch).toBeUndefined();
  });

  it("a key the answer also lists as a token's counts only by the token rules, unless this machine vouches for the member", () => {
    // the attack: a server holding a read-only token's signing key lists it as the token creator's member key
    const readOnly = token({ scope: 'read', name: 'ci-pull' });
    const fakeAlice = { ...member, ed25519PublicKey: readOnly.publicKey };
    expect(trustedSignersOf(p, workspaceId, { members: [fakeAlice], tokens: [readOnly] }).has(readOnly.publicKey)).toBe(false);
    // nor does any certificate chain through it: a "write" token it certified as Alice is nobody's
    const chained = token({ signer: seedOf(readOnly), name: 'chained' });
    const viaFake = trustedSignersOf(p, workspaceId, { members: [fakeAlice], tokens: [readOnly, chained] });
    expect(viaFake.size).toBe(0);
    // the token's own key, known to a token session, is a token's even when the answer leaves the token out
    const ownKey = trustedSignersOf(p, workspaceId, { members: [fakeAlice] }, { ownTokenKey: readOnly.publicKey });
    expect(ownKey.has(readOnly.publicKey)).toBe(false);
    // a token entry naming a member's real key takes nothing from that key where this machine
    // vouches for the member (a recorded fingerprint): the token entry is the lie there
    const shadow = { ...token(), publicKey: member.ed25519PublicKey };
    expect(trustedSignersOf(p, workspaceId, { members: [member], tokens: [shadow] }).has(member.ed25519PublicKey)).toBe(false);
    const recorded = aliceRecorded();
    expect(trustedSignersOf(p, workspaceId, { members: [member], tokens: [shadow] }, recorded).get(member.ed25519PublicKey)).toEqual(member);
  });

  describe('the member list is checked against itself and what this machine knows (exit 7)', () => {
    const bobKeys = generateIdentity(p);
    const bob = {
      userId: toHex(p.randomBytes(16)),
      email: 'bob@example.com',
      name: 'bob',
      x25519PublicKey: toBase64Url(bobKeys.x25519.publicKey),
      ed25519PublicKey: toBase64Url(bobKeys.ed25519.publicKey),
    };
    const readOnly = token({ scope: 'read', name: 'ci-pull' });
    const refused = (res: WorkspaceMembersResponse, known?: SignerKnowledge): IntegrityFailure => {
      let caught: unknown;
      try {
        trustedSignersOf(p, workspaceId, res, known);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(IntegrityFailure);
      return caught as IntegrityFailure;
    };

    it('refuses one account, email or signing key listed twice (the reviewer\'s forged second entry of the creator)', () => {
      const forged = { ...member, ed25519PublicKey: readOnly.publicKey };
      expect(refused({ members: [forged, member, bob], tokens: [readOnly] }).message).toMatch(/lists alice@example\.com twice/);
      // without the token listed, and under another id: still alice@example.com twice
      expect(refused({ members: [member, { ...forged, userId: toHex(p.randomBytes(16)) }] }).message).toMatch(/alice@example\.com twice/);
      // one key for two accounts
      const err = refused({ members: [member, { ...bob, ed25519PublicKey: member.ed25519PublicKey }] });
      expect(err.message).toMatch(/one signing key for both alice@example\.com and bob@example\.com/);
      expect(err.code).toBe('integrity');
      // deleted accounts (no email) may be several
      const gone = (k = generateIdentity(p)) => ({ userId: toHex(p.randomBytes(16)), email: '', name: '', x25519PublicKey: toBase64Url(k.x25519.publicKey), ed25519PublicKey: toBase64Url(k.ed25519.publicKey), untilEpoch: 1 });
      expect(trustedSignersOf(p, workspaceId, { members: [member, gone(), gone()] }).size).toBe(3);
    });

    it("refuses our own account (id, email or signing key) with keys or an id that are not ours", () => {
      const self = { userId: aliceId, email: member.email, x25519PublicKey: member.x25519PublicKey, ed25519PublicKey: member.ed25519PublicKey };
      expect(trustedSignersOf(p, workspaceId, { members: [member, bob] }, { self }).size).toBe(2);
      // our id with the read-only token's key: the creator's own machine
      expect(refused({ members: [{ ...member, ed25519PublicKey: readOnly.publicKey }, bob] }, { self }).message).toMatch(/your own account/);
      // our id with another X25519 key
      expect(refused({ members: [{ ...member, x25519PublicKey: bob.x25519PublicKey }] }, { self }).message).toMatch(/your own account/);
      // our email or signing key under another account id
      const otherId = toHex(p.randomBytes(16));
      expect(refused({ members: [{ ...member, userId: otherId }] }, { self }).message).toMatch(/your own account/);
      expect(refused({ members: [{ ...bob, ed25519PublicKey: member.ed25519PublicKey }] }, { self }).message).toMatch(/your own account/);
    });

    it('refuses a member whose keys differ from the fingerprint this machine recorded for them', () => {
      const recorded = aliceRecorded();
      expect(trustedSignersOf(p, workspaceId, { members: [member, bob] }, recorded).size).toBe(2);
      const err = refused({ members: [{ ...member, ed25519PublicKey: readOnly.publicKey }, bob], tokens: [readOnly] }, recorded);
      expect(err.message).toMatch(/alice@example\.com .* do not match the fingerprint this machine recorded/);
      // malformed keys match no fingerprint
      refused({ members: [{ ...member, ed25519PublicKey: 'not a key' }] }, recorded);
      // alice's email under an account never recorded: a double of the server's making
      const double = refused({ members: [{ ...member, userId: toHex(p.randomBytes(16)), ed25519PublicKey: readOnly.publicKey }, bob] }, recorded);
      expect(double.message).toMatch(/alice@example\.com .* under another account than the one recorded on this machine/);
      expect(double.hint).toMatch(/team confirm EMAIL/);
      // an unrecorded member is the server's word (docs/crypto.md "What this does not cover")
      expect(trustedSignersOf(p, workspaceId, { members: [member, { ...bob, ed25519PublicKey: readOnly.publicKey }] }, recorded).has(readOnly.publicKey)).toBe(true);
    });
  });
});

/** The Ed25519 secret of a token made by token(): kept beside it for tests that sign with it. */
function seedOf(t: { publicKey: string }): Uint8Array {
  return tokenSeeds.get(t.publicKey)!;
}
