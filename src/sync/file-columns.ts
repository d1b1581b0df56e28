/**
 * A folder's files column by column, as the index stores them: one array of paths, one
 * Float64Array of stat numbers, one byte per mode, one buffer of raw blob ids. A push of 10 edited
 * files among 10,000 carries the other 9,990 from the old index to the manifest and the new index
 * as rows of these columns: an object per file costs ~100 ms over 10,000 files in a CLI process
 * whose JIT has not warmed up (decode, plan, compare, re-encode), the columns a few milliseconds.
 */
import { chunkCount } from './chunking.js';
import { checkTreeOrder, isHexRun } from './checks.js';
import type { IndexEntry } from './index-format.js';
import type { ManifestFile } from './manifest-head.js';
import { areSimpleValidPaths, PathError, validatePath } from './paths.js';

/** Numbers kept per file in `stats`, in this order: size, mtimeMs, ctimeMs, ino. */
export const STAT_FIELDS = 4;
export const BLOB_ID_BYTES = 32;

/** A directory scan's stat data column by column (client/local/scan.ts makes them). */
export interface StatColumns {
  /** sorted by path, unique */
  paths: readonly string[];
  /** STAT_FIELDS per file: size, mtimeMs, ctimeMs, ino */
  stats: Float64Array;
  /** one per file: 1 when an execute bit is set (mode 0o755), else 0 (0o644) */
  exec: Uint8Array;
}

/** Stat columns with each file's content: what the index holds, and all a manifest lists. */
export interface FileColumns extends StatColumns {
  /** every file's blob ids in file order, BLOB_ID_BYTES each */
  ids: Uint8Array;
  /** paths.length + 1 offsets: file k's ids are the firstId[k]-th to the (firstId[k+1]-1)-th */
  firstId: Uint32Array;
}

function modeOf(c: StatColumns, k: number): number {
  return c.exec[k] === 1 ? 0o755 : 0o644;
}

/**
 * The first rule the columns break, or null: consistent lengths; per file a non-negative integer
 * size, finite times, a non-negative inode, a mode flag of 0 or 1, as many blob ids as the size
 * has chunks; paths valid, in NFC, strictly sorted and forming a real tree. The decoders and
 * encoders of the index and manifest all check through here, with their own `whereOf`.
 */
export function checkFileColumns(c: FileColumns, whereOf: (k: number) => string): string | null {
  const { paths, stats, exec, firstId } = c;
  const n = paths.length;
  if (stats.length !== n * STAT_FIELDS || exec.length !== n || firstId.length !== n + 1 || firstId[0] !== 0) {
    return 'file columns have mismatched lengths';
  }
  for (let k = 0; k < n; k++) {
    if (typeof paths[k] !== 'string') return `${whereOf(k)}.path is not a string`;
    const size = stats[k * STAT_FIELDS] as number;
    if (!Number.isSafeInteger(size) || size < 0) return `${whereOf(k)}.size must be a non-negative integer`;
    if (!Number.isFinite(stats[k * STAT_FIELDS + 1])) return `${whereOf(k)}.mtimeMs is not a finite number`;
    if (!Number.isFinite(stats[k * STAT_FIELDS + 2])) return `${whereOf(k)}.ctimeMs is not a finite number`;
    const ino = stats[k * STAT_FIELDS + 3] as number;
    if (!Number.isFinite(ino) || ino < 0) return `${whereOf(k)}.ino is not a non-negative number`;
    if (exec[k] !== 0 && exec[k] !== 1) return `${whereOf(k)}.mode must be 0o644 or 0o755`;
    const count = (firstId[k + 1] as number) - (firstId[k] as number);
    const expected = chunkCount(size);
    if (count !== expected) return `${whereOf(k)}.chunks has ${count} ids for ${size} bytes (expected ${expected})`;
  }
  if ((firstId[n] as number) * BLOB_ID_BYTES !== c.ids.length) return 'file columns have blob ids that no file uses';
  if (!areSimpleValidPaths(paths)) {
    for (let k = 0; k < n; k++) {
      const p = paths[k] as string;
      try {
        if (validatePath(p) !== p) return `${whereOf(k)}.path is not in Unicode NFC`;
      } catch (e) {
        if (e instanceof PathError) return `${whereOf(k)}.path: ${e.message}`;
        throw e;
      }
    }
  }
  return checkTreeOrder(paths, whereOf);
}

/**
 * Index entries (untrusted shape) as columns, or the first problem with their types, modes or blob
 * ids; manifest records with `stat: false` (times and inode 0). Sizes, times and paths are left to
 * checkFileColumns, which the caller runs next.
 */
