/**
 * Writing remote files into a folder without ever leaving one half-written (SPEC §9.6).
 * A pull downloads, decrypts and checks every file against its blob id into a staging folder
 * first; only when all of them are staged are they renamed into place, one atomic rename each.
 * A clone into an empty folder has nothing to protect: its files are written into a staging tree
 * laid out as the folder will be, and the tree's top-level entries renamed into place at the end
 * (whole or absent, never partial); the stat data for the index comes from the open file: no
 * second pass over 10,000 paths. If a blob fails its check, nothing was placed.
 */
import { chmodSync, closeSync, fstatSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, rmdirSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import path from 'node:path';
import { BlobCheckError, blobOpener } from '../../crypto/blob-open.js';
import type { Primitives } from '../../crypto/primitives.js';
import type { WorkspaceSubkeys } from '../../crypto/workspace-keys.js';
import type { TreeFile } from '../../sync/merge.js';
import type { ApiClient } from '../api.js';
import { groupByBytes } from '../byte-groups.js';
import { ConflictError, IntegrityFailure } from '../errors.js';
import { conflictPathFor, parentDirs } from '../../sync/paths.js';
import { foldedNames, type SameName } from '../../sync/case-fold.js';
import { STAT_FIELDS, type StatColumns } from '../../sync/file-columns.js';
import { lstatOrNull, parentsAreFolders } from './files.js';
import { TaskLimiter } from './limit.js';
import { takeBackOnExit } from './take-back.js';
import { STATE_DIR } from './link.js';
import type { Progress } from '../context.js';

export interface StagedFile {
  staged: string;
  target: string;
  /** the staged file's inode, size, mtime and executable bit once written (placing it keeps them) */
  ino: number;
  size: number;
  mtimeMs: number;
  exec: boolean;
  /** its permission bits as written (the manifest's mode less the umask) */
  perm: number;
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
  /**
   * aborted on Ctrl-C (ClientContext.cancellation): the requests in flight are torn down, the
   * download stops before its next file or next few chunks, and takes back what it placed
   */
  signal?: AbortSignal | undefined;
  /**
   * placeRemoteFiles: the command's point of no return (ClientContext.committing), awaited once
   * every file is downloaded, before the first is moved into place; a CancelledError from it takes
   * everything back. Without it, an aborted `signal` is looked at there.
   */
  commit?: () => Promise<void>;
}

/** The files a pull or in-place restore staged, decrypted, for applyStaged. */
export interface Staged {
  files: StagedFile[];
  /**
   * Removes the staging folder (what is left of it) and stops listing it for removal at exit:
   * until then a second Ctrl-C or a hangup (take-back.ts) still removes it. applyStaged calls it
   * when done (ApplyPlan.drop), a caller that stops before (cancelled at its point of no return)
   * itself.
   */
  drop(): void;
}

/** Downloads and stages every planned file; throws IntegrityFailure before anything is renamed. */
export async function stageRemoteFiles(remote: RemoteFiles): Promise<Staged> {
  const files: StagedFile[] = [];
  const forget = await downloadVerified(remote, (plan, stagedPath, fd) => {
    const st = fstatSync(fd);
    files.push({ staged: stagedPath, target: plan.target, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, exec: (st.mode & 0o100) !== 0, perm: st.mode & 0o777 });
  });
  return {
    files,
    drop: () => {
      rmSync(stagingDir(remote.root), { recursive: true, force: true });
      forget();
    },
  };
}

/**
 * For a clone into an empty folder: downloads every planned file into a tree under the staging
 * folder, laid out as it will be, then moves the tree's top-level entries into place — a handful
 * of renames, not one per file (10,000 renames were ~7 % of a clone's time). A failure before
 * the move leaves nothing in the folder.
 */
export async function placeRemoteFiles(remote: RemoteFiles): Promise<PlacedFile[]> {
  const placed: PlacedFile[] = [];
  const tree = `${stagingDir(remote.root)}${path.sep}tree`;
  const made = new Set<string>();
  const stagedPathOf = (plan: FetchPlan): string => {
    // Manifest paths are checked relative '/'-paths (sync/paths.ts): joined without path.join's
    // normalisation, which cost more than a rename in a clone of 10,000 files.
    const staged = `${tree}${path.sep}${plan.target}`;
    const parent = path.dirname(staged);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    return staged;
  };
  const moved: string[] = [];
  const takeBack = (): void => {
    for (const rel of moved.reverse()) {
      rmSync(`${remote.root}${path.sep}${rel}`, { recursive: true, force: true });
      removeEmptyParents(remote.root, path.dirname(rel));
    }
    moved.length = 0;
    rmSync(stagingDir(remote.root), { recursive: true, force: true });
  };
  // A second Ctrl-C or a hangup exits at once: what is staged or placed goes even then.
  const forget = takeBackOnExit(takeBack);
  try {
    const forgetStaging = await downloadVerified(remote, (plan, _staged, fd) => {
      // Renaming a folder leaves the ctime of the files in it as it is: the index takes it from here.
      const st = fstatSync(fd);
      placed.push({ target: plan.target, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, statMode: st.mode });
    }, stagedPathOf);
    forgetStaging(); // takeBack, listed above, removes the staging folder too
    // cancelled while the last request finished: nothing is placed
    if (remote.commit) await remote.commit();
    else remote.signal?.throwIfAborted();
    if (made.size > 0) moveTreeInto(tree, remote.root, '', moved);
  } catch (err) {
    takeBack();
    throw err;
  } finally {
    forget();
  }
  // A file renamed on its own got a new ctime: its index entry takes that one.
  const movedAlone = new Set(moved);
  for (const f of placed) {
    if (movedAlone.has(f.target)) f.ctimeMs = lstatSync(`${remote.root}${path.sep}${f.target}`).ctimeMs;
  }
  rmSync(stagingDir(remote.root), { recursive: true, force: true });
  return placed;
}

/**
 * Moves every entry of `from` into `to` (relative path `rel` below the root), recording each
 * moved path in `moved`: what is not there yet goes whole, a folder that is there (made while the
 * download ran) is merged entry by entry. Anything else in the way — made there meanwhile — is
 * left as it is and stops the move (ConflictError); links are never followed.
 */
export function moveTreeInto(from: string, to: string, rel: string, moved: string[]): void {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const src = `${from}${path.sep}${entry.name}`;
    const dst = `${to}${path.sep}${entry.name}`;
    const there = lstatOrNull(dst);
    if (there && entry.isDirectory() && there.isDirectory()) {
      moveTreeInto(src, dst, name, moved);
      continue;
    }
    if (there) throw new ConflictError(`${name} appeared in ${to} while the files were downloading`, 'nothing was placed: move it away and run the command again');
    renameSync(src, dst);
    moved.push(name);
  }
}

