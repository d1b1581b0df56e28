/**
 * What on disk would stop a pull or an in-place restore from writing its files, found before
 * anything changes, as git refuses a merge that would overwrite untracked files. The merge plan
 * knows only the files the scan saw; these are what it did not see: a symbolic link (never
 * followed: it may lead out of the folder), an ignored or special file, or a folder holding
 * such files, where a file is to go or where a folder must be.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import { parentDirs } from '../../sync/paths.js';
import { ConflictError } from '../errors.js';
import { STATE_DIR } from './link.js';

export interface Obstacle {
  /** relative path of what is in the way */
  path: string;
  what: string;
}

/**
 * `targets`: the files to be written; `seen`: the files the scan found (the merge accounted for
 * them); `deletes`: the files to be deleted first. Checks each folder once.
 */
export function findObstacles(root: string, targets: Iterable<string>, seen: ReadonlySet<string>, deletes: ReadonlySet<string>): Obstacle[] {
  const found = new Map<string, string>();
  /** folders known to be real folders, or to be missing (then made by the write) */
  const clearDirs = new Set<string>();
  for (const target of targets) {
    let blocked = false;
    for (const dir of parentDirs(target)) {
      if (clearDirs.has(dir)) continue;
      const st = lstatOrNull(root, dir);
      if (st !== null && st.isDirectory() && lstatOrNull(root, `${dir}/${STATE_DIR}`) !== null) {
        // another workspace's folder: what lands there is synced by it, not by this one
        found.set(dir, 'another linked folder (its files belong to its own workspace)');
        blocked = true;
        break;
      }
      if (st === null || st.isDirectory() || (st.isFile() && seen.has(dir) && deletes.has(dir))) {
        clearDirs.add(dir);
        // below a missing folder everything is missing
        if (st === null) for (const deeper of parentDirs(target).filter((d) => d.startsWith(`${dir}/`))) clearDirs.add(deeper);
        continue;
      }
      found.set(dir, st.isSymbolicLink() ? 'a symbolic link where a folder goes' : 'a file that is not synced, where a folder goes');
      blocked = true;
      break;
    }
    if (blocked) continue;
    const st = lstatOrNull(root, target);
    if (st === null || (st.isFile() && seen.has(target))) continue;
    if (st.isDirectory() && !st.isSymbolicLink()) {
      if (!holdsOnlyDeleted(root, target, deletes)) found.set(target, 'a folder with files that are not synced, where a file goes');
      continue;
    }
    found.set(target, st.isSymbolicLink() ? 'a symbolic link' : st.isFile() ? 'a file that is not synced (ignored, or added since the scan)' : 'a special file');
  }
  return [...found].map(([p, what]) => ({ path: p, what })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The refusal for a pull or restore that found obstacles (exit 3): nothing has changed yet. */
export function obstacleError(obstacles: Obstacle[], command: string): ConflictError {
  const [first] = obstacles;
  const more = obstacles.length > 1 ? ` (and ${obstacles.length - 1} more)` : '';
  return new ConflictError(
    `${command} would write over ${first!.path}: ${first!.what}${more}; nothing was changed`,
    `move ${obstacles.length > 1 ? 'them' : 'it'} out of the way, then run ${command} again`,
    { obstacles },
  );
}

function lstatOrNull(root: string, rel: string): Stats | null {
  try {
    return lstatSync(`${root}${path.sep}${rel}`);
  } catch (err) {
    // ENOTDIR: a folder on the way is a file (one the pull deletes first): nothing is there
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw err;
  }
}

/** Whether every entry under the folder is a file that is about to be deleted (so the folder goes too). */
function holdsOnlyDeleted(root: string, rel: string, deletes: ReadonlySet<string>): boolean {
  for (const entry of readdirSync(`${root}${path.sep}${rel}`, { withFileTypes: true })) {
    const child = `${rel}/${entry.name}`;
    if (entry.isDirectory()) {
      if (!holdsOnlyDeleted(root, child, deletes)) return false;
    } else if (!entry.isFile() || !deletes.has(child)) return false;
  }
  return true;
}
