/**
 * Native implementation of Primitives on node:crypto, about ten times faster than pure noble for
 * large blobs, and X25519/Ed25519 in well under a millisecond where noble's BigInt arithmetic takes
 * tens (plus ~30 ms to load @noble/curves, which this module never imports). XChaCha20-Poly1305 is built from its definition (draft-irtf-cfrg-xchacha-03 §2.3):
 * subkey = HChaCha20(key, nonce[0:16]), then ChaCha20-Poly1305 (RFC 8439) with
 * IV = 4 zero bytes ‖ nonce[16:24]. Node has no HChaCha20, so noble's is used for that one block;
 * the output is byte-identical to noblePrimitives (test/crypto/native.test.ts checks it).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  randomFillSync,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import { hchacha } from '@noble/ciphers/chacha.js';
import { assertBytes } from '../crypto/args.js';
import {
  checkCurveSecret,
  checkX25519Public,
  ed25519PublicKeyPassesStrictChecks,
  ed25519VerifyArgsFit,
  isAllZero,
  offerDefaultCurves,
  type Ed25519Primitive,
  type X25519Primitive,
} from '../crypto/curves.js';
import { CryptoArgumentError, IntegrityError } from '../crypto/errors.js';
import { offerDefaultHashes, type HashPrimitives } from '../crypto/hash-default.js';
import { AEAD_TAG_LENGTH, checkAeadArgs, checkRandomLength, encryptOnce, type Primitives } from '../crypto/primitives-contract.js';

// "expand 32-byte k" as raw bytes. noble's exported hchacha reads every argument as a
// Uint32Array view of little-endian bytes (it swaps on big-endian hosts itself), which is also
// how its own xchacha20 calls it, so views over byte arrays are passed, never numeric words.
const SIGMA_BYTES = new TextEncoder().encode('expand 32-byte k');

/** HChaCha20(key, nonce16) → 32-byte subkey. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  assertBytes(key, 'key', 32);
  assertBytes(nonce16, 'nonce', 16);
  return subkeyInScratch(key, nonce16).slice();
}

// Word-aligned scratch for subkeyInScratch: one per process, wiped after every use, so that
// deriving the subkey of each blob allocates nothing (it was a tenth of sealing a small blob).
const SIGMA32 = new Uint32Array(SIGMA_BYTES.slice().buffer);
const key32 = new Uint32Array(8);
const nonce32 = new Uint32Array(4);
const subkey32 = new Uint32Array(8);
const key8 = new Uint8Array(key32.buffer);
const nonce8 = new Uint8Array(nonce32.buffer);
const subkey8 = new Uint8Array(subkey32.buffer);
const iv12 = new Uint8Array(12);

/**
 * HChaCha20 into a shared scratch buffer: the result is valid until the next call, and the caller
 * wipes it (wipeScratch) once node:crypto has copied it into a cipher.
 */
function subkeyInScratch(key: Uint8Array, nonce: Uint8Array): Uint8Array {
  key8.set(key);
  nonce8.set(nonce.subarray(0, 16));
  try {
    hchacha(SIGMA32, key32, nonce32, subkey32);
  } finally {
    key8.fill(0);
  }
  return subkey8;
}

/** The ChaCha20-Poly1305 IV of an XChaCha nonce (4 zero bytes ‖ nonce[16:24]), in shared scratch. */
function ivInScratch(nonce: Uint8Array): Uint8Array {
  iv12.set(nonce.subarray(16, 24), 4);
  return iv12;
}

function wipeScratch(): void {
  subkey8.fill(0);
  nonce8.fill(0);
}

// Raw curve keys enter and leave node:crypto as JWK (RFC 8037 OKP), not DER: OpenSSL 3.0's DER
// decoder lookup costs ~0.9 ms per private key and ~0.15 ms per public key here, the JWK path
// (EVP_PKEY_new_raw_*_key underneath) 0.07 ms and 0.01 ms. For a private key Node reads only `d`
// and derives the public half itself; `x` must be present as a string but is not used, so it is
// left empty rather than computed (which would need the very scalar multiplication we delegate).
// The RFC 7748/8032 vectors in test/crypto/vectors.test.ts would catch any change to that.
type Curve = 'X25519' | 'Ed25519';

function base64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function privateKeyObject(crv: Curve, secret: Uint8Array): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv, d: base64Url(secret), x: '' }, format: 'jwk' });
}

function publicKeyObject(crv: Curve, publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv, x: base64Url(publicKey) }, format: 'jwk' });
}

function rawPublicKey(privateKey: KeyObject): Uint8Array {
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' });
  const raw = typeof x === 'string' ? Buffer.from(x, 'base64url') : undefined;
  if (!raw || raw.length !== 32) throw new Error('unexpected public key export from node:crypto');
  return Uint8Array.from(raw);
}

export const nodeX25519: X25519Primitive = {
  getPublicKey(secret) {
    checkCurveSecret(secret);
    return rawPublicKey(privateKeyObject('X25519', secret));
  },
  sharedSecret(secret, peerPublic) {
    checkCurveSecret(secret);
    checkX25519Public(peerPublic);
    // OpenSSL masks the top bit and reduces u ≥ p as RFC 7748 says, and fails the derivation when
    // the result is all zeros; the explicit check keeps that guarantee should it ever stop doing so.
    const shared = diffieHellman({ privateKey: privateKeyObject('X25519', secret), publicKey: publicKeyObject('X25519', peerPublic) });
    try {
      if (shared.length !== 32 || isAllZero(shared)) throw new Error('X25519 shared secret is all zeros');
      return Uint8Array.from(shared);
    } finally {
      shared.fill(0);
    }
  },
};

