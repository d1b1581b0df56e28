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
import { isHexId32, isHexId64 } from './checks.js';
import {
  checkFileColumns,
  entriesOf,
  fileColumnsOf,
  splitPaths,
  BLOB_ID_BYTES,
  STAT_FIELDS,
  type FileColumns,
  type StatColumns,
} from './file-columns.js';

export type { StatColumns } from './file-columns.js';

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

/** The index with its entries as columns (sync/file-columns.ts): what push works on. */
export interface IndexColumns extends FileColumns {
  workspaceId: string;
  base: string | null;
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

const entryWhere = (n: number): string => `index.entries[${n}]`;

function checkHead(i: LocalIndex): void {
  if (i === null || typeof i !== 'object' || !Array.isArray(i.entries)) {
    throw new IndexFormatError('index is not an object with an entries array');
  }
  if (i.version !== 1) throw new IndexFormatError('index.version must be 1');
  checkIds(i);
}

function checkIds(i: { workspaceId: string; base: string | null }): void {
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
export function encodeIndex(i: LocalIndex | IndexColumns, opts: { writtenAtMs?: number } = {}): Uint8Array {
  if (i !== null && typeof i === 'object' && 'paths' in i) return encodeIndexColumns(i, opts);
  checkHead(i);
  const entries = isSortedByPath(i.entries) ? i.entries : [...i.entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const converted = fileColumnsOf(entries, entryWhere);
  if (converted.problem !== null) throw new IndexFormatError(converted.problem);
  return encodeIndexColumns({ ...converted.columns, workspaceId: i.workspaceId, base: i.base }, opts);
}

function encodeIndexColumns(i: IndexColumns, opts: { writtenAtMs?: number }): Uint8Array {
  checkIds(i);
  const problem = checkFileColumns(i, entryWhere);
  if (problem !== null) throw new IndexFormatError(problem);
  const n = i.paths.length;
  const writtenAt = opts.writtenAtMs ?? Number.POSITIVE_INFINITY;
  const stats = i.stats.slice();
  for (let k = 0; k < n; k++) {
    const mtimeMs = stats[k * STAT_FIELDS + 1] as number;
    const ctimeMs = stats[k * STAT_FIELDS + 2] as number;
    const racyLimit = writtenAt - (mtimeMs % 1000 !== 0 || ctimeMs % 1000 !== 0 ? FINE_RACY_WINDOW_MS : RACY_WINDOW_MS);
    if (mtimeMs >= racyLimit || ctimeMs >= racyLimit) stats[k * STAT_FIELDS + 1] = 0;
  }
  const paths = Buffer.from(i.paths.join('\n'), 'utf8');
  const statsAt = HEAD_BYTES;
  const modesAt = statsAt + n * STAT_BYTES;
  const pathsAt = modesAt + n + 4;
  const idsAt = pathsAt + paths.length;
  const out = Buffer.alloc(idsAt + i.ids.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(INDEX_LAYOUT, 8);
  out.writeUInt32LE(n, 12);
  out.write(i.workspaceId, 16, 16, 'hex');
  if (i.base !== null) {
    out[32] = 1;
    out.write(i.base, 33, 32, 'hex');
  }
  writeFloat64s(out, statsAt, stats);
  out.set(i.exec, modesAt);
  out.writeUInt32LE(paths.length, modesAt + n);
  paths.copy(out, pathsAt);
  out.set(i.ids, idsAt);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

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
  const c = decodeIndexColumns(bytes);
  return { version: 1, workspaceId: c.workspaceId, base: c.base, entries: entriesOf(c) };
}

/** decodeIndex without an object per entry. */
export function decodeIndexColumns(bytes: Uint8Array): IndexColumns {
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
  const { paths, problem: pathsProblem } = splitPaths(buf.subarray(pathsAt, idsAt), n);
  if (paths === null) throw new IndexFormatError(`index ${pathsProblem}`);

  const stats = readFloat64s(buf, statsAt, n * STAT_FIELDS);
  const exec = buf.subarray(modesAt, modesAt + n);
  const firstId = new Uint32Array(n + 1);
  let id = 0;
  for (let k = 0; k < n; k++) {
    const size = stats[k * STAT_FIELDS] as number;
    if (exec[k] !== 0 && exec[k] !== 1) throw new IndexFormatError(`${entryWhere(k)}.mode flag must be 0 or 1`);
    // A non-integer size fails in checkFileColumns; chunkCount must not throw on it first.
    id += Number.isSafeInteger(size) && size >= 0 ? chunkCount(size) : 0;
    firstId[k + 1] = id;
  }
  if (buf.length - idsAt !== id * BLOB_ID_BYTES) throw new IndexFormatError('index blob ids do not match the entries\' sizes');
  const columns: IndexColumns = { workspaceId, base, paths, stats, exec, ids: buf.subarray(idsAt), firstId };
  const problem = checkFileColumns(columns, entryWhere);
  if (problem !== null) throw new IndexFormatError(problem);
  return columns;
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
  if (!LITTLE_ENDIAN_HOST || scan.stats.length !== n * STAT_FIELDS || scan.exec.length !== n) return false;
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

export function emptyIndex(workspaceId: string): IndexColumns {
  if (!isHexId32(workspaceId)) throw new IndexFormatError('workspaceId is not a 32-hex id');
  return { workspaceId, base: null, paths: [], stats: new Float64Array(0), exec: new Uint8Array(0), ids: new Uint8Array(0), firstId: new Uint32Array(1) };
}
