/**
 * What changed in the workspace folder since the index was written, in two steps so that only
 * changed files are read: planRescan compares stat data (cheap), the caller hashes the dirty
 * files, and localChanges compares content (blob ids and mode).
 */
import { TreeError } from './errors.js';
import { sameContentAt, STAT_FIELDS, type FileColumns, type StatColumns } from './file-columns.js';
import type { IndexEntry, LocalIndex } from './index-format.js';
import { comparePaths } from './paths.js';

/**
 * One regular file found by the directory scan. `path` must already be in the index's form
 * (validatePath: NFC, '/'-separated), `mode` may be a raw st_mode or a synced mode.
 */
export interface ScannedFile {
  path: string;
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  mode: number;
}

export type LocalChange = { kind: 'added' | 'modified' | 'deleted'; path: string };

/** A file of the current folder once its content is known. */
export interface CurrentFile {
  path: string;
  mode: number;
  chunks: string[];
}

function byPath(a: { path: string }, b: { path: string }): number {
  return comparePaths(a.path, b.path);
}

/** normalizeMode(a) === normalizeMode(b), without two calls per file in cold code. */
function sameSyncedMode(a: number, b: number): boolean {
  return ((a ^ b) & 0o100) === 0;
}

function sameStat(e: IndexEntry, f: ScannedFile): boolean {
  return (
    e.size === f.size &&
    e.mtimeMs === f.mtimeMs &&
    e.ctimeMs === f.ctimeMs &&
    e.ino === f.ino &&
    sameSyncedMode(e.mode, f.mode)
  );
}

/**
 * Compares a fresh directory scan with the index. A file whose size, mtimeMs, ctimeMs, ino or
 * mode differs from its index entry is "dirty" and must be re-read (hashed) by the caller;
 * identical stat → unchanged without reading. So an edit that keeps the size and sets mtime back
 * is still caught by ctime (and a replace-by-rename by ino), like git. An entry stored with
 * mtimeMs 0 is racily clean (encodeIndex writtenAtMs) and always dirty. New files are dirty too.
 * All three lists are sorted by path. Throws TreeError on a path scanned twice.
 */
export function planRescan(
  index: LocalIndex,
  scan: ScannedFile[],
): { unchanged: IndexEntry[]; dirty: ScannedFile[]; deleted: string[] } {
  return planRescanSorted(index.entries, scan) ?? planRescanAnyOrder(index.entries, scan);
}

/**
 * planRescan as one merge pass when both lists are strictly sorted by path, as they are in
 * practice (decodeIndex checks it, the scan sorts): no map, no set, no sort. Null as soon as
 * either list turns out not to be sorted (or to repeat a path), for the general version to redo.
 */
function planRescanSorted(
  entries: readonly IndexEntry[],
  scan: readonly ScannedFile[],
): { unchanged: IndexEntry[]; dirty: ScannedFile[]; deleted: string[] } | null {
  const unchanged: IndexEntry[] = [];
  const dirty: ScannedFile[] = [];
  const deleted: string[] = [];
  const sorted = mergeSortedByPath(
    entries,
    scan,
    (f, match) => {
      if (match !== undefined && match.mtimeMs !== 0 && sameStat(match, f)) unchanged.push(match);
      else dirty.push(f);
    },
    (path) => deleted.push(path),
  );
  return sorted ? { unchanged, dirty, deleted } : null;
}

/**
 * One merge pass over index entries and files, both expected strictly sorted by path: calls
 * `onFile` for each file with its entry (if any) and `onGone` for each entry no file matches, in
 * path order. False as soon as either list turns out not to be sorted (or repeats a path).
 */
function mergeSortedByPath<F extends { path: string }>(
  entries: readonly IndexEntry[],
  files: readonly F[],
  onFile: (file: F, entry: IndexEntry | undefined) => void,
  onGone: (path: string) => void,
): boolean {
  const ne = entries.length;
  let i = 0;
  let prevEntry = '';
  let prevFile = '';
  for (let n = 0; n < files.length; n++) {
    const f = files[n] as F;
    const p = f.path;
    if (n > 0 && !(prevFile < p)) return false;
    prevFile = p;
    let match: IndexEntry | undefined;
    while (i < ne) {
      const e = entries[i] as IndexEntry;
      const ep = e.path;
      if (i > 0 && !(prevEntry < ep)) return false;
      if (ep > p) break;
      prevEntry = ep;
      i++;
      if (ep === p) {
        match = e;
        break;
      }
      onGone(ep);
    }
    onFile(f, match);
  }
  for (; i < ne; i++) {
    const ep = (entries[i] as IndexEntry).path;
    if (i > 0 && !(prevEntry < ep)) return false;
    prevEntry = ep;
    onGone(ep);
  }
  return true;
}

function planRescanAnyOrder(
  indexEntries: readonly IndexEntry[],
  scan: readonly ScannedFile[],
): { unchanged: IndexEntry[]; dirty: ScannedFile[]; deleted: string[] } {
  const entries = new Map<string, IndexEntry>();
  for (const e of indexEntries) entries.set(e.path, e);
  const seen = new Set<string>();
  const unchanged: IndexEntry[] = [];
  const dirty: ScannedFile[] = [];
  for (const f of scan) {
    if (seen.has(f.path)) throw new TreeError('scan lists a path twice');
    seen.add(f.path);
    const e = entries.get(f.path);
    if (e !== undefined && e.mtimeMs !== 0 && sameStat(e, f)) unchanged.push(e);
    else dirty.push(f);
  }
  const deleted: string[] = [];
  for (const e of indexEntries) if (!seen.has(e.path)) deleted.push(e.path);
  unchanged.sort(byPath);
  dirty.sort(byPath);
  deleted.sort(comparePaths);
  return { unchanged, dirty, deleted };
}

