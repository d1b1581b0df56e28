/**
 * The local index in `.insomnia-sync/`, like git's: one record per tracked file with the stat
 * data seen when the file was last hashed and the blob ids of its content then, plus the snapshot
 * the folder was last synced with. It lets `status` and `push` skip reading unchanged files.
 *
 * The index is local state, but it is still decoded strictly: a damaged index must stop the
 * command (the caller may then rebuild it by hashing everything) rather than be half-believed.
 */
import {
  checkExactKeys,
  checkFileRecords,
  type FileListCheck,
  isHexId32,
  isHexId64,
} from './checks.js';
import { comparePaths } from './paths.js';

export interface IndexEntry {
  path: string;
  size: number;
  /** 0 marks a "racily clean" entry that must be re-hashed; see markRacyEntries */
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  /** 0o644 or 0o755 */
  mode: number;
  chunks: string[];
}

export interface LocalIndex {
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

export const INDEX_VERSION = 1;

const TOP_KEYS = ['version', 'workspaceId', 'base', 'entries'] as const;
const ENTRY_KEYS = ['path', 'size', 'mtimeMs', 'ctimeMs', 'ino', 'mode', 'chunks'] as const;

// Per-record checks beyond checkFileList's; one function for all records (see checkFileList).
function checkEntryStat(r: Record<string, unknown>, where: () => string): string | null {
  const ino = r.ino;
  // Number.isFinite is false for anything but a finite number, so it doubles as the type test.
  if (!Number.isFinite(r.mtimeMs)) return `${where()}.mtimeMs is not a finite number`;
  if (!Number.isFinite(r.ctimeMs)) return `${where()}.ctimeMs is not a finite number`;
  if (!Number.isFinite(ino) || (ino as number) < 0) return `${where()}.ino is not a non-negative number`;
  return null;
}

const entryWhere = (n: number): string => `index.entries[${n}]`;

function checkIndex(i: unknown): string | null {
  return checkIndexRecords(i).problem;
}

/** checkIndex, also telling whether the entries are plain records with their keys in order. */
function checkIndexRecords(i: unknown): FileListCheck {
  const top = checkIndexHead(i);
  if (top !== null) return { problem: top, keysInOrder: false };
  return checkFileRecords((i as { entries: unknown[] }).entries, ENTRY_KEYS, entryWhere, checkEntryStat);
}

function checkIndexHead(i: unknown): string | null {
  const top = checkExactKeys(i, TOP_KEYS, () => 'index');
  if (top !== null) return top;
  const o = i as Record<string, unknown>;
  if (o.version !== INDEX_VERSION) return `index.version must be ${INDEX_VERSION}`;
  if (!isHexId32(o.workspaceId)) return 'index.workspaceId is not a 32-hex id';
  if (o.base !== null && !isHexId64(o.base)) return 'index.base is not a 64-hex snapshot id or null';
  if (!Array.isArray(o.entries)) return 'index.entries is not an array';
  return null;
}

function copyEntry(e: IndexEntry): IndexEntry {
  return {
    path: e.path,
    size: e.size,
    mtimeMs: e.mtimeMs,
    ctimeMs: e.ctimeMs,
    ino: e.ino,
    mode: e.mode,
    chunks: e.chunks.slice(),
  };
}

/** JSON text of the index; entries are sorted here, anything decodeIndex would refuse throws. */
export function encodeIndex(i: LocalIndex): string {
  if (i === null || typeof i !== 'object' || !Array.isArray(i.entries)) {
    throw new IndexFormatError('index is not an object with an entries array');
  }
  // Usual case: entries already sorted, plain, with exactly the entry fields in order
  // (decodeIndex's output, or markRacyEntries' copies), so they pass the checks as they are and
  // are written without a copy. Anything else (unsorted, extra fields, class instances) goes the
  // long way, which reports real problems.
  const asIs: LocalIndex = { version: i.version, workspaceId: i.workspaceId, base: i.base, entries: i.entries };
  const check = checkIndexRecords(asIs);
  if (check.problem === null && check.keysInOrder) return JSON.stringify(asIs);
  const entries = i.entries.map(copyEntry).sort((a, b) => comparePaths(a.path, b.path));
  const out: LocalIndex = { version: i.version, workspaceId: i.workspaceId, base: i.base, entries };
  const problem = checkIndex(out);
  if (problem !== null) throw new IndexFormatError(problem);
  return JSON.stringify(out);
}

/**
 * Parses and checks the index text. The entries are the parsed objects themselves: checked to
 * have exactly the entry fields, and new, so there is nothing to copy them away from.
 */
export function decodeIndex(text: string): LocalIndex {
  if (typeof text !== 'string') throw new IndexFormatError('index text must be a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IndexFormatError('index is not valid JSON');
  }
  const problem = checkIndex(parsed);
  if (problem !== null) throw new IndexFormatError(problem);
  const p = parsed as LocalIndex;
  return { version: p.version, workspaceId: p.workspaceId, base: p.base, entries: p.entries };
}

export function emptyIndex(workspaceId: string): LocalIndex {
  if (!isHexId32(workspaceId)) throw new IndexFormatError('workspaceId is not a 32-hex id');
  return { version: 1, workspaceId, base: null, entries: [] };
}

/** How close to the index write a file change may be and still hide inside the timestamp granularity. */
export const RACY_WINDOW_MS = 2000;

/**
 * Racy-git protection: a file changed again within the timestamp granularity of its last hash
 * (same size) keeps identical stat data, so it would look clean forever. Like git, any entry
 * whose mtime — or ctime, which a `touch -d` back in time leaves recent — is within
 * RACY_WINDOW_MS of the index write is stored with mtimeMs 0, so the next scan sees a different
 * mtime and re-hashes it (then records the real mtime once the file has settled). The window of
 * 2 s covers FAT's 2-second mtime. Returns new entries; the input is not changed.
 */
export function markRacyEntries(entries: IndexEntry[], indexWrittenAtMs: number): IndexEntry[] {
  const limit = indexWrittenAtMs - RACY_WINDOW_MS;
  // Built in one literal (not copied, then patched) so that every copy has the same shape.
  return entries.map((e) => ({
    path: e.path,
    size: e.size,
    mtimeMs: e.mtimeMs >= limit || e.ctimeMs >= limit ? 0 : e.mtimeMs,
    ctimeMs: e.ctimeMs,
    ino: e.ino,
    mode: e.mode,
    chunks: e.chunks.slice(),
  }));
}
