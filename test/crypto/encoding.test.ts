import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  constantTimeEqual,
  fromBase64Url,
  fromHex,
  fromUtf8,
  toBase64Url,
  toHex,
  utf8,
} from '../../src/crypto/encoding.js';
import { CryptoArgumentError } from '../../src/crypto/errors.js';
import { seededBytes } from './helpers.js';

describe('hex', () => {
  it('round-trips and writes lowercase', () => {
    const bytes = Uint8Array.of(0, 1, 0xab, 0xff);
    expect(toHex(bytes)).toBe('0001abff');
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(toHex(every)).toBe(Buffer.from(every).toString('hex'));
    expect(fromHex(toHex(every))).toEqual(every);
    expect(fromHex('0001ABff')).toEqual(bytes);
    expect(fromHex('')).toEqual(new Uint8Array(0));
  });
  it('throws CryptoArgumentError on odd length, non-hex, wrong type, wrong expected length', () => {
    expect(() => fromHex('abc')).toThrow(/even length/);
    expect(() => fromHex('zz')).toThrow(/non-hex/);
    expect(() => fromHex('0x00')).toThrow(CryptoArgumentError);
    expect(() => fromHex(' 00')).toThrow(CryptoArgumentError);
    expect(() => fromHex(12 as unknown as string)).toThrow(/must be a string, got number/);
    expect(() => fromHex('00', 2)).toThrow(/expected 2 bytes/);
    expect(() => toHex([1] as unknown as Uint8Array)).toThrow(/must be a Uint8Array, got Array/);
  });
});

describe('utf8', () => {
  it('round-trips and is strict both ways', () => {
    expect(fromUtf8(utf8('héllo ☃ 😀'))).toBe('héllo ☃ 😀');
    expect(() => utf8('\udc00')).toThrow(CryptoArgumentError);
    expect(() => fromUtf8(Uint8Array.of(0xc3))).toThrow(CryptoArgumentError);
    expect(() => fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80))).toThrow(CryptoArgumentError);
  });
});

describe('base64url', () => {
  it('matches Node for every length 0..70', () => {
    for (let n = 0; n <= 70; n++) {
      const bytes = seededBytes(n, n + 1);
      const b64 = toBase64Url(bytes);
      expect(b64).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromBase64Url(b64)).toEqual(bytes);
    }
  });
  it('rejects padding, the standard alphabet, impossible lengths and non-canonical trailing bits', () => {
    expect(() => fromBase64Url('AA==')).toThrow(CryptoArgumentError);
    expect(() => fromBase64Url('a+b/')).toThrow(CryptoArgumentError);
    expect(() => fromBase64Url('AAAAA')).toThrow(CryptoArgumentError);
    expect(() => fromBase64Url('AB')).toThrow(/trailing bits/);
    expect(fromBase64Url('AA')).toEqual(Uint8Array.of(0));
    expect(() => fromBase64Url('AA', 2)).toThrow(/expected 2 bytes/);
  });
});

describe('constantTimeEqual and concatBytes', () => {
  it('compares by content and length', () => {
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(constantTimeEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
  it('concatenates in order', () => {
    expect(toHex(concatBytes(Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)))).toBe('010203');
  });
});
