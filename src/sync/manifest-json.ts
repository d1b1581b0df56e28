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
import { isUtf8 } from 'node:buffer';
import { chunkCount } from './chunking.js';
import { checkFileRecords, checkPathList, type FileListCheck } from './checks.js';
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
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
/**
 * One file record exactly as JSON.stringify writes a valid one: keys in order, no whitespace,
 * the path a JSON string (checked further below), mode 0o644 or 0o755, the size a canonical
 * integer of at most 16 digits, 64-hex ids. Sticky: it matches where the previous record ended.
 */
const RECORD = /\{"path":"((?:[^"\\\u0000-\u001f]|\\[^])*)","mode":(?:420|493),"size":(0|[1-9][0-9]{0,15}),"chunks":\[((?:"[0-9a-f]{64}"(?:,"[0-9a-f]{64}")*)?)\]\}/y;
// '"' + 64 hex + '"' and the comma before the next one
const QUOTED_ID_CHARS = 67;

/**
 * Layout-1 bytes decoded for a walk through history (`log`, the ancestors a pull checks): the head
 * in full, the file list checked but not turned into objects. It accepts exactly the bytes
 * decodeJsonManifest accepts (a test compares the two on every byte changed, dropped or doubled):
 * the head text must be canonical, each key once and in order, as layout 2's head; each file
 * record must be the text JSON.stringify writes for a valid one, and the paths go through the full
 * decoder's rules (checkPathList). For 10,000 files about half of decodeJsonManifest's time
 * (~12 ms against ~27 ms here), where only counting the records took ~2 ms but let through bytes
 * that `verify` refuses.
 *
 * In canonical text a quote inside a string is always escaped, so the first `,"files":[` ends
 * the head: whatever comes before it must be a canonical head by itself.
 */
export function decodeJsonManifestHead(bytes: Uint8Array): { head: Omit<Manifest, 'files'>; files: number; bytes: number } {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError('manifest bytes must be a Uint8Array');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // once for the whole text, as decodeJsonManifest's fatal decoder does; parts are then sliced
  if (!isUtf8(buf)) throw new ManifestError('manifest is not valid UTF-8');
  const at = buf.indexOf(FILES_KEY);
  const end = buf.length - 2;
  if (at < 0 || end < at + FILES_KEY.length || buf[end] !== CLOSE_BRACKET || buf[end + 1] !== CLOSE_BRACE) {
    throw new ManifestError('manifest has no file list at its end');
  }
  const headText = `${buf.toString('utf8', 0, at)}}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(headText);
  } catch {
    throw new ManifestError('manifest is not valid JSON');
  }
  const problem = checkManifestHead(parsed, HEAD_KEYS);
  if (problem !== null) throw new ManifestError(problem);
  const head = parsed as Omit<Manifest, 'files'>;
  // JSON.stringify writes keys in the order the text had them (the first occurrence, for a
  // repeated key); so the comparison only proves canonical form with the order checked.
  if (!hasKeysInOrder(head, HEAD_KEYS) || !hasKeysInOrder(head.author, AUTHOR_KEYS) || JSON.stringify(head) !== headText) {
    throw new ManifestError('manifest is not in canonical form');
  }
  const list = scanFileList(buf.toString('utf8', at + FILES_KEY.length, end));
  // The full decoder names what is wrong with a record; this reader only knows that one is.
  if (list === null) refuseAsFullDecoderDoes(bytes);
  const pathProblem = checkPathList(list.paths, fileWhere);
  if (pathProblem !== null) throw new ManifestError(pathProblem);
  return { head, files: list.paths.length, bytes: list.bytes };
}

/** The paths (not yet checked) and total size of canonical file records joined by commas, or null. */
function scanFileList(text: string): { paths: string[]; bytes: number } | null {
  const paths: string[] = [];
  let total = 0;
  let i = 0;
  while (i < text.length) {
    if (paths.length > 0) {
      if (text.charCodeAt(i) !== 0x2c) return null;
      i++;
    }
    RECORD.lastIndex = i;
    const m = RECORD.exec(text);
    if (m === null) return null;
    i = RECORD.lastIndex;
    let path = m[1]!;
    if (path.includes('\\')) {
      const literal = `"${path}"`;
      try {
        path = JSON.parse(literal) as string;
      } catch {
        return null;
      }
      if (JSON.stringify(path) !== literal) return null;
    }
    const size = Number(m[2]);
    if (!Number.isSafeInteger(size)) return null;
    const ids = m[3]!.length === 0 ? 0 : (m[3]!.length + 1) / QUOTED_ID_CHARS;
    if (ids !== chunkCount(size)) return null;
    paths.push(path);
    total += size;
  }
  return { paths, bytes: total };
}

function refuseAsFullDecoderDoes(bytes: Uint8Array): never {
  decodeJsonManifest(bytes);
  throw new ManifestError('manifest is not in canonical form');
}
