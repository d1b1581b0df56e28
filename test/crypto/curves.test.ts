import { createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ed25519PublicKeyPassesStrictChecks, ed25519YIsCanonical } from '../../src/crypto/curves.js';
import { nobleEd25519, nobleX25519 } from '../../src/crypto/curves-noble.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import { CryptoArgumentError, IntegrityError } from '../../src/crypto/errors.js';
import { signDetached, verifyDetached, x25519PublicKey, x25519SharedSecret } from '../../src/crypto/keys.js';
import { noblePrimitives, type Primitives } from '../../src/crypto/primitives.js';
import { openSealed, sealToPublicKey } from '../../src/crypto/seal.js';
import { nodeEd25519, nodePrimitives, nodeX25519 } from '../../src/native/primitives-node.js';
import { ed25519VerifyCases, le32, lowOrderU, nobleCofactoredVerify, opensslVerify, P, TORSION, withSignBit } from './ed25519-cases.js';
import { flipBit, seededBytes } from './helpers.js';

const impls: [string, Primitives][] = [['noble', noblePrimitives], ['node', nodePrimitives]];

describe('the curve members are wired into both Primitives', () => {
  it('noblePrimitives carries the noble curves, nodePrimitives the native ones', () => {
    expect(noblePrimitives.x25519).toBe(nobleX25519);
    expect(noblePrimitives.ed25519).toBe(nobleEd25519);
    expect(nodePrimitives.x25519).toBe(nodeX25519);
    expect(nodePrimitives.ed25519).toBe(nodeEd25519);
  });
});

describe('noble and native agree on random inputs', () => {
  const ROUNDS = 40;
  it('public keys, signatures and cross-verification (Ed25519)', () => {
    for (let i = 1; i <= ROUNDS; i++) {
      const secret = seededBytes(32, 1000 + i);
      const message = seededBytes((i * 37) % 300, 2000 + i);
      const pub = nobleEd25519.getPublicKey(secret);
      expect(toHex(nodeEd25519.getPublicKey(secret)), `round ${i}`).toBe(toHex(pub));
      const sig = nobleEd25519.sign(secret, message);
      expect(toHex(nodeEd25519.sign(secret, message)), `round ${i}`).toBe(toHex(sig));
      for (const impl of [nobleEd25519, nodeEd25519]) {
        expect(impl.verify(pub, sig, message)).toBe(true);
        expect(impl.verify(pub, flipBit(sig, i % 64, i % 8), message)).toBe(false);
        expect(impl.verify(flipBit(pub, i % 32, i % 8), sig, message)).toBe(false);
      }
    }
  });
  it('random 32-byte strings as keys and random signatures: both answer false', () => {
    for (let i = 1; i <= ROUNDS; i++) {
      const pub = seededBytes(32, 3000 + i);
      const sig = seededBytes(64, 4000 + i);
      const message = utf8(`m${i}`);
      expect(nobleEd25519.verify(pub, sig, message)).toBe(false);
      expect(nodeEd25519.verify(pub, sig, message)).toBe(false);
    }
  });
  it('X25519 public keys and shared secrets, both directions (including u off the curve, on the twist)', () => {
    for (let i = 1; i <= ROUNDS; i++) {
      const a = seededBytes(32, 5000 + i);
      const b = seededBytes(32, 6000 + i);
      const pa = nobleX25519.getPublicKey(a);
      const pb = nobleX25519.getPublicKey(b);
      expect(toHex(nodeX25519.getPublicKey(a))).toBe(toHex(pa));
      const ab = nobleX25519.sharedSecret(a, pb);
      expect(toHex(nodeX25519.sharedSecret(a, pb))).toBe(toHex(ab));
      expect(toHex(nodeX25519.sharedSecret(b, pa))).toBe(toHex(ab));
      // Any 32 bytes are a valid u (curve or twist); both must compute the same ladder output.
      const u = seededBytes(32, 7000 + i);
      expect(toHex(nodeX25519.sharedSecret(a, u))).toBe(toHex(nobleX25519.sharedSecret(a, u)));
    }
  });
});