/**
 * Fetches, decrypts and checks every planned file into its own staging file, then hands it to
 * `written` while it is still open. The staging folder is removed on failure; once all is
 * staged it stays listed for removal at exit (a second Ctrl-C, a hangup) until the caller calls
 * the function returned, having placed the files or removed the folder (Staged.drop).
 */
async function downloadVerified(
  { p, api, workspaceId, keys, epoch, root, plans, progress, signal }: RemoteFiles,
  written: (plan: FetchPlan, stagedPath: string, fd: number) => void,
  stagedPathOf?: (plan: FetchPlan) => string,
): Promise<() => void> {
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
  const batches = groupByBytes(plans, (plan) => plan.file.size, BATCH_BYTES);

  let n = 0;
  let doneFiles = 0;
  const limiter = new TaskLimiter(FETCH_CONCURRENCY);
  const chunksPerRequest = BATCH_BYTES / (1024 * 1024);
  const fetchMap = async (ids: string[]): Promise<Map<string, Uint8Array>> => {
    const unique = [...new Set(ids)];
    const frames = await api.fetchBlobs(workspaceId, unique, { signal });
    return new Map(frames.map((f) => [f.id, f.data]));
  };
  const stageOne = async (plan: FetchPlan, blobs: Map<string, Uint8Array> | null): Promise<void> => {
    signal?.throwIfAborted();
    const stagedPath = stagedPathOf ? stagedPathOf(plan) : `${dir}${path.sep}${n++}`;
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
          // a big file is many requests: a Ctrl-C is heard between them, not after the last
          signal?.throwIfAborted();
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
  const forget = takeBackOnExit(() => rmSync(dir, { recursive: true, force: true }));
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
    // The other task in flight would go on writing (and make the folders it needs again): it ends
    // first, soon when cancelled (its request is torn down), then the staging folder goes.
    await limiter.drain().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    forget();
    throw err;
  }
  // Still listed: the caller awaits its point of no return next, where signals already sent are
  // heard, and one that ends the process then must find the decrypted files to remove.
  return forget;
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/** What the scan saw of a file before the download: a pull or restore replaces or deletes it only if it still matches. */
export interface SeenFile {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  exec: boolean;
}

/** The stat data to record in the index for a file placed by applyStaged. */
export interface PlacedStat {
  size: number;
  /** 0 when the file was changed between being placed and this record (re-hash it next time) */
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  exec: boolean;
}

export interface ApplyPlan {
  staged: StagedFile[];
  /** Staged.drop, for the staging folder to stop being listed for removal at exit once removed here */
  drop?: () => void;
  /** files to delete; each goes only while it still matches what the scan saw */
  deletes: readonly string[];
  /** files whose content stays and whose mode changes (the remote changed only that) */
  chmods?: readonly { path: string; mode: number }[];
  /** what the scan saw at a path, undefined where it saw no file */
  seen: (rel: string) => SeenFile | undefined;
  /** names a conflict copy must not take besides what is on disk (the trees' files and folders) */
  reserved: (rel: string) => boolean;
  /**
   * whether two paths that differ only in case are one name in the folder: a conflict copy then
   * takes no name that is one with a file still to be placed (one placed or there already is found
   * on disk). Asked only when a file is set aside, only of such pairs.
   */
  sameName?: SameName;
}

export interface Applied {
  /** stat data of each file renamed or linked into place, by target */
  placed: Map<string, PlacedStat>;
  /** targets that changed since the scan (or appeared): left as they are, the staged file written beside at `aside` */
  setAside: { target: string; aside: string }[];
  /** deletes not done because the file changed since the scan */
  keptDeletes: string[];
  /** mode changes not done because the file changed since the scan (or a folder on its way did) */
  keptModes: string[];
}

/**
 * Applies a staged pull or in-place restore: removes what the plan deletes, then puts every staged
 * file into place, then sets the mode of the files in `chmods`. Deletes go first so a folder the
 * remote replaced by a file of the same name is gone before that file arrives.
 *
 * The scan and the download can be seconds before this, and the folder is the user's: like git's
 * up-to-date check at checkout, just before each replace or delete the path is lstat()ed again
 * and compared with what the scan saw (size, mtime, ctime, inode, executable bit). A file that
 * changed, or appeared where there was none, is left alone: a replacement goes beside it under a
 * conflict name, a delete is not done, and the caller reports both as conflicts. A file is put
 * where there was none with link() (which fails if something is there now) and the staged name
 * unlinked, so nothing made meanwhile is replaced; without hard links (FAT, some network file
 * systems) the check is an lstat() just before the rename. Between a check and its rename there
 * is still a window of one system call, as in git. The staging folder goes at the end, also when
 * this fails midway (no free conflict name, a folder on the way turned into a file).
 */
export function applyStaged(root: string, plan: ApplyPlan): Applied {
  try {
    return applyAll(root, plan);
  } finally {
    // what is still staged (all of it after a failure) is decrypted data: it goes either way
    if (plan.drop) plan.drop();
    else rmSync(stagingDir(root), { recursive: true, force: true });
  }
}

function applyAll(root: string, plan: ApplyPlan): Applied {
  const out: Applied = { placed: new Map(), setAside: [], keptDeletes: [], keptModes: [] };
  const targets = new Set(plan.staged.map((s) => s.target));
  const sameName = plan.sameName;
  const alike = sameName === undefined ? undefined : foldedNames(() => [...targets].flatMap((t) => [t, ...parentDirs(t)]), sameName);
  const aside = asideNamer(root, (p) => targets.has(p) || plan.reserved(p), alike);
  // Before the first write: the copies the folder calls for already get their names, so no free
  // name (no_conflict_name) stops the apply before it has changed anything, not halfway.
  const ahead = namesAhead(root, plan, aside);
  for (const rel of plan.deletes) {
    const abs = `${root}${path.sep}${rel}`;
    const st = lstatOrNull(abs);
    if (st === null) continue; // already gone
    if (!matchesSeen(st, plan.seen(rel))) {
      out.keptDeletes.push(rel);
      continue;
    }
    rmSync(abs);
    removeEmptyParents(root, path.dirname(rel));
  }
  /** the name chosen ahead for a copy of `target` (when it goes where namesAhead foresaw), else a fresh one */
  const asideOf = (target: string, blocked: string | null): string => {
    const named = ahead.get(target);
    return named !== undefined && named.blocked === blocked ? named.aside : aside(target, blocked);
  };
  // Each folder is checked (and made) once, not once per file in it.
  const clearDirs = new Set<string>();
  for (const s of plan.staged) {
    // Manifest paths are checked relative '/'-paths (sync/paths.ts): joined without path.join's
    // normalisation, which cost more than the rename in a clone of 10,000 files.
    const abs = `${root}${path.sep}${s.target}`;
    const blocked = clearParents(root, s.target, clearDirs);
    if (blocked !== null) {
      // a folder on the way is now a file (a delete kept above) or a link: go beside it
      out.setAside.push({ target: s.target, aside: placeAside(root, s, asideOf(s.target, blocked), clearDirs, aside) });
      continue;
    }
    const seen = plan.seen(s.target);
    const st = lstatOrNull(abs);
    let placed: boolean;
    if (st === null) placed = placeNew(s.staged, abs);
    else if (seen === undefined && st.isDirectory()) {
      // An empty folder where the file goes (findObstacles let only empty ones through), removed
      // without recursion: one that got files meanwhile stays, and the file goes beside it.
      placed = removeEmptyTree(abs) && placeNew(s.staged, abs);
    } else if (matchesSeen(st, seen)) {
      keepPermissions(s, st!.mode);
      renameSync(s.staged, abs);
      placed = true;
    } else placed = false;
    if (placed) out.placed.set(s.target, statOfPlaced(s, lstatSync(abs)));
    else out.setAside.push({ target: s.target, aside: placeAside(root, s, asideOf(s.target, null), clearDirs, aside) });
  }
  for (const c of plan.chmods ?? []) {
    // As for writes: only the file the scan saw, reached through real folders (a folder swapped
    // for a link meanwhile would have the chmod land outside the workspace).
    const abs = `${root}${path.sep}${c.path}`;
    if (parentsAreFolders(root, c.path, clearDirs) && matchesSeen(lstatOrNull(abs), plan.seen(c.path))) setExecutable(abs, c.mode === 0o755);
    else out.keptModes.push(c.path);
  }
  return out;
}

/**
 * The staged files that will go beside their target as things stand, looked at without changing
 * anything, each with its copy's name: a target changed since the scan (or there where the scan saw
 * nothing, as a file never synced that a restore meets), or under a folder that is now a file or
 * link and is not deleted first (a kept delete). The apply looks at each again just before it
 * writes: what changes in between (a window of milliseconds) still gets its name then.
 */
function namesAhead(root: string, plan: ApplyPlan, aside: AsideNamer): Map<string, { blocked: string | null; aside: string }> {
  const named = new Map<string, { blocked: string | null; aside: string }>();
  const deleted = new Set(plan.deletes.filter((rel) => matchesSeen(lstatOrNull(`${root}${path.sep}${rel}`), plan.seen(rel))));
  /** per folder on the way: whether it is (or will be, made by the apply) a folder */
  const folder = new Map<string, boolean>();
  for (const s of plan.staged) {
    let blocked: string | null = null;
    for (const dir of parentDirs(s.target)) {
      let ok = folder.get(dir);
      if (ok === undefined) {
        const st = lstatOrNull(`${root}${path.sep}${dir}`);
        folder.set(dir, (ok = st === null || st.isDirectory() || deleted.has(dir)));
      }
      if (!ok) {
        blocked = dir;
        break;
      }
    }
    if (blocked === null) {
      const st = lstatOrNull(`${root}${path.sep}${s.target}`);
      const seen = plan.seen(s.target);
      const goes = st === null || (seen === undefined && st.isDirectory() ? onlyEmptyFolders(`${root}${path.sep}${s.target}`) : matchesSeen(st, seen));
      if (goes) continue;
    }
    named.set(s.target, { blocked, aside: aside(s.target, blocked) });
  }
  return named;
}

/** Whether a folder holds nothing but empty folders (removeEmptyTree would remove it), looked at only. */
function onlyEmptyFolders(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).every((entry) => entry.isDirectory() && onlyEmptyFolders(path.join(dir, entry.name)));
}

