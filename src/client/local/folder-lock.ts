/**
 * One command at a time in a linked folder, like git's index.lock: two pulls at once shared the
 * staging folder and each removed the other's files, and two index writers lose one's work. The
 * lock file names its process, so a lock left by a crash (kill -9, power loss) is taken over
 * instead of blocking the folder until someone deletes it.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import { STATE_DIR } from './link.js';

const held = new Set<string>();

/** Takes the folder's lock for the rest of this process (released at exit); re-entrant. */
export function lockFolder(root: string): void {
  const holder = takeLock(root);
  if (holder !== null) {
    throw new ConflictError(`another insomnia-sync command (process ${holder}) is working in ${root}`, 'wait for it to finish, then run this one again');
  }
}

/** lockFolder for a command that can do without (status skips refreshing the index): whether it got it. */
export function tryLockFolder(root: string): boolean {
  return takeLock(root) === null;
}

/** null once the lock is ours; else the process holding it (0: one that had not written its id yet) */
function takeLock(root: string): number | null {
  const file = path.join(root, STATE_DIR, 'lock');
  if (held.has(file)) return null;
  let holder = 0;
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = lockHolder(file);
      if (pid !== null && isRunning(pid)) return pid;
      holder = pid ?? 0;
      rmSync(file, { force: true });
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    if (held.size === 0) process.once('exit', releaseFolderLocks);
    held.add(file);
    return null;
  }
  return holder;
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
