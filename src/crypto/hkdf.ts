/**
 * HKDF-SHA256 (RFC 5869), apart from kdf.ts so that deriving subkeys (workspace keys, sealed
 * boxes, recovery) does not load Argon2 and BLAKE2b: every push and pull derives keys, only
 * signup, login and password changes stretch a password.
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { assertBytes } from './args.js';
import { CryptoArgumentError } from './errors.js';

/** HKDF-SHA256 (RFC 5869). A missing salt means HashLen zero bytes, as the RFC specifies. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array {
  assertBytes(ikm, 'ikm');
  if (salt !== undefined) assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  if (!Number.isSafeInteger(length) || length < 1 || length > 255 * 32) {
    throw new CryptoArgumentError(`length must be 1..${255 * 32}, got ${String(length)}`);
  }
  return hkdf(sha256, ikm, salt, info, length);
}
