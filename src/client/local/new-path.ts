/**
 * A new file or folder a command writes at a path the user gave (export --out, restore --to): the
 * checks before anything is downloaded, and the file system's refusals said as one line naming
 * that path — never the temporary name beside it — with the reason (SPEC §4: a path that is not a
 * usable folder exits 2; one that cannot be written, `local_write`, exits 1).
 */
import { mkdtempSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { SyncError, UsageError } from '../errors.js';
import { fsReason } from '../private-files.js';

/** The nearest path at or above `abs` that exists (following links, as the kernel will). */
function nearestExisting(abs: string): string {
  for (let p = abs; ; p = path.dirname(p)) {
    try {
      statSync(p);
      return p;
    } catch {
      if (path.dirname(p) === p) return p;
    }
  }
}

/**
 * Refuses, before any download, a new path (`abs`, not there yet) that cannot be made: a file on
 * the way where a folder must be (exit 2), or a folder above it that cannot be written in (exit 1).
 */
export function checkNewPath(abs: string, what: string): void {
  const above = nearestExisting(path.dirname(abs));
  let st;
  try {
    st = statSync(above);
  } catch (err) {
    throw cannotWrite(abs, err, what);
  }
  if (!st.isDirectory()) throw new UsageError(`${above} is a file, not a folder`, `give ${what} a path in a folder`);
  try {
    // Tried, not asked (access()): root passes every permission check, yet a read-only file
    // system, /proc or a full quota still refuse. An empty folder, removed at once.
    rmdirSync(mkdtempSync(path.join(above, '.insomnia-sync-probe-')));
  } catch (err) {
    throw cannotWrite(abs, err, what);
  }
}

/** Whether `err` is a refusal of the file system (an errno code from a system call). */
export function isFsError(err: unknown): err is NodeJS.ErrnoException & { code: string } {
  const e = err as NodeJS.ErrnoException | null;
  return !(err instanceof SyncError) && typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.syscall === 'string';
}

/**
 * A file-system error met while writing the new path `abs` (or a temporary file beside it) as one
 * line naming `abs`; any other error as it is.
 */
export function cannotWrite(abs: string, err: unknown, what: string): unknown {
  if (!isFsError(err)) return err;
  if (err.code === 'ENOTDIR') return new UsageError(`cannot write ${abs}: ${fsReason(err)}`, `give ${what} a path in a folder`);
  if (err.code === 'ENAMETOOLONG') return tooLong(abs, err, what);
  const hint = err.code === 'ENOSPC' || err.code === 'EDQUOT' ? 'free some space, or write elsewhere; nothing was left behind' : `give ${what} a place you can write; nothing was left behind`;
  return new SyncError('local_write', `cannot write ${abs} (${fsReason(err)})`, hint);
}

/**
 * ENAMETOOLONG is about one file of the workspace (a name over 255 bytes, or a path over the
 * system's limit once under `abs`), not about `abs`, which was made: the file (or the folder on
 * its way that could not be made) is named as it is in the workspace. Files are written first
 * into a tree laid out as the folder will be, in `.insomnia-sync/staging/tree/`.
 */
function tooLong(abs: string, err: NodeJS.ErrnoException & { code: string }, what: string): SyncError {
  const refused = typeof err.path === 'string' ? err.path : '';
  let rel = refused.startsWith(abs + path.sep) ? refused.slice(abs.length + 1) : '';
  const staged = ['.insomnia-sync', 'staging', 'tree', ''].join(path.sep);
  if (rel.startsWith(staged)) rel = rel.slice(staged.length);
  else if (rel.startsWith('.insomnia-sync' + path.sep)) rel = ''; // a staging file: not the workspace's name
  const hint = `give ${what} a shorter path, or shorten the name where the file was pushed from; nothing was left behind`;
  if (rel === '') return new SyncError('local_write', `cannot write ${abs}: a name or path is too long for this file system (ENAMETOOLONG)`, hint);
  const shownRel = rel.split(path.sep).join('/');
  const which = err.syscall === 'mkdir' ? `the folder ${shownRel}/` : shownRel;
  return new SyncError('local_write', `cannot write ${which} in ${abs}: its name or path is too long for this file system (ENAMETOOLONG)`, hint);
}
