/**
 * The manifest: the plaintext of a snapshot before it is encrypted and signed (docs/protocol.md,
 * snapshots). It lists every file of the workspace with its mode, size and blob ids, plus the
 * author, time and message — everything the server must never see.
 *
 * Encoding is canonical JSON (fixed key order, files sorted by path, no whitespace) in UTF-8, so
 * a manifest has exactly one byte form. Decoding is strict: it rejects unknown or missing fields,
 * wrong types, ids of the wrong length, unsafe paths, unsorted or repeated paths, a file that is
 * also a folder of another, chunk counts that do not fit the size, and any byte form other than
 * the canonical one (so duplicate JSON keys or extra whitespace are refused too).
 */
import { LIMITS } from '../protocol/types.js';
import {
  checkExactKeys,
  checkFileRecords,
  type FileListCheck,
  isB64url32,
  isHexId32,
  isHexId64,
} from './checks.js';
import { checkFileColumns, idsHex, STAT_FIELDS, type FileColumns } from './file-columns.js';
import { comparePaths } from './paths.js';

export interface ManifestFile {
  /** workspace-relative, '/'-separated, Unicode NFC; see validatePath */
  path: string;
  /** 0o644 or 0o755: only the executable bit is kept */
  mode: number;
  size: number;
  /** blob ids (64 hex) of the CHUNK_SIZE chunks in order; [] for an empty file */
  chunks: string[];
}

export interface Manifest {
  version: 1;
  /** 32 hex */
  workspaceId: string;
  /** snapshot id (64 hex) this one follows, null for the first */
  parent: string | null;
  /** key epoch of the team when the snapshot was made */
  epoch: number;
  author: {
    /** 32 hex */
    userId: string;
    name: string;
    email: string;
    /** the author's Ed25519 public key, base64url (32 bytes) */
    signingKey: string;
  };
  /** ISO 8601 as Date.prototype.toISOString writes it */
  time: string;
  message: string;
  /** sorted by path, unique */
  files: ManifestFile[];
}

/** A manifest whose files are columns (sync/file-columns.ts), as push builds it. */
export type ColumnarManifest = Omit<Manifest, 'files'> & { files: FileColumns };

export class ManifestError extends Error {
  readonly code = 'bad_manifest';
  override readonly name = 'ManifestError';
}

export const MANIFEST_VERSION = 1;
/** Commit messages are free text, but not unbounded. */
export const MAX_MESSAGE_CHARS = 65_536;

const TOP_KEYS = ['version', 'workspaceId', 'parent', 'epoch', 'author', 'time', 'message', 'files'] as const;
const AUTHOR_KEYS = ['userId', 'name', 'email', 'signingKey'] as const;
const FILE_KEYS = ['path', 'mode', 'size', 'chunks'] as const;

// Names and emails are shown in `log`; control characters there could drive the terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Messages may span lines, nothing else.
const MESSAGE_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

function isIsoTime(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const t = Date.parse(v);
  return Number.isFinite(t) && new Date(t).toISOString() === v;
}

const fileWhere = (i: number): string => `manifest.files[${i}]`;
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

