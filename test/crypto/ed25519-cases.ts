/**
 * Hand-built Ed25519 inputs at the edges of strict RFC 8032 verification, made with noble's point
 * arithmetic: non-canonical S, R and A, small-order and mixed-order keys, torsion-shifted R.
 * Each case says what strict verification must answer, and what raw OpenSSL (node:crypto) and
 * raw noble (ed25519.verify with zip215 false, whose equation is cofactored) answer on their own,
 * so the table shows which wrapper check each case exercises.
 */
import { createPublicKey, verify as opensslVerifyRaw } from 'node:crypto';
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/crypto/encoding.js';
import { seededBytes } from './helpers.js';

const { Point } = ed25519;
export const L = Point.Fn.ORDER;
export const P = Point.Fp.ORDER;

export function le32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return out;
}

export function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

const mod = (n: bigint, m: bigint): bigint => ((n % m) + m) % m;

export function challenge(r: Uint8Array, publicKey: Uint8Array, message: Uint8Array): bigint {
  return mod(leToBigint(sha512(concatBytes(r, publicKey, message))), L);
}

/** The first message "m0", "m1", … whose challenge k satisfies pred. */
export function messageWhere(r: Uint8Array, publicKey: Uint8Array, pred: (k: bigint) => boolean): Uint8Array {
  for (let i = 0; i < 10_000; i++) {
    const m = utf8(`m${i}`);
    if (pred(challenge(r, publicKey, m))) return m;
  }
  throw new Error('no message found');
}

/** Encoding with the sign bit of x set (for x = 0 that is the non-canonical "negative zero"). */
export function withSignBit(encoded: Uint8Array): Uint8Array {
  const out = encoded.slice();
  out[31] = out[31]! | 0x80;
  return out;
}

export const TORSION = ED25519_TORSION_SUBGROUP.map((hex) => fromHex(hex));
/** A point of order 8. */
const T8 = Point.fromBytes(TORSION[1]!);

const DER_SPKI_ED25519 = fromHex('302a300506032b6570032100');

/** node:crypto's Ed25519 verification with none of our checks in front of it. */
export function opensslVerify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean {
  try {
    const key = createPublicKey({ key: Buffer.from(concatBytes(DER_SPKI_ED25519, publicKey)), format: 'der', type: 'spki' });
    return opensslVerifyRaw(null, message, key, signature);
  } catch {
    return false;
  }
}