describe('Ed25519 strict verification: both implementations answer every edge case alike', () => {
  const cases = ed25519VerifyCases();
  it('the table is not vacuous: it holds valid cases and cases each raw library gets "wrong"', () => {
    expect(cases.filter((c) => c.valid).length).toBeGreaterThanOrEqual(3);
    expect(cases.filter((c) => !c.valid && c.openssl === true).length).toBeGreaterThanOrEqual(10);
    expect(cases.filter((c) => !c.valid && c.nobleCofactored === true).length).toBeGreaterThanOrEqual(2);
  });
  for (const c of cases) {
    it(`${c.name} → ${c.valid}`, () => {
      expect(nobleEd25519.verify(c.publicKey, c.signature, c.message), 'noble').toBe(c.valid);
      expect(nodeEd25519.verify(c.publicKey, c.signature, c.message), 'node').toBe(c.valid);
      for (const [name, p] of impls) {
        expect(verifyDetached(c.publicKey, c.signature, c.message, p), `verifyDetached ${name}`).toBe(c.valid);
      }
      // What the libraries answer alone: shows which of our checks the case exercises.
      if (c.openssl !== undefined) expect(opensslVerify(c.publicKey, c.signature, c.message), 'raw OpenSSL').toBe(c.openssl);
      if (c.nobleCofactored !== undefined) expect(nobleCofactoredVerify(c.publicKey, c.signature, c.message), 'raw noble').toBe(c.nobleCofactored);
    });
  }

  it('wrong lengths verify as false in both; wrong types are argument errors in both', () => {
    const secret = seededBytes(32, 9);
    const message = utf8('m');
    const pub = nobleEd25519.getPublicKey(secret);
    const sig = nobleEd25519.sign(secret, message);
    const shapes: [string, Uint8Array, Uint8Array][] = [
      ['63-byte signature', pub, sig.subarray(0, 63)],
      ['65-byte signature', pub, concatBytes(sig, Uint8Array.of(0))],
      ['empty signature', pub, new Uint8Array(0)],
      ['31-byte key', pub.subarray(0, 31), sig],
      ['33-byte key', concatBytes(pub, Uint8Array.of(0)), sig],
    ];
    for (const [name, k, s] of shapes) {
      for (const impl of [nobleEd25519, nodeEd25519]) expect(impl.verify(k, s, message), name).toBe(false);
      for (const [, p] of impls) expect(verifyDetached(k, s, message, p), name).toBe(false);
    }
    for (const impl of [nobleEd25519, nodeEd25519]) {
      expect(() => impl.verify(pub, 'sig' as unknown as Uint8Array, message)).toThrow(CryptoArgumentError);
      expect(() => impl.sign(secret.subarray(0, 31), message)).toThrow(/secret must be 32 bytes, got 31/);
      expect(() => impl.getPublicKey(new Uint8Array(33))).toThrow(CryptoArgumentError);
      expect(() => impl.sign(secret, [1] as unknown as Uint8Array)).toThrow(/message must be a Uint8Array/);
    }
  });

  it('signDetached gives the same bytes through either Primitives', () => {
    const secret = seededBytes(32, 10);
    const message = utf8('same');
    expect(toHex(signDetached(secret, message, nodePrimitives))).toBe(toHex(signDetached(secret, message, noblePrimitives)));
  });
});

describe('the byte checks in front of OpenSSL', () => {
  it('ed25519YIsCanonical draws the line at p = 2^255 − 19, ignoring the sign bit', () => {
    expect(ed25519YIsCanonical(le32(P - 1n))).toBe(true);
    expect(ed25519YIsCanonical(withSignBit(le32(P - 1n)))).toBe(true);
    expect(ed25519YIsCanonical(le32(P))).toBe(false);
    expect(ed25519YIsCanonical(withSignBit(le32(P)))).toBe(false);
    expect(ed25519YIsCanonical(le32(2n ** 255n - 1n))).toBe(false);
    expect(ed25519YIsCanonical(le32(P - 19n))).toBe(true);
    expect(ed25519YIsCanonical(new Uint8Array(32).fill(0xff))).toBe(false);
  });
  it('ed25519PublicKeyPassesStrictChecks refuses all eight small-order points and nothing honest', () => {
    for (const t of TORSION) {
      expect(ed25519PublicKeyPassesStrictChecks(t), toHex(t)).toBe(false);
      expect(ed25519PublicKeyPassesStrictChecks(withSignBit(t)), toHex(t)).toBe(false);
    }
    for (let i = 0; i < 20; i++) expect(ed25519PublicKeyPassesStrictChecks(nobleEd25519.getPublicKey(seededBytes(32, 100 + i)))).toBe(true);
  });
});