/** Everything but the file list. */
function checkManifestHead(m: unknown): string | null {
  const top = checkExactKeys(m, TOP_KEYS, () => 'manifest');
  if (top !== null) return top;
  const o = m as Record<string, unknown>;
  if (o.version !== MANIFEST_VERSION) return `manifest.version must be ${MANIFEST_VERSION}`;
  if (!isHexId32(o.workspaceId)) return 'manifest.workspaceId is not a 32-hex id';
  if (o.parent !== null && !isHexId64(o.parent)) return 'manifest.parent is not a 64-hex snapshot id or null';
  if (typeof o.epoch !== 'number' || !Number.isSafeInteger(o.epoch) || o.epoch < 1) {
    return 'manifest.epoch must be a positive integer';
  }
  const authorKeys = checkExactKeys(o.author, AUTHOR_KEYS, () => 'manifest.author');
  if (authorKeys !== null) return authorKeys;
  const a = o.author as Record<string, unknown>;
  if (!isHexId32(a.userId)) return 'manifest.author.userId is not a 32-hex id';
  if (typeof a.name !== 'string' || a.name.length > LIMITS.maxNameChars || CONTROL.test(a.name)) {
    return `manifest.author.name must be a string of at most ${LIMITS.maxNameChars} characters without control characters`;
  }
  if (typeof a.email !== 'string' || a.email.length > LIMITS.maxEmailChars || CONTROL.test(a.email)) {
    return `manifest.author.email must be a string of at most ${LIMITS.maxEmailChars} characters without control characters`;
  }
  if (!isB64url32(a.signingKey)) return 'manifest.author.signingKey is not a base64url 32-byte key';
  if (!isIsoTime(o.time)) return 'manifest.time is not an ISO 8601 UTC time as toISOString writes it';
  if (typeof o.message !== 'string' || o.message.length > MAX_MESSAGE_CHARS || MESSAGE_CONTROL.test(o.message)) {
    return `manifest.message must be a string of at most ${MAX_MESSAGE_CHARS} characters without control characters other than tab and newlines`;
  }
  return null;
}

/** The top level and author copied into canonical key order, with `files` as given. */
function canonicalHead(m: Omit<Manifest, 'files'>, files: ManifestFile[]): Manifest {
  return {
    version: m.version,
    workspaceId: m.workspaceId,
    parent: m.parent,
    epoch: m.epoch,
    author: {
      userId: m.author.userId,
      name: m.author.name,
      email: m.author.email,
      signingKey: m.author.signingKey,
    },
    time: m.time,
    message: m.message,
    files,
  };
}

/** Copies into the canonical key order; the result's JSON.stringify is the canonical form. */
function canonical(m: Manifest, files: readonly ManifestFile[]): Manifest {
  return canonicalHead(m, files.map((f) => ({ path: f.path, mode: f.mode, size: f.size, chunks: f.chunks.slice() })));
}

function isSortedByPath(files: readonly ManifestFile[]): boolean {
  for (let i = 1; i < files.length; i++) {
    if (!((files[i - 1] as ManifestFile).path < (files[i] as ManifestFile).path)) return false;
  }
  return true;
}

