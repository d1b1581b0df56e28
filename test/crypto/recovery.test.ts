import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { CryptoArgumentError } from '../../src/crypto/errors.js';
import { deriveRecoverySecrets, formatRecoveryKey, generateRecoveryKey, parseRecoveryKey } from '../../src/crypto/recovery.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('recovery keys', () => {
  it('formats 32 bytes as 13 groups of base32 and parses back, ignoring case, spaces and dashes', () => {
    const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
    const text = formatRecoveryKey(key);
    expect(text).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    expect(parseRecoveryKey(text)).toEqual(key);
    expect(parseRecoveryKey(text.toLowerCase().replace(/-/g, ' '))).toEqual(key);
    // RFC 4648 base32 of the same bytes, without padding
    expect(text.replace(/-/g, '')).toBe(rfc4648Base32(key));
  });

  it('round-trips random keys', () => {
    for (let i = 0; i < 50; i++) {
      const key = generateRecoveryKey(noblePrimitives);
      expect(parseRecoveryKey(formatRecoveryKey(key))).toEqual(key);
    }
  });

  it('rejects wrong lengths, foreign characters and impossible last characters', () => {
    const text = formatRecoveryKey(new Uint8Array(32));
    expect(() => parseRecoveryKey(text.slice(0, -1))).toThrow(CryptoArgumentError);
    expect(() => parseRecoveryKey(text.replace(/^A/, '1'))).toThrow(/A–Z/);
    // the last character carries 1 bit: only A (0) and Q (16) are possible
    expect(() => parseRecoveryKey(text.slice(0, -1) + 'B')).toThrow(/impossible/);
    expect(parseRecoveryKey(text.slice(0, -1) + 'Q')[31]).toBe(1);
  });

  it('derives the auth and wrap keys with HKDF-SHA256 under distinct labels', () => {
    const key = new Uint8Array(32).fill(3);
    const s = deriveRecoverySecrets(key);
    expect(s.authKey).toEqual(hkdf(sha256, key, undefined, utf8('insomnia-sync/v1/recovery-auth-key'), 32));
    expect(s.wrapKey).toEqual(hkdf(sha256, key, undefined, utf8('insomnia-sync/v1/recovery-wrap-key'), 32));
    expect(s.authKey).not.toEqual(s.wrapKey);
    expect(() => deriveRecoverySecrets(new Uint8Array(16))).toThrow(CryptoArgumentError);
  });
});

function rfc4648Base32(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  while (bits.length % 5) bits += '0';
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}
