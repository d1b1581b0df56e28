/**
 * What changed in the workspace folder since the index was written, in two steps so that only
 * changed files are read: planRescan compares stat data (cheap), the caller hashes the dirty
 * files, and localChanges compares content (blob ids and mode).
 */
import { TreeError } from './errors.js';
import { normalizeMode } from './file-mode.js';
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

function sameStat(e: IndexEntry, f: ScannedFile): boolean {
  return (
    e.size === f.size &&
    e.mtimeMs === f.mtimeMs &&
    e.ctimeMs === f.ctimeMs &&
    e.ino === f.ino &&
    normalizeMode(e.mode) === normalizeMode(f.mode)
  );
}

/**
 * Compares a fresh directory scan with the index. A file whose size, mtimeMs, ctimeMs, ino or
 * mode differs from its index entry is "dirty" and must be re-read (hashed) by the caller;
 * identical stat → unchanged without reading. So an edit that keeps the size and sets mtime back
 * is still caught by ctime (and a replace-by-rename by ino), like git. An entry stored with
 * mtimeMs 0 is racily clean (markRacyEntries) and always dirty. New files are dirty too.
 * All three lists are sorted by path. Throws TreeError on a path scanned twice.
 */
export function planRescan(
  index: LocalIndex,
  scan: ScannedFile[],
): { unchanged: IndexEntry[]; dirty: ScannedFile[]; deleted: string[] } {
  const entries = new Map<string, IndexEntry>();
  for (const e of index.entries) entries.set(e.path, e);
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
  for (const e of index.entries) if (!seen.has(e.path)) deleted.push(e.path);
  unchanged.sort(byPath);
  dirty.sort(byPath);
  deleted.sort(comparePaths);
  return { unchanged, dirty, deleted };
}

/**
 * The full current tree from the two halves the caller has after planRescan and hashing:
 * the unchanged index entries and the freshly hashed dirty files. Sorted by path.
 */
export function currentTree<T extends CurrentFile>(unchanged: readonly IndexEntry[], hashed: readonly T[]): (IndexEntry | T)[] {
  return [...unchanged, ...hashed].sort(byPath);
}

function sameContent(e: IndexEntry, f: CurrentFile): boolean {
  if (normalizeMode(e.mode) !== normalizeMode(f.mode)) return false;
  if (e.chunks.length !== f.chunks.length) return false;
  for (let i = 0; i < e.chunks.length; i++) if (e.chunks[i] !== f.chunks[i]) return false;
  return true;
}

/**
 * Local changes against the index, by content. `current` is the COMPLETE current tree (every file
 * in the folder: unchanged entries plus hashed dirty files, see currentTree), not only the dirty
 * files: an indexed path missing from `current` is reported as deleted. A dirty file whose chunks
 * and mode equal its index entry (touched, not edited) is not a change. Sorted by path.
 */
export function localChanges(index: LocalIndex, current: readonly CurrentFile[]): LocalChange[] {
  const entries = new Map<string, IndexEntry>();
  for (const e of index.entries) entries.set(e.path, e);
  const changes: LocalChange[] = [];
  const seen = new Set<string>();
  for (const f of current) {
    if (seen.has(f.path)) throw new TreeError('current tree lists a path twice');
    seen.add(f.path);
    const e = entries.get(f.path);
    if (e === undefined) changes.push({ kind: 'added', path: f.path });
    else if (!sameContent(e, f)) changes.push({ kind: 'modified', path: f.path });
  }
  for (const e of index.entries) if (!seen.has(e.path)) changes.push({ kind: 'deleted', path: e.path });
  return changes.sort(byPath);
}
