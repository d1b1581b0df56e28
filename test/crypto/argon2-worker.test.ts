import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { CryptoArgumentError } from '../../src/crypto/errors.js';
import { argon2idRaw, deriveMasterKey, MIN_KDF, type Argon2idFunction, type Argon2RawOptions, type KdfParams } from '../../src/crypto/kdf.js';
import { argon2idInWorker, argon2idWorker } from '../../src/native/argon2-worker.js';
import { argon2OptionsOf, h, loadVectors, seededBytes, type Argon2Vector } from './helpers.js';

const { vectors } = loadVectors<{ vectors: Argon2Vector[] }>('argon2id.json');

describe('argon2idInWorker gives the same bytes as argon2idRaw', () => {
  for (const v of vectors) {
    it(`reference vector: ${v.name}`, async () => {
      const tag = await argon2idInWorker(h(v.password), h(v.salt), argon2OptionsOf(v));
      expect(toHex(tag)).toBe(v.tag);
    });
  }

  const cases: [string, Uint8Array, Uint8Array, Argon2RawOptions][] = [
    ['small memory, two lanes, 24-byte tag', utf8('pw'), seededBytes(16, 3), { memoryKiB: 64, iterations: 2, parallelism: 2, hashLength: 24 }],
    ['with a secret', utf8('pw'), seededBytes(16, 3), { memoryKiB: 64, iterations: 2, parallelism: 2, hashLength: 24, secret: seededBytes(8, 4) }],
    ['an empty secret and empty associated data (both ignored)', utf8('pw'), seededBytes(8, 5), { memoryKiB: 256, iterations: 1, parallelism: 1, hashLength: 64, secret: new Uint8Array(0), associatedData: new Uint8Array(0) }],
    ['a password that is a view into a larger buffer', seededBytes(40, 6).subarray(5, 29), seededBytes(16, 7), { memoryKiB: 128, iterations: 3, parallelism: 4, hashLength: 32 }],
  ];
  for (const [name, password, salt, opts] of cases) {
    it(name, async () => {
      const before = toHex(password);
      const fromWorker = await argon2idInWorker(password, salt, opts);
      expect(fromWorker.length).toBe(opts.hashLength);
      expect(toHex(fromWorker)).toBe(toHex(await argon2idRaw(password, salt, opts)));
      // The worker got copies: the caller's bytes are neither detached nor changed.
      expect(toHex(password)).toBe(before);
    });
  }

  it('deriveMasterKey through the worker equals deriveMasterKey on this thread, at MIN_KDF', async () => {
    const params: KdfParams = { alg: 'argon2id', ...MIN_KDF, salt: seededBytes(16, 8) };
    const inThread = await deriveMasterKey('correct horse ﬁ', params);
    const viaWorker = await deriveMasterKey('correct horse fi', params, { argon2id: argon2idInWorker });
    expect(viaWorker.length).toBe(32);
    expect(toHex(viaWorker)).toBe(toHex(inThread));
    expect(toHex(await deriveMasterKey('correct horse fj', params, { argon2id: argon2idInWorker }))).not.toBe(toHex(inThread));
  });

  it('refuses the same malformed arguments, with the same error', async () => {
    const ok = { memoryKiB: 64, iterations: 1, parallelism: 1, hashLength: 32 };
    await expect(argon2idInWorker(utf8('pw'), new Uint8Array(7), ok)).rejects.toThrow(CryptoArgumentError);
    await expect(argon2idInWorker(utf8('pw'), new Uint8Array(16), { ...ok, iterations: 0 })).rejects.toThrow(CryptoArgumentError);
    await expect(argon2idInWorker(utf8('pw'), new Uint8Array(16), { ...ok, memoryKiB: 7 })).rejects.toThrow(CryptoArgumentError);
    await expect(argon2idInWorker('pw' as unknown as Uint8Array, new Uint8Array(16), ok)).rejects.toThrow(CryptoArgumentError);
  });
});

