/**
 * `insomnia-sync-server backup --out FILE`: a consistent copy of the database taken while the
 * server keeps running (SQLite's online backup; another backend brings its own Store.backup).
 * Written next to FILE and renamed into place, mode 0600; an existing FILE is never overwritten.
 */
import { chmodSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Store } from '../../storage/store.js';

export class BackupError extends Error {
  readonly code = 'backup';
}

export async function backupStore(store: Store, out: string): Promise<{ file: string; bytes: number }> {
  const file = path.resolve(out);
  if (existsSync(file)) throw new BackupError(`${file} exists; choose a new file name`);
  if (!existsSync(path.dirname(file))) throw new BackupError(`folder ${path.dirname(file)} does not exist`);
  const tmp = `${file}.partial-${process.pid}`;
  try {
    await store.backup(tmp);
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  return { file, bytes: statSync(file).size };
}
