/** The access-token string, its certificate, and which token keys a client trusts as snapshot signers. */
import { describe, expect, it } from 'vitest';
import { generateIdentity, signDetached } from '../../src/crypto/keys.js';
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

  function token(opts: { scope?: TokenScope; signer?: Uint8Array; createdBy?: string; name?: string; certifiedName?: string; certifiedWorkspace?: string } = {}) {
    const id = toHex(p.randomBytes(16));
    const key = generateIdentity(p).ed25519.publicKey;
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

  it('a token cannot shadow a member key', () => {
    const t = { ...token(), publicKey: member.ed25519PublicKey };
    expect(trustedSignersOf(p, workspaceId, { members: [member], tokens: [t] }).get(member.ed25519PublicKey)).toEqual(member);
  });
});
