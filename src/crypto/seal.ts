/**
 * Anonymous sealed boxes: how a key is handed to a member who holds only an X25519 key pair.
 *
 *   sealed = ephemeral public key (32) ‖ envelope
 *   key    = HKDF-SHA256(ikm = X25519(eph secret, recipient public),
 *                        salt = eph public ‖ recipient public, info = "insomnia-sync/v1/seal")
 *
 * Binding both public keys into the salt ties the key to this exact exchange. The envelope's AAD
 * still names the slot, so a sealed team key cannot be replayed as, say, a sealed workspace key.
 */
import { openEnvelope, sealEnvelope, ENVELOPE_OVERHEAD, type Slot } from './aead.js';
import { assertBytes } from './args.js';
import { concatBytes, utf8 } from './encoding.js';
import { IntegrityError } from './errors.js';
import { hkdfSha256 } from './hkdf.js';
import { x25519PublicKey, x25519SharedSecret } from './keys.js';
import { LABELS } from './labels.js';
import type { Primitives } from './primitives-contract.js';

const SEAL_INFO = utf8(LABELS.seal);
const X25519_LENGTH = 32;
export const SEAL_OVERHEAD = X25519_LENGTH + ENVELOPE_OVERHEAD;

function sealKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  return hkdfSha256(shared, concatBytes(ephemeralPublic, recipientPublic), SEAL_INFO, 32);
}

export function sealToPublicKey(p: Primitives, recipientX25519Public: Uint8Array, plaintext: Uint8Array, slot: Slot): Uint8Array {
  assertBytes(recipientX25519Public, 'recipientX25519Public', X25519_LENGTH);
  assertBytes(plaintext, 'plaintext');
  const ephemeralSecret = p.randomBytes(X25519_LENGTH);
  let ephemeralPublic: Uint8Array;
  let shared: Uint8Array;
  try {
    ephemeralPublic = x25519PublicKey(ephemeralSecret, p);
    // Throws CryptoArgumentError on a low-order recipient key: sealing to it would be readable by anyone.
    shared = x25519SharedSecret(ephemeralSecret, recipientX25519Public, p);
  } finally {
    ephemeralSecret.fill(0);
  }
  const key = sealKey(shared, ephemeralPublic, recipientX25519Public);
  shared.fill(0);
  try {
    return concatBytes(ephemeralPublic, sealEnvelope(p, key, plaintext, slot));
  } finally {
    key.fill(0);
  }
}

export function openSealed(p: Primitives, recipientX25519Secret: Uint8Array, sealed: Uint8Array, slot: Slot): Uint8Array {
  assertBytes(recipientX25519Secret, 'recipientX25519Secret', X25519_LENGTH);
  assertBytes(sealed, 'sealed');
  if (sealed.length < SEAL_OVERHEAD) throw new IntegrityError();
  const ephemeralPublic = sealed.subarray(0, X25519_LENGTH);
  const recipientPublic = x25519PublicKey(recipientX25519Secret, p);
  let shared: Uint8Array;
  try {
    shared = x25519SharedSecret(recipientX25519Secret, ephemeralPublic, p);
  } catch {
    throw new IntegrityError();
  }
  const key = sealKey(shared, ephemeralPublic, recipientPublic);
  shared.fill(0);
  try {
    return openEnvelope(p, key, sealed.subarray(X25519_LENGTH), slot);
  } finally {
    key.fill(0);
  }
}
