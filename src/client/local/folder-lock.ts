/**
 * One command at a time in a linked folder, like git's index.lock: two pulls at once shared the
 * staging folder and each removed the other's files, and two index writers lose one's work. The
 * lock file names its process, so a lock left by a crash (kill -9, power loss) is taken over
 * instead of blocking the folder until someone deletes it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import { STATE_DIR } from './link.js';

const held = new Set<string>();

/** Takes the folder's lock for the rest of this process (released at exit); re-entrant. */
export function lockFolder(root: string): void {
  const holder = takeLock(root);
  if (holder !== null) {
    throw new ConflictError(
      `another insomnia-sync command (process ${holder}) is working in ${root}`,
      `wait for it to finish, then run this one again (if none is running, delete ${path.join(root, STATE_DIR, 'lock')})`,
    );
  }
}

/** lockFolder for a command that can do without (status skips refreshing the index): whether it got it. */
export function tryLockFolder(root: string): boolean {
  return takeLock(root) === null;
}

/** null once the lock is ours; else the process holding it (0: one that cannot be told) */
function takeLock(root: string): number | null {
  const file = path.join(root, STATE_DIR, 'lock');
  if (held.has(file)) return null;
  // The process id is in the file before the lock exists: written to a file of our own, then
  // linked into place (which fails if a lock exists), so nobody ever reads an empty lock.
  const mine = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (placeLock(mine, file)) {
        if (held.size === 0) process.once('exit', releaseFolderLocks);
        held.add(file);
        return null;
      }
      const pid = lockHolder(file);
      // Our own pid is a lock of an earlier run (a container's CLI is pid 1 every time).
      if (pid !== null && pid !== process.pid && isRunning(pid)) return pid;
      // Stale: moved aside atomically, and checked to still be the stale one (two processes may
      // find the same stale lock; the second must not remove the lock the first has just taken).
      const aside = `${file}.stale.${process.pid}`;
      try {
        renameSync(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const moved = lockHolder(aside);
      if (moved !== pid && moved !== null && isRunning(moved)) {
        placeLock(aside, file);
        rmSync(aside, { force: true });
        return moved;
      }
      rmSync(aside, { force: true });
    }
    return lockHolder(file) ?? 0;
  } finally {
    rmSync(mine, { force: true });
  }
}

/** Links `from` to the lock path; false if a lock exists. File systems without hard links get an exclusive create. */
function placeLock(from: string, file: string): boolean {
  try {
    linkSync(from, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
  }
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, readFileSync(from));
  } finally {
    closeSync(fd);
  }
  return true;
}

export function releaseFolderLocks(): void {
  for (const file of held) {
    // only our own: a lock taken over after we were thought gone is not ours to remove
    if (lockHolder(file) === process.pid) rmSync(file, { force: true });
  }
  held.clear();
}

function lockHolder(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
