/**
 * HKDF-SHA256 (RFC 5869) with the argument checks of this project, computed by the loaded
 * Primitives implementation (hash-default.ts): node:crypto in the client, noble in the reference.
 */
import { assertBytes } from './args.js';
import { CryptoArgumentError } from './errors.js';
import { defaultHashes } from './hash-default.js';

/** HKDF-SHA256 (RFC 5869). A missing salt means HashLen zero bytes, as the RFC specifies. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array {
  assertBytes(ikm, 'ikm');
  if (salt !== undefined) assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  if (!Number.isSafeInteger(length) || length < 1 || length > 255 * 32) {
    throw new CryptoArgumentError(`length must be 1..${255 * 32}, got ${String(length)}`);
  }
  return defaultHashes().hkdfSha256(ikm, salt, info, length);
}
