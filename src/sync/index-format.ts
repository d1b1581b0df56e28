/**
 * The local index in `.insomnia-sync/`, like git's: one record per tracked file with the stat
 * data seen when the file was last hashed and the blob ids of its content then, plus the snapshot
 * the folder was last synced with. It lets `status` and `push` skip reading unchanged files.
 *
 * Binary, because every push and status reads it whole before doing anything else: for 10,000
 * files the JSON form was 2.4 MB whose parse and checks took ~50 ms of a ~300 ms no-op push; this
 * layout is about half the size and decodes in a few milliseconds. All numbers little-endian:
 *
 *   magic "ISYNCIDX" ‖ layout u32 (2) ‖ count n u32 ‖ workspace id (16 bytes)
 *   ‖ has-base u8 (0|1) ‖ base snapshot id (32 bytes, zero when absent) ‖ 7 zero bytes
 *   ‖ n × (size, mtimeMs, ctimeMs, ino) as float64 ‖ n × mode u8 (0 = 0o644, 1 = 0o755)
 *   ‖ path bytes u32 ‖ the n paths, UTF-8, joined by "\n" (paths never hold control characters)
 *   ‖ the blob ids of every entry in order, 32 bytes each (how many per entry follows from size)
 *
 * The index is local state, but it is still decoded strictly: a damaged index must stop the
 * command (the caller may then rebuild it by hashing everything) rather than be half-believed.
 * The file around it carries a checksum (client/local/link.ts); this module stays pure.
 */
import { chunkCount } from './chunking.js';
import { isHexId32, isHexId64, isHexRun, checkTreeOrder } from './checks.js';
import { areSimpleValidPaths, PathError, validatePath } from './paths.js';

export interface IndexEntry {
  path: string;
  size: number;
  /** 0 marks a "racily clean" entry that must be re-hashed; see encodeIndex writtenAtMs */
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** 0o644 or 0o755 */
  mode: number;
  chunks: string[];
}

export interface LocalIndex {
  /** version of this in-memory shape; the file layout has its own number (INDEX_LAYOUT) */
  version: 1;
  workspaceId: string;
  /** snapshot id last synced, null before the first sync */
  base: string | null;
  /** sorted by path, unique */
  entries: IndexEntry[];
}

export class IndexFormatError extends Error {
  readonly code = 'bad_index';
  override readonly name = 'IndexFormatError';
}

/** 1 was the JSON `index.json` (still read, see index-json.ts); 2 is the binary layout above. */
export const INDEX_LAYOUT = 2;

const MAGIC = 'ISYNCIDX';
const HEAD_BYTES = 72;
const STAT_BYTES = 32;
const ID_BYTES = 32;

const entryWhere = (n: number): string => `index.entries[${n}]`;

/**
 * The checks shared by encode and decode: stat numbers, mode and the paths (valid, NFC, sorted,
 * unique, a real tree). Blob ids are checked apart: encode checks them joined (joinedChunkIds),
 * decoded ids are hex by construction.
 */
function checkEntries(entries: readonly IndexEntry[]): string | null {
  const paths = new Array<string>(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as IndexEntry;
    if (typeof e.path !== 'string') return `${entryWhere(i)}.path is not a string`;
    paths[i] = e.path;
    if (!Number.isSafeInteger(e.size) || e.size < 0) return `${entryWhere(i)}.size must be a non-negative integer`;
    // Number.isFinite is false for anything but a finite number, so it doubles as the type test.
    if (!Number.isFinite(e.mtimeMs)) return `${entryWhere(i)}.mtimeMs is not a finite number`;
    if (!Number.isFinite(e.ctimeMs)) return `${entryWhere(i)}.ctimeMs is not a finite number`;
    if (!Number.isFinite(e.ino) || e.ino < 0) return `${entryWhere(i)}.ino is not a non-negative number`;
    if (e.mode !== 0o644 && e.mode !== 0o755) return `${entryWhere(i)}.mode must be 0o644 or 0o755`;
  }
  if (!areSimpleValidPaths(paths)) {
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i] as string;
      try {
        if (validatePath(p) !== p) return `${entryWhere(i)}.path is not in Unicode NFC`;
      } catch (e) {
        if (e instanceof PathError) return `${entryWhere(i)}.path: ${e.message}`;
        throw e;
      }
    }
  }
  return checkTreeOrder(paths, entryWhere);
}

