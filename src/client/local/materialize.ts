/**
 * Writing remote files into a folder without ever leaving one half-written (SPEC §9.6).
 * A pull downloads, decrypts and checks every file against its blob id into a staging folder
 * first; only when all of them are staged are they renamed into place, one atomic rename each.
 * A clone into an empty folder has nothing to protect, so each checked file is renamed into place
 * as soon as it is written (still whole or absent, never partial), and the stat data for the
 * index comes from the open file: no second pass over 10,000 paths. If a later blob fails its
 * check, the clone takes back every file it placed.
 */
import { chmodSync, closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BlobCheckError, blobOpener } from '../../crypto/blob-open.js';
import type { Primitives } from '../../crypto/primitives.js';
import type { WorkspaceSubkeys } from '../../crypto/workspace-keys.js';
import type { TreeFile } from '../../sync/merge.js';
import type { ApiClient } from '../api.js';
import { IntegrityFailure } from '../errors.js';
import { TaskLimiter } from './limit.js';
import { STATE_DIR } from './link.js';
import type { Progress } from '../context.js';

export interface StagedFile {
  staged: string;
  target: string;
}

/** A file a clone renamed into place, with the stat data its index entry needs. */
export interface PlacedFile {
  target: string;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  statMode: number;
}

export interface FetchPlan {
  /** where the file goes, relative to the root */
  target: string;
  file: TreeFile;
}

// Two requests of ~4 MiB in flight: the server spent ~0.1–0.2 s less CPU on a 100 MB clone than
// with three of 2 MiB (on two cores that is time the client gets). Two of 8 MiB saved a little
// more but took the clone's peak RSS to 145 MB under load, next to the 150 MB budget.
const BATCH_BYTES = 4 * 1024 * 1024;
const FETCH_CONCURRENCY = 2;

export function stagingDir(root: string): string {
  return path.join(root, STATE_DIR, 'staging');
}

export interface RemoteFiles {
  p: Primitives;
  api: ApiClient;
  workspaceId: string;
  keys: WorkspaceSubkeys;
  epoch: number;
  root: string;
  plans: FetchPlan[];
  progress: Progress;
  /** aborted on Ctrl-C (ClientContext.cancellation): the download stops between files and takes back what it placed */
  signal?: AbortSignal | undefined;
}

/** Downloads and stages every planned file; throws IntegrityFailure before anything is renamed. */
export async function stageRemoteFiles(remote: RemoteFiles): Promise<StagedFile[]> {
  const staged: StagedFile[] = [];
  await downloadVerified(remote, (plan, stagedPath) => {
    staged.push({ staged: stagedPath, target: plan.target });
  });
  return staged;
}

/**
 * For a clone into an empty folder: downloads every planned file and renames each into place as
 * soon as it is checked. On failure every placed file (and folder made for it) is removed again.
 */
export async function placeRemoteFiles(remote: RemoteFiles): Promise<PlacedFile[]> {
  const placed: PlacedFile[] = [];
  const made = new Set<string>();
  try {
    await downloadVerified(remote, (plan, stagedPath, fd) => {
      // Manifest paths are checked relative '/'-paths (sync/paths.ts): joined without path.join's
      // normalisation, which cost more than the rename in a clone of 10,000 files.
      const target = `${remote.root}${path.sep}${plan.target}`;
      const parent = path.dirname(target);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      renameSync(stagedPath, target);
      // after the rename, which sets the ctime the index must record
      const st = fstatSync(fd);
      placed.push({ target: plan.target, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, statMode: st.mode });
    });
  } catch (err) {
    for (const f of placed) {
      rmSync(`${remote.root}${path.sep}${f.target}`, { force: true });
      removeEmptyParents(remote.root, path.dirname(f.target));
    }
    throw err;
  }
  rmSync(stagingDir(remote.root), { recursive: true, force: true });
  return placed;
}

/**
 * Fetches, decrypts and checks every planned file into its own staging file, then hands it to
 * `written` while it is still open. The staging folder is removed on failure; a caller that
 * leaves files in it (a pull) removes it in applyStaged.
 */
