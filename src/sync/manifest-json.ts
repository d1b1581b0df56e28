/**
 * Manifest layout 1: canonical JSON of the whole manifest (fixed key order, files sorted by path,
 * no whitespace) in UTF-8. Snapshots made before layout 2 (sync/manifest.ts) use it, so it is
 * still read; nothing writes it but the tests of this reader.
 *
 * Decoding is strict: it rejects unknown or missing fields, wrong types, ids of the wrong length,
 * unsafe paths, unsorted or repeated paths, a file that is also a folder of another, chunk counts
 * that do not fit the size, and any byte form other than the canonical one (so duplicate JSON
 * keys or extra whitespace are refused too).
 */
import { checkFileRecords, type FileListCheck } from './checks.js';
import {
  AUTHOR_KEYS,
  canonicalHead,
  checkManifestHead,
  fileWhere,
  hasKeysInOrder,
  type Manifest,
  ManifestError,
  type ManifestFile,
  TOP_KEYS,
} from './manifest-head.js';
import { comparePaths } from './paths.js';

const FILE_KEYS = ['path', 'mode', 'size', 'chunks'] as const;
const NOT_AN_ARRAY: FileListCheck = { problem: 'manifest.files is not an array', keysInOrder: false };

/**
 * Checks `m` (untrusted) against every rule: `problem` describes the first rule it breaks, or is
 * null. `keysInOrder` says whether each file record is plain data with its keys in canonical
 * order (see FileListCheck; the top level and author are not looked at for that).
 */
function checkManifest(m: unknown): FileListCheck {
  const problem = checkManifestHead(m);
  if (problem !== null) return { problem, keysInOrder: false };
  const files = (m as Record<string, unknown>).files;
  if (!Array.isArray(files)) return NOT_AN_ARRAY;
  return checkFileRecords(files, FILE_KEYS, fileWhere);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The layout-1 bytes of `m`, files sorted; throws ManifestError for what the reader would refuse. */
export function encodeJsonManifest(m: Manifest): Uint8Array {
  if (m === null || typeof m !== 'object' || !Array.isArray(m.files)) {
    throw new ManifestError('manifest is not an object with a files array');
  }
  const sortable = m.files.every((f) => typeof (f as Partial<ManifestFile> | null)?.path === 'string');
  const files = sortable ? m.files.slice().sort((x, y) => comparePaths(x.path, y.path)) : m.files;
  const problem = checkManifest({ ...canonicalHead(m), files }).problem;
  if (problem !== null) throw new ManifestError(problem);
  const c: Manifest = { ...canonicalHead(m), files: files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, chunks: f.chunks.slice() })) };
  return encoder.encode(JSON.stringify(c));
}

/**
 * Parses and checks layout-1 bytes. The result is the parsed object itself: once every object in
 * it is known to hold exactly its fields in canonical order, re-serialising it and comparing with
 * the text proves the bytes canonical, and a copy would add nothing.
 */
export function decodeJsonManifest(bytes: Uint8Array): Manifest {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ManifestError('manifest is not valid UTF-8');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ManifestError('manifest is not valid JSON');
  }
  const check = checkManifest(parsed);
  if (check.problem !== null) throw new ManifestError(check.problem);
  const p = parsed as Manifest;
  // JSON.stringify writes keys in the order the text had them (the first occurrence, for a
  // repeated key); so the comparison below only proves canonical form with the order checked.
  if (!check.keysInOrder || !hasKeysInOrder(p, TOP_KEYS) || !hasKeysInOrder(p.author, AUTHOR_KEYS)) {
    throw new ManifestError('manifest is not in canonical form');
  }
  if (JSON.stringify(p) !== text) throw new ManifestError('manifest is not in canonical form');
  return p;
}

const FILES_KEY = encoder.encode(',"files":[');
const SIZE_KEY = encoder.encode(',"size":');

/**
 * Everything in layout-1 bytes but the file list, which is only counted and summed: a tenth of
 * decodeJsonManifest's time for 10,000 files. The canonical form puts `files` last, and in JSON
 * text a quote inside a string is always escaped, so the first `,"files":[` ends the head and
 * each `,"size":` after it belongs to one file record.
 */
export function decodeJsonManifestHead(bytes: Uint8Array): { head: Omit<Manifest, 'files'>; files: number; bytes: number } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = buf.indexOf(FILES_KEY);
  if (at < 0 || buf[buf.length - 2] !== 0x5d || buf[buf.length - 1] !== 0x7d) throw new ManifestError('manifest has no file list at its end');
  let parsed: unknown;
  try {
    parsed = JSON.parse(`${decoder.decode(bytes.subarray(0, at))},"files":[]}`);
  } catch {
    throw new ManifestError('manifest is not valid JSON');
  }
  const problem = checkManifestHead(parsed);
  if (problem !== null) throw new ManifestError(problem);
  const { files: _none, ...head } = parsed as Manifest;
  let files = 0;
  let total = 0;
  for (let i = buf.indexOf(SIZE_KEY, at); i >= 0; i = buf.indexOf(SIZE_KEY, i + SIZE_KEY.length)) {
    let size = 0;
    let j = i + SIZE_KEY.length;
    for (; buf[j]! >= 0x30 && buf[j]! <= 0x39; j++) size = size * 10 + (buf[j]! - 0x30);
    if (j === i + SIZE_KEY.length) throw new ManifestError('manifest has a file size that is not a number');
    files++;
    total += size;
  }
  return { head, files, bytes: total };
}
