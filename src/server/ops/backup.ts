/**
 * `insomnia-sync-server backup --out FILE`: a consistent copy of the database taken while the
 * server keeps running (SQLite's online backup of one snapshot; another backend brings its own
 * Store.backup). Written next to FILE as FILE.partial-PID and renamed into place; an existing FILE
 * is never overwritten. The partial file holds what the database holds (emails, IP addresses,
 * auth-key hashes), so it is mode 0600 from its first byte, and it is removed when the copy fails
 * or is interrupted (`signal`: the command aborts it on SIGINT and SIGTERM).
 */
import { closeSync, existsSync, fchmodSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../../storage/store.js';

export class BackupError extends Error {
  readonly code = 'backup';
}

export async function backupStore(store: Store, out: string, opts: { signal?: AbortSignal } = {}): Promise<{ file: string; bytes: number }> {
  const file = path.resolve(out);
  if (existsSync(file)) throw new BackupError(`${file} exists; choose a new file name`);
  if (!existsSync(path.dirname(file))) throw new BackupError(`folder ${path.dirname(file)} does not exist`);
  const tmp = `${file}.partial-${process.pid}`;
  // what SQLite may leave beside the file it writes, besides the file itself
  const partial = [tmp, `${tmp}-journal`, `${tmp}-wal`, `${tmp}-shm`];
  // Made here, empty, exclusively (never a file or link already there) and 0600 whatever the
  // umask: SQLite writes into it and gives its journal the same mode.
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
  } finally {
    closeSync(fd);
  }
  try {
    await store.backup(tmp, opts.signal ? { signal: opts.signal } : {});
    opts.signal?.throwIfAborted();
    renameSync(tmp, file);
  } catch (err) {
    for (const f of partial) rmSync(f, { force: true });
    throw err;
  }
  return { file, bytes: statSync(file).size };
}