export function nobleCofactoredVerify(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export interface VerifyCase {
  name: string;
  publicKey: Uint8Array;
  signature: Uint8Array;
  message: Uint8Array;
  /** what strict verification (both implementations) must return */
  valid: boolean;
  /** what raw OpenSSL returns, when the case is meant to show a difference */
  openssl?: boolean;
  /** what raw noble (cofactored, strict decoding) returns, when relevant */
  nobleCofactored?: boolean;
}

const secret = seededBytes(32, 77);
const { scalar: a, pointBytes: honestKey } = ed25519.utils.getExtendedPublicKey(secret);
const B = Point.BASE;

/** (R, S) for nonce scalar r, R given as bytes (any encoding the caller likes), under key bytes. */
function signWith(rBytes: Uint8Array, r: bigint, keyBytes: Uint8Array, message: Uint8Array): Uint8Array {
  const k = challenge(rBytes, keyBytes, message);
  return concatBytes(rBytes, le32(mod(r + k * a, L)));
}

function smallOrderKeyCase(name: string, key: Uint8Array): VerifyCase {
  // R = [S]B and a message whose k is a multiple of 8, so [k]A = identity and the cofactorless
  // equation [S]B = R + [k]A holds: only a small-order check can refuse it.
  const S = 1234567n;
  const R = B.multiply(S).toBytes();
  const message = messageWhere(R, key, (k) => k % 8n === 0n);
  return { name, publicKey: key, signature: concatBytes(R, le32(S)), message, valid: false, openssl: true, nobleCofactored: false };
}

export function ed25519VerifyCases(): VerifyCase[] {
  const cases: VerifyCase[] = [];
  const message = utf8('insomnia-sync snapshot');
  const honest = ed25519.sign(message, secret);
  const S = leToBigint(honest.subarray(32));

  cases.push({ name: 'honest signature', publicKey: honestKey, signature: honest, message, valid: true, openssl: true, nobleCofactored: true });
  cases.push({ name: 'honest signature, other message', publicKey: honestKey, signature: honest, message: utf8('other'), valid: false, openssl: false });
  cases.push({ name: 'S + L (non-canonical S)', publicKey: honestKey, signature: concatBytes(honest.subarray(0, 32), le32(S + L)), message, valid: false, openssl: false, nobleCofactored: false });
  cases.push({ name: 'S = 2^256 − 1', publicKey: honestKey, signature: concatBytes(honest.subarray(0, 32), new Uint8Array(32).fill(0xff)), message, valid: false, openssl: false });
  cases.push({ name: 'S = L', publicKey: honestKey, signature: concatBytes(honest.subarray(0, 32), le32(L)), message, valid: false, openssl: false });
  cases.push({ name: 'all-zero signature', publicKey: honestKey, signature: new Uint8Array(64), message, valid: false, openssl: false });

  TORSION.forEach((t, i) => cases.push(smallOrderKeyCase(`small-order public key ${i}·T (${toHex(t).slice(0, 8)}…)`, t)));
  // Non-canonical encodings of small-order points: y ≥ p, or x = 0 with the sign bit set.
  cases.push(smallOrderKeyCase('public key y = p (non-canonical 0, order 4)', le32(P)));
  cases.push(smallOrderKeyCase('public key y = p, sign bit set', withSignBit(le32(P))));
  cases.push(smallOrderKeyCase('public key y = p + 1 (non-canonical identity)', le32(P + 1n)));
  cases.push(smallOrderKeyCase('public key identity with sign bit ("negative zero")', withSignBit(le32(1n))));
  cases.push(smallOrderKeyCase('public key y = p − 1 (order 2) with sign bit', withSignBit(le32(P - 1n))));

  // y = p + 3 encodes (non-canonically) the valid point with y = 3, whose discrete log nobody
  // knows; strict decoding must refuse the encoding before any arithmetic.
  cases.push({ name: 'public key y = p + 3 (non-canonical, not small order)', publicKey: le32(P + 3n), signature: honest, message, valid: false });
  cases.push({ name: 'public key not on the curve (y = 2)', publicKey: le32(2n), signature: honest, message, valid: false, openssl: false, nobleCofactored: false });
  cases.push({ name: 'public key 0xff…ff', publicKey: new Uint8Array(32).fill(0xff), signature: honest, message, valid: false, openssl: false });

  // R = identity is small order but allowed (RFC 8032 does not forbid it): S = k·a.
  const id = le32(1n);
  cases.push({ name: 'R = identity (canonical), S = k·a', publicKey: honestKey, signature: signWith(id, 0n, honestKey, message), message, valid: true, openssl: true, nobleCofactored: true });
  cases.push({ name: 'R = identity encoded as y = p + 1', publicKey: honestKey, signature: signWith(le32(P + 1n), 0n, honestKey, message), message, valid: false, openssl: false, nobleCofactored: false });
  cases.push({ name: 'R = identity with sign bit ("negative zero")', publicKey: honestKey, signature: signWith(withSignBit(id), 0n, honestKey, message), message, valid: false, openssl: false, nobleCofactored: false });
  cases.push({ name: 'R not on the curve (y = 2)', publicKey: honestKey, signature: concatBytes(le32(2n), honest.subarray(32)), message, valid: false, openssl: false, nobleCofactored: false });

  // R shifted by a point of order 8: the cofactored equation still holds, the cofactorless does not.
  const r = 987654321n;
  const shiftedR = B.multiply(r).add(T8).toBytes();
  cases.push({ name: 'R + T8 (torsion-shifted nonce point)', publicKey: honestKey, signature: signWith(shiftedR, r, honestKey, message), message, valid: false, openssl: false, nobleCofactored: true });

  // Mixed-order public key A = aB + T8 (not small order): [k]A = [k]aB + [k]T8, so the
  // cofactorless equation holds exactly when 8 divides k.
  const mixedKey = B.multiply(a).add(T8).toBytes();
  const R = B.multiply(r).toBytes();
  const kDivisible = messageWhere(R, mixedKey, (k) => k % 8n === 0n);
  const kOdd = messageWhere(R, mixedKey, (k) => k % 2n === 1n);
  cases.push({ name: 'mixed-order key, 8 | k', publicKey: mixedKey, signature: signWith(R, r, mixedKey, kDivisible), message: kDivisible, valid: true, openssl: true, nobleCofactored: true });
  cases.push({ name: 'mixed-order key, k odd', publicKey: mixedKey, signature: signWith(R, r, mixedKey, kOdd), message: kOdd, valid: false, openssl: false, nobleCofactored: true });
  return cases;
}

/** u-coordinates of low order (RFC 7748 §6.1 / libsodium's blocklist) and their non-canonical twins. */
export function lowOrderU(): { name: string; u: Uint8Array }[] {
  const canonical: [string, bigint][] = [
    ['0', 0n],
    ['1', 1n],
    ['p − 1', P - 1n],
    ['order-8 point 1', 325606250916557431795983626356110631294008115727848805560023387167927233504n],
    ['order-8 point 2', 39382357235489614581723060781553021112529911719440698176882885853963445705823n],
    ['p (non-canonical 0)', P],
    ['p + 1 (non-canonical 1)', P + 1n],
  ];
  return canonical.flatMap(([name, u]) => [
    { name: `u = ${name}`, u: le32(u) },
    { name: `u = ${name}, top bit set`, u: withSignBit(le32(u)) },
  ]);
}

/** A signature by `signer` on `message` whose R is shifted by a point of order 8, S recomputed. */
export function torsionShiftedSignature(signer: Uint8Array, message: Uint8Array): Uint8Array {
  const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(signer);
  const r = 424242n;
  const R = B.multiply(r).add(T8).toBytes();
  return concatBytes(R, le32(mod(r + challenge(R, pointBytes, message) * scalar, L)));
}

/** Under the identity as public key, R = [S]B ‖ S satisfies [S]B = R + [k]A for every message. */
export const IDENTITY_KEY = le32(1n);
export function identityKeySignature(): Uint8Array {
  const S = 31337n;
  return concatBytes(B.multiply(S).toBytes(), le32(S));
}
