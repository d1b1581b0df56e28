/**
 * Password → master key (Argon2id, RFC 9106) → account secrets (HKDF-SHA256, RFC 5869).
 * The password itself leaves this module only as the Argon2id output, or as input to the Argon2id
 * implementation a caller injects (the CLI's computes in a worker thread; see deriveMasterKey).
 */
import type { Argon2Options as HashWasmArgon2Options } from 'hash-wasm/dist/argon2.umd.min.js';
import { argon2idAsync } from '@noble/hashes/argon2.js';
import { hkdfSha256 } from './hkdf.js';
import { assertBytes, assertString } from './args.js';
import { utf8 } from './encoding.js';
import { CryptoArgumentError, KdfParamsError } from './errors.js';
import { LABELS } from './labels.js';

export interface KdfParams {
  alg: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  salt: Uint8Array;
}

/** The client refuses anything weaker, whatever the server says (above OWASP's m=19 MiB, t=2). */
export const MIN_KDF = { memoryKiB: 65536, iterations: 3, parallelism: 1 } as const;

/**
 * Parameters for new accounts: the strongest that fit in about one second with hash-wasm here.
 * Measured on the 2-core build machine (Node 20.20, hash-wasm 4.13, single thread, 3 runs each):
 *   m=64 MiB t=3: 0.29–0.38 s; m=128 MiB t=3: 0.62–0.92 s; m=192 MiB t=3: 1.0–1.1 s (RSS 241 MiB);
 *   m=256 MiB t=3: 1.3–2.1 s (RSS 305 MiB).
 * 192 MiB, t=3 is the largest that stays near one second. p=1 because hash-wasm is single-threaded,
 * so more lanes would cost the user time without costing an attacker's GPU anything.
 */
export const DEFAULT_KDF = { memoryKiB: 196608, iterations: 3, parallelism: 1 } as const;

export const KDF_SALT_LENGTH = 16;
export const MASTER_KEY_LENGTH = 32;

// Upper bounds: beyond these a server is more likely hostile (denial of service) than careful.
const MAX_MEMORY_KIB = 4 * 1024 * 1024;
const MAX_ITERATIONS = 100;
const MAX_PARALLELISM = 16;

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

export function checkKdfParams(p: KdfParams): void {
  if (typeof p !== 'object' || p === null) throw new KdfParamsError('KDF parameters missing');
  if (p.alg !== 'argon2id') throw new KdfParamsError(`unsupported KDF ${JSON.stringify(p.alg)}: only argon2id is accepted`);
  if (!isIntegerIn(p.memoryKiB, MIN_KDF.memoryKiB, MAX_MEMORY_KIB)) {
    throw new KdfParamsError(`KDF memory ${String(p.memoryKiB)} KiB outside ${MIN_KDF.memoryKiB}..${MAX_MEMORY_KIB} KiB`);
  }
  if (!isIntegerIn(p.iterations, MIN_KDF.iterations, MAX_ITERATIONS)) {
    throw new KdfParamsError(`KDF iterations ${String(p.iterations)} outside ${MIN_KDF.iterations}..${MAX_ITERATIONS}`);
  }
  if (!isIntegerIn(p.parallelism, MIN_KDF.parallelism, MAX_PARALLELISM)) {
    throw new KdfParamsError(`KDF parallelism ${String(p.parallelism)} outside ${MIN_KDF.parallelism}..${MAX_PARALLELISM}`);
  }
  if (!(p.salt instanceof Uint8Array) || p.salt.length !== KDF_SALT_LENGTH) {
    throw new KdfParamsError(`KDF salt must be ${KDF_SALT_LENGTH} bytes`);
  }
}

/** NFKC first, so the same password typed on different keyboards/OSes gives the same key. */
export function normalizePassword(password: string): Uint8Array {
  assertString(password, 'password');
  return utf8(password.normalize('NFKC'));
}

/**
 * `impl.argon2id` (e.g. Primitives from the CLI, which runs it in a worker thread so a spinner keeps
 * turning) replaces the in-thread argon2idRaw; every implementation gives the same bytes.
 */
export async function deriveMasterKey(password: string, p: KdfParams, impl?: { argon2id?: Argon2idFunction }): Promise<Uint8Array> {
  checkKdfParams(p);
  const normalized = normalizePassword(password);
  try {
    return await (impl?.argon2id ?? argon2idRaw)(normalized, p.salt, {
      memoryKiB: p.memoryKiB,
      iterations: p.iterations,
      parallelism: p.parallelism,
      hashLength: MASTER_KEY_LENGTH,
    });
  } finally {
    normalized.fill(0);
  }
}

