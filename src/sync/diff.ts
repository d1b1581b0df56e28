/**
 * What changed in the workspace folder since the index was written, in two steps so that only
 * changed files are read: planRescan compares stat data (cheap), the caller hashes the
 * dirty files, and planChanges compares content (blob ids and mode). Both work on columns
 * (sync/file-columns.ts): row numbers in, row numbers out, no object per unchanged file.
 */
import { TreeError } from './errors.js';
import { sameContentAt, STAT_FIELDS, type FileColumns, type StatColumns } from './file-columns.js';
import type { IndexEntry } from './index-format.js';
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

/** What a rescan found, as row numbers of the index and of the scan. */
export interface RescanPlan {
  /** index rows whose files are unchanged */
  unchanged: number[];
  /** scan rows to re-read */
  dirty: number[];
  /** per dirty row, the index row with its path, or -1 for a new file */
  dirtyInIndex: number[];
  /** index rows whose paths the scan no longer has */
  deleted: number[];
}

/**
 * Compares a fresh directory scan with the index. A file whose size, mtimeMs, ctimeMs, ino or
 * mode differs from its index row is "dirty" and must be re-read (hashed) by the caller;
 * identical stat → unchanged without reading. So an edit that keeps the size and sets mtime back
 * is still caught by ctime (and a replace-by-rename by ino), like git. A row stored with mtimeMs 0
 * is racily clean (encodeIndex writtenAtMs) and always dirty. New files are dirty too. One merge
 * pass over two strictly sorted path lists (the index decoder checks its order, the scan walks in
 * that order). `rehashAll` marks every scanned file dirty (after a key rotation every blob is
 * named anew). Throws TreeError if the scan is out of order.
 */
export function planRescan(index: StatColumns, scan: StatColumns, opts: { rehashAll?: boolean } = {}): RescanPlan {
  const plan: RescanPlan = { unchanged: [], dirty: [], dirtyInIndex: [], deleted: [] };
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
      plan.dirtyInIndex.push(was);
    }
  }
  for (; i < ip.length; i++) plan.deleted.push(i);
  return plan;
}

/**
 * The local changes by content: each re-read file (`hashed`, one per plan.dirty row, in order)
 * against the index row it replaces, and the deleted rows. A re-read file whose mode and blob ids
 * equal its row (touched, not edited) is not a change. Sorted by path.
 */
export function planChanges(index: FileColumns, plan: RescanPlan, hashed: readonly Pick<IndexEntry, 'path' | 'mode' | 'chunks'>[]): LocalChange[] {
  const changes: LocalChange[] = [];
  plan.dirtyInIndex.forEach((was, k) => {
    const f = hashed[k] as Pick<IndexEntry, 'path' | 'mode' | 'chunks'>;
    if (was < 0) changes.push({ kind: 'added', path: f.path });
    else if (!sameContentAt(index, was, f)) changes.push({ kind: 'modified', path: f.path });
  });
  for (const k of plan.deleted) changes.push({ kind: 'deleted', path: index.paths[k] as string });
  return changes.sort((a, b) => comparePaths(a.path, b.path));
}

/**
 * The plan without the dirty rows whose re-read found no regular file at their path (null in
 * `read`, one per plan.dirty row): deleted, or replaced by a folder, a symlink or a FIFO, since the
 * scan. As a scan made now would have it: a new path is left out, a synced one becomes a deletion.
 * Returns the remaining re-read files, one per dirty row of the new plan.
 */
export function withoutVanished<T>(plan: RescanPlan, read: readonly (T | null)[]): { plan: RescanPlan; hashed: T[] } {
  if (!read.includes(null)) return { plan, hashed: read as T[] };
  const out: RescanPlan = { unchanged: plan.unchanged, dirty: [], dirtyInIndex: [], deleted: [...plan.deleted] };
  const hashed: T[] = [];
  read.forEach((r, k) => {
    const was = plan.dirtyInIndex[k] as number;
    if (r === null) {
      if (was >= 0) out.deleted.push(was);
      return;
    }
    out.dirty.push(plan.dirty[k] as number);
    out.dirtyInIndex.push(was);
    hashed.push(r);
  });
  out.deleted.sort((a, b) => a - b);
  return { plan: out, hashed };
}
