/**
 * Reading workspace files chunk by chunk, so memory stays bounded whatever the file size.
 *
 * The scan (scan.ts) saw a regular file at each path it lists; by the time a command reads it, the
 * path may hold something else. Every read therefore opens with O_NOFOLLOW and O_NONBLOCK (where
 * the platform has them) and checks the open descriptor, so a symlink swapped in is not followed
 * out of the folder and a FIFO or device cannot block or feed the read forever. What is no longer
 * a regular file (gone, a folder, a symlink, a FIFO…) is reported as GONE: the caller treats the
 * path as a fresh scan would, as no file (see withoutVanished in sync/diff.ts).
 */
import { closeSync, constants as fsConstants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import path from 'node:path';
import { blobId } from '../../crypto/workspace-keys.js';
import type { Primitives } from '../../crypto/primitives.js';
import { CHUNK_SIZE } from '../../sync/chunking.js';
import { SyncError } from '../errors.js';

/** How many times a file is read before push gives up on it changing under the read. */
export const READ_ATTEMPTS = 3;

/** The path no longer holds a regular file (or the one the scan saw, through a folder now a symlink). */
export const GONE: unique symbol = Symbol('gone');
/** The file changed while its chunks were being read: drop the chunks received so far, they come again from the start. */
export const RESTART: unique symbol = Symbol('restart');

/** A file kept changing while being read (READ_ATTEMPTS times): nothing consistent to sync. Exit 1. */
export class FileChangedError extends SyncError {
  constructor(readonly relPath: string) {
    super('file_changed', `${relPath} changed while being read; try again once it is saved`);
  }
}

/**
 * A file (or folder) the user may not read, or whose read failed in the file system: exit 1, one
 * line naming it, before any snapshot is made. `relPath` is the path in the workspace folder (a
 * folder's with its '/').
 */
export class FileUnreadableError extends SyncError {
  constructor(readonly relPath: string, reason: string) {
    super('file_unreadable', `cannot read ${relPath}: ${reason}`);
  }
}

/**
 * Why the file system refused, in its own words ("permission denied", "i/o error"), without the
 * absolute path Node's message adds; the errno code if the message has no such words.
 */
function reasonOf(err: NodeJS.ErrnoException & { code: string }): string {
  return /^E[A-Z]+: ([^,]+),/.exec(err.message)?.[1] ?? err.code;
}

/**
 * `err` as a FileUnreadableError naming `relPath`, if it is the file system's (it has an errno
 * code); anything else as it is.
 */
/** lstat() of a path, or null when nothing is there (nor a folder on the way to it). */
export function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

export function unreadable(relPath: string, err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (err instanceof SyncError || typeof e?.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return err;
  return new FileUnreadableError(relPath, reasonOf(e as NodeJS.ErrnoException & { code: string }));
}

/** What a read needs to know of a scanned file: its path in the folder, and the inode the scan saw. */
export interface ScannedRef {
  path: string;
  ino: number;
}

const { O_RDONLY, S_IFMT, S_IFREG } = fsConstants;
// Windows has neither; there a symlink is followed, but fstat still refuses what is not a file.
const OPEN_FLAGS = O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0) | (fsConstants.O_NONBLOCK ?? 0);

/** Errors that mean "no regular file at this path any more", not a failure to read one. */
const NOT_A_FILE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'EMLINK', 'ENXIO', 'EOPNOTSUPP']);

/**
 * Opens the file the scan saw at `file.path`: a descriptor and its stat data, or null (closed)
 * when the path holds anything but a regular file. One fstat, needed to refuse what is not a file.
 */
function openScanned(root: string, file: ScannedRef): { fd: number; st: Stats } | null {
  let fd: number;
  try {
    fd = openSync(path.join(root, file.path), OPEN_FLAGS);
  } catch (err) {
    if (NOT_A_FILE.has((err as NodeJS.ErrnoException).code ?? '')) return null;
    throw unreadable(file.path, err);
  }
  try {
    const st = fstatSync(fd);
    // Another inode than the scan's is usually a save by rename, a complete version of the file,
    // and is read. But O_NOFOLLOW guards only the last component: make sure no folder on the way
    // was swapped for a symlink (checked only then, so the usual read costs nothing more).
    if ((st.mode & S_IFMT) === S_IFREG && (st.ino === file.ino || parentsAreFolders(root, file.path))) return { fd, st };
  } catch (err) {
    closeSync(fd);
    throw unreadable(file.path, err);
  }
  closeSync(fd);
  return null;
}

/**
 * Every folder between `root` and `relPath` is a real folder now, not a symlink (none is created).
 * `known` holds folders found so before, skipped and added to, for a caller checking many paths.
 */
export function parentsAreFolders(root: string, relPath: string, known?: Set<string>): boolean {
  for (let i = relPath.indexOf('/'); i !== -1; i = relPath.indexOf('/', i + 1)) {
    const dir = relPath.slice(0, i);
    if (known?.has(dir)) continue;
    const st = lstatSync(path.join(root, dir), { throwIfNoEntry: false });
    if (!st?.isDirectory()) return false;
    known?.add(dir);
  }
  return true;
}

