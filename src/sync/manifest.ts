/**
 * The manifest: the plaintext of a snapshot before it is encrypted and signed (docs/protocol.md,
 * snapshots). It lists every file of the workspace with its mode, size and blob ids, plus the
 * author, time and message — everything the server must never see.
 *
 * Written in layout 2, binary like the index (client/local/link.ts), all numbers little-endian:
 *
 *   magic "ISYNCMAN" ‖ layout u32 (2) ‖ head bytes h u32 ‖ head: canonical JSON of every field
 *   but `files` (keys in the order of the Manifest type, no whitespace), UTF-8
 *   ‖ count n u32 ‖ n × size u64 (at most 2^53 − 1) ‖ n × mode u8 (0 = 0o644, 1 = 0o755)
 *   ‖ path bytes u32 ‖ the n paths, UTF-8, joined by "\n" (paths never hold control characters),
 *   valid (validatePath), in NFC, sorted by UTF-16 code units, no file also a folder
 *   ‖ the blob ids of every file in order, 32 bytes each (as many per file as its size has chunks)
 *
 * A push writes it from the index's columns with a few copies, where the JSON of layout 1 took
 * ~35 ms to write for 10,000 files; it is ~40 % smaller (1.0 MB rather than 1.7 MB: raw ids).
 * Layout 1 (sync/manifest-json.ts) is still read: snapshots made before layout 2 keep their
 * bytes, their ids and signatures. The head's `version` is the manifest's shape (still 1); the
 * layout number is how that shape is written, as with the index.
 *
 * Every manifest has exactly one byte form in each layout, and decoding is strict: unknown or
 * missing head fields, wrong types, a non-canonical head text, unsafe or non-NFC paths, unsorted
 * or repeated paths, a file that is also a folder of another, ids that do not fit the sizes, and
 * any byte past the last id are all refused.
 */
import { chunkCount } from './chunking.js';
import { NewerFormatError } from './errors.js';
import { BLOB_ID_BYTES, checkFileColumns, fileColumnsOf, filesOf, splitPaths, STAT_FIELDS, type FileColumns } from './file-columns.js';
import {
  AUTHOR_KEYS,
  canonicalHead,
  checkManifestHead,
  fileWhere,
  HEAD_KEYS,
  hasKeysInOrder,
  type Manifest,
  ManifestError,
  type ManifestFile,
} from './manifest-head.js';
import { decodeJsonManifest, decodeJsonManifestHead } from './manifest-json.js';
import { comparePaths } from './paths.js';

export { ManifestError, MANIFEST_VERSION, MAX_MESSAGE_CHARS, type Manifest, type ManifestFile } from './manifest-head.js';

/** A manifest whose files are columns (sync/file-columns.ts), as push builds it. */
export type ColumnarManifest = Omit<Manifest, 'files'> & { files: FileColumns };

/** The binary layout written since layout 1's JSON (see above). */
export const MANIFEST_LAYOUT = 2;

const MAGIC = 'ISYNCMAN';
const FIXED_HEAD_BYTES = 16; // magic, layout, head length
const TWO_TO_32 = 2 ** 32;
// A size's high word above this would make it more than Number.MAX_SAFE_INTEGER.
const MAX_SIZE_HIGH_WORD = 2 ** 21 - 1;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The manifest's bytes in layout 2. Record files are sorted here; anything decodeManifest would
 * refuse (e.g. a path not in NFC, two files with one path) throws ManifestError instead of being
 * silently changed, so decode(encode(m)) always equals m up to file order. Fields a record has
 * beyond path, mode, size and chunks are not written.
 */
