/**
 * One command at a time in a linked folder, like git's index.lock: two pulls at once shared the
 * staging folder and each removed the other's files, and two index writers lose one's work. The
 * lock file names its process, so a lock left by a crash (kill -9, power loss) on this machine is
 * taken over instead of blocking the folder until someone deletes it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ConflictError } from '../errors.js';
import { STATE_DIR } from './link.js';

const held = new Set<string>();

/** Takes the folder's lock for the rest of this process (released at exit); re-entrant. */
export function lockFolder(root: string): void {
  const holder = takeLock(root);
  if (holder !== null) throw busyError(root, holder);
}

function busyError(root: string, holder: number): ConflictError {
  return new ConflictError(
    `another insomnia-sync command${holder > 0 ? ` (process ${holder})` : ''} is working in ${root}`,
    `wait for it to finish, then run this one again (if none is running, delete ${path.join(root, STATE_DIR, 'lock')})`,
  );
}

/**
 * For a command that links a folder (clone, init): makes `.insomnia-sync/` if missing and takes
 * the folder's lock, before anything is written there or made on the server. Two such commands
 * started together both pass their "is the folder free" checks; the lock lets exactly one go on,
 * and the other stops (exit 3) having written nothing, so it has nothing to take back. Whoever
 * holds the lock owns `.insomnia-sync/`: only it may remove the folder again. The caller checks
 * the folder again once this returns: a command that finished meanwhile has linked it.
 * Returns whether this call made `.insomnia-sync/`.
 */
export function claimFolder(root: string): boolean {
  for (let attempt = 0; ; attempt++) {
    const made = mkdirSync(path.join(root, STATE_DIR), { recursive: true, mode: 0o700 }) !== undefined;
    try {
      lockFolder(root);
      return made;
    } catch (err) {
      // the holder failed and took its `.insomnia-sync/` back between our mkdir and our lock
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 3) continue;
      throw err;
    }
  }
}

/** Refuses (exit 3) when another running command holds the folder's lock; takes nothing. */
export function refuseBusyFolder(root: string): void {
  const file = path.join(root, STATE_DIR, 'lock');
  if (held.has(file)) return;
  const holder = liveHolder(file);
  if (holder !== null) throw busyError(root, holder);
}

/**
 * lockFolder for a command that can do without (status skips refreshing the index): whether it
 * got it. A folder it cannot write to (read-only mount) is simply not locked.
 */
export function tryLockFolder(root: string): boolean {
  try {
    return takeLock(root) === null;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return false;
    throw err;
  }
}

/** How old an empty lock or a takeover guard must be to count as abandoned (a writer takes microseconds). */
const ABANDONED_MS = 10_000;

/** null once the lock is ours; else the process holding it (0: one that cannot be told) */
function takeLock(root: string): number | null {
  const file = path.join(root, STATE_DIR, 'lock');
  if (held.has(file)) return null;
  // The process id is in the file before the lock exists: written to a file of our own, then
  // linked into place (which fails if a lock exists), so a lock is never seen empty.
  const mine = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    writeFileSync(mine, `${process.pid}\n`, { mode: 0o600 });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (placeLock(mine, file)) {
        if (held.size === 0) process.once('exit', releaseFolderLocks);
        held.add(file);
        return null;
      }
      const holder = liveHolder(file);
      if (holder !== null) return holder;
      // Abandoned. Only the process holding the takeover guard may remove it, after reading it
      // again: two processes that found the same dead lock cannot remove each other's new one.
      const guard = `${file}.takeover`;
      if (!placeLock(mine, guard)) {
        if (ageMs(guard) < ABANDONED_MS) return 0;
        rmSync(guard, { force: true });
        continue;
      }
      try {
        if (liveHolder(file) === null) rmSync(file, { force: true });
      } finally {
        rmSync(guard, { force: true });
      }
    }
    return liveHolder(file) ?? 0;
  } finally {
    rmSync(mine, { force: true });
  }
}

/**
 * The running process a lock names, or null when it is abandoned: its process is gone, or it is
 * empty or unreadable and old (a lock made by exclusive create is empty for a moment). A lock
 * naming this very pid is held: a container's CLI is pid 1 in every run, and another container
 * may be running on the same folder; the refusal says how to clear it.
 */
function liveHolder(file: string): number | null {
  const pid = lockHolder(file);
  if (pid === null) return ageMs(file) < ABANDONED_MS ? 0 : null;
  return pid === process.pid || isRunning(pid) ? pid : null;
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** Links `from` to `file`; false if it exists. File systems without hard links get an exclusive create. */
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
