/**
 * Strict shape checks shared by the manifest and index decoders. Each check returns a message
 * (or null when fine) so that every decoder can raise its own error class with its own code.
 */
import { chunkCount } from './chunking.js';
import { comparePaths, PathError, validatePath } from './paths.js';

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

/**
 * Message when `v` is not an object with exactly these own keys. `where` is a function so that
 * the hot path over thousands of records builds no strings.
 */
export function checkExactKeys(v: unknown, keys: readonly string[], where: () => string): string | null {
  if (!isPlainObject(v)) return `${where()} is not an object`;
  let ok = Object.keys(v).length === keys.length;
  for (let i = 0; ok && i < keys.length; i++) ok = Object.hasOwn(v, keys[i] as string);
  if (ok) return null;
  for (const k of Object.keys(v)) {
    if (!keys.includes(k)) return `${where()} has unknown field '${k}'`;
  }
  for (const k of keys) {
    if (!Object.hasOwn(v, k)) return `${where()} lacks field '${k}'`;
  }
  return `${where()} has unexpected fields`;
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

/**
 * Checks path, mode, size and chunk list of one file record (already known to have the keys).
 * `where` is a function so that the hot path over thousands of files builds no strings.
 */
export function checkFileFields(f: Record<string, unknown>, where: () => string): string | null {
  const path = f.path;
  if (typeof path !== 'string') return `${where()}.path is not a string`;
  let valid: string;
  try {
    valid = validatePath(path);
  } catch (e) {
    if (e instanceof PathError) return `${where()}.path: ${e.message}`;
    throw e;
  }
  if (valid !== path) return `${where()}.path is not in Unicode NFC`;
  if (f.mode !== 0o644 && f.mode !== 0o755) return `${where()}.mode must be 0o644 or 0o755`;
  const size = f.size;
  if (!isNonNegativeSafeInteger(size)) return `${where()}.size must be a non-negative integer`;
  const chunks = f.chunks;
  if (!Array.isArray(chunks)) return `${where()}.chunks is not an array`;
  const expected = chunkCount(size);
  if (chunks.length !== expected) {
    return `${where()}.chunks has ${chunks.length} ids for ${size} bytes (expected ${expected})`;
  }
  for (let i = 0; i < chunks.length; i++) {
    if (!isHexId64(chunks[i])) return `${where()}.chunks[${i}] is not a 64-hex blob id`;
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
  const files = new Set(paths);
  // Folders already known not to be files; their own parents were checked with them.
  const okDirs = new Set<string>();
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i] as string;
    let slash = p.lastIndexOf('/');
    while (slash > 0) {
      const dir = p.slice(0, slash);
      if (okDirs.has(dir)) break;
      if (files.has(dir)) return `${where}[${i}] lies inside a path that is also a file`;
      okDirs.add(dir);
      slash = p.lastIndexOf('/', slash - 1);
    }
  }
  return null;
}