export function encodeManifest(m: Manifest | ColumnarManifest): Uint8Array {
  if (m === null || typeof m !== 'object' || !(Array.isArray(m.files) || isFileColumns(m.files))) {
    throw new ManifestError('manifest is not an object with a files array');
  }
  if (m.author === null || typeof m.author !== 'object') throw new ManifestError('manifest.author is not an object');
  const head = canonicalHead(m);
  const problem = checkManifestHead(head, HEAD_KEYS);
  if (problem !== null) throw new ManifestError(problem);
  const files = Array.isArray(m.files) ? recordColumns(m.files) : m.files;
  const filesProblem = checkFileColumns(files, fileWhere);
  if (filesProblem !== null) throw new ManifestError(filesProblem);

  const headBytes = Buffer.from(JSON.stringify(head), 'utf8');
  const paths = Buffer.from(files.paths.join('\n'), 'utf8');
  const n = files.paths.length;
  const sizesAt = FIXED_HEAD_BYTES + headBytes.length + 4;
  const modesAt = sizesAt + n * 8;
  const pathsAt = modesAt + n + 4;
  const idsAt = pathsAt + paths.length;
  const out = Buffer.alloc(idsAt + files.ids.length);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(MANIFEST_LAYOUT, 8);
  out.writeUInt32LE(headBytes.length, 12);
  headBytes.copy(out, FIXED_HEAD_BYTES);
  out.writeUInt32LE(n, sizesAt - 4);
  for (let k = 0; k < n; k++) {
    const size = files.stats[k * STAT_FIELDS] as number;
    out.writeUInt32LE(size % TWO_TO_32, sizesAt + k * 8);
    out.writeUInt32LE(Math.floor(size / TWO_TO_32), sizesAt + k * 8 + 4);
  }
  out.set(files.exec, modesAt);
  out.writeUInt32LE(paths.length, modesAt + n);
  paths.copy(out, pathsAt);
  out.set(files.ids, idsAt);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function isFileColumns(v: unknown): v is FileColumns {
  if (v === null || typeof v !== 'object') return false;
  const c = v as Partial<FileColumns>;
  return Array.isArray(c.paths) && c.stats instanceof Float64Array && c.exec instanceof Uint8Array && c.ids instanceof Uint8Array && c.firstId instanceof Uint32Array;
}

/** Untrusted file records as sorted columns, or ManifestError for a record of the wrong shape. */
function recordColumns(records: readonly ManifestFile[]): FileColumns {
  const sortable = records.every((f) => typeof (f as Partial<ManifestFile> | null)?.path === 'string');
  const sorted = sortable && !isSortedByPath(records) ? records.slice().sort((x, y) => comparePaths(x.path, y.path)) : records;
  const converted = fileColumnsOf(sorted, fileWhere, { stat: false });
  if (converted.problem !== null) throw new ManifestError(converted.problem);
  return converted.columns;
}

function isSortedByPath(files: readonly ManifestFile[]): boolean {
  for (let i = 1; i < files.length; i++) {
    if (!((files[i - 1] as ManifestFile).path < (files[i] as ManifestFile).path)) return false;
  }
  return true;
}

function isBinaryLayout(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && Buffer.from(bytes.buffer, bytes.byteOffset, 8).toString('latin1') === MAGIC;
}

/** Parses and checks untrusted manifest bytes (already decrypted and signature-checked), either layout. */
export function decodeManifest(bytes: Uint8Array): Manifest {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError('manifest bytes must be a Uint8Array');
  if (!isBinaryLayout(bytes)) return decodeJsonManifest(bytes);
  const { head, files } = decodeManifestColumns(bytes);
  return { ...head, files: filesOf(files) };
}

/** A layout-2 manifest's head and its files as columns. */
function decodeManifestColumns(bytes: Uint8Array): { head: Omit<Manifest, 'files'>; files: FileColumns } {
  const { buf, head, n, sizesAt } = readBinaryHead(bytes);
  const modesAt = sizesAt + n * 8;
  const pathsAt = modesAt + n + 4;
  if (pathsAt > buf.length) throw new ManifestError('manifest is truncated');
  const stats = new Float64Array(n * STAT_FIELDS);
  const firstId = new Uint32Array(n + 1);
  let id = 0;
  for (let k = 0; k < n; k++) {
    const size = sizeAt(buf, sizesAt, k);
    stats[k * STAT_FIELDS] = size;
    id += chunkCount(size);
    firstId[k + 1] = id;
  }
  const pathBytes = buf.readUInt32LE(modesAt + n);
  const idsAt = pathsAt + pathBytes;
  if (idsAt > buf.length) throw new ManifestError('manifest is truncated');
  const { paths, problem: pathsProblem } = splitPaths(buf.subarray(pathsAt, idsAt), n);
  if (paths === null) throw new ManifestError(`manifest ${pathsProblem}`);
  if (buf.length - idsAt !== id * BLOB_ID_BYTES) throw new ManifestError("manifest blob ids do not match the files' sizes");
  const files: FileColumns = { paths, stats, exec: buf.subarray(modesAt, modesAt + n), ids: buf.subarray(idsAt), firstId };
  const problem = checkFileColumns(files, fileWhere);
  if (problem !== null) throw new ManifestError(problem);
  return { head, files };
}

/** File k's size from the u64 column (refused past Number.MAX_SAFE_INTEGER). */
function sizeAt(buf: Buffer, sizesAt: number, k: number): number {
  const high = buf.readUInt32LE(sizesAt + k * 8 + 4);
  if (high > MAX_SIZE_HIGH_WORD) throw new ManifestError(`${fileWhere(k)}.size must be a non-negative integer`);
  return buf.readUInt32LE(sizesAt + k * 8) + high * TWO_TO_32;
}

/** Magic, layout and the checked head of layout-2 bytes, and where the file count ends. */
function readBinaryHead(bytes: Uint8Array): { buf: Buffer; head: Omit<Manifest, 'files'>; n: number; sizesAt: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < FIXED_HEAD_BYTES + 4) throw new ManifestError('manifest is truncated');
  const layout = buf.readUInt32LE(8);
  if (layout > MANIFEST_LAYOUT) throw new NewerFormatError(`this snapshot's manifest has layout ${layout}, which a newer insomnia-sync wrote`);
  if (layout !== MANIFEST_LAYOUT) throw new ManifestError(`manifest layout must be ${MANIFEST_LAYOUT}`);
  const headEnd = FIXED_HEAD_BYTES + buf.readUInt32LE(12);
  if (headEnd + 4 > buf.length) throw new ManifestError('manifest is truncated');
  let text: string;
  let parsed: unknown;
  try {
    text = strictUtf8.decode(buf.subarray(FIXED_HEAD_BYTES, headEnd));
    parsed = JSON.parse(text);
  } catch {
    throw new ManifestError('manifest head is not valid UTF-8 JSON');
  }
  const problem = checkManifestHead(parsed, HEAD_KEYS);
  if (problem !== null) throw new ManifestError(problem);
  const head = parsed as Omit<Manifest, 'files'>;
  // JSON.stringify writes keys in the order the text had them (the first occurrence, for a
  // repeated key); so the comparison only proves canonical form with the order checked.
  if (!hasKeysInOrder(head, HEAD_KEYS) || !hasKeysInOrder(head.author, AUTHOR_KEYS) || JSON.stringify(head) !== text) {
    throw new ManifestError('manifest head is not in canonical form');
  }
  return { buf, head, n: buf.readUInt32LE(headEnd), sizesAt: headEnd + 4 };
}

