/**
 * SHA-256 and HKDF-SHA256 for the functions that take no Primitives (key derivation from a
 * workspace key, sealed boxes, fingerprints), from whichever implementation is loaded — the same
 * arrangement as the curves (curves.ts) and for the same reason: the native client must not load
 * @noble/hashes' SHA-2 module (its SHA-512 tables take ~15 ms to build at start-up) to derive a
 * few keys. Both implementations give the same bytes (test/crypto/vectors.test.ts).
 */
import { CryptoArgumentError } from './errors.js';

export interface HashPrimitives {
  sha256(message: Uint8Array): Uint8Array;
  /** RFC 5869; `salt` undefined means HashLen zero bytes */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array;
}

let defaults: HashPrimitives | undefined;

/** Called by each Primitives implementation as it loads; the first one loaded is used. */
export function offerDefaultHashes(hashes: HashPrimitives): void {
  defaults ??= hashes;
}

export function defaultHashes(): HashPrimitives {
  if (!defaults) throw new CryptoArgumentError('no SHA-256 implementation loaded: import noblePrimitives or nodePrimitives first');
  return defaults;
}