/** Every entry's blob ids joined, after checking their count against the size and their form. */
function joinedChunkIds(entries: readonly IndexEntry[]): string {
  const ids: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as IndexEntry;
    if (!Array.isArray(e.chunks)) throw new IndexFormatError(`${entryWhere(i)}.chunks is not an array`);
    const expected = chunkCount(e.size);
    if (e.chunks.length !== expected) {
      throw new IndexFormatError(`${entryWhere(i)}.chunks has ${e.chunks.length} ids for ${e.size} bytes (expected ${expected})`);
    }
    for (let c = 0; c < expected; c++) {
      const id: unknown = e.chunks[c];
      if (typeof id !== 'string' || id.length !== 64) throw new IndexFormatError(`${entryWhere(i)}.chunks[${c}] is not a 64-hex blob id`);
      ids.push(id);
    }
  }
  const joined = ids.join('');
  if (!isHexRun(joined)) {
    for (let i = 0; i < entries.length; i++) {
      const chunks = (entries[i] as IndexEntry).chunks;
      for (let c = 0; c < chunks.length; c++) {
        if (!isHexId64(chunks[c])) throw new IndexFormatError(`${entryWhere(i)}.chunks[${c}] is not a 64-hex blob id`);
      }
    }
  }
  return joined;
}

function checkHead(i: LocalIndex): void {
  if (i === null || typeof i !== 'object' || !Array.isArray(i.entries)) {
    throw new IndexFormatError('index is not an object with an entries array');
  }
  if (i.version !== 1) throw new IndexFormatError('index.version must be 1');
  if (!isHexId32(i.workspaceId)) throw new IndexFormatError('index.workspaceId is not a 32-hex id');
  if (i.base !== null && !isHexId64(i.base)) throw new IndexFormatError('index.base is not a 64-hex snapshot id or null');
}

function isSortedByPath(entries: readonly IndexEntry[]): boolean {
  for (let i = 1; i < entries.length; i++) {
    if (!((entries[i - 1] as IndexEntry).path < (entries[i] as IndexEntry).path)) return false;
  }
  return true;
}

/**
 * How close to the index write a file change may be and still hide inside the timestamp
 * granularity, for timestamps in whole seconds (ext3, HFS+; FAT's are even 2-second).
 */
export const RACY_WINDOW_MS = 2000;
/**
 * The same for timestamps finer than a second (ext4, tmpfs, btrfs, xfs, APFS, NTFS): the kernel
 * stamps files from a clock that ticks every 1–16 ms and lags the wall clock by up to a tick.
 */
export const FINE_RACY_WINDOW_MS = 100;

/**
 * The index in the binary layout; entries are sorted here, anything decodeIndex would refuse throws.
 *
 * `writtenAtMs` applies git's racy-clean rule as the index is written: a file changed again within
 * the timestamp granularity of its last hash (same size) keeps identical stat data, so it would
 * look clean forever. Any entry whose mtime — or ctime, which a `touch -d` back in time leaves
 * recent — is within the window of the write is stored with mtimeMs 0, so the next scan sees a
 * different mtime and re-hashes it (and records the real mtime once the file has settled). The
 * window is RACY_WINDOW_MS, or FINE_RACY_WINDOW_MS when the entry's mtime or ctime has a part of
 * a second (its file system keeps fine timestamps): a clone writes 10,000 files in about a
 * second, and a 2 s window would have the next status re-read every one. The entries themselves
 * are not changed.
 */
