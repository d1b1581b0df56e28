/**
 * The Primitives interface and the argument checks its implementations share. Kept apart from
 * primitives.ts (which holds the noble implementation) so that code needing only the contract —
 * aead.ts, the native implementation — loads no pure-JS primitive it will not use.
 */
import { assertBytes } from './args.js';
import type { Ed25519Primitive, X25519Primitive } from './curves.js';
import { CryptoArgumentError } from './errors.js';
import type { Argon2idFunction } from './kdf.js';

export interface AeadInstance {
  /** returns ciphertext ‖ 16-byte tag */
  encrypt(plaintext: Uint8Array): Uint8Array;
  /**
   * Optional: writes ciphertext ‖ tag into `out` at `offset` (which must have room for
   * plaintext.length + 16 bytes) and returns the bytes written: same bytes as encrypt, no array of
   * its own. Lets a caller pack thousands of envelopes into one upload buffer.
   */
  encryptInto?(plaintext: Uint8Array, out: Uint8Array, offset: number): number;
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
  /**
   * X25519 (RFC 7748). Optional: when absent, keys.ts uses the default curve implementation
   * (see curves.ts). Semantics every implementation must match are documented there.
   */
  x25519?: X25519Primitive;
  /** Ed25519 (RFC 8032) with strict verification. Optional, as x25519. */
  ed25519?: Ed25519Primitive;
  /**
   * Argon2id with argon2idRaw's contract (kdf.ts). Optional: deriveMasterKey falls back to
   * argon2idRaw on the calling thread; the CLI supplies one that runs in a worker thread.
   */
  argon2id?: Argon2idFunction;
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
