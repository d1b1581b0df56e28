import { describe, expect, it } from 'vitest';
import { CryptoArgumentError, IntegrityError } from '../../src/crypto/errors.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { hchacha20, nodePrimitives } from '../../src/native/primitives-node.js';
import { flipBit, h, sameBytes, seededBytes } from './helpers.js';
import { toHex } from '../../src/crypto/encoding.js';

// Sizes at the 64-byte ChaCha block boundary, the 65536-byte RNG limit, and a large odd size.
const SIZES = [0, 1, 63, 64, 65, 1000, 65536, 1024 * 1024 + 7];

describe('nodePrimitives agrees byte-for-byte with noblePrimitives', () => {
  for (const [i, size] of SIZES.entries()) {
    it(`XChaCha20-Poly1305 at ${size} bytes, decrypting across`, () => {
      const key = seededBytes(32, 100 + i);
      const nonce = seededBytes(24, 200 + i);
      const aad = seededBytes(i * 7, 300 + i);
      const plaintext = seededBytes(size, 400 + i);
      const fromNoble = noblePrimitives.xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
      const fromNode = nodePrimitives.xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
      expect(fromNode.length).toBe(size + 16);
      expect(sameBytes(fromNode, fromNoble)).toBe(true);
      expect(sameBytes(nodePrimitives.xchacha20poly1305(key, nonce, aad).decrypt(fromNoble), plaintext)).toBe(true);
      expect(sameBytes(noblePrimitives.xchacha20poly1305(key, nonce, aad).decrypt(fromNode), plaintext)).toBe(true);
    });
  }

  it('both reject the same tampering with IntegrityError', () => {
    const key = seededBytes(32, 1);
    const nonce = seededBytes(24, 2);
    const aad = seededBytes(5, 3);
    const sealed = nodePrimitives.xchacha20poly1305(key, nonce, aad).encrypt(seededBytes(100, 4));
    for (const prims of [noblePrimitives, nodePrimitives]) {
      for (const index of [0, 50, 99, 100, 115]) {
        expect(() => prims.xchacha20poly1305(key, nonce, aad).decrypt(flipBit(sealed, index))).toThrow(IntegrityError);
      }
      expect(() => prims.xchacha20poly1305(key, flipBit(nonce, 23), aad).decrypt(sealed)).toThrow(IntegrityError);
      expect(() => prims.xchacha20poly1305(key, flipBit(nonce, 0), aad).decrypt(sealed)).toThrow(IntegrityError);
      expect(() => prims.xchacha20poly1305(flipBit(key, 31), nonce, aad).decrypt(sealed)).toThrow(IntegrityError);
      expect(() => prims.xchacha20poly1305(key, nonce, aad).decrypt(sealed.subarray(0, 15))).toThrow(IntegrityError);
      expect(() => prims.xchacha20poly1305(key, nonce, aad).decrypt(sealed.subarray(0, sealed.length - 1))).toThrow(IntegrityError);
    }
  });

  it('both check argument types and lengths the same way', () => {
    for (const prims of [noblePrimitives, nodePrimitives]) {
      expect(() => prims.xchacha20poly1305(new Uint8Array(31), new Uint8Array(24), new Uint8Array(0))).toThrow(/key must be 32 bytes, got 31/);
      expect(() => prims.xchacha20poly1305(new Uint8Array(32), new Uint8Array(12), new Uint8Array(0))).toThrow(/nonce must be 24 bytes/);
      expect(() => prims.xchacha20poly1305('k' as unknown as Uint8Array, new Uint8Array(24), new Uint8Array(0))).toThrow(/key must be a Uint8Array, got string/);
      expect(() => prims.sha256([1, 2] as unknown as Uint8Array)).toThrow(CryptoArgumentError);
      expect(() => prims.randomBytes(-1)).toThrow(CryptoArgumentError);
      const once = prims.xchacha20poly1305(new Uint8Array(32), new Uint8Array(24), new Uint8Array(0));
      once.encrypt(new Uint8Array(1));
      expect(() => once.encrypt(new Uint8Array(1))).toThrow(/nonce reuse refused/);
    }
  });

  it('HChaCha20 matches draft-irtf-cfrg-xchacha-03 §2.2.1', () => {
    const key = h('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const nonce = h('000000090000004a0000000031415927');
    expect(toHex(hchacha20(key, nonce))).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  });

  it('SHA-256 and HMAC-SHA256 agree at every size', () => {
    for (const [i, size] of SIZES.entries()) {
      const message = seededBytes(size, 500 + i);
      const key = seededBytes(i * 13, 600 + i);
      expect(toHex(nodePrimitives.sha256(message))).toBe(toHex(noblePrimitives.sha256(message)));
      expect(toHex(nodePrimitives.hmacSha256(key, message))).toBe(toHex(noblePrimitives.hmacSha256(key, message)));
    }
    expect(toHex(nodePrimitives.sha256(new TextEncoder().encode('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('randomBytes returns plain Uint8Arrays of the asked length, beyond the 65536-byte WebCrypto limit too', () => {
    for (const prims of [noblePrimitives, nodePrimitives]) {
      for (const n of [0, 1, 65536, 65537, 200000]) {
        const r = prims.randomBytes(n);
        expect(r).toBeInstanceOf(Uint8Array);
        expect(r.length).toBe(n);
      }
      const big = prims.randomBytes(200000);
      // The tail past the first 65536-byte call must be filled too (all-zero is 2^-(8·1000) unlikely).
      expect(big.subarray(199000).some((b) => b !== 0)).toBe(true);
      expect(toHex(prims.randomBytes(32))).not.toBe(toHex(prims.randomBytes(32)));
    }
  });
});
