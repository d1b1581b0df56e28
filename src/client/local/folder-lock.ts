/**
 * One command at a time in a linked folder, like git's index.lock: two pulls at once shared the
 * staging folder and each removed the other's files, and two index writers lose one's work. The
 * lock file names its process, so a lock left by a crash (kill -9, power loss) on this machine is
 * taken over instead of blocking the folder until someone deletes it.
 *
 * A process id means something only where it was taken: the lock also names that place, the host
 * and its boot, and the pid namespace on Linux (a container has its own, and its CLI is pid 1 in
 * every run).
 * A lock from here names a process that can be asked about; one naming this very pid is an earlier
 * run's (this one holds none yet). A lock from elsewhere (another container on a shared or cached
 * folder, another machine on a network folder) cannot be asked about: its holder keeps its mtime
 * fresh while it runs, so one left untouched for FOREIGN_STALE_MS was abandoned.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ConflictError, SyncError } from '../errors.js';
import { STATE_DIR } from './link.js';

const held = new Set<string>();

/** How often a holder touches its lock, and how long a lock from elsewhere may go untouched before it counts as abandoned. */
const HEARTBEAT_MS = 5_000;
const FOREIGN_STALE_MS = 60_000;
let heartbeat: NodeJS.Timeout | undefined;

let scope: string | undefined;
/**
 * Where this process's id means something: this boot of this machine (its hostname, and on Linux
 * the boot id, random per boot) and its pid namespace. A namespace id alone is not enough: the
 * host's is the same constant on every Linux machine, and a lock on a network folder could come
 * from any of them.
 */
function pidScope(): string {
  if (scope === undefined) {
    let boot = '';
    let ns = '';
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      ns = readlinkSync('/proc/self/ns/pid'); // "pid:[4026531836]"
    } catch {
      // not Linux: the host name is all there is
    }
    scope = [hostname(), boot, ns].filter((part) => part !== '').join(' ').replace(/\s+/g, ' ');
  }
  return scope;
}

function lockText(): string {
  return `${process.pid}\n${pidScope()}\n`;
}

/** Takes the folder's lock for the rest of this process (released at exit); re-entrant. */
export function lockFolder(root: string): void {
  let holder: number | null;
  try {
    holder = takeLock(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // a folder of another user's (a cache restored by root), or on a read-only mount: said, not a raw errno
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      const why = code === 'EROFS' ? 'read-only file system' : 'permission denied';
      throw Object.assign(new SyncError('local_write', `cannot write in ${path.join(root, STATE_DIR)}: ${why}`, 'run as the folder\'s owner, or fix its permissions (chown/chmod)'), { cause: err });
    }
    throw err;
  }
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
    writeFileSync(mine, lockText(), { mode: 0o600 });
    for (let attempt = 0; attempt < 3; attempt++) {
      if (placeLock(mine, file)) {
        if (held.size === 0) process.once('exit', releaseFolderLocks);
        held.add(file);
        heartbeat ??= setInterval(touchHeldLocks, HEARTBEAT_MS).unref();
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
 * The running process a lock names, or null when it is abandoned: it is empty or unreadable and
 * old (a lock made by exclusive create is empty for a moment); or it is from here and its process
 * is gone, or is this very process (an earlier run, e.g. a container's pid 1, killed); or it is
 * from elsewhere and untouched for FOREIGN_STALE_MS. A lock written before locks named their
 * place, naming this very pid, is held: it may be another container's; the refusal says how to
 * clear it.
 */
function liveHolder(file: string): number | null {
  const holder = lockHolder(file);
  if (holder === null) return ageMs(file) < ABANDONED_MS ? 0 : null;
  const { pid, from } = holder;
  if (from !== null && from !== pidScope()) return ageMs(file) < FOREIGN_STALE_MS ? pid : null;
  if (pid === process.pid) return from === null ? pid : null;
  return isRunning(pid) ? pid : null;
}

/** The heartbeat that keeps locks this process holds fresh for processes elsewhere (see liveHolder). */
function touchHeldLocks(): void {
  const now = new Date();
  for (const file of held) {
    try {
      utimesSync(file, now, now);
    } catch {
      // gone or taken over: releaseFolderLocks sorts it out
    }
  }
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
    const holder = lockHolder(file);
    if (holder?.pid === process.pid && (holder.from === null || holder.from === pidScope())) rmSync(file, { force: true });
  }
  held.clear();
  if (heartbeat !== undefined) clearInterval(heartbeat);
  heartbeat = undefined;
}

/** The pid a lock names and where it was taken (null: a lock from before locks said so). */
function lockHolder(file: string): { pid: number; from: string | null } | null {
  try {
    const [first, second] = readFileSync(file, 'utf8').split('\n');
    const pid = Number.parseInt(first ?? '', 10);
    if (!Number.isSafeInteger(pid) || pid <= 0) return null;
    return { pid, from: second ? second : null };
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
