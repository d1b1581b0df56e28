/**
 * Why a local path cannot hold what the server keeps there, in words an operator can act on:
 * the data directory, a SQLite database file, the mail outbox, a new backup or export file.
 * Looked for after an operation failed, to turn an errno or a driver's "unable to open database
 * file" into one line naming the path at fault (a parent that is a file, a folder that is
 * missing, one the process may not write in), or before a command starts its work on a path a
 * flag names (newFolderProblem, newFileProblem).
 */
import { accessSync, constants, existsSync, lstatSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

export type PathProblem =
  /** a file stands where a folder must be: the folder itself or one of its parents */
  | { kind: 'file-in-the-way'; at: string }
  /** the outermost missing folder, where folders are not created */
  | { kind: 'missing-folder'; at: string }
  /** a folder this process may not enter or create files in */
  | { kind: 'folder-not-writable'; at: string }
  | { kind: 'read-only-file-system'; at: string }
  /** a folder where a file must be */
  | { kind: 'folder-in-the-way'; at: string }
  /** a file this process may not read and write */
  | { kind: 'file-not-writable'; at: string }
  /** something already where a new file is to be made (never overwritten) */
  | { kind: 'file-exists'; at: string };

/** stat errors that mean "not reachable from here": go up and look at the parent */
const UNREACHABLE = new Set(['ENOENT', 'ENOTDIR', 'EACCES']);

/**
 * What keeps `dir` from being a folder to create files in: a file in the way, a folder without
 * write permission, or (when `createMissing` is false) a folder that does not exist. Undefined
 * when nothing is found.
 */
export function folderProblem(dir: string, createMissing: boolean): PathProblem | undefined {
  let at = dir;
  let missing: string | undefined;
  for (;;) {
    try {
      const stat = statSync(at);
      if (!stat.isDirectory()) return { kind: 'file-in-the-way', at };
      break;
    } catch (err) {
      if (!UNREACHABLE.has(errnoCode(err))) return undefined;
      missing = at;
      if (dirname(at) === at) return undefined;
      at = dirname(at);
    }
  }
  const denied = accessProblem(at, constants.W_OK | constants.X_OK);
  if (denied) return { kind: denied === 'EROFS' ? 'read-only-file-system' : 'folder-not-writable', at };
  if (missing !== undefined && !createMissing) return { kind: 'missing-folder', at: missing };
  return undefined;
}

/**
 * What keeps `file` from being opened for reading and writing, created if missing, with room for
 * files beside it (SQLite's -wal and -shm): its folder's problem, a folder in its place, or a file
 * this process may not read and write. Undefined when nothing is found.
 */
export function fileProblem(file: string): PathProblem | undefined {
  try {
    const stat = statSync(file);
    if (stat.isDirectory()) return { kind: 'folder-in-the-way', at: file };
    const denied = accessProblem(file, constants.R_OK | constants.W_OK);
    if (denied) return { kind: denied === 'EROFS' ? 'read-only-file-system' : 'file-not-writable', at: file };
  } catch (err) {
    if (!UNREACHABLE.has(errnoCode(err))) return undefined;
  }
  return folderProblem(dirname(file), false);
}

/**
 * What keeps `dir` from being a folder to write files in that is made if missing, but not its
 * parents (a mistyped parent is a mistake to report, not folders to make): a file in the way, a
 * missing parent, a folder this process may not write in. Undefined when nothing is found.
 */
export function newFolderProblem(dir: string): PathProblem | undefined {
  return existsSync(dir) ? folderProblem(dir, false) : folderProblem(dirname(dir), false);
}

/**
 * newFolderProblem for a folder that may lie in a data directory the server is about to make
 * (`--data-dir ./d1 --mail-outbox ./d1/outbox` on a first start): the data directory counts as
 * there, so only a folder missing below it is named; the data directory's own problems are its
 * flag's to report, when it is made. Elsewhere, or once the data directory exists, newFolderProblem.
 */
export function newFolderProblemBeside(dir: string, dataDir: string): PathProblem | undefined {
  if (!isWithin(dir, dataDir) || dir === dataDir || existsSync(dataDir)) return newFolderProblem(dir);
  const below = relative(dataDir, dir).split(sep);
  return below.length === 1 ? undefined : { kind: 'missing-folder', at: join(dataDir, below[0]!) };
}

/** Whether absolute `path` is `folder` or lies inside it (by name: links are not followed). */
export function isWithin(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * What keeps `file` from being made, new, in its folder (a backup, an export): anything already
 * there (a file, a folder, a link), a folder that is missing, a file where a folder must be, or a
 * folder this process may not write in. Undefined when nothing is found.
 */
export function newFileProblem(file: string): PathProblem | undefined {
  try {
    const stat = lstatSync(file);
    return { kind: stat.isDirectory() ? 'folder-in-the-way' : 'file-exists', at: file };
  } catch (err) {
    if (!UNREACHABLE.has(errnoCode(err))) return undefined;
  }
  return folderProblem(dirname(file), false);
}

/** The problem and its fix, as the rest of a line after the flag that named the path. */
export function describePathProblem(problem: PathProblem): string {
  const { at } = problem;
  switch (problem.kind) {
    case 'file-in-the-way':
      return `${at} is a file, not a folder: move it away or give another path`;
    case 'missing-folder':
      return `folder ${at} does not exist: create it or correct the path`;
    case 'folder-not-writable':
      return `no permission to write in folder ${at}${asUser()}: run as its owner, or change its owner or mode`;
    case 'read-only-file-system':
      return `${at} is on a read-only file system: give a path on a writable one`;
    case 'folder-in-the-way':
      return `${at} is a folder, not a file: name a file in it`;
    case 'file-not-writable':
      return `no permission to read and write ${at}${asUser()}: run as its owner, or change its owner or mode`;
    case 'file-exists':
      return `${at} exists and is never overwritten: give a new file name, or move it away`;
  }
}

/** The errno code access(2) refuses `mode` on `path` with, or undefined when it allows it. */
function accessProblem(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    return code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? code : undefined;
  }
}

function asUser(): string {
  try {
    return ` as user ${userInfo().username}`;
  } catch {
    return '';
  }
}

export function errnoCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}
