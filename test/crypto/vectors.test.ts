import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { IntegrityError } from '../../src/crypto/errors.js';
import { argon2idRaw, hkdfSha256 } from '../../src/crypto/kdf.js';
import { identityFromSecrets, signDetached, verifyDetached, x25519PublicKey, x25519SharedSecret } from '../../src/crypto/keys.js';
import { nobleHashes, noblePrimitives, type Primitives } from '../../src/crypto/primitives.js';
import { nodeHashes, nodePrimitives } from '../../src/native/primitives-node.js';
import { argon2OptionsOf, flipBit, h, loadVectors, type Argon2Vector } from './helpers.js';

interface HkdfVector { name: string; ikm: string; salt: string; info: string; length: number; okm: string }
interface XChaChaVector { name: string; plaintext: string; aad: string; key: string; nonce: string; ciphertext: string; tag: string }
interface X25519Vectors {
  scalarmult: { name: string; scalar: string; u: string; output: string }[];
  iterated: { start: string; after1: string; after1000: string };
  dh: { alicePrivate: string; alicePublic: string; bobPrivate: string; bobPublic: string; shared: string };
}
interface Ed25519Vector { name: string; secretKey: string; publicKey: string; message: string; signature: string }

describe('Argon2id (RFC 9106 §5.3, phc-winner-argon2) through argon2idRaw', () => {
  const { vectors } = loadVectors<{ vectors: Argon2Vector[] }>('argon2id.json');
  for (const v of vectors) {
    it(v.name, async () => {
      const tag = await argon2idRaw(h(v.password), h(v.salt), argon2OptionsOf(v));
      expect(toHex(tag)).toBe(v.tag);
    });
  }

  it('a one-bit change of the password changes the tag', async () => {
    const v = vectors[1]!;
    const tag = await argon2idRaw(flipBit(h(v.password), 0), h(v.salt), {
      memoryKiB: v.memoryKiB, iterations: v.iterations, parallelism: v.parallelism, hashLength: 32,
    });
    expect(toHex(tag)).not.toBe(v.tag);
  });
});

