/**
 * Account identity keys: X25519 (RFC 7748) to receive sealed keys, Ed25519 (RFC 8032) to sign
 * snapshots, and the human-comparable fingerprint of both public keys.
 *
 * The curve operations run on the Primitives passed in (p.x25519 / p.ed25519: native in the CLI);
 * without them, on the default curve implementation (curves.ts). This module imports no curve
 * library itself.
 */
import { defaultHashes } from './hash-default.js';
import { assertBytes, assertString } from './args.js';
import { ed25519Of, isAllZero, x25519Of } from './curves.js';
import { concatBytes, utf8 } from './encoding.js';
import { CryptoArgumentError } from './errors.js';
import { LABELS } from './labels.js';
import type { Primitives } from './primitives-contract.js';

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

export interface Identity {
  x25519: KeyPair;
  ed25519: KeyPair;
}

export const SECRET_KEY_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

export function generateIdentity(p: Primitives): Identity {
  return identityFromSecrets(p.randomBytes(SECRET_KEY_LENGTH), p.randomBytes(SECRET_KEY_LENGTH), p);
}

export function identityFromSecrets(x25519Secret: Uint8Array, ed25519Secret: Uint8Array, p?: Primitives): Identity {
  assertBytes(x25519Secret, 'x25519Secret', SECRET_KEY_LENGTH);
  assertBytes(ed25519Secret, 'ed25519Secret', SECRET_KEY_LENGTH);
  return {
    x25519: { publicKey: x25519Of(p).getPublicKey(x25519Secret), secretKey: x25519Secret.slice() },
    ed25519: { publicKey: ed25519Of(p).getPublicKey(ed25519Secret), secretKey: ed25519Secret.slice() },
  };
}

/**
 * X25519(secret, peer public) per RFC 7748. Throws CryptoArgumentError when the result is all
 * zeros (a low-order peer key), which would make the "shared" secret known to everyone.
 */
export function x25519SharedSecret(secret: Uint8Array, peerPublic: Uint8Array, p?: Primitives): Uint8Array {
  assertBytes(secret, 'secret', SECRET_KEY_LENGTH);
  assertBytes(peerPublic, 'peerPublic', PUBLIC_KEY_LENGTH);
  const impl = x25519Of(p);
  let shared: Uint8Array;
  try {
    shared = impl.sharedSecret(secret, peerPublic);
  } catch {
    throw new CryptoArgumentError('X25519 peer public key is invalid (low order)');
  }
  // Checked here too, so an injected implementation cannot skip it.
  if (isAllZero(shared)) throw new CryptoArgumentError('X25519 peer public key is invalid (low order)');
  return shared;
}

export function x25519PublicKey(secret: Uint8Array, p?: Primitives): Uint8Array {
  assertBytes(secret, 'secret', SECRET_KEY_LENGTH);
  return x25519Of(p).getPublicKey(secret);
}

const FINGERPRINT_LABEL = utf8(LABELS.fingerprint);
export const FINGERPRINT_GROUPS = 8;

/**
 * SHA-256(label ‖ x25519 public ‖ ed25519 public), read as 8 big-endian 32-bit words, each shown
 * as 5 decimal digits (word mod 100000), like Signal's safety numbers: "12345 67890 …".
 * About 133 bits survive the reduction, far beyond what a second-preimage search could reach.
 */
export function fingerprint(x25519PublicKey: Uint8Array, ed25519PublicKey: Uint8Array, p?: Primitives): string {
  assertBytes(x25519PublicKey, 'x25519PublicKey', PUBLIC_KEY_LENGTH);
  assertBytes(ed25519PublicKey, 'ed25519PublicKey', PUBLIC_KEY_LENGTH);
  const input = concatBytes(FINGERPRINT_LABEL, x25519PublicKey, ed25519PublicKey);
  const digest = p ? p.sha256(input) : defaultHashes().sha256(input);
  const view = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
  const groups: string[] = [];
  for (let i = 0; i < FINGERPRINT_GROUPS; i++) {
    groups.push(String(view.getUint32(4 * i) % 100000).padStart(5, '0'));
  }
  return groups.join(' ');
}

/** Strips whitespace and dashes, so "12345-67890 …" typed by a user compares equal. */
export function normalizeFingerprint(text: string): string {
  assertString(text, 'fingerprint');
  return text.replace(/[\s-]+/g, '');
}

export function fingerprintsEqual(a: string, b: string): boolean {
  const na = normalizeFingerprint(a);
  return /^[0-9]{40}$/.test(na) && na === normalizeFingerprint(b);
}

export function signDetached(ed25519Secret: Uint8Array, message: Uint8Array, p?: Primitives): Uint8Array {
  assertBytes(ed25519Secret, 'ed25519Secret', SECRET_KEY_LENGTH);
  assertBytes(message, 'message');
  return ed25519Of(p).sign(ed25519Secret, message);
}

/**
 * Strict RFC 8032 verification (no ZIP-215 leniency): non-canonical encodings of S, A or R, and
 * small-order public keys, are rejected, and the cofactorless equation must hold (curves.ts).
 * Malformed keys or signatures are untrusted input, so they yield false rather than throwing.
 */
export function verifyDetached(ed25519Public: Uint8Array, signature: Uint8Array, message: Uint8Array, p?: Primitives): boolean {
  assertBytes(ed25519Public, 'ed25519Public');
  assertBytes(signature, 'signature');
  assertBytes(message, 'message');
  if (ed25519Public.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
  const impl = ed25519Of(p);
  try {
    return impl.verify(ed25519Public, signature, message) === true;
  } catch {
    return false;
  }
}