export function fileColumnsOf(
  entries: readonly (IndexEntry | ManifestFile)[],
  whereOf: (k: number) => string,
  opts: { stat?: boolean } = {},
): { columns: FileColumns; problem: null } | { columns: null; problem: string } {
  const withStat = opts.stat !== false;
  const fail = (problem: string) => ({ columns: null, problem });
  const n = entries.length;
  const paths = new Array<string>(n);
  const stats = new Float64Array(n * STAT_FIELDS);
  const exec = new Uint8Array(n);
  const firstId = new Uint32Array(n + 1);
  const hex: string[] = [];
  for (let k = 0; k < n; k++) {
    const e = entries[k] as IndexEntry;
    if (e === null || typeof e !== 'object') return fail(`${whereOf(k)} is not an object`);
    if (typeof e.path !== 'string') return fail(`${whereOf(k)}.path is not a string`);
    paths[k] = e.path;
    // Only numbers may go into the Float64Array: it would turn "5" into 5 and anything else into NaN.
    if (typeof e.size !== 'number' || !Number.isSafeInteger(e.size) || e.size < 0) return fail(`${whereOf(k)}.size must be a non-negative integer`);
    if (e.mode !== 0o644 && e.mode !== 0o755) return fail(`${whereOf(k)}.mode must be 0o644 or 0o755`);
    stats[k * STAT_FIELDS] = e.size;
    if (withStat) {
      if (typeof e.mtimeMs !== 'number') return fail(`${whereOf(k)}.mtimeMs is not a finite number`);
      if (typeof e.ctimeMs !== 'number') return fail(`${whereOf(k)}.ctimeMs is not a finite number`);
      if (typeof e.ino !== 'number') return fail(`${whereOf(k)}.ino is not a non-negative number`);
      stats[k * STAT_FIELDS + 1] = e.mtimeMs;
      stats[k * STAT_FIELDS + 2] = e.ctimeMs;
      stats[k * STAT_FIELDS + 3] = e.ino;
    }
    exec[k] = e.mode === 0o755 ? 1 : 0;
    const chunks: unknown = e.chunks;
    if (!Array.isArray(chunks)) return fail(`${whereOf(k)}.chunks is not an array`);
    const expected = chunkCount(e.size);
    if (chunks.length !== expected) return fail(`${whereOf(k)}.chunks has ${chunks.length} ids for ${e.size} bytes (expected ${expected})`);
    for (let c = 0; c < expected; c++) {
      const id: unknown = chunks[c];
      if (typeof id !== 'string' || id.length !== BLOB_ID_BYTES * 2) return fail(`${whereOf(k)}.chunks[${c}] is not a 64-hex blob id`);
      hex.push(id);
    }
    firstId[k + 1] = hex.length;
  }
  const joined = hex.join('');
  if (!isHexRun(joined)) {
    for (let k = 0; k < n; k++) {
      const bad = (entries[k] as ManifestFile).chunks.findIndex((id) => !isHexRun(id));
      if (bad >= 0) return fail(`${whereOf(k)}.chunks[${bad}] is not a 64-hex blob id`);
    }
  }
  return { columns: { paths, stats, exec, ids: Buffer.from(joined, 'hex'), firstId }, problem: null };
}

// ignoreBOM: a first path may start with U+FEFF, which must stay part of it.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * `n` paths from their UTF-8 joined by "\n" (how the index and manifest store them; paths never
 * hold control characters), or what is wrong with the bytes.
 */
export function splitPaths(joined: Uint8Array, n: number): { paths: string[]; problem: null } | { paths: null; problem: string } {
  let text: string;
  try {
    text = strictUtf8.decode(joined);
  } catch {
    return { paths: null, problem: 'paths are not valid UTF-8' };
  }
  const paths = n === 0 ? [] : text.split('\n');
  if (paths.length !== n || (n === 0 && joined.length !== 0)) return { paths: null, problem: 'path count does not match the file count' };
  return { paths, problem: null };
}

/** Every blob id of the columns as one lower-case hex string: file k's are 64-character slices. */
function idsHex(c: FileColumns): string {
  return Buffer.from(c.ids.buffer, c.ids.byteOffset, c.ids.byteLength).toString('hex');
}

/** One object per file, made by `make` from its row and its blob ids. */
function rowsOf<T>(c: FileColumns, make: (k: number, chunks: string[]) => T): T[] {
  const hex = idsHex(c);
  const n = c.paths.length;
  const rows = new Array<T>(n);
  for (let k = 0; k < n; k++) {
    const from = c.firstId[k] as number;
    const to = c.firstId[k + 1] as number;
    const chunks = new Array<string>(to - from);
    for (let i = from; i < to; i++) chunks[i - from] = hex.slice(i * 64, i * 64 + 64);
    rows[k] = make(k, chunks);
  }
  return rows;
}

