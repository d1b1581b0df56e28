/**
 * Recovery keys (docs/crypto.md §3.2): 32 random bytes shown once to the user as RFC 4648 base32
 * in groups of four, e.g. `ABCD-EFGH-…` (13 groups, 52 characters). HKDF-SHA256 turns the key into
 * a recovery auth key (the server keeps only its hash and checks it before handing out anything)
 * and a recovery wrap key (envelope key of the account key, slot kind `recovery`).
 */
import { assertBytes, assertString } from './args.js';
import { utf8 } from './encoding.js';
import { CryptoArgumentError } from './errors.js';
import { hkdfSha256 } from './hkdf.js';
import { LABELS } from './labels.js';
import type { Primitives } from './primitives.js';

export const RECOVERY_KEY_LENGTH = 32;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** 32 bytes = 256 bits → 52 base32 characters (the last one carries 1 bit and 4 zero bits) */
const ENCODED_LENGTH = 52;
const GROUP = 4;

export interface RecoverySecrets {
  /** sent when recovering; the server stores only its SHA-256 */
  authKey: Uint8Array;
  /** wraps the account key; never leaves the client */
  wrapKey: Uint8Array;
}

export function generateRecoveryKey(p: Primitives): Uint8Array {
  const key = p.randomBytes(RECOVERY_KEY_LENGTH);
  assertBytes(key, 'random recovery key', RECOVERY_KEY_LENGTH);
  return key;
}

export function deriveRecoverySecrets(recoveryKey: Uint8Array): RecoverySecrets {
  assertBytes(recoveryKey, 'recoveryKey', RECOVERY_KEY_LENGTH);
  return {
    authKey: hkdfSha256(recoveryKey, undefined, utf8(LABELS.recoveryAuthKey), 32),
    wrapKey: hkdfSha256(recoveryKey, undefined, utf8(LABELS.recoveryWrapKey), 32),
  };
}

/** The human form: upper-case base32 without padding, groups of four joined by `-`. */
export function formatRecoveryKey(recoveryKey: Uint8Array): string {
  assertBytes(recoveryKey, 'recoveryKey', RECOVERY_KEY_LENGTH);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of recoveryKey) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join('-');
}

/**
 * Reads a recovery key as typed: case, spaces and dashes do not matter. Throws CryptoArgumentError
 * (code `bad_argument`) for a wrong length, a character outside the alphabet, or non-zero padding
 * bits, so a typo is caught before anything is sent.
 */
export function parseRecoveryKey(text: string): Uint8Array {
  assertString(text, 'recovery key');
  const clean = text.replace(/[\s-]/g, '').toUpperCase();
  if (clean.length !== ENCODED_LENGTH) {
    throw new CryptoArgumentError(`a recovery key has ${ENCODED_LENGTH} letters and digits (got ${clean.length})`);
  }
  const out = new Uint8Array(RECOVERY_KEY_LENGTH);
  let bits = 0;
  let value = 0;
  let index = 0;
  for (const ch of clean) {
    const digit = ALPHABET.indexOf(ch);
    if (digit < 0) throw new CryptoArgumentError(`a recovery key has only the letters A–Z and digits 2–7 (found ${JSON.stringify(ch)})`);
    value = ((value << 5) | digit) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      out[index++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) throw new CryptoArgumentError('this is not a recovery key (its last character is impossible)');
  return out;
}