/** planRescan's answer over columns: row numbers, no objects. */
export interface RescanPlan {
  /** index rows whose files are unchanged */
  unchanged: number[];
  /** scan rows to re-read */
  dirty: number[];
  /** per dirty row, the index row with its path, or -1 for a new file */
  dirtyWas: number[];
  /** index rows whose paths the scan no longer has */
  deleted: number[];
}

/**
 * planRescan over the index's and the scan's columns, in one merge pass over two strictly sorted
 * path lists (the index decoder checks its order, the scan walks in that order): all that a push
 * needs to carry the unchanged rows over. `rehashAll` marks every scanned file dirty (after a key
 * rotation every blob is named anew). Throws TreeError if the scan is out of order.
 */
export function planRescanColumns(index: StatColumns, scan: StatColumns, opts: { rehashAll?: boolean } = {}): RescanPlan {
  const plan: RescanPlan = { unchanged: [], dirty: [], dirtyWas: [], deleted: [] };
  const ip = index.paths;
  const sp = scan.paths;
  const is = index.stats;
  const ss = scan.stats;
  const all = opts.rehashAll === true;
  let i = 0;
  for (let n = 0; n < sp.length; n++) {
    const p = sp[n] as string;
    if (n > 0 && !((sp[n - 1] as string) < p)) throw new TreeError('scan is not strictly sorted by path');
    while (i < ip.length && (ip[i] as string) < p) plan.deleted.push(i++);
    const was = i < ip.length && ip[i] === p ? i++ : -1;
    const a = was * STAT_FIELDS;
    const b = n * STAT_FIELDS;
    const same =
      was >= 0 &&
      !all &&
      is[a + 1] !== 0 && // racily clean: stored with mtimeMs 0 (encodeIndex writtenAtMs)
      is[a] === ss[b] &&
      is[a + 1] === ss[b + 1] &&
      is[a + 2] === ss[b + 2] &&
      is[a + 3] === ss[b + 3] &&
      index.exec[was] === scan.exec[n];
    if (same) plan.unchanged.push(was);
    else {
      plan.dirty.push(n);
      plan.dirtyWas.push(was);
    }
  }
  for (; i < ip.length; i++) plan.deleted.push(i);
  return plan;
}

/**
 * localChanges from a plan: the re-read files (`hashed`, one per plan.dirty row, in order) against
 * the index rows they replace, and the deleted rows. Sorted by path.
 */
export function planChanges(index: FileColumns, plan: RescanPlan, hashed: readonly Pick<IndexEntry, 'path' | 'mode' | 'chunks'>[]): LocalChange[] {
  const changes: LocalChange[] = [];
  plan.dirtyWas.forEach((was, k) => {
    const f = hashed[k] as Pick<IndexEntry, 'path' | 'mode' | 'chunks'>;
    if (was < 0) changes.push({ kind: 'added', path: f.path });
    else if (!sameContentAt(index, was, f)) changes.push({ kind: 'modified', path: f.path });
  });
  for (const k of plan.deleted) changes.push({ kind: 'deleted', path: index.paths[k] as string });
  return changes.sort(byPath);
}

/**
 * The full current tree from the two halves the caller has after planRescan and hashing:
 * the unchanged index entries and the freshly hashed dirty files. Sorted by path.
 */
export function currentTree<T extends CurrentFile>(unchanged: readonly IndexEntry[], hashed: readonly T[]): (IndexEntry | T)[] {
  return [...unchanged, ...hashed].sort(byPath);
}

function sameContent(e: IndexEntry, f: CurrentFile): boolean {
  if (!sameSyncedMode(e.mode, f.mode)) return false;
  const a = e.chunks;
  const b = f.chunks;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Local changes against the index, by content. `current` is the COMPLETE current tree (every file
 * in the folder: unchanged entries plus hashed dirty files, see currentTree), not only the dirty
 * files: an indexed path missing from `current` is reported as deleted. A dirty file whose chunks
 * and mode equal its index entry (touched, not edited) is not a change. Sorted by path.
 */
export function localChanges(index: LocalIndex, current: readonly CurrentFile[]): LocalChange[] {
  return localChangesSorted(index.entries, current) ?? localChangesAnyOrder(index.entries, current);
}

/** localChanges as one merge pass over two strictly sorted lists; null when they are not. */
function localChangesSorted(entries: readonly IndexEntry[], current: readonly CurrentFile[]): LocalChange[] | null {
  const changes: LocalChange[] = [];
  const sorted = mergeSortedByPath(
    entries,
    current,
    (f, match) => {
      if (match === undefined) changes.push({ kind: 'added', path: f.path });
      else if (!sameContent(match, f)) changes.push({ kind: 'modified', path: f.path });
    },
    (path) => changes.push({ kind: 'deleted', path }),
  );
  return sorted ? changes : null;
}

function localChangesAnyOrder(indexEntries: readonly IndexEntry[], current: readonly CurrentFile[]): LocalChange[] {
  const entries = new Map<string, IndexEntry>();
  for (const e of indexEntries) entries.set(e.path, e);
  const changes: LocalChange[] = [];
  const seen = new Set<string>();
  for (const f of current) {
    if (seen.has(f.path)) throw new TreeError('current tree lists a path twice');
    seen.add(f.path);
    const e = entries.get(f.path);
    if (e === undefined) changes.push({ kind: 'added', path: f.path });
    else if (!sameContent(e, f)) changes.push({ kind: 'modified', path: f.path });
  }
  for (const e of indexEntries) if (!seen.has(e.path)) changes.push({ kind: 'deleted', path: e.path });
  return changes.sort(byPath);
}