export function encodeIndex(i: LocalIndex, opts: { writtenAtMs?: number } = {}): Uint8Array {
  checkHead(i);
  const entries = isSortedByPath(i.entries) ? i.entries : [...i.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const problem = checkEntries(entries);
  if (problem !== null) throw new IndexFormatError(problem);
  const ids = joinedChunkIds(entries);

  const n = entries.length;
  const writtenAt = opts.writtenAtMs ?? Number.POSITIVE_INFINITY;
  const stats = new Float64Array(n * 4);
  const modes = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const e = entries[k] as IndexEntry;
    stats[k * 4] = e.size;
    const racyLimit = writtenAt - (e.mtimeMs % 1000 !== 0 || e.ctimeMs % 1000 !== 0 ? FINE_RACY_WINDOW_MS : RACY_WINDOW_MS);
    stats[k * 4 + 1] = e.mtimeMs >= racyLimit || e.ctimeMs >= racyLimit ? 0 : e.mtimeMs;
    stats[k * 4 + 2] = e.ctimeMs;
    stats[k * 4 + 3] = e.ino;
    modes[k] = e.mode === 0o755 ? 1 : 0;
  }
  const paths = Buffer.from(entries.map((e) => e.path).join('\n'), 'utf8');
  const statsAt = HEAD_BYTES;
  const modesAt = statsAt + n * STAT_BYTES;
  const pathsAt = modesAt + n + 4;
  const idsAt = pathsAt + paths.length;
  const out = Buffer.alloc(idsAt + ids.length / 2);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(INDEX_LAYOUT, 8);
  out.writeUInt32LE(n, 12);
  out.write(i.workspaceId, 16, 16, 'hex');
  if (i.base !== null) {
    out[32] = 1;
    out.write(i.base, 33, 32, 'hex');
  }
  writeFloat64s(out, statsAt, stats);
  out.set(modes, modesAt);
  out.writeUInt32LE(paths.length, modesAt + n);
  paths.copy(out, pathsAt);
  out.write(ids, idsAt, 'hex');
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * `count` little-endian float64s from `at`: one copy into a typed array, whose element reads are
 * far cheaper than readDoubleLE calls while the JIT is still cold (every CLI run).
 */
function writeFloat64s(buf: Buffer, at: number, values: Float64Array): void {
  if (LITTLE_ENDIAN_HOST) buf.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), at);
  else for (let k = 0; k < values.length; k++) buf.writeDoubleLE(values[k] as number, at + k * 8);
}

function readFloat64s(buf: Buffer, at: number, count: number): Float64Array {
  const out = new Float64Array(count);
  if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(buf.subarray(at, at + count * 8));
  else for (let k = 0; k < count; k++) out[k] = buf.readDoubleLE(at + k * 8);
  return out;
}

/**
 * Decodes and checks the binary index. Every byte has one meaning: padding and an absent base must
 * be zero, and nothing may follow the last blob id.
 */
export function decodeIndex(bytes: Uint8Array): LocalIndex {
  const { buf, workspaceId, base, hasBase } = readHead(bytes);
  const n = buf.readUInt32LE(12);
  const statsAt = HEAD_BYTES;
  const modesAt = statsAt + n * STAT_BYTES;
  const pathsAt = modesAt + n + 4;
  if (pathsAt > buf.length) throw new IndexFormatError('index is truncated');
  for (let k = hasBase ? 65 : 33; k < HEAD_BYTES; k++) {
    if (buf[k] !== 0) throw new IndexFormatError('index header has stray bytes');
  }
  const pathBytes = buf.readUInt32LE(modesAt + n);
  const idsAt = pathsAt + pathBytes;
  if (idsAt > buf.length) throw new IndexFormatError('index is truncated');
  let joined: string;
  try {
    joined = strictUtf8.decode(buf.subarray(pathsAt, idsAt));
  } catch {
    throw new IndexFormatError('index paths are not valid UTF-8');
  }
  const paths = n === 0 ? [] : joined.split('\n');
  if (paths.length !== n || (n === 0 && pathBytes !== 0)) throw new IndexFormatError('index path count does not match its entry count');

  // One hex string for all ids; each entry's ids are slices of it.
  const hex = buf.toString('hex', idsAt);
  const stats = readFloat64s(buf, statsAt, n * 4);
  const entries = new Array<IndexEntry>(n);
  let id = 0;
  for (let k = 0; k < n; k++) {
    const size = stats[k * 4] as number;
    const modeFlag = buf[modesAt + k];
    if (modeFlag !== 0 && modeFlag !== 1) throw new IndexFormatError(`${entryWhere(k)}.mode flag must be 0 or 1`);
    // A non-integer size fails in checkEntries; chunkCount must not loop on it first.
    const count = Number.isSafeInteger(size) && size >= 0 ? chunkCount(size) : 0;
    const chunks = new Array<string>(count);
    for (let c = 0; c < count; c++, id++) chunks[c] = hex.slice(id * 64, id * 64 + 64);
    entries[k] = {
      path: paths[k] as string,
      size,
      mtimeMs: stats[k * 4 + 1] as number,
      ctimeMs: stats[k * 4 + 2] as number,
      ino: stats[k * 4 + 3] as number,
      mode: modeFlag === 1 ? 0o755 : 0o644,
      chunks,
    };
  }
  if (hex.length !== id * 64) throw new IndexFormatError('index blob ids do not match the entries\' sizes');
  const problem = checkEntries(entries);
  if (problem !== null) throw new IndexFormatError(problem);
  return { version: 1, workspaceId, base, entries };
}