async function downloadVerified(
  { p, api, workspaceId, keys, epoch, root, plans, progress, signal }: RemoteFiles,
  written: (plan: FetchPlan, stagedPath: string, fd: number) => void,
): Promise<void> {
  const dir = stagingDir(root);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const openBlob = blobOpener(p, keys, { workspaceId, epoch });
  const decrypt = (id: string, data: Uint8Array): Uint8Array => {
    try {
      return openBlob(id, data);
    } catch (err) {
      if (err instanceof BlobCheckError) throw new IntegrityFailure(err.message, 'nothing was changed; run `insomnia-sync verify`');
      throw err;
    }
  };

  // Group small files into batches of about BATCH_BYTES so one request carries many of them.
  const batches: FetchPlan[][] = [];
  let current: FetchPlan[] = [];
  let currentBytes = 0;
  for (const plan of plans) {
    if (currentBytes + plan.file.size > BATCH_BYTES && current.length > 0) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(plan);
    currentBytes += plan.file.size;
  }
  if (current.length > 0) batches.push(current);

  let n = 0;
  let doneFiles = 0;
  const limiter = new TaskLimiter(FETCH_CONCURRENCY);
  const chunksPerRequest = BATCH_BYTES / (1024 * 1024);
  const fetchMap = async (ids: string[]): Promise<Map<string, Uint8Array>> => {
    const unique = [...new Set(ids)];
    const frames = await api.fetchBlobs(workspaceId, unique);
    return new Map(frames.map((f) => [f.id, f.data]));
  };
  const stageOne = async (plan: FetchPlan, blobs: Map<string, Uint8Array> | null): Promise<void> => {
    signal?.throwIfAborted();
    const stagedPath = `${dir}${path.sep}${n++}`;
    const ids = plan.file.chunks;
    // Mode as in the manifest, less the umask, as git does.
    const fd = openSync(stagedPath, 'w', plan.file.mode);
    try {
      if (ids.length <= 1 && blobs) {
        const id = ids[0];
        if (id !== undefined) {
          const data = blobs.get(id);
          if (!data) throw new IntegrityFailure(`the server does not have blob ${id.slice(0, 12)}`, 'run `insomnia-sync verify`');
          writeAll(fd, decrypt(id, data));
        }
      } else {
        for (let i = 0; i < ids.length; i += chunksPerRequest) {
          const group = ids.slice(i, i + chunksPerRequest);
          // A big file comes a few chunks at a time, so memory stays bounded whatever its size.
          const source = blobs ?? (await fetchMap(group));
          for (const id of group) {
            const data = source.get(id);
            if (!data) throw new IntegrityFailure(`the server does not have blob ${id.slice(0, 12)}`, 'run `insomnia-sync verify`');
            writeAll(fd, decrypt(id, data));
          }
        }
      }
      written(plan, stagedPath, fd);
    } finally {
      closeSync(fd);
    }
    doneFiles++;
  };
  try {
    for (const batch of batches) {
      signal?.throwIfAborted();
      await limiter.add(async () => {
        const small = batch.length > 1 || batch[0]!.file.chunks.length <= chunksPerRequest;
        const blobs = small ? await fetchMap(batch.flatMap((b) => b.file.chunks)) : null;
        for (const plan of batch) await stageOne(plan, blobs);
        progress.update(`Downloading ${doneFiles}/${plans.length} file(s)`);
      });
    }
    await limiter.drain();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/**
 * Removes what the plan deletes, then renames every staged file into place, then sets the mode of
 * the files in `chmods` (the remote changed only their mode). Deletes go first so a folder the
 * remote replaced by a file of the same name is gone before that file arrives.
 */
export function applyStaged(root: string, staged: StagedFile[], deletes: string[], chmods: readonly { path: string; mode: number }[] = []): void {
  for (const rel of deletes) {
    rmSync(path.join(root, rel), { force: true });
    removeEmptyParents(root, path.dirname(rel));
  }
  // Each folder is created once, not once per file in it (a clone of 10,000 files has ~600).
  const made = new Set<string>();
  for (const s of staged) {
    // Manifest paths are checked relative '/'-paths (sync/paths.ts): joined without path.join's
    // normalisation, which cost more than the rename in a clone of 10,000 files.
    const target = `${root}${path.sep}${s.target}`;
    const parent = path.dirname(target);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    try {
      renameSync(s.staged, target);
    } catch (err) {
      // An empty folder where the file goes (findObstacles let only empty ones through): removed
      // without recursion, so a file put there meanwhile stops this instead of being lost.
      if ((err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
      removeEmptyTree(target);
      renameSync(s.staged, target);
    }
  }
  for (const c of chmods) setExecutable(`${root}${path.sep}${c.path}`, c.mode === 0o755);
  rmSync(stagingDir(root), { recursive: true, force: true });
}

/**
 * Sets or clears the execute bits of a regular file as `chmod +x` / `chmod -x` would: set, each
 * class that may read it may execute it; cleared, nobody may. A file gone or no longer a regular
 * file is left alone (the next status reports what it is).
 */
function setExecutable(abs: string, exec: boolean): void {
  let st;
  try {
    st = lstatSync(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!st.isFile()) return;
  const mode = st.mode & 0o7777;
  chmodSync(abs, exec ? mode | ((mode & 0o444) >> 2) | 0o100 : mode & ~0o111);
}

function removeEmptyTree(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) removeEmptyTree(path.join(dir, entry.name));
  }
  rmdirSync(dir);
}

function removeEmptyParents(root: string, rel: string): void {
  let dir = rel;
  while (dir && dir !== '.' && dir !== '/') {
    try {
      rmdirSync(path.join(root, dir));
    } catch {
      return; // not empty (or gone): stop climbing
    }
    dir = path.dirname(dir);
  }
}

/** Removes `dir` and its parents up to and including `top`, stopping at the first that is not empty. */
export function removeEmptyFoldersUpTo(dir: string, top: string): void {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === top || path.dirname(d) === d) return;
  }
}