/**
 * The chain link and author of a manifest in a layout newer than this version, or null: every
 * layout after 1 starts with magic ‖ layout ‖ head length ‖ head JSON (docs/crypto.md §8), and its
 * head names at least workspaceId, parent, epoch and author.userId and signingKey. Enough to check
 * the signature of bytes this version cannot otherwise read; nothing else in them is looked at.
 */
export function decodeNewerManifestHead(bytes: Uint8Array): Pick<Manifest, 'workspaceId' | 'parent' | 'epoch'> & { author: { userId: string; signingKey: string } } | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!isBinaryLayout(bytes) || buf.length < FIXED_HEAD_BYTES || buf.readUInt32LE(8) <= MANIFEST_LAYOUT) return null;
  const headEnd = FIXED_HEAD_BYTES + buf.readUInt32LE(12);
  if (headEnd > buf.length) return null;
  let h: { workspaceId?: unknown; parent?: unknown; epoch?: unknown; author?: { userId?: unknown; signingKey?: unknown } | null };
  try {
    h = JSON.parse(strictUtf8.decode(buf.subarray(FIXED_HEAD_BYTES, headEnd)));
  } catch {
    return null;
  }
  if (h === null || typeof h !== 'object' || h.author === null || typeof h.author !== 'object') return null;
  const { workspaceId, parent, epoch } = h;
  const { userId, signingKey } = h.author;
  if (typeof workspaceId !== 'string' || (parent !== null && typeof parent !== 'string') || typeof epoch !== 'number') return null;
  if (typeof userId !== 'string' || typeof signingKey !== 'string') return null;
  return { workspaceId, parent, epoch, author: { userId, signingKey } };
}

/** A manifest's fields but its file list, with the list's size: what a walk through history needs. */
export interface ManifestHead {
  manifest: Omit<Manifest, 'files'>;
  files: number;
  bytes: number;
}

/**
 * Parses and checks everything in signed manifest bytes but the file list, which is counted and
 * summed, not returned: no file objects. Layout 1 still checks the list against every rule
 * (decodeJsonManifestHead accepts exactly what decodeJsonManifest does); layout 2 checks the sizes
 * and mode bytes and that the section lengths add up, not the paths. For snapshots whose files are not used (the
 * ancestors a pull walks through, `log`).
 */
export function decodeManifestHead(bytes: Uint8Array): ManifestHead {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError('manifest bytes must be a Uint8Array');
  if (!isBinaryLayout(bytes)) {
    const { head, files, bytes: total } = decodeJsonManifestHead(bytes);
    return { manifest: head, files, bytes: total };
  }
  const { buf, head, n, sizesAt } = readBinaryHead(bytes);
  const modesAt = sizesAt + n * 8;
  if (modesAt + n + 4 > buf.length) throw new ManifestError('manifest is truncated');
  let total = 0;
  let ids = 0;
  for (let k = 0; k < n; k++) {
    const size = sizeAt(buf, sizesAt, k);
    total += size;
    ids += chunkCount(size);
    // a mode byte is one compare: refused here as decodeManifest refuses it
    const mode = buf[modesAt + k];
    if (mode !== 0 && mode !== 1) throw new ManifestError(`${fileWhere(k)}.mode must be 0o644 or 0o755`);
  }
  // The sections must add up to the whole, as decodeManifest requires; the paths themselves are
  // not looked at (the signature covers them, and this reader does not use them).
  if (modesAt + n + 4 + buf.readUInt32LE(modesAt + n) + ids * BLOB_ID_BYTES !== buf.length) {
    throw new ManifestError('manifest sections do not add up to its length');
  }
  return { manifest: head, files: n, bytes: total };
}

/** Number of files and total plaintext bytes. */
export function manifestStats(m: Manifest): { files: number; bytes: number } {
  let bytes = 0;
  for (const f of m.files) bytes += f.size;
  return { files: m.files.length, bytes };
}

/** Every distinct blob id the manifest references, sorted (what a push must upload, a pull fetch). */
export function manifestBlobIds(m: Manifest): string[] {
  const ids = new Set<string>();
  for (const f of m.files) for (const id of f.chunks) ids.add(id);
  return [...ids].sort();
}
