/**
 * Strict shape checks shared by the manifest and index decoders. Each check returns a message
 * (or null when fine) so that every decoder can raise its own error class with its own code.
 */
import { chunkCount } from './chunking.js';
import { areSimpleValidPaths, comparePaths, PathError, validatePath } from './paths.js';

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
  const own = Object.keys(v);
  if (own.length === keys.length) {
    // Usual case: the keys in the expected order (JSON.parse keeps the text's order).
    let i = 0;
    while (i < own.length && own[i] === keys[i]) i++;
    if (i === own.length) return null;
    let ok = true;
    for (let j = 0; ok && j < keys.length; j++) ok = Object.hasOwn(v, keys[j] as string);
    if (ok) return null;
  }
  for (const k of own) {
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

const HEX_RUN = /^[0-9a-f]*$/;

/**
 * Checks a list of file records (manifest files or index entries): exact keys, then path, mode,
 * size and blob ids, then order and tree shape. `extra` checks the fields beyond those four.
 * Built for thousands of records in a process whose JIT has not warmed up: per record only
 * cheap type tests, while paths and ids are checked in one regex scan each over the joined list
 * (falling back to the precise per-item check to find the culprit, or for non-ASCII paths).
 */
export function checkFileList(
  list: readonly unknown[],
  keys: readonly string[],
  whereOf: (i: number) => string,
  extra?: (r: Record<string, unknown>, where: () => string) => string | null,
): string | null {
  const n = list.length;
  const paths = new Array<string>(n);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const where = (): string => whereOf(i);
    const r = list[i];
    const k = checkExactKeys(r, keys, where);
    if (k !== null) return k;
    const f = r as Record<string, unknown>;
    const path = f.path;
    if (typeof path !== 'string') return `${where()}.path is not a string`;
    paths[i] = path;
    if (f.mode !== 0o644 && f.mode !== 0o755) return `${where()}.mode must be 0o644 or 0o755`;
    const size = f.size;
    if (!isNonNegativeSafeInteger(size)) return `${where()}.size must be a non-negative integer`;
    const chunks = f.chunks;
    if (!Array.isArray(chunks)) return `${where()}.chunks is not an array`;
    const expected = chunkCount(size);
    if (chunks.length !== expected) {
      return `${where()}.chunks has ${chunks.length} ids for ${size} bytes (expected ${expected})`;
    }
    for (let c = 0; c < chunks.length; c++) {
      const id: unknown = chunks[c];
      if (typeof id !== 'string' || id.length !== 64) return `${where()}.chunks[${c}] is not a 64-hex blob id`;
      ids.push(id);
    }
    if (extra !== undefined) {
      const e = extra(f, where);
      if (e !== null) return e;
    }
  }
  if (!HEX_RUN.test(ids.join(''))) {
    for (let i = 0; i < n; i++) {
      const chunks = (list[i] as { chunks: string[] }).chunks;
      for (let c = 0; c < chunks.length; c++) {
        if (!isHexId64(chunks[c])) return `${whereOf(i)}.chunks[${c}] is not a 64-hex blob id`;
      }
    }
  }
  if (!areSimpleValidPaths(paths)) {
    for (let i = 0; i < n; i++) {
      const path = paths[i] as string;
      let valid: string;
      try {
        valid = validatePath(path);
      } catch (e) {
        if (e instanceof PathError) return `${whereOf(i)}.path: ${e.message}`;
        throw e;
      }
      if (valid !== path) return `${whereOf(i)}.path is not in Unicode NFC`;
    }
  }
  return checkTreeOrder(paths, whereOf);
}

/**
 * Checks that records are strictly sorted by path (so unique) and form a real tree: no path is
 * also the folder of another (`a` and `a/b`).
 */
export function checkTreeOrder(paths: readonly string[], whereOf: (i: number) => string): string | null {
  for (let i = 1; i < paths.length; i++) {
    const c = comparePaths(paths[i - 1] as string, paths[i] as string);
    if (c === 0) return `${whereOf(i)} repeats a path`;
    if (c > 0) return `${whereOf(i)} is out of order (must be sorted by path)`;
  }
  let files: Set<string> | null = null;
  // Folders already known not to be files; their own parents were checked with them. Sorted
  // paths come folder by folder, so remembering the last one skips most lookups.
  const okDirs = new Set<string>();
  let lastDir = '';
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i] as string;
    let slash = p.lastIndexOf('/');
    if (slash <= 0) continue;
    if (slash === lastDir.length && p.startsWith(lastDir)) continue;
    lastDir = p.slice(0, slash);
    files ??= new Set(paths);
    while (slash > 0) {
      const dir = p.slice(0, slash);
      if (okDirs.has(dir)) break;
      if (files.has(dir)) return `${whereOf(i)} lies inside a path that is also a file`;
      okDirs.add(dir);
      slash = p.lastIndexOf('/', slash - 1);
    }
  }
  return null;
}
