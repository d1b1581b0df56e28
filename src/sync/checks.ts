/**
 * Strict shape checks shared by the manifest and index decoders. Each check returns a message
 * (or null when fine) so that every decoder can raise its own error class with its own code.
 */
import { CHUNK_SIZE } from './chunking.js';
import { areSimpleValidPaths, PathError, validatePath } from './paths.js';

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

// Lower-case hex as two single-range scans: characters in '0'..'f', and none in ':'..'`' (the
// gap between the digits and 'a'). /^[0-9a-f]*$/ says the same but branches per character on
// digit-or-letter, which random hex mispredicts: 4x slower over the joined ids of 10,000 files.
const HEX_SPAN = /^[\x30-\x66]*$/;
const NO_HEX_GAP = /^[^\x3a-\x60]*$/;

/** True when `s` is lower-case hex (or empty): two native scans, however long `s` is. */
export function isHexRun(s: string): boolean {
  return HEX_SPAN.test(s) && NO_HEX_GAP.test(s);
}

const OBJECT_PROTO = Object.prototype;

/** What checkFileRecords found: the first problem, and whether every record had its keys in `keys` order. */
export interface FileListCheck {
  problem: string | null;
  /**
   * true when each record is plain data (prototype Object.prototype or null, chunks without a
   * toJSON) whose own keys are exactly `keys` in that order: JSON.stringify then writes it
   * canonically, as it would a fresh copy.
   */
  keysInOrder: boolean;
}

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
  return checkFileRecords(list, keys, whereOf, extra).problem;
}

/**
 * checkFileList, also telling whether the records can be written with JSON.stringify as they are
 * (see FileListCheck.keysInOrder), so encoders need not copy them.
 */
export function checkFileRecords(
  list: readonly unknown[],
  keys: readonly string[],
  whereOf: (i: number) => string,
  extra?: (r: Record<string, unknown>, where: () => string) => string | null,
): FileListCheck {
  const n = list.length;
  const nk = keys.length;
  const paths = new Array<string>(n);
  const ids: string[] = [];
  // One closure for the whole list (a closure per record costs measurably before the JIT warms
  // up); it is only called once a record has failed, when `at` names that record.
  let at = 0;
  const where = (): string => whereOf(at);
  const fail = (problem: string): FileListCheck => ({ problem, keysInOrder: false });
  // for-in is the cheapest way to list keys in cold code (no array per record); it lists exactly
  // the own keys when the prototype is Object.prototype and nothing enumerable was added to that.
  let forInIsOwn = true;
  for (const _ in OBJECT_PROTO) forInIsOwn = false;
  let keysInOrder = true;
  for (let i = 0; i < n; i++) {
    at = i;
    const r = list[i];
    let exact = false;
    if (forInIsOwn && typeof r === 'object' && r !== null && Object.getPrototypeOf(r) === OBJECT_PROTO) {
      let j = 0;
      for (const k in r) {
        if (j === nk || k !== keys[j]) {
          j = -1;
          break;
        }
        j++;
      }
      exact = j === nk;
    }
    if (!exact) {
      const k = checkExactKeys(r, keys, where);
      if (k !== null) return fail(k);
      if (keysInOrder) {
        const proto: unknown = Object.getPrototypeOf(r);
        keysInOrder = (proto === null || proto === OBJECT_PROTO) && sameKeys(Object.keys(r as object), keys);
      }
    }
    const f = r as Record<string, unknown>;
    const path = f.path;
    if (typeof path !== 'string') return fail(`${where()}.path is not a string`);
    paths[i] = path;
    if (f.mode !== 0o644 && f.mode !== 0o755) return fail(`${where()}.mode must be 0o644 or 0o755`);
    const size = f.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      return fail(`${where()}.size must be a non-negative integer`);
    }
    const chunks = f.chunks;
    if (!Array.isArray(chunks)) return fail(`${where()}.chunks is not an array`);
    if ((chunks as { toJSON?: unknown }).toJSON !== undefined) keysInOrder = false;
    const expected = size <= CHUNK_SIZE ? (size === 0 ? 0 : 1) : Math.ceil(size / CHUNK_SIZE);
    if (chunks.length !== expected) {
      return fail(`${where()}.chunks has ${chunks.length} ids for ${size} bytes (expected ${expected})`);
    }
    for (let c = 0; c < expected; c++) {
      const id: unknown = chunks[c];
      if (typeof id !== 'string' || id.length !== 64) return fail(`${where()}.chunks[${c}] is not a 64-hex blob id`);
      ids.push(id);
    }
    if (extra !== undefined) {
      const e = extra(f, where);
      if (e !== null) return fail(e);
    }
  }
  if (!isHexRun(ids.join(''))) {
    for (let i = 0; i < n; i++) {
      const chunks = (list[i] as { chunks: string[] }).chunks;
      for (let c = 0; c < chunks.length; c++) {
        if (!isHexId64(chunks[c])) return fail(`${whereOf(i)}.chunks[${c}] is not a 64-hex blob id`);
      }
    }
  }
  const problem = checkPathList(paths, whereOf);
  return problem === null ? { problem: null, keysInOrder } : fail(problem);
}

/**
 * The rules for the paths of a file list, given in order: each valid (validatePath) and in NFC,
 * strictly sorted, none also a folder of another (checkTreeOrder). The first one broken, or null.
 */
export function checkPathList(paths: readonly string[], whereOf: (i: number) => string): string | null {
  if (!areSimpleValidPaths(paths)) {
    for (let i = 0; i < paths.length; i++) {
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

function sameKeys(own: readonly string[], keys: readonly string[]): boolean {
  if (own.length !== keys.length) return false;
  for (let i = 0; i < own.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}

/**
 * Checks that records are strictly sorted by path (so unique) and form a real tree: no path is
 * also the folder of another (`a` and `a/b`).
 */
export function checkTreeOrder(paths: readonly string[], whereOf: (i: number) => string): string | null {
  const n = paths.length;
  // A file `d` with paths under `d/` is directly followed by a path that starts with `d` (any
  // path sorting between `d` and `d/x` does), so only such "prefix" files need a look, and they
  // are rare; the pass over every path is one comparison and one startsWith.
  let prefixes: number[] | null = null;
  let prev = '';
  for (let i = 0; i < n; i++) {
    const p = paths[i] as string;
    if (i > 0) {
      if (!(prev < p)) {
        return prev === p ? `${whereOf(i)} repeats a path` : `${whereOf(i)} is out of order (must be sorted by path)`;
      }
      if (p.startsWith(prev)) (prefixes ??= []).push(i - 1);
    }
    prev = p;
  }
  if (prefixes === null) return null;
  // Report the first path (in order) that lies inside a file.
  let first = n;
  for (const f of prefixes) {
    const dir = `${paths[f] as string}/`;
    const k = lowerBound(paths, dir, f + 1, n);
    if (k < first && (paths[k] as string).startsWith(dir)) first = k;
  }
  return first < n ? `${whereOf(first)} lies inside a path that is also a file` : null;
}

/** First index in [lo, hi) of the strictly increasing `paths` whose path is >= x (hi if none). */
function lowerBound(paths: readonly string[], x: string, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((paths[mid] as string) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