export interface Argon2RawOptions {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  hashLength: number;
  secret?: Uint8Array;
  associatedData?: Uint8Array;
}

/** Argon2id with argon2idRaw's contract: the same argument checks, byte-identical output. */
export type Argon2idFunction = (password: Uint8Array, salt: Uint8Array, opts: Argon2RawOptions) => Promise<Uint8Array>;

/**
 * Checks argon2idRaw's arguments and returns the options hash-wasm computes them from, or
 * undefined when only noble can (associated data). Exported so that another thread can run the
 * same hash-wasm call (src/native/argon2-worker.ts) after the same checks.
 */
export function hashWasmArgon2Options(password: Uint8Array, salt: Uint8Array, opts: Argon2RawOptions): HashWasmArgon2Options | undefined {
  assertBytes(password, 'password');
  assertBytes(salt, 'salt');
  if (salt.length < 8) throw new CryptoArgumentError(`salt must be at least 8 bytes, got ${salt.length}`);
  const { memoryKiB, iterations, parallelism, hashLength, secret, associatedData } = opts;
  if (!isIntegerIn(parallelism, 1, 0xffffff)) throw new CryptoArgumentError('parallelism must be an integer ≥ 1');
  if (!isIntegerIn(iterations, 1, 0xffffffff)) throw new CryptoArgumentError('iterations must be an integer ≥ 1');
  if (!isIntegerIn(memoryKiB, 8 * parallelism, 0xffffffff)) throw new CryptoArgumentError('memoryKiB must be an integer ≥ 8 × parallelism');
  if (!isIntegerIn(hashLength, 4, 0xffffffff)) throw new CryptoArgumentError('hashLength must be an integer ≥ 4');
  if (secret !== undefined) assertBytes(secret, 'secret');
  if (associatedData !== undefined) assertBytes(associatedData, 'associatedData');
  if (associatedData !== undefined && associatedData.length > 0) return undefined;
  return {
    password,
    salt,
    ...(secret !== undefined && secret.length > 0 ? { secret } : {}),
    iterations,
    parallelism,
    memorySize: memoryKiB,
    hashLength,
    outputType: 'binary',
  };
}

/**
 * Plain Argon2id with no minimum check (vector tests use tiny memory), on the calling thread.
 * hash-wasm is used because it is 3–4× faster than pure JS; it has no associated-data input, so
 * the rare call with AD (the RFC 9106 vector) goes to noble, whose output is identical (tested).
 * The computation blocks the event loop for its whole length (about a second at DEFAULT_KDF):
 * the CLI passes deriveMasterKey a worker-thread implementation instead (src/native/argon2-worker.ts).
 */
export async function argon2idRaw(password: Uint8Array, salt: Uint8Array, opts: Argon2RawOptions): Promise<Uint8Array> {
  const wasmOptions = hashWasmArgon2Options(password, salt, opts);
  if (wasmOptions === undefined) {
    const { memoryKiB, iterations, parallelism, hashLength, secret, associatedData } = opts;
    return argon2idAsync(password, salt, {
      m: memoryKiB,
      t: iterations,
      p: parallelism,
      dkLen: hashLength,
      maxmem: memoryKiB * 1024 + 1024 * 1024,
      ...(secret !== undefined ? { key: secret } : {}),
      ...(associatedData !== undefined ? { personalization: associatedData } : {}),
    });
  }
  // Loaded on first use: only login/signup/password change need it.
  const { default: wasm } = await import('hash-wasm/dist/argon2.umd.min.js');
  return new Uint8Array(await wasm.argon2id(wasmOptions));
}

export interface AccountSecrets {
  /** sent at login; the server stores only a hash of it */
  authKey: Uint8Array;
  /** encrypts the random account key; never leaves the client */
  wrapKey: Uint8Array;
}

export function deriveAccountSecrets(masterKey: Uint8Array): AccountSecrets {
  assertBytes(masterKey, 'masterKey', MASTER_KEY_LENGTH);
  return {
    authKey: hkdfSha256(masterKey, undefined, utf8(LABELS.authKey), 32),
    wrapKey: hkdfSha256(masterKey, undefined, utf8(LABELS.wrapKey), 32),
  };
}

export { hkdfSha256 } from './hkdf.js';