/**
 * Reads a file and returns its chunks' blob ids, or null if the path no longer holds a regular
 * file. Throws FileChangedError if the file keeps changing while it is read. (`read` is for
 * tests, to act between the pieces of a big file.)
 */
export function hashFile(
  p: Primitives,
  blobIdKey: Uint8Array,
  root: string,
  file: ScannedRef,
  read: typeof chunksOf = chunksOf,
): { chunks: string[]; size: number } | null {
  const small = readSmallFile(root, file);
  if (small === GONE) return null;
  if (small !== null) return { chunks: small.length === 0 ? [] : [blobId(p, blobIdKey, small)], size: small.length };
  const chunks: string[] = [];
  let size = 0;
  for (const piece of read(root, file)) {
    if (piece === GONE) return null;
    if (piece === RESTART) {
      chunks.length = 0;
      size = 0;
      continue;
    }
    size += piece.length;
    chunks.push(blobId(p, blobIdKey, piece));
  }
  return { chunks, size };
}

/** One buffer for every small file this process reads (see readSmallFile). */
let smallScratch: Buffer | null = null;

/**
 * The whole content of a file of at most CHUNK_SIZE bytes (one blob), read into a buffer shared by
 * every call, so valid only until the next call: no allocation per file (readFileSync took a
 * quarter of an initial push of 10,000 small files). Null when the file holds more than
 * CHUNK_SIZE bytes — it is big, or grew since the scan: read it with chunksOf. GONE when the path
 * holds no regular file.
 *
 * Open, fstat, read, fstat, close. The first fstat's size stands in for the read that would find
 * the end (and is the check that this is a regular file); the second is the guarantee chunksOf
 * gives: a save during the read (in place, or truncate-then-write) moves size, mtime or ctime, and
 * the file is read again, up to READ_ATTEMPTS times, then FileChangedError — never a mix of two
 * versions, nor a file cut short. One read call is not one state of the file: a writer copying
 * 256 KiB in place races it. Only files that are read pay for it (one fstat each); an unchanged
 * file is not opened at all.
 */
export function readSmallFile(root: string, file: ScannedRef): Uint8Array | null | typeof GONE {
  for (let attempt = 1; ; attempt++) {
    const opened = openScanned(root, file);
    if (opened === null) return GONE;
    const { fd, st: before } = opened;
    let filled = 0;
    let after: Stats;
    try {
      if (before.size > CHUNK_SIZE) return null;
      const buf = (smallScratch ??= Buffer.allocUnsafe(CHUNK_SIZE + 1));
      // A read short of what was asked for ends at the end of a regular file; on a file system that
      // gives short reads before that, the loop goes on until the size fstat gave, or the end. No
      // read to find the end: a file that grew or shrank meanwhile shows in the second fstat.
      while (filled < before.size) {
        const n = readSync(fd, buf, filled, buf.length - filled, null);
        if (n === 0) break;
        filled += n;
        if (filled === buf.length) return null;
      }
      after = fstatSync(fd);
      if (filled === before.size && after.size === before.size && after.mtimeMs === before.mtimeMs && after.ctimeMs === before.ctimeMs) {
        return buf.subarray(0, filled);
      }
    } catch (err) {
      throw unreadable(file.path, err);
    } finally {
      closeSync(fd);
    }
    if (attempt === READ_ATTEMPTS) throw new FileChangedError(file.path);
  }
}

/** One scratch buffer for every big file this process reads: allocating 1 MiB per file made GC a quarter of a push. */
let scratch: Buffer | null = null;

/**
 * Yields each CHUNK_SIZE piece of the file, in a scratch buffer shared by every piece (the
 * consumer copies what it keeps). The file is read whole between two fstats; if its size, mtime
 * or ctime moved in between (someone saved it during the read), RESTART is yielded and the file
 * is opened and read again, up to READ_ATTEMPTS times, then FileChangedError is thrown: the
 * pieces read are never a mix of two versions. Yields GONE (and ends) if the path holds no regular
 * file. The consumer runs between pieces, which is also where a test changes the file.
 */
export function* chunksOf(root: string, file: ScannedRef): Generator<Uint8Array | typeof GONE | typeof RESTART, void, void> {
  for (let attempt = 1; ; attempt++) {
    const opened = openScanned(root, file);
    if (opened === null) {
      yield GONE;
      return;
    }
    const { fd, st: before } = opened;
    let total = 0;
    let after: Stats;
    try {
      scratch ??= Buffer.allocUnsafe(CHUNK_SIZE);
      for (;;) {
        let filled = 0;
        while (filled < CHUNK_SIZE) {
          const n = readSync(fd, scratch, filled, CHUNK_SIZE - filled, null);
          if (n === 0) break;
          filled += n;
        }
        total += filled;
        if (filled > 0) yield scratch.subarray(0, filled);
        if (filled < CHUNK_SIZE) break;
      }
      after = fstatSync(fd);
    } catch (err) {
      // the reads' errors: one the consumer meets ends this generator through return(), not here
      throw unreadable(file.path, err);
    } finally {
      closeSync(fd);
    }
    if (after.size === before.size && after.mtimeMs === before.mtimeMs && after.ctimeMs === before.ctimeMs && total === after.size) return;
    if (attempt === READ_ATTEMPTS) throw new FileChangedError(file.path);
    yield RESTART;
  }
}
