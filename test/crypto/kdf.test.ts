import { argon2id } from '@noble/hashes/argon2.js';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { CryptoArgumentError, KdfParamsError } from '../../src/crypto/errors.js';
import {
  argon2idRaw,
  checkKdfParams,
  DEFAULT_KDF,
  deriveAccountSecrets,
  deriveMasterKey,
  hkdfSha256,
  MIN_KDF,
  normalizePassword,
  type KdfParams,
} from '../../src/crypto/kdf.js';
import { LABELS } from '../../src/crypto/labels.js';
// HKDF runs on whichever Primitives implementation is loaded (crypto/hash-default.ts): the reference.
import '../../src/crypto/primitives.js';
import { seededBytes } from './helpers.js';

const params: KdfParams = { alg: 'argon2id', ...MIN_KDF, salt: seededBytes(16, 1) };

describe('checkKdfParams', () => {
  it('accepts the minimum and the defaults', () => {
    expect(() => checkKdfParams(params)).not.toThrow();
    expect(() => checkKdfParams({ ...params, ...DEFAULT_KDF })).not.toThrow();
  });

  it('defaults are at least the minimum (and OWASP: m ≥ 19 MiB, t ≥ 2)', () => {
    expect(DEFAULT_KDF.memoryKiB).toBeGreaterThanOrEqual(MIN_KDF.memoryKiB);
    expect(DEFAULT_KDF.iterations).toBeGreaterThanOrEqual(MIN_KDF.iterations);
    expect(DEFAULT_KDF.parallelism).toBeGreaterThanOrEqual(MIN_KDF.parallelism);
    expect(MIN_KDF.memoryKiB).toBeGreaterThanOrEqual(19 * 1024);
    expect(MIN_KDF.iterations).toBeGreaterThanOrEqual(2);
  });

  const weaker: [string, Partial<Record<keyof KdfParams, unknown>>][] = [
    ['memory below minimum', { memoryKiB: MIN_KDF.memoryKiB - 1 }],
    ['iterations below minimum', { iterations: MIN_KDF.iterations - 1 }],
    ['parallelism zero', { parallelism: 0 }],
    ['another algorithm', { alg: 'argon2i' }],
    ['scrypt', { alg: 'scrypt' }],
    ['short salt', { salt: new Uint8Array(15) }],
    ['long salt', { salt: new Uint8Array(17) }],
    ['salt as a string', { salt: 'c2FsdHNhbHRzYWx0c2FsdA' }],
    ['memory absurd (> 4 GiB)', { memoryKiB: 4 * 1024 * 1024 + 1 }],
    ['iterations absurd', { iterations: 101 }],
    ['parallelism absurd', { parallelism: 17 }],
    ['fractional memory', { memoryKiB: 65536.5 }],
    ['memory as a string', { memoryKiB: '65536' }],
    ['NaN iterations', { iterations: Number.NaN }],
  ];
  for (const [name, change] of weaker) {
    it(`refuses ${name} (KdfParamsError, code weak_kdf)`, () => {
      const bad = { ...params, ...change } as KdfParams;
      expect(() => checkKdfParams(bad)).toThrow(KdfParamsError);
      try {
        checkKdfParams(bad);
      } catch (e) {
        expect((e as KdfParamsError).code).toBe('weak_kdf');
      }
    });
  }

  it('deriveMasterKey refuses weak parameters before doing any work', async () => {
    await expect(deriveMasterKey('pw', { ...params, memoryKiB: 19 * 1024, iterations: 2 })).rejects.toThrow(KdfParamsError);
  });
});

describe('normalizePassword', () => {
  it('applies NFKC then UTF-8', () => {
    expect(toHex(normalizePassword('ﬁ'))).toBe(toHex(utf8('fi')));
    expect(toHex(normalizePassword('e\u0301'))).toBe(toHex(utf8('\u00e9')));
    expect(toHex(normalizePassword('\u00e9'))).toBe('c3a9');
    expect(toHex(normalizePassword('Ａ'))).toBe(toHex(utf8('A')));
  });
  it('keeps case and spaces (only compatibility forms are folded)', () => {
    expect(toHex(normalizePassword('Pass word'))).toBe(toHex(utf8('Pass word')));
  });
  it('rejects a non-string and lone surrogates', () => {
    expect(() => normalizePassword(new Uint8Array(3) as unknown as string)).toThrow(CryptoArgumentError);
    expect(() => normalizePassword('\ud800x')).toThrow(CryptoArgumentError);
  });
});