describe('X25519: both implementations refuse the same peer keys', () => {
  for (const { name, u } of lowOrderU()) {
    it(`${name}: all-zero shared secret refused`, () => {
      const secret = seededBytes(32, 11);
      expect(() => nobleX25519.sharedSecret(secret, u)).toThrow();
      expect(() => nodeX25519.sharedSecret(secret, u)).toThrow();
      for (const [, p] of impls) {
        expect(() => x25519SharedSecret(secret, u, p)).toThrow(CryptoArgumentError);
        expect(() => sealToPublicKey(p, u, utf8('team key'), { kind: 'team-key' })).toThrow(CryptoArgumentError);
      }
    });
  }
  it('the top bit of u is ignored and u ≥ p is reduced, identically (RFC 7748 §5)', () => {
    const secret = seededBytes(32, 12);
    const peer = nobleX25519.getPublicKey(seededBytes(32, 13));
    const nine = le32(9n);
    const pairs: [string, Uint8Array, Uint8Array][] = [
      ['top bit set', withSignBit(peer), peer],
      ['u = p + 9 is u = 9', le32(P + 9n), nine],
      ['u = 2^255 − 1 is u = 18', le32(2n ** 255n - 1n), le32(18n)],
    ];
    for (const [name, variant, reduced] of pairs) {
      const expected = toHex(nobleX25519.sharedSecret(secret, reduced));
      for (const impl of [nobleX25519, nodeX25519]) expect(toHex(impl.sharedSecret(secret, variant)), name).toBe(expected);
    }
    // X25519 of the base point u = 9 is the public key.
    expect(toHex(nodeX25519.sharedSecret(secret, le32(P + 9n)))).toBe(toHex(nodeX25519.getPublicKey(secret)));
  });
  it('raw OpenSSL refuses low-order points by itself too (the wrapper keeps its own check)', () => {
    const pkcs8 = fromHex('302e020100300506032b656e04220420');
    const spki = fromHex('302a300506032b656e032100');
    const privateKey = createPrivateKey({ key: Buffer.from(concatBytes(pkcs8, seededBytes(32, 14))), format: 'der', type: 'pkcs8' });
    const publicKey = createPublicKey({ key: Buffer.from(concatBytes(spki, le32(1n))), format: 'der', type: 'spki' });
    expect(() => diffieHellman({ privateKey, publicKey })).toThrow();
  });
  it('wrong lengths and types are argument errors in both', () => {
    for (const impl of [nobleX25519, nodeX25519]) {
      expect(() => impl.sharedSecret(new Uint8Array(31), new Uint8Array(32).fill(9))).toThrow(/secret must be 32 bytes, got 31/);
      expect(() => impl.sharedSecret(new Uint8Array(32), new Uint8Array(33))).toThrow(/peerPublic must be 32 bytes, got 33/);
      expect(() => impl.getPublicKey('k' as unknown as Uint8Array)).toThrow(CryptoArgumentError);
    }
    for (const [, p] of impls) expect(() => x25519PublicKey(new Uint8Array(16), p)).toThrow(CryptoArgumentError);
  });
});

describe('sealed boxes across implementations', () => {
  const recipient = seededBytes(32, 15);
  const slot = { kind: 'team-key', ownerId: 't1', epoch: 3 } as const;
  it('sealed by one, opened by the other', () => {
    for (const [, sealer] of impls) {
      for (const [, opener] of impls) {
        const sealed = sealToPublicKey(sealer, x25519PublicKey(recipient, sealer), utf8('k'), slot);
        expect(toHex(openSealed(opener, recipient, sealed, slot))).toBe(toHex(utf8('k')));
      }
    }
  });
  it('a low-order ephemeral key is an IntegrityError in both', () => {
    const sealed = sealToPublicKey(nodePrimitives, x25519PublicKey(recipient, nodePrimitives), utf8('k'), slot);
    for (const { u } of lowOrderU()) {
      const forged = concatBytes(u, sealed.subarray(32));
      for (const [, p] of impls) expect(() => openSealed(p, recipient, forged, slot)).toThrow(IntegrityError);
    }
  });
});
