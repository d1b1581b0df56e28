/**
 * Strict shape checks shared by the manifest and index decoders. Each check returns a message
 * (or null when fine) so that every decoder can raise its own error class with its own code.
 */
import { chunkCount } from './chunking.js';
import { isFileMode } from './file-mode.js';
import { comparePaths, parentDirs, PathError, validatePath } from './paths.js';

const HEX32 = /^[0-9a-f]{32}$/;
const HEX64 = /^[0-9a-f]{64}$/;

export function isHexId32(v: unknown): v is string {
  return typeof v === 'string' && HEX32.test(v);
}

export function isHexId64(v: unknown): v is string {
  return typeof v === 'string' && HEX64.test(v);
}

// 32 bytes in unpadded base64url are 43 characters whose last one carries 4 spare bits that must
// be zero, so that each key has exactly one text form.
const B64URL_32 = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

export function isB64url32(v: unknown): v is string {
  return typeof v === 'string' && B64URL_32.test(v);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Message when `v` is not an object with exactly these own keys. */
export function checkExactKeys(v: unknown, keys: readonly string[], where: string): string | null {
  if (!isPlainObject(v)) return `${where} is not an object`;
  const own = Object.keys(v);
  for (const k of own) {
    if (!keys.includes(k)) return `${where} has unknown field '${k}'`;
  }
  for (const k of keys) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) return `${where} lacks field '${k}'`;
  }
  return null;
}

export function isNonNegativeSafeInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export interface FileLike {
  path: string;
  mode: number;
  size: number;
  chunks: string[];
}

/** Checks path, mode, size and chunk list of one file record (already known to have the keys). */
export function checkFileFields(f: Record<string, unknown>, where: string): string | null {
  let path: string;
  if (typeof f.path !== 'string') return `${where}.path is not a string`;
  try {
    path = validatePath(f.path);
  } catch (e) {
    if (e instanceof PathError) return `${where}.path: ${e.message}`;
    throw e;
  }
  if (path !== f.path) return `${where}.path is not in Unicode NFC`;
  if (!isFileMode(f.mode)) return `${where}.mode must be 0o644 or 0o755`;
  if (!isNonNegativeSafeInteger(f.size)) return `${where}.size must be a non-negative integer`;
  if (!Array.isArray(f.chunks)) return `${where}.chunks is not an array`;
  if (f.chunks.length !== chunkCount(f.size)) {
    return `${where}.chunks has ${f.chunks.length} ids for ${f.size} bytes (expected ${chunkCount(f.size)})`;
  }
  for (let i = 0; i < f.chunks.length; i++) {
    if (!isHexId64(f.chunks[i])) return `${where}.chunks[${i}] is not a 64-hex blob id`;
  }
  return null;
}

/**
 * Checks that records are strictly sorted by path (so unique) and form a real tree: no path is
 * also the folder of another (`a` and `a/b`).
 */
export function checkTreeOrder(paths: readonly string[], where: string): string | null {
  for (let i = 1; i < paths.length; i++) {
    const c = comparePaths(paths[i - 1] as string, paths[i] as string);
    if (c === 0) return `${where}[${i}] repeats a path`;
    if (c > 0) return `${where}[${i}] is out of order (must be sorted by path)`;
  }
  const set = new Set(paths);
  for (let i = 0; i < paths.length; i++) {
    for (const dir of parentDirs(paths[i] as string)) {
      if (set.has(dir)) return `${where}[${i}] lies inside a path that is also a file`;
    }
  }
  return null;
}