/** The columns as index entries (for code that works on records). */
export function entriesOf(c: FileColumns): IndexEntry[] {
  return rowsOf(c, (k, chunks) => ({
    path: c.paths[k] as string,
    size: c.stats[k * STAT_FIELDS] as number,
    mtimeMs: c.stats[k * STAT_FIELDS + 1] as number,
    ctimeMs: c.stats[k * STAT_FIELDS + 2] as number,
    ino: c.stats[k * STAT_FIELDS + 3] as number,
    mode: modeOf(c, k),
    chunks,
  }));
}

/** The columns as manifest file records, keys in canonical order. */
export function filesOf(c: FileColumns): ManifestFile[] {
  return rowsOf(c, (k, chunks) => ({ path: c.paths[k] as string, mode: modeOf(c, k), size: c.stats[k * STAT_FIELDS] as number, chunks }));
}

/** The distinct blob ids (hex) of rows `rows` of `c`. */
export function blobIdsOfRows(c: FileColumns, rows: readonly number[]): string[] {
  const ids = Buffer.from(c.ids.buffer, c.ids.byteOffset, c.ids.byteLength);
  const out = new Set<string>();
  for (const k of rows) {
    for (let i = c.firstId[k] as number; i < (c.firstId[k + 1] as number); i++) out.add(ids.toString('hex', i * BLOB_ID_BYTES, (i + 1) * BLOB_ID_BYTES));
  }
  return [...out];
}

/** Whether file `k` of `c` has exactly `entry`'s mode and blob ids. */
export function sameContentAt(c: FileColumns, k: number, entry: Pick<IndexEntry, 'mode' | 'chunks'>): boolean {
  if (modeOf(c, k) !== (entry.mode & 0o100 ? 0o755 : 0o644)) return false;
  const from = c.firstId[k] as number;
  if ((c.firstId[k + 1] as number) - from !== entry.chunks.length) return false;
  const ids = Buffer.from(c.ids.buffer, c.ids.byteOffset, c.ids.byteLength);
  for (let i = 0; i < entry.chunks.length; i++) {
    if (ids.toString('hex', (from + i) * BLOB_ID_BYTES, (from + i + 1) * BLOB_ID_BYTES) !== entry.chunks[i]) return false;
  }
  return true;
}

/**
 * Rows `keep` of `base` (ascending) merged by path with `added` (sorted by path): the columns of
 * a folder after some of its files were re-read. Rows are copied in runs of consecutive rows (a
 * push of 10 files among 10,000 makes about 20 runs); the added entries go through the same
 * checks as any entries (fileColumnsOf). A path in both lists is left for checkFileColumns to
 * refuse.
 */
export function mergeFileColumns(base: FileColumns, keep: readonly number[], added: readonly IndexEntry[]): FileColumns {
  const converted = fileColumnsOf(added, (k) => `added[${k}]`);
  if (converted.problem !== null) throw new TypeError(converted.problem);
  const extra = converted.columns;
  let idCount = extra.ids.length / BLOB_ID_BYTES;
  for (const k of keep) idCount += (base.firstId[k + 1] as number) - (base.firstId[k] as number);
  const n = keep.length + added.length;
  const out: FileColumns = {
    paths: new Array<string>(n),
    stats: new Float64Array(n * STAT_FIELDS),
    exec: new Uint8Array(n),
    ids: new Uint8Array(idCount * BLOB_ID_BYTES),
    firstId: new Uint32Array(n + 1),
  };
  let row = 0;
  const copy = (from: FileColumns, k0: number, k1: number): void => {
    const id0 = from.firstId[k0] as number;
    const at = out.firstId[row] as number;
    out.stats.set(from.stats.subarray(k0 * STAT_FIELDS, k1 * STAT_FIELDS), row * STAT_FIELDS);
    out.exec.set(from.exec.subarray(k0, k1), row);
    out.ids.set(from.ids.subarray(id0 * BLOB_ID_BYTES, (from.firstId[k1] as number) * BLOB_ID_BYTES), at * BLOB_ID_BYTES);
    for (let k = k0; k < k1; k++, row++) {
      (out.paths as string[])[row] = from.paths[k] as string;
      out.firstId[row + 1] = at + (from.firstId[k + 1] as number) - id0;
    }
  };
  let i = 0;
  let j = 0;
  while (i < keep.length || j < added.length) {
    const next = j < added.length ? (extra.paths[j] as string) : undefined;
    if (i < keep.length && (next === undefined || (base.paths[keep[i] as number] as string) < next)) {
      // A run: kept rows consecutive in `base` that sort before the next added entry.
      const k0 = keep[i++] as number;
      let k1 = k0 + 1;
      while (i < keep.length && keep[i] === k1 && (next === undefined || (base.paths[k1] as string) < next)) {
        i++;
        k1++;
      }
      copy(base, k0, k1);
    } else copy(extra, j, ++j);
  }
  return out;
}