/**
 * A file replaced by a pull keeps the read and write bits it had here: someone who made a file of
 * secrets 0600 does not find it 0644 after a teammate's edit (only the executable bit is synced).
 * The staged file is changed before the rename, so the file is never in place with wider bits.
 */
function keepPermissions(staged: StagedFile, localMode: number): void {
  const rw = localMode & 0o666;
  // executable where readable, as git sets 0755 from 0644; the owner's bit whatever happens
  const perm = staged.exec ? rw | ((rw & 0o444) >> 2) | 0o100 : rw;
  if (perm !== staged.perm) chmodSync(staged.staged, perm);
}

/** `ApplyPlan.seen` for a scan's columns (readLocalTree's `files`). */
export function seenIn(scan: StatColumns): (rel: string) => SeenFile | undefined {
  const row = new Map(scan.paths.map((p, k) => [p, k]));
  return (rel) => {
    const k = row.get(rel);
    if (k === undefined) return undefined;
    const at = k * STAT_FIELDS;
    const st = scan.stats;
    return { size: st[at]!, mtimeMs: st[at + 1]!, ctimeMs: st[at + 2]!, ino: st[at + 3]!, exec: scan.exec[k] === 1 };
  };
}

/** `ApplyPlan.reserved` for trees' paths: each file, and each folder they need (gathered at the first question: most pulls set nothing aside). */
export function treeNames(...trees: Iterable<string>[]): (rel: string) => boolean {
  let names: Set<string> | null = null;
  return (rel) => {
    if (names === null) {
      names = new Set();
      for (const t of trees) {
        for (const p of t) {
          names.add(p);
          for (const d of parentDirs(p)) names.add(d);
        }
      }
    }
    return names.has(rel);
  };
}

