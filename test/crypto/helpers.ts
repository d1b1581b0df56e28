import type { Argon2RawOptions } from '../../src/crypto/kdf.js';
import { readFileSync } from 'node:fs';
import { fromHex } from '../../src/crypto/encoding.js';

export function loadVectors<T>(file: string): T {
  return JSON.parse(readFileSync(new URL(`./vectors/${file}`, import.meta.url), 'utf8')) as T;
}

export const h = (hex: string): Uint8Array => fromHex(hex);

export function flipBit(bytes: Uint8Array, index: number, bit = 0): Uint8Array {
  const copy = bytes.slice();
  copy[index] = copy[index]! ^ (1 << bit);
  return copy;
}

/** Pseudo-random bytes from a seed (xorshift32): reproducible inputs for cross-implementation tests. */
export function seededBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** vitest's deep equality walks typed arrays element by element (seconds per MiB); compare natively. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A vector of test/crypto/vectors/argon2id.json (RFC 9106 and our own). */
export interface Argon2Vector {
  name: string;
  password: string;
  salt: string;
  secret?: string;
  associatedData?: string;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  tag: string;
}

/** The argon2idRaw options a vector describes. */
export function argon2OptionsOf(v: Argon2Vector): Argon2RawOptions {
  return {
    memoryKiB: v.memoryKiB,
    iterations: v.iterations,
    parallelism: v.parallelism,
    hashLength: v.tag.length / 2,
    ...(v.secret !== undefined ? { secret: h(v.secret) } : {}),
    ...(v.associatedData !== undefined ? { associatedData: h(v.associatedData) } : {}),
  };
}