/** A directory scan's stat data column by column (client/local/scan.ts makes them). */
export interface StatColumns {
  /** sorted by path, unique */
  paths: readonly string[];
  /** four per file, in the index's order: size, mtimeMs, ctimeMs, ino */
  stats: Float64Array;
  /** one per file: 1 when an execute bit is set */
  exec: Uint8Array;
}

/** The index's header: enough for a command that finds nothing changed. */
export function decodeIndexHead(bytes: Uint8Array): { workspaceId: string; base: string | null } {
  const { workspaceId, base } = readHead(bytes);
  return { workspaceId, base };
}

/** Magic, layout and base of the header, shared by decodeIndex and decodeIndexHead. */
function readHead(bytes: Uint8Array): { buf: Buffer; workspaceId: string; base: string | null; hasBase: boolean } {
  if (!(bytes instanceof Uint8Array)) throw new IndexFormatError('index must be bytes');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEAD_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) throw new IndexFormatError('not an index file');
  if (buf.readUInt32LE(8) !== INDEX_LAYOUT) throw new IndexFormatError(`index layout must be ${INDEX_LAYOUT}`);
  const flag = buf[32];
  if (flag !== 0 && flag !== 1) throw new IndexFormatError('index base flag must be 0 or 1');
  const hasBase = flag === 1;
  return { buf, workspaceId: buf.toString('hex', 16, 32), base: hasBase ? buf.toString('hex', 33, 65) : null, hasBase };
}

/**
 * True when the index lists exactly the scanned files, with identical stat data and mode and no
 * racily clean entry — when planRescan would find nothing dirty and nothing deleted. Three byte
 * comparisons over the layout (paths, stats, modes), so a no-op push or a clean status builds no
 * object per file. False may be a false alarm (then the caller decodes and plans as usual), never
 * a missed change: a racy entry's stored mtime 0 differs from any real one.
 */
export function indexMatchesScan(bytes: Uint8Array, scan: StatColumns): boolean {
  const n = scan.paths.length;
  if (!LITTLE_ENDIAN_HOST || scan.stats.length !== n * 4 || scan.exec.length !== n) return false;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < HEAD_BYTES || buf.readUInt32LE(12) !== n) return false;
  const modesAt = HEAD_BYTES + n * STAT_BYTES;
  const pathsAt = modesAt + n + 4;
  if (pathsAt > buf.length) return false;
  const statBytes = new Uint8Array(scan.stats.buffer, scan.stats.byteOffset, n * STAT_BYTES);
  if (buf.compare(statBytes, 0, statBytes.length, HEAD_BYTES, modesAt) !== 0) return false;
  if (buf.compare(scan.exec, 0, n, modesAt, modesAt + n) !== 0) return false;
  const paths = Buffer.from(scan.paths.join('\n'), 'utf8');
  return buf.readUInt32LE(modesAt + n) === paths.length && buf.compare(paths, 0, paths.length, pathsAt, pathsAt + paths.length) === 0;
}

export function emptyIndex(workspaceId: string): LocalIndex {
  if (!isHexId32(workspaceId)) throw new IndexFormatError('workspaceId is not a 32-hex id');
  return { version: 1, workspaceId, base: null, entries: [] };
}