describe('deriveMasterKey (argon2id at MIN_KDF)', () => {
  it('is deterministic, 32 bytes, equal to a direct Argon2id of the NFKC UTF-8 password, and salt-dependent', async () => {
    const a = await deriveMasterKey('correct horse ﬁ', params);
    const b = await deriveMasterKey('correct horse ﬁ', params);
    expect(a.length).toBe(32);
    expect(toHex(a)).toBe(toHex(b));
    // The same key from a different Unicode spelling of the password.
    expect(toHex(await deriveMasterKey('correct horse fi', params))).toBe(toHex(a));
    // It is plain Argon2id over the NFKC UTF-8 bytes with the given parameters (hash-wasm's
    // agreement with noble is checked below and by the reference vector in vectors.test.ts).
    const raw = await argon2idRaw(utf8('correct horse fi'), params.salt, { ...MIN_KDF, hashLength: 32 });
    expect(toHex(a)).toBe(toHex(raw));
    expect(toHex(await deriveMasterKey('correct horse fi', { ...params, salt: seededBytes(16, 2) }))).not.toBe(toHex(a));
    expect(toHex(await deriveMasterKey('correct horse fj', params))).not.toBe(toHex(a));
  });

  it('composed and decomposed é give the same key', async () => {
    const composed = await deriveMasterKey('caf\u00e9', params);
    const decomposed = await deriveMasterKey('cafe\u0301', params);
    expect(toHex(composed)).toBe(toHex(decomposed));
  });
});

describe('argon2idRaw', () => {
  it('hash-wasm path (no associated data) equals noble, with and without a secret', async () => {
    const password = utf8('pw');
    const salt = seededBytes(16, 3);
    const secret = seededBytes(8, 4);
    const opts = { memoryKiB: 64, iterations: 2, parallelism: 2, hashLength: 24 };
    expect(toHex(await argon2idRaw(password, salt, opts))).toBe(toHex(argon2id(password, salt, { t: 2, m: 64, p: 2, dkLen: 24 })));
    expect(toHex(await argon2idRaw(password, salt, { ...opts, secret }))).toBe(
      toHex(argon2id(password, salt, { t: 2, m: 64, p: 2, dkLen: 24, key: secret })),
    );
  });
  it('rejects malformed options', async () => {
    const ok = { memoryKiB: 64, iterations: 1, parallelism: 1, hashLength: 32 };
    await expect(argon2idRaw(utf8('pw'), new Uint8Array(7), ok)).rejects.toThrow(CryptoArgumentError);
    await expect(argon2idRaw(utf8('pw'), new Uint8Array(16), { ...ok, iterations: 0 })).rejects.toThrow(CryptoArgumentError);
    await expect(argon2idRaw(utf8('pw'), new Uint8Array(16), { ...ok, memoryKiB: 7 })).rejects.toThrow(CryptoArgumentError);
  });
});

describe('deriveAccountSecrets', () => {
  it('derives distinct auth and wrap keys with the labelled HKDF', () => {
    const master = seededBytes(32, 5);
    const { authKey, wrapKey } = deriveAccountSecrets(master);
    expect(authKey.length).toBe(32);
    expect(wrapKey.length).toBe(32);
    expect(toHex(authKey)).not.toBe(toHex(wrapKey));
    expect(toHex(authKey)).toBe(toHex(hkdfSha256(master, undefined, utf8(LABELS.authKey), 32)));
    expect(toHex(wrapKey)).toBe(toHex(hkdfSha256(master, undefined, utf8(LABELS.wrapKey), 32)));
    expect(toHex(authKey)).not.toBe(toHex(master));
  });
  it('requires a 32-byte master key', () => {
    expect(() => deriveAccountSecrets(new Uint8Array(31))).toThrow(/masterKey must be 32 bytes, got 31/);
  });
});