/**
 * Whether a path still holds what the scan saw: the same regular file, unchanged by stat
 * (size, mtime, ctime, inode, executable bit); or nothing, where the scan saw nothing.
 */
export function matchesSeen(st: Stats | null, seen: SeenFile | undefined): boolean {
  if (seen === undefined) return st === null;
  return (
    st !== null &&
    st.isFile() &&
    st.size === seen.size &&
    st.mtimeMs === seen.mtimeMs &&
    st.ctimeMs === seen.ctimeMs &&
    st.ino === seen.ino &&
    ((st.mode & 0o100) !== 0) === seen.exec
  );
}

/**
 * The index record of a placed file, from its lstat() just after it was placed. A rename or link
 * keeps the inode, size and mtime the staged file had (it may change the ctime): if they differ,
 * something wrote the file in between, and the record gets mtime 0 so the next scan re-hashes it
 * rather than take that write (or chmod) for the synced version.
 */
export function statOfPlaced(staged: Pick<StagedFile, 'ino' | 'size' | 'mtimeMs' | 'exec'>, st: Pick<Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs' | 'mode'>): PlacedStat {
  // a chmod in between changes only the ctime and the mode: the mode tells it
  const same = st.ino === staged.ino && st.size === staged.size && st.mtimeMs === staged.mtimeMs && ((st.mode & 0o100) !== 0) === staged.exec;
  return { size: st.size, mtimeMs: same ? st.mtimeMs : 0, ctimeMs: st.ctimeMs, ino: st.ino, exec: (st.mode & 0o100) !== 0 };
}

