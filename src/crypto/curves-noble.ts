/**
 * X25519 (RFC 7748) and Ed25519 (RFC 8032) on @noble/curves: the pure reference implementation of
 * the curve members of Primitives (semantics in curves.ts). Only primitives.ts imports this module,
 * so the native client never loads @noble/curves.
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { assertBytes } from './args.js';
import {
  checkCurveSecret,
  checkX25519Public,
  ed25519VerifyArgsFit,
  isAllZero,
  offerDefaultCurves,
  type Ed25519Primitive,
  type X25519Primitive,
} from './curves.js';
import { concatBytes } from './encoding.js';

export const nobleX25519: X25519Primitive = {
  getPublicKey(secret) {
    checkCurveSecret(secret);
    return x25519.getPublicKey(secret);
  },
  sharedSecret(secret, peerPublic) {
    checkCurveSecret(secret);
    checkX25519Public(peerPublic);
    // noble refuses the low-order u values before the ladder; the zero check guards the contract.
    const shared = x25519.getSharedSecret(secret, peerPublic);
    if (isAllZero(shared)) throw new Error('X25519 shared secret is all zeros');
    return shared;
  },
};

const { Point } = ed25519;
type EdPoint = ReturnType<typeof Point.fromBytes>;

export const nobleEd25519: Ed25519Primitive = {
  getPublicKey(secret) {
    checkCurveSecret(secret);
    return ed25519.getPublicKey(secret);
  },
  sign(secret, message) {
    checkCurveSecret(secret);
    assertBytes(message, 'message');
    return ed25519.sign(message, secret);
  },
  verify(publicKey, signature, message) {
    if (!ed25519VerifyArgsFit(publicKey, signature, message)) return false;
    // noble's ed25519.verify(…, { zip215: false }) with its cofactored equation replaced by the
    // cofactorless one OpenSSL checks: the cofactored equation also accepts R (or a mixed-order A)
    // shifted by a small-order point, which would make a signature verify for one implementation
    // and fail for the other. The cofactorless equation implies the cofactored one.
    const r = signature.subarray(0, 32);
    const s = bytesToNumberLE(signature.subarray(32));
    if (s >= Point.Fn.ORDER) return false; // S must be canonical: 0 ≤ S < L
    let A: EdPoint;
    let R: EdPoint;
    try {
      // Strict decoding (zip215 = false): y < p, and x = 0 with the sign bit set is refused.
      A = Point.fromBytes(publicKey, false);
      R = Point.fromBytes(r, false);
    } catch {
      return false;
    }
    if (A.isSmallOrder()) return false;
    const k = Point.Fn.create(bytesToNumberLE(sha512(concatBytes(r, publicKey, message))));
    return Point.BASE.multiplyUnsafe(s).equals(R.add(A.multiplyUnsafe(k)));
  },
};

offerDefaultCurves({ x25519: nobleX25519, ed25519: nobleEd25519 });