/** True when the object's own keys are exactly `keys`, in that order. */
function hasKeysInOrder(v: object, keys: readonly string[]): boolean {
  const own = Object.keys(v);
  if (own.length !== keys.length) return false;
  for (let i = 0; i < own.length; i++) if (own[i] !== keys[i]) return false;
  return true;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Canonical UTF-8 JSON of a manifest. Files are sorted here; anything decodeManifest would refuse
 * (e.g. a path not in NFC, two files with one path) throws ManifestError instead of being
 * silently changed, so decode(encode(m)) always equals m up to file order. The files may be
 * records or columns (push's case: no object per file, and the same bytes).
 */
export function encodeManifest(m: Manifest | ColumnarManifest): Uint8Array {
  if (m !== null && typeof m === 'object' && m.files !== null && typeof m.files === 'object' && 'paths' in m.files) {
    return encodeColumnarManifest(m as ColumnarManifest);
  }
  return encodeRecordManifest(m as Manifest);
}

function encodeRecordManifest(m: Manifest): Uint8Array {
  if (m === null || typeof m !== 'object' || !Array.isArray(m.files)) {
    throw new ManifestError('manifest is not an object with a files array');
  }
  // Usual case: files already sorted, each with exactly the four fields in canonical order (as
  // push builds them); they pass the checks as they are and are written without a copy.
  // Unsorted files fail the check (which verifies the order) and are sorted below.
  const asIs = canonicalHead(m, m.files);
  const check = checkManifest(asIs);
  if (check.problem === null && check.keysInOrder) return encoder.encode(JSON.stringify(asIs));
  const sorted = isSortedByPath(m.files) ? m.files : m.files.slice().sort((x, y) => comparePaths(x.path, y.path));
  const c = canonical(m, sorted);
  const problem = checkManifest(c).problem;
  if (problem !== null) throw new ManifestError(problem);
  return encoder.encode(JSON.stringify(c));
}

// Paths made of these need no escape in JSON: printable ASCII but '"' and '\\' (and '\n', the joiner).
const JSON_PLAIN_PATHS = /^[\x20\x21\x23-\x5b\x5d-\x7e\n]*$/;

/**
 * The same bytes from columns: the head through JSON.stringify, then each file record as
 * JSON.stringify writes it (test/sync/manifest.test.ts compares the two). One string grown by
 * concatenation, then one encoding: the cheapest of the ways measured in a cold process.
 */
function encodeColumnarManifest(m: ColumnarManifest): Uint8Array {
  const head = canonicalHead(m, []);
  const problem = checkManifestHead(head) ?? checkFileColumns(m.files, fileWhere);
  if (problem !== null) throw new ManifestError(problem);
  const { paths, stats, exec, firstId } = m.files;
  const hex = idsHex(m.files);
  const plain = JSON_PLAIN_PATHS.test(paths.join('\n'));
  const headText = JSON.stringify(head);
  // The head ends with the empty file list, `"files":[]}`: the records go between the brackets.
  let text = headText.slice(0, -2);
  for (let k = 0; k < paths.length; k++) {
    const path = paths[k] as string;
    text += `${k === 0 ? '' : ','}{"path":${plain ? `"${path}"` : JSON.stringify(path)}${exec[k] === 1 ? ',"mode":493,"size":' : ',"mode":420,"size":'}${stats[k * STAT_FIELDS]},"chunks":[`;
    const from = firstId[k] as number;
    const to = firstId[k + 1] as number;
    for (let i = from; i < to; i++) text += `${i === from ? '"' : ',"'}${hex.slice(i * 64, i * 64 + 64)}"`;
    text += ']}';
  }
  return encoder.encode(`${text}]}`);
}

/**
 * Parses and checks untrusted manifest bytes (already decrypted and signature-checked). The
 * result is the parsed object itself: once every object in it is known to hold exactly its
 * fields in canonical order, re-serialising it and comparing with the text proves the bytes
 * canonical, and a copy would add nothing.
 */
export function decodeManifest(bytes: Uint8Array): Manifest {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError('manifest bytes must be a Uint8Array');
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

/** A manifest's fields but its file list, with the list's size: what a walk through history needs. */
export interface ManifestHead {
  manifest: Omit<Manifest, 'files'>;
  files: number;
  bytes: number;
}

const FILES_KEY = encoder.encode(',"files":[');
const SIZE_KEY = encoder.encode(',"size":');

/**
 * Parses and checks everything in signed manifest bytes but the file list, which is only counted
 * and summed: a tenth of decodeManifest's time for 10,000 files, and no file objects. For
 * snapshots whose files are not used (the ancestors a pull walks through, `log`). The canonical
 * form puts `files` last, and in JSON text a quote inside a string is always escaped, so the first
 * `,"files":[` ends the head and each `,"size":` after it belongs to one file record.
 */
export function decodeManifestHead(bytes: Uint8Array): ManifestHead {
  if (!(bytes instanceof Uint8Array)) throw new ManifestError('manifest bytes must be a Uint8Array');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = buf.indexOf(FILES_KEY);
  if (at < 0 || buf[buf.length - 2] !== 0x5d || buf[buf.length - 1] !== 0x7d) throw new ManifestError('manifest has no file list at its end');
  let head: unknown;
  try {
    head = JSON.parse(`${decoder.decode(bytes.subarray(0, at))},"files":[]}`);
  } catch {
    throw new ManifestError('manifest is not valid JSON');
  }
  const problem = checkManifestHead(head);
  if (problem !== null) throw new ManifestError(problem);
  const { files: _none, ...manifest } = head as Manifest;
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
  return { manifest, files, bytes: total };
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
