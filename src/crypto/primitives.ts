/**
 * The primitive operations the format is built from, behind one injectable interface: the pure
 * core never reaches for a global RNG or a native module, so tests can inject randomness and the
 * client can swap in the faster native implementation (src/native/primitives-node.ts) for blobs.
 * Both implementations MUST produce byte-identical output for the same inputs.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import { assertBytes } from './args.js';
import { CryptoArgumentError, IntegrityError } from './errors.js';

export interface AeadInstance {
  /** returns ciphertext ‖ 16-byte tag */
  encrypt(plaintext: Uint8Array): Uint8Array;
  /** takes ciphertext ‖ tag; throws IntegrityError when the tag does not verify */
  decrypt(ciphertextAndTag: Uint8Array): Uint8Array;
}

export interface Primitives {
  /** XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03), 32-byte key, 24-byte nonce, 16-byte tag */
  xchacha20poly1305(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): AeadInstance;
  hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array;
  sha256(message: Uint8Array): Uint8Array;
  /** cryptographically secure random bytes */
  randomBytes(length: number): Uint8Array;
}

export const AEAD_KEY_LENGTH = 32;
export const AEAD_NONCE_LENGTH = 24;
export const AEAD_TAG_LENGTH = 16;

/** Shared argument checks, so both implementations fail the same way on the same mistakes. */
export function checkAeadArgs(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): void {
  assertBytes(key, 'key', AEAD_KEY_LENGTH);
  assertBytes(nonce, 'nonce', AEAD_NONCE_LENGTH);
  assertBytes(aad, 'aad');
}

/**
 * One AEAD instance is one (key, nonce) pair, so it may encrypt once: a second encryption would
 * reuse the nonce, which breaks both confidentiality and authenticity.
 */
export function encryptOnce(): () => void {
  let used = false;
  return () => {
    if (used) throw new CryptoArgumentError('this AEAD instance already encrypted once: nonce reuse refused');
    used = true;
  };
}

export function checkRandomLength(length: number): void {
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new CryptoArgumentError(`length must be a non-negative integer, got ${String(length)}`);
  }
}

// WebCrypto's getRandomValues, which noble uses, refuses more than 65536 bytes per call.
const RANDOM_CHUNK = 65536;

export const noblePrimitives: Primitives = {
  xchacha20poly1305(key, nonce, aad) {
    checkAeadArgs(key, nonce, aad);
    const markEncrypted = encryptOnce();
    return {
      encrypt(plaintext) {
        assertBytes(plaintext, 'plaintext');
        markEncrypted();
        return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
      },
      decrypt(ciphertextAndTag) {
        assertBytes(ciphertextAndTag, 'ciphertext');
        if (ciphertextAndTag.length < AEAD_TAG_LENGTH) throw new IntegrityError();
        try {
          return xchacha20poly1305(key, nonce, aad).decrypt(ciphertextAndTag);
        } catch {
          throw new IntegrityError();
        }
      },
    };
  },
  hmacSha256(key, message) {
    assertBytes(key, 'key');
    assertBytes(message, 'message');
    return hmac(sha256, key, message);
  },
  sha256(message) {
    assertBytes(message, 'message');
    return sha256(message);
  },
  randomBytes(length) {
    checkRandomLength(length);
    const out = new Uint8Array(length);
    for (let offset = 0; offset < length; offset += RANDOM_CHUNK) {
      out.set(nobleRandomBytes(Math.min(RANDOM_CHUNK, length - offset)), offset);
    }
    return out;
  },
};
