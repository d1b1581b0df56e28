/**
 * The curve half of Primitives: X25519 (RFC 7748) and Ed25519 (RFC 8032) as injectable members,
 * so the client can use node:crypto's native code while the pure core keeps noble as the reference.
 * This module loads no curve library: importing keys.ts, seal.ts or sync/snapshot.ts must not pull
 * in @noble/curves (about 30 ms of start-up) when the native members are used.
 *
 * Every implementation MUST give byte-identical results and reject exactly the same inputs
 * (test/crypto/curves.test.ts holds them to it):
 *  - X25519: RFC 7748 decoding (top bit of u masked, u ≥ p reduced); an all-zero shared secret
 *    (low-order peer key) throws.
 *  - Ed25519 verify: strict RFC 8032 — S < L, canonical encodings of A and R (y < p, no "negative
 *    zero" x), A not of small order, and the cofactorless equation [S]B = R + [k]A (what OpenSSL
 *    checks; noble alone checks the cofactored one, so its wrapper adds the cofactorless check).
 *    Any malformed input gives false, never an exception.
 */
import { assertBytes } from './args.js';
import { CryptoArgumentError } from './errors.js';

export const CURVE_SECRET_LENGTH = 32;
export const CURVE_PUBLIC_LENGTH = 32;
export const ED25519_SIGNATURE_LENGTH = 64;

export interface X25519Primitive {
  /** X25519(secret, 9): the public key of a 32-byte secret */
  getPublicKey(secret: Uint8Array): Uint8Array;
  /** X25519(secret, peerPublic); throws when the result is all zeros (a low-order peer key) */
  sharedSecret(secret: Uint8Array, peerPublic: Uint8Array): Uint8Array;
}

export interface Ed25519Primitive {
  /** the public key of a 32-byte RFC 8032 seed */
  getPublicKey(secret: Uint8Array): Uint8Array;
  /** deterministic RFC 8032 signature (64 bytes) */
  sign(secret: Uint8Array, message: Uint8Array): Uint8Array;
  /** strict verification as described above; false for every malformed input */
  verify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean;
}

export interface CurvePrimitives {
  x25519: X25519Primitive;
  ed25519: Ed25519Primitive;
}

/** Argument checks shared by the implementations, so both fail the same way on the same mistakes. */
export function checkCurveSecret(secret: Uint8Array, name = 'secret'): void {
  assertBytes(secret, name, CURVE_SECRET_LENGTH);
}

export function checkX25519Public(peerPublic: Uint8Array, name = 'peerPublic'): void {
  assertBytes(peerPublic, name, CURVE_PUBLIC_LENGTH);
}

/** Type errors throw (programming mistakes); wrong lengths are untrusted input and make verify false. */
export function ed25519VerifyArgsFit(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean {
  assertBytes(publicKey, 'publicKey');
  assertBytes(signature, 'signature');
  assertBytes(message, 'message');
  return publicKey.length === CURVE_PUBLIC_LENGTH && signature.length === ED25519_SIGNATURE_LENGTH;
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/**
 * y coordinates (top bit of the last byte cleared) of the eight points of order dividing 8:
 * 1 (identity), p−1 (order 2), 0 (order 4, both x), and the two of order 8. A point whose y is one
 * of these is one of those eight, whatever its sign bit, since −(x, y) = (−x, y) has the same order.
 */
const SMALL_ORDER_Y = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
].map((hex) => Uint8Array.from(hex.match(/../g)!, (byte) => parseInt(byte, 16)));

/** y as encoded (little-endian, sign bit cleared) is < p = 2^255 − 19. */
export function ed25519YIsCanonical(encoded: Uint8Array): boolean {
  if ((encoded[31]! & 0x7f) !== 0x7f) return true;
  for (let i = 30; i >= 1; i--) if (encoded[i] !== 0xff) return true;
  return encoded[0]! < 0xed;
}

/**
 * The checks of strict verification that OpenSSL's Ed25519 leaves out and noble makes: a public
 * key with y ≥ p or of small order is refused. (OpenSSL accepts, for instance, the identity as a
 * public key, under which [S]B ‖ S verifies for every message.) Pure byte comparisons, no curve
 * arithmetic: whether the point is on the curve at all is left to the verifier.
 */
export function ed25519PublicKeyPassesStrictChecks(publicKey: Uint8Array): boolean {
  if (publicKey.length !== CURVE_PUBLIC_LENGTH || !ed25519YIsCanonical(publicKey)) return false;
  for (const y of SMALL_ORDER_Y) {
    let diff = (publicKey[31]! & 0x7f) ^ y[31]!;
    for (let i = 0; i < 31; i++) diff |= publicKey[i]! ^ y[i]!;
    if (diff === 0) return false;
  }
  return true;
}

// The implementation used when a caller passes no Primitives, or Primitives without curve members
// (kept for the signatures that predate injection, e.g. identityFromSecrets(x, e)). Each curve
// module offers itself when loaded; the first one stays. They agree on every input, so which one
// is a matter of speed only, and no module has to import @noble/curves just to have a fallback.
let defaultCurves: CurvePrimitives | undefined;

export function offerDefaultCurves(curves: CurvePrimitives): void {
  defaultCurves ??= curves;
}

function fallbackCurves(): CurvePrimitives {
  if (!defaultCurves) {
    throw new CryptoArgumentError('no X25519/Ed25519 implementation loaded: pass Primitives (noblePrimitives or nodePrimitives)');
  }
  return defaultCurves;
}

export function x25519Of(p?: { x25519?: X25519Primitive }): X25519Primitive {
  return p?.x25519 ?? fallbackCurves().x25519;
}

export function ed25519Of(p?: { ed25519?: Ed25519Primitive }): Ed25519Primitive {
  return p?.ed25519 ?? fallbackCurves().ed25519;
}