describe('deriveMasterKey with an injected Argon2id', () => {
  it('hands it the NFKC UTF-8 password and zeroes that copy afterwards', async () => {
    let seen: Uint8Array | undefined;
    let seenHex = '';
    const spy: Argon2idFunction = async (password, salt, opts) => {
      seen = password;
      seenHex = toHex(password);
      return argon2idRaw(password, salt, opts);
    };
    const params: KdfParams = { alg: 'argon2id', ...MIN_KDF, salt: seededBytes(16, 9) };
    const key = await deriveMasterKey('ﬁne password', params, { argon2id: spy });
    expect(seenHex).toBe(toHex(utf8('fine password')));
    expect(seen!.length).toBe(utf8('fine password').length);
    expect(seen!.every((b) => b === 0)).toBe(true);
    expect(toHex(key)).toBe(toHex(await deriveMasterKey('fine password', params)));
  });
});

describe('when no worker can run', () => {
  it('falls back to this thread and still gives the right bytes', async () => {
    const reasons: unknown[] = [];
    // A worker heap far too small to boot: Node stops it with ERR_WORKER_OUT_OF_MEMORY.
    const starved = argon2idWorker({ resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 }, onFallback: (r) => reasons.push(r) });
    const v = vectors[1]!;
    const tag = await starved(h(v.password), h(v.salt), { memoryKiB: v.memoryKiB, iterations: v.iterations, parallelism: v.parallelism, hashLength: 32 });
    expect(toHex(tag)).toBe(v.tag);
    expect(reasons).toHaveLength(1);
    expect((reasons[0] as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
  });

  it('does not fall back when the worker succeeds', async () => {
    const reasons: unknown[] = [];
    await argon2idWorker({ onFallback: (r) => reasons.push(r) })(utf8('pw'), seededBytes(16, 10), { memoryKiB: 64, iterations: 1, parallelism: 1, hashLength: 32 });
    expect(reasons).toEqual([]);
  });
});

/** Runs `work` while a 5 ms interval timer records when it actually fires. */
async function timerTicksDuring(work: () => Promise<unknown>): Promise<{ ticks: number; maxGapMs: number; elapsedMs: number }> {
  const stamps: number[] = [];
  const start = performance.now();
  const timer = setInterval(() => stamps.push(performance.now()), 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const end = performance.now();
  const points = [start, ...stamps, end];
  let maxGapMs = 0;
  for (let i = 1; i < points.length; i++) maxGapMs = Math.max(maxGapMs, points[i]! - points[i - 1]!);
  return { ticks: stamps.length, maxGapMs, elapsedMs: end - start };
}

describe('the event loop while Argon2id runs (64 MiB, t = 3)', () => {
  const password = utf8('spinner-keeps-spinning');
  const salt = seededBytes(16, 11);
  const opts: Argon2RawOptions = { memoryKiB: MIN_KDF.memoryKiB, iterations: MIN_KDF.iterations, parallelism: 1, hashLength: 32 };

  it('keeps running on the worker path and stops on the in-thread path', async () => {
    // Load hash-wasm on this thread first, so the in-thread measurement is the computation alone.
    await argon2idRaw(password, salt, { ...opts, memoryKiB: 64, iterations: 1 });
    let fromWorker: Uint8Array = new Uint8Array(0);
    let inThread: Uint8Array = new Uint8Array(0);
    const worker = await timerTicksDuring(async () => {
      fromWorker = await argon2idInWorker(password, salt, opts);
    });
    const thread = await timerTicksDuring(async () => {
      inThread = await argon2idRaw(password, salt, opts);
    });
    expect(toHex(fromWorker)).toBe(toHex(inThread));

    // In-thread, one gap covers most of the computation: a spinner would freeze that long.
    expect(thread.maxGapMs).toBeGreaterThan(0.6 * thread.elapsedMs);
    expect(thread.ticks).toBeLessThanOrEqual(5);
    // On the worker path the timer keeps firing: no gap comes near the whole run, and the ticks
    // are many (at least a tenth of what a 5 ms timer could give, allowing for a loaded machine).
    expect(worker.maxGapMs).toBeLessThan(0.25 * worker.elapsedMs);
    expect(worker.ticks).toBeGreaterThanOrEqual(Math.max(10, worker.elapsedMs / 5 / 10));
  });
});