/** Errors of link() on file systems without hard links, where a checked rename stands in. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Puts a staged file at a path that held nothing; false (and nothing changed) if something is there now. */
function placeNew(stagedPath: string, abs: string): boolean {
  try {
    linkSync(stagedPath, abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
    if (lstatOrNull(abs) !== null) return false;
    renameSync(stagedPath, abs);
    return true;
  }
  unlinkSync(stagedPath);
  return true;
}

/** Writes a staged file that could not go to its target under a fresh conflict name; returns that name. */
function placeAside(root: string, s: StagedFile, first: string, clearDirs: Set<string>, aside: AsideNamer): string {
  for (let name = first; ; name = aside(s.target, null)) {
    const blocked = clearParents(root, name, clearDirs);
    if (blocked !== null) throw new ConflictError(`cannot write beside ${s.target}: ${blocked} is not a folder any more`, 'move it away and pull again');
    if (placeNew(s.staged, `${root}${path.sep}${name}`)) return name;
  }
}

type AsideNamer = (rel: string, blockedDir: string | null) => string;

/**
 * Conflict names for files set aside at apply time, as the merge names them: `NAME.conflict`
 * (or `-2`…), and for a file under a folder that is now a file, the same path under a sibling
 * folder `DIR.conflict/`. Never a reserved name, one on disk, or one given before, nor one that
 * `alike` finds is one of those names spelt otherwise.
 *
 * Only the name itself is looked at, not the folders above it: a copy's folders are those of the
 * file it goes beside, which applyStaged has just found to be real folders (clearParents), or,
 * for `DIR.conflict/`, those above the folder that is now a file. They are folders of the trees,
 * so reserved: counting a name under a reserved folder as taken once made every name in a
 * subfolder taken (`d/f.json.conflict`, `-2`, … for ever).
 */
function asideNamer(root: string, reserved: (rel: string) => boolean, alike?: ReturnType<typeof foldedNames>): AsideNamer {
  const given = new Set<string>();
  const relocated = new Map<string, string>();
  const taken = (p: string): boolean => given.has(p) || reserved(p) || lstatOrNull(`${root}${path.sep}${p}`) !== null || (alike?.alike(p) ?? false);
  const fresh = (p: string): string => {
    const name = conflictPathFor(p, taken);
    given.add(name);
    alike?.add(name);
    return name;
  };
  return (rel, blockedDir) => {
    if (blockedDir === null) return fresh(rel);
    let dir = relocated.get(blockedDir);
    if (dir === undefined) relocated.set(blockedDir, (dir = fresh(blockedDir)));
    return dir + rel.slice(blockedDir.length);
  };
}

/**
 * Makes the folders above a path, checking each (once per `clear` set) is a real folder; returns
 * the first that is not (a file or symbolic link put there since the scan), or null.
 */
function clearParents(root: string, rel: string, clear: Set<string>): string | null {
  for (const dir of parentDirs(rel)) {
    if (clear.has(dir)) continue;
    const abs = `${root}${path.sep}${dir}`;
    let st = lstatOrNull(abs);
    if (st === null) {
      try {
        mkdirSync(abs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      st = lstatSync(abs);
    }
    if (!st.isDirectory()) return dir;
    clear.add(dir);
  }
  return null;
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

/** Removes a folder holding only empty folders, without recursion into files; false if it holds anything else. */
function removeEmptyTree(dir: string): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !removeEmptyTree(path.join(dir, entry.name))) return false;
  }
  try {
    rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTEMPTY' || (err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  return true;
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