describe('HKDF-SHA256 (RFC 5869 A.1–A.3) through hkdfSha256', () => {
  const { vectors } = loadVectors<{ vectors: HkdfVector[] }>('hkdf-sha256.json');
  for (const v of vectors) {
    it(v.name, () => {
      expect(toHex(hkdfSha256(h(v.ikm), h(v.salt), h(v.info), v.length))).toBe(v.okm);
    });
  }
  it('an absent salt equals the zero-length salt (RFC 5869 §2.2: HashLen zeros)', () => {
    const v = vectors[2]!;
    expect(toHex(hkdfSha256(h(v.ikm), undefined, h(v.info), v.length))).toBe(v.okm);
  });
  // hkdfSha256 runs on whichever implementation loaded first: each one is held to the vectors too.
  for (const [name, hashes] of [['nobleHashes', nobleHashes], ['nodeHashes (node:crypto hkdfSync)', nodeHashes]] as const) {
    it(`${name}: every vector, and an absent salt`, () => {
      for (const v of vectors) expect(toHex(hashes.hkdfSha256(h(v.ikm), h(v.salt), h(v.info), v.length)), v.name).toBe(v.okm);
      const v = vectors[2]!;
      expect(toHex(hashes.hkdfSha256(h(v.ikm), undefined, h(v.info), v.length))).toBe(v.okm);
      expect(toHex(hashes.sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });
  }
});

describe('XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 A.3.1)', () => {
  const [v] = loadVectors<{ vectors: XChaChaVector[] }>('xchacha20poly1305.json').vectors;
  const impls: [string, Primitives][] = [['noblePrimitives', noblePrimitives], ['nodePrimitives', nodePrimitives]];
  for (const [name, prims] of impls) {
    it(`${name} encrypts to the published ciphertext ‖ tag and decrypts it`, () => {
      expect(new TextDecoder().decode(h(v!.plaintext))).toMatch(/^Ladies and Gentlemen/);
      const out = prims.xchacha20poly1305(h(v!.key), h(v!.nonce), h(v!.aad)).encrypt(h(v!.plaintext));
      expect(toHex(out)).toBe(v!.ciphertext + v!.tag);
      const back = prims.xchacha20poly1305(h(v!.key), h(v!.nonce), h(v!.aad)).decrypt(h(v!.ciphertext + v!.tag));
      expect(toHex(back)).toBe(v!.plaintext);
    });
    it(`${name} rejects the vector with a flipped tag bit or different AAD (IntegrityError)`, () => {
      const sealed = h(v!.ciphertext + v!.tag);
      expect(() => prims.xchacha20poly1305(h(v!.key), h(v!.nonce), h(v!.aad)).decrypt(flipBit(sealed, sealed.length - 1))).toThrow(IntegrityError);
      expect(() => prims.xchacha20poly1305(h(v!.key), h(v!.nonce), flipBit(h(v!.aad), 0)).decrypt(sealed)).toThrow(IntegrityError);
    });
  }
});

const curveImpls: [string, Primitives][] = [['noblePrimitives', noblePrimitives], ['nodePrimitives', nodePrimitives]];

describe.each(curveImpls)('X25519 (RFC 7748 §5.2, §6.1) through %s', (_name, p) => {
  const x = loadVectors<X25519Vectors>('x25519.json');
  for (const v of x.scalarmult) {
    it(v.name, () => {
      expect(toHex(x25519SharedSecret(h(v.scalar), h(v.u), p))).toBe(v.output);
      expect(toHex(p.x25519!.sharedSecret(h(v.scalar), h(v.u)))).toBe(v.output);
    });
  }
  it('§5.2 iterated: 1 and 1000 iterations', () => {
    let k = h(x.iterated.start);
    let u = h(x.iterated.start);
    for (let i = 1; i <= 1000; i++) {
      const r = x25519SharedSecret(k, u, p);
      u = k;
      k = r;
      if (i === 1) expect(toHex(k)).toBe(x.iterated.after1);
    }
    expect(toHex(k)).toBe(x.iterated.after1000);
  });
  it('§6.1 Diffie-Hellman: public keys via identityFromSecrets and the shared secret both ways', () => {
    const { dh } = x;
    const anyEd = new Uint8Array(32);
    expect(toHex(identityFromSecrets(h(dh.alicePrivate), anyEd, p).x25519.publicKey)).toBe(dh.alicePublic);
    expect(toHex(x25519PublicKey(h(dh.bobPrivate), p))).toBe(dh.bobPublic);
    expect(toHex(p.x25519!.getPublicKey(h(dh.bobPrivate)))).toBe(dh.bobPublic);
    expect(toHex(x25519SharedSecret(h(dh.alicePrivate), h(dh.bobPublic), p))).toBe(dh.shared);
    expect(toHex(x25519SharedSecret(h(dh.bobPrivate), h(dh.alicePublic), p))).toBe(dh.shared);
  });
});

describe.each(curveImpls)('Ed25519 (RFC 8032 §7.1 TEST 1–3) through %s', (_name, p) => {
  const { vectors } = loadVectors<{ vectors: Ed25519Vector[] }>('ed25519.json');
  for (const v of vectors) {
    it(`${v.name}: public key, signature, verification`, () => {
      const id = identityFromSecrets(new Uint8Array(32), h(v.secretKey), p);
      expect(toHex(id.ed25519.publicKey)).toBe(v.publicKey);
      expect(toHex(p.ed25519!.getPublicKey(h(v.secretKey)))).toBe(v.publicKey);
      const sig = signDetached(h(v.secretKey), h(v.message), p);
      expect(toHex(sig)).toBe(v.signature);
      expect(toHex(p.ed25519!.sign(h(v.secretKey), h(v.message)))).toBe(v.signature);
      expect(verifyDetached(h(v.publicKey), h(v.signature), h(v.message), p)).toBe(true);
      expect(p.ed25519!.verify(h(v.publicKey), h(v.signature), h(v.message))).toBe(true);
    });
    it(`${v.name}: a flipped signature bit, another message or another key fails`, () => {
      expect(verifyDetached(h(v.publicKey), flipBit(h(v.signature), 0), h(v.message), p)).toBe(false);
      expect(verifyDetached(h(v.publicKey), flipBit(h(v.signature), 63, 3), h(v.message), p)).toBe(false);
      expect(verifyDetached(h(v.publicKey), h(v.signature), utf8('another message'), p)).toBe(false);
      const other = vectors.find((o) => o !== v)!;
      expect(verifyDetached(h(other.publicKey), h(v.signature), h(v.message), p)).toBe(false);
    });
  }
});