export const nodeEd25519: Ed25519Primitive = {
  getPublicKey(secret) {
    checkCurveSecret(secret);
    return rawPublicKey(privateKeyObject('Ed25519', secret));
  },
  sign(secret, message) {
    checkCurveSecret(secret);
    assertBytes(message, 'message');
    return Uint8Array.from(nodeSign(null, message, privateKeyObject('Ed25519', secret)));
  },
  verify(publicKey, signature, message) {
    if (!ed25519VerifyArgsFit(publicKey, signature, message)) return false;
    // OpenSSL already requires S < L and compares R byte for byte with the canonical encoding of
    // [S]B − [k]A (cofactorless), but it accepts a public key with y ≥ p or of small order.
    if (!ed25519PublicKeyPassesStrictChecks(publicKey)) return false;
    try {
      return nodeVerify(null, message, publicKeyObject('Ed25519', publicKey), signature);
    } catch {
      return false;
    }
  },
};

/** A Uint8Array view of a Buffer's bytes: callers get Uint8Array semantics (slice copies), no copy made. */
function asPlainBytes(buf: Buffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

const RANDOM_POOL_BYTES = 16 * 1024;
const randomPool = new Uint8Array(RANDOM_POOL_BYTES);
let randomPoolAt = RANDOM_POOL_BYTES;

export const nodePrimitives: Primitives = {
  xchacha20poly1305(key, nonce, aad) {
    checkAeadArgs(key, nonce, aad);
    const markEncrypted = encryptOnce();
    const encryptInto = (plaintext: Uint8Array, out: Uint8Array, offset: number): number => {
      assertBytes(plaintext, 'plaintext');
      assertBytes(out, 'out');
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + plaintext.length + AEAD_TAG_LENGTH > out.length) {
        throw new CryptoArgumentError('out has no room for the ciphertext at that offset');
      }
      markEncrypted();
      try {
        const cipher = createCipheriv('chacha20-poly1305', subkeyInScratch(key, nonce), ivInScratch(nonce), { authTagLength: AEAD_TAG_LENGTH });
        cipher.setAAD(aad, { plaintextLength: plaintext.length });
        let at = offset;
        out.set(cipher.update(plaintext), at);
        at += plaintext.length;
        const rest = cipher.final();
        out.set(rest, at);
        at += rest.length;
        out.set(cipher.getAuthTag(), at);
        return at + AEAD_TAG_LENGTH - offset;
      } finally {
        wipeScratch();
      }
    };
    return {
      encrypt(plaintext) {
        assertBytes(plaintext, 'plaintext');
        const out = new Uint8Array(plaintext.length + AEAD_TAG_LENGTH);
        encryptInto(plaintext, out, 0);
        return out;
      },
      encryptInto,
      decrypt(ciphertextAndTag) {
        assertBytes(ciphertextAndTag, 'ciphertext');
        if (ciphertextAndTag.length < AEAD_TAG_LENGTH) throw new IntegrityError();
        const split = ciphertextAndTag.length - AEAD_TAG_LENGTH;
        try {
          const decipher = createDecipheriv('chacha20-poly1305', subkeyInScratch(key, nonce), ivInScratch(nonce), { authTagLength: AEAD_TAG_LENGTH });
          decipher.setAuthTag(ciphertextAndTag.subarray(split));
          decipher.setAAD(aad, { plaintextLength: split });
          const body = decipher.update(ciphertextAndTag.subarray(0, split));
          // final() throws when the tag does not verify; the plaintext is only returned after it.
          const rest = decipher.final();
          // ChaCha20 is a stream cipher: final() has nothing left, so the update output is the plaintext.
          return asPlainBytes(rest.length === 0 ? body : Buffer.concat([body, rest]));
        } catch {
          throw new IntegrityError();
        } finally {
          wipeScratch();
        }
      },
    };
  },
  hmacSha256(key, message) {
    assertBytes(key, 'key');
    assertBytes(message, 'message');
    return asPlainBytes(createHmac('sha256', key).update(message).digest());
  },
  sha256(message) {
    assertBytes(message, 'message');
    return Uint8Array.from(createHash('sha256').update(message).digest());
  },
  randomBytes(length) {
    checkRandomLength(length);
    if (length > RANDOM_POOL_BYTES / 4) return randomFillSync(new Uint8Array(length));
    // Nonces are 24 bytes, one per blob: serving them from a pooled CSPRNG read saves a syscall each.
    if (randomPoolAt + length > RANDOM_POOL_BYTES) {
      randomFillSync(randomPool);
      randomPoolAt = 0;
    }
    const out = randomPool.slice(randomPoolAt, randomPoolAt + length);
    randomPool.fill(0, randomPoolAt, randomPoolAt + length);
    randomPoolAt += length;
    return out;
  },
  x25519: nodeX25519,
  ed25519: nodeEd25519,
};

offerDefaultCurves({ x25519: nodeX25519, ed25519: nodeEd25519 });
// HMAC pads any key shorter than a block with zeros, so an empty salt is the RFC's HashLen zeros.
const NO_SALT = new Uint8Array(0);
/** SHA-256 and HKDF-SHA256 on node:crypto, for code that takes no Primitives (crypto/hash-default.ts). */
export const nodeHashes: HashPrimitives = {
  sha256: (m) => nodePrimitives.sha256(m),
  hkdfSha256: (ikm, salt, info, length) => new Uint8Array(hkdfSync('sha256', ikm, salt ?? NO_SALT, info, length)),
};

offerDefaultHashes(nodeHashes);
