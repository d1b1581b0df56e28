/**
 * pull and clone: verify the remote history first (signatures, chain, keys), then three-way merge
 * it with local changes, stage and check every blob, and only then touch the folder (SPEC §4, §9).
 * A file changed on both sides keeps the local version and gets the remote one beside it.
 */
import { constants as fsConstants, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { planMerge, type MergeStrategy, type TreeFile } from '../../sync/merge.js';
import type { IndexEntry } from '../../sync/index-format.js';
import { emptyIndex } from '../../sync/index-format.js';
import type { ClientContext, LateNotes } from '../context.js';
import { ConflictError, SyncError, UsageError } from '../errors.js';
import { fetchVerifiedChain, fetchVerifiedHead, requireEpochNotAbove } from '../history.js';

import { readIndexColumns, refuseInsideLinkedFolder, STATE_DIR, writeIndex, writeLink, type LinkedFolder } from '../local/link.js';
import { claimFolder, lockFolder, refuseBusyFolder } from '../local/folder-lock.js';
import { findObstacles, obstacleError } from '../local/obstacles.js';
import { lstatOrNull } from '../local/files.js';
import { applyStaged, matchesSeen, placeRemoteFiles, removeEmptyFoldersUpTo, seenIn, stageRemoteFiles, treeNames, type FetchPlan, type PlacedFile, type PlacedStat, type RemoteFiles, type Staged } from '../local/materialize.js';
import { comparePaths } from '../../sync/paths.js';
import { normalizeMode } from '../../sync/file-mode.js';
import { isTokenSession, principalServer, resolveTokenWorkspace, type SyncPrincipal } from '../token-session.js';
import type { IndexColumns } from '../../sync/index-format.js';
import { entriesOf, filesOf } from '../../sync/file-columns.js';
import { loadRemote, localBlobIdKey, readLocalTree, requirePrincipal, trustedSigners, untouchedByRemote } from './linked.js';
import { openLinkedFolder } from './open-linked.js';
import { resolveWorkspace } from './workspaces.js';
import { recordBaseEpoch, recordedBaseEpoch } from '../local/base-epoch.js';
import { withSteadyYoungGeneration } from '../local/young-generation.js';
import { cannotWrite, checkNewPath } from '../local/new-path.js';
import { takeBackOnExit } from '../local/take-back.js';
import { caseRenames, fileSystemProbe, refuseCaseCollisions, sameNameThere, type CaseProbe } from '../local/case-probe.js';
import { caseCollisions } from '../../sync/case-fold.js';

export interface PullConflict {
  path: string;
  /** where the remote version was written, or null when the remote side deleted the file */
  conflictPath: string | null;
  /**
   * what the remote did to the file: 'changed' (its version is at conflictPath, or, when that is
   * null, only its mode was left out: the file changed here during the pull) or 'deleted'
   */
  remote: 'changed' | 'deleted';
}

/** A file where --ours or --theirs decided a conflict: what the other side had is not in place. */
export interface PullOverride {
  path: string;
  /** 'ours': your version (or deletion) kept, the remote's stays in `log`/`restore`; 'theirs': the remote's taken */
  took: 'ours' | 'theirs';
  /** with 'theirs', where your version was kept (a conflict copy, never pushed) */
  yoursAt?: string;
}

export interface PullResult {
  workspaceId: string;
  root: string;
  from: string | null;
  to: string | null;
  upToDate: boolean;
  snapshots: number;
  written: string[];
  deleted: string[];
  /** files deleted here that the remote changed: written back (the deletion can be redone) */
  restored: string[];
  /** files whose content stayed as you changed it, with the mode (executable bit) the remote gave them */
  modeChanged: string[];
  conflicts: PullConflict[];
  /** what --ours or --theirs decided over the other side (empty without them) */
  overridden: PullOverride[];
  /** files of the snapshot inside `.git`, never written (see VerifiedSnapshot.leftOut) */
  leftOut: string[];
}

export interface PullOptions {
  strategy?: MergeStrategy;
  /** asks whether the folder's file system takes two names that differ only in case for one (default: it is asked) */
  caseProbe?: CaseProbe;
}

/** What a Ctrl-C past the point of no return is told (ClientContext.committing). */
export const LATE_CTRL_C = {
  pull: {
    finishing: 'Ctrl-C came as pull was applying the changes: it goes on to the end rather than leave the folder half-changed',
    finished: 'Ctrl-C came as pull was applying the changes: it went on to the end rather than leave the folder half-changed',
    ended: 'cancelled as pull was applying the changes: some may be applied; run `insomnia-sync pull` again',
  },
  clone: {
    finishing: 'Ctrl-C came as clone was moving the files into place: it goes on to the end rather than leave half a folder',
    finished: 'Ctrl-C came as clone was moving the files into place: it went on to the end rather than leave half a folder',
    ended: 'cancelled as clone was moving the files into place: what it had placed is removed; run `insomnia-sync clone` again',
  },
  restore: {
    finishing: 'Ctrl-C came as restore was applying the snapshot: it goes on to the end rather than leave the folder half-changed',
    finished: 'Ctrl-C came as restore was applying the snapshot: it went on to the end rather than leave the folder half-changed',
    ended: 'cancelled as restore was applying the snapshot: some files may be restored; run `insomnia-sync restore` again',
  },
} as const satisfies Record<string, LateNotes>;

export async function pull(ctx: ClientContext, opts: PullOptions = {}): Promise<PullResult> {
  // Ctrl-C from here until the changes are applied stops the pull (exit 130): requests torn
  // down, nothing of the folder changed, its lock released (not left for the next command).
  ctx.cancellation?.();
  const { folder, session } = await openLinkedFolder(ctx);
  lockFolder(folder.root);
  const index = readIndexColumns(folder.root);
  const result = await withSteadyYoungGeneration(() => pullInto(ctx, folder, session, index, opts.strategy ?? 'conflict', false, opts.caseProbe ?? fileSystemProbe));
  if (result.conflicts.length > 0) {
    const copies = result.conflicts.filter((c) => c.conflictPath !== null).length;
    const deletedThere = result.conflicts.filter((c) => c.remote === 'deleted').length;
    const what = [copies > 0 ? `wrote theirs beside ${copies} as a conflict copy` : '', deletedThere > 0 ? `${deletedThere} deleted on the remote, kept here` : ''].filter(Boolean).join('; ');
    // The command lists each file under this line (details.conflicts in --json).
    throw new ConflictError(
      `${result.conflicts.length} file(s) changed both here and on the remote: kept yours${what ? `; ${what}` : ''}`,
      copies > 0
        ? 'compare each file with its conflict copy, keep what you want in the file, delete the copy, then push'
        : 'delete the files too if the remote was right, then push',
      result,
    );
  }
  return result;
}

async function pullInto(
  ctx: ClientContext,
  folder: LinkedFolder,
  session: SyncPrincipal,
  index: IndexColumns,
  strategy: MergeStrategy,
  /** a clone into a folder that was empty: nothing local to merge with or to protect */
  intoEmpty: boolean,
  caseProbe: CaseProbe,
): Promise<PullResult> {
  const p = ctx.primitives;
  const workspaceId = folder.link.workspaceId;
  // Ctrl-C while files download takes back what was staged or placed (a clone leaves no folder).
  const signal = ctx.cancellation?.();
  ctx.progress.start('Checking the remote');
  const [remote, signers] = await Promise.all([loadRemote(p, session, workspaceId, {}, folder.link.teamId), trustedSigners(session, workspaceId, p)]);
  const head = remote.workspace.head;
  const base: PullResult = {
    workspaceId,
    root: folder.root,
    from: index.base,
    to: head,
    upToDate: true,
    snapshots: 0,
    written: [],
    deleted: [],
    restored: [],
    modeChanged: [],
    conflicts: [],
    overridden: [],
    leftOut: [],
  };
  if (head === index.base) {
    ctx.progress.stop();
    return base;
  }
  ctx.progress.update('Verifying remote history');
  // A pull checks every snapshot since its base (that the base is an ancestor: no rollback, no
  // fork); a clone has no base, and the newest snapshot fixes the history behind it by hash.
  const verifier = { p, api: session.api, ring: remote.ring, signers };
  // Never from the verified-head record (local/verified-head.ts) that status and log keep: it
  // says the base is an ancestor, checked with the signers of its time, and pull applies content,
  // so every snapshot since the base is checked with the signers trusted now.
  const baseEpoch = index.base === null ? null : recordedBaseEpoch(folder.root, index.base);
  const chain =
    intoEmpty && index.base === null && head !== null
      ? [await fetchVerifiedHead(verifier, head)]
      : await fetchVerifiedChain(verifier, head, index.base, 'newest');
  const newest = chain[0]!;
  // The history walk checked the epochs of the new snapshots among themselves; the oldest of them
  // against the base's, as recorded here when we synced it.
  if (baseEpoch !== null) requireEpochNotAbove({ id: index.base!, epoch: baseEpoch }, chain[chain.length - 1]!.manifest.epoch);
  const keys = remote.ring.byEpoch.get(newest.manifest.epoch);
  if (!keys) throw new ConflictError('the newest snapshot uses a key epoch you do not hold');

  const remoteFiles = (plans: FetchPlan[]): RemoteFiles => ({ p, api: session.api, workspaceId, keys, epoch: newest.manifest.epoch, root: folder.root, plans, progress: ctx.progress, signal });
  let fetches: FetchPlan[];
  const deletes: string[] = [];
  const chmods: { path: string; mode: number }[] = [];
  let restored: string[] = [];
  let written: string[];
  let deleted: string[] = [];
  let keptModes = new Set<string>();
  const conflicts: PullConflict[] = [];
  let overridden: PullOverride[] = [];
  let entries: IndexEntry[];
  if (intoEmpty) {
    // Nothing local: merging an empty base and folder with the remote tree gives the remote tree
    // (decodeManifest has already refused repeated paths and files that are also folders).
    const files = newest.manifest.files;
    // A Mac or Windows folder would hold one file for A.yaml and a.yaml: refused before any download.
    refuseCaseCollisions(folder.root, caseCollisions(files.map((f) => f.path)), caseProbe, 'clone');
    fetches = files.map((file) => ({ target: file.path, file }));
    const commit = ctx.committing && (() => ctx.committing!(LATE_CTRL_C.clone));
    entries = indexOfPlaced(files, await placeRemoteFiles({ ...remoteFiles(fetches), ...(commit ? { commit } : {}) }));
    written = fetches.map((f) => f.target);
  } else {
    ctx.progress.update('Comparing with your files');
    // local files compare with the base under the base's epoch key (it differs after a key rotation)
    const localKey = await localBlobIdKey(p, session, remote.ring, folder.root, index.base);
    // a file it cannot read stops the pull only where the remote changed it (untouchedByRemote)
    const local = await readLocalTree(p, folder.root, index, async () => localKey, undefined, untouchedByRemote(index, newest.manifest.files));
    // the scan runs without a break: a Ctrl-C during it is heard here
    signal?.throwIfAborted();
    // A conflict copy's name is fresh, on a file system that folds case also in any spelling.
    const sameName = (a: string, b: string): boolean => sameNameThere(folder.root, a, b, caseProbe);
    const plan = planMerge(filesOf(index), filesOf(local.files), newest.manifest.files, strategy, (rel) => existsSync(path.join(folder.root, rel)), sameName);
    fetches = [];
    /** --theirs over a local change: the local file, copied aside before it is replaced or deleted */
    const asides: { path: string; aside: string }[] = [];
    for (const action of plan.actions) {
      if (action.kind === 'write') {
        fetches.push({ target: action.path, file: action.file });
        if (action.restored) restored.push(action.path);
      }
      else if (action.kind === 'delete') deletes.push(action.path);
      else if (action.kind === 'chmod') chmods.push({ path: action.path, mode: action.mode });
      else if (action.kind === 'conflict') {
        conflicts.push({ path: action.path, conflictPath: action.conflictPath, remote: action.remote ? 'changed' : 'deleted' });
        if (action.remote && action.conflictPath) fetches.push({ target: action.conflictPath, file: action.remote });
      } else overridden.push({ path: action.path, took: 'ours' });
      if ((action.kind === 'write' || action.kind === 'delete') && action.localAside !== undefined) {
        asides.push({ path: action.path, aside: action.localAside });
        overridden.push({ path: action.path, took: 'theirs', yoursAt: action.localAside });
      }
    }
    overridden.sort((x, y) => comparePaths(x.path, y.path));
    const here = new Set(local.files.paths);
    const seen = refuseCaseCollisionsHere(folder.root, here, plan.result, fetches, deletes, caseProbe, 'pull');
    const obstacles = findObstacles(folder.root, fetches.map((f) => f.target), seen, new Set(deletes));
    if (obstacles.length > 0) throw obstacleError(obstacles, 'pull');
    const staged = await stageRemoteFiles(remoteFiles(fetches));
    // The point of no return: a Ctrl-C heard by now cancels; from here the pull applies
    // everything and records it, whatever comes (docs: EXIT STATUS 130).
    await commitOrDropStaged(ctx, staged, LATE_CTRL_C.pull);
    ctx.progress.update('Applying');
    const copied = copyAside(folder.root, asides);
    const scanned = seenIn(local.files);
    let applied: ReturnType<typeof applyStaged>;
    try {
      applied = applyStaged(folder.root, {
        staged: staged.files,
        drop: staged.drop,
        deletes,
        chmods,
        seen: scanned,
        reserved: treeNames(local.files.paths, newest.manifest.files.map((f) => f.path)),
        sameName,
      });
    } catch (err) {
      // Stopped midway (no free name for a copy, a folder turned into a file): a copy goes only
      // where its file is still as the scan saw it; one whose file was replaced or deleted before
      // the failure is the only copy of yours left, and stays.
      const from = new Map(asides.map((a) => [a.aside, a.path]));
      for (const rel of copied) {
        const file = from.get(rel)!;
        if (matchesSeen(lstatOrNull(path.join(folder.root, file)), scanned(file))) rmSync(path.join(folder.root, rel), { force: true });
      }
      throw err;
    }
    // What changed here while the pull downloaded stays as it is, a conflict like any other.
    for (const { target, aside } of applied.setAside) {
      const planned = conflicts.find((c) => c.conflictPath === target);
      if (planned) planned.conflictPath = aside; // the conflict copy's name was taken meanwhile
      else conflicts.push({ path: target, conflictPath: aside, remote: 'changed' });
    }
    keptModes = new Set(applied.keptModes);
    for (const rel of applied.keptDeletes) conflicts.push({ path: rel, conflictPath: null, remote: 'deleted' });
    for (const rel of applied.keptModes) conflicts.push({ path: rel, conflictPath: null, remote: 'changed' });
    conflicts.sort((x, y) => comparePaths(x.path, y.path));
    const copies = new Set(conflicts.map((c) => c.conflictPath));
    written = fetches.map((f) => f.target).filter((t) => applied.placed.has(t) && !copies.has(t));
    const kept = new Set([...applied.setAside.map((s) => s.target), ...applied.keptDeletes]);
    deleted = deletes.filter((d) => !kept.has(d));
    restored = restored.filter((r) => !kept.has(r));
    // --theirs did not replace a file edited during the pull (it is a conflict now): its copy is stale
    const copiedSet = new Set(copied);
    const decided: PullOverride[] = [];
    for (const o of overridden) {
      const copy = o.yoursAt !== undefined && copiedSet.has(o.yoursAt) ? o.yoursAt : undefined;
      if (kept.has(o.path)) {
        if (copy !== undefined) rmSync(path.join(folder.root, copy), { force: true });
      } else decided.push(copy !== undefined ? o : { path: o.path, took: o.took });
    }
    overridden = decided;
    entries = indexAfterMerge(plan.result, entriesOf(local.files), applied.placed, fetches);
  }
  writeIndex(folder.root, { version: 1, workspaceId, base: head, entries });
  recordBaseEpoch(folder.root, head, newest.manifest.epoch);
  ctx.progress.stop();
  return {
    ...base,
    upToDate: false,
    snapshots: chain.length,
    written,
    deleted,
    restored,
    modeChanged: chmods.map((c) => c.path).filter((rel) => !keptModes.has(rel)),
    conflicts,
    overridden,
    leftOut: newest.leftOut.map((f) => f.path),
  };
}

/**
 * For a pull or in-place restore with its files staged: ClientContext.committing, the staged
 * (decrypted) files removed if that cancels. They stay listed for removal at exit meanwhile:
 * a hangup or a second Ctrl-C heard while it waits ends the process, and they go then.
 */
export async function commitOrDropStaged(ctx: ClientContext, staged: Staged, lateNote: LateNotes): Promise<void> {
  try {
    await ctx.committing?.(lateNote);
  } catch (err) {
    staged.drop();
    throw err;
  }
}

/**
 * Before a pull or in-place restore writes anything: names it would add beside names here that
 * differ only in case, on a file system that takes them for one, stop it (exit 3); an old name
 * deleted for a new one (a case-only rename) is let through. Only a name not here yet can collide:
 * a pull that adds no file asks nothing. Returns the files the obstacle check takes as seen: the
 * scan's, and a renamed file's new name (on such a file system it finds the old file until then).
 */
export function refuseCaseCollisionsHere(
  root: string,
  here: ReadonlySet<string>,
  after: readonly { path: string }[],
  fetches: readonly FetchPlan[],
  deletes: readonly string[],
  probe: CaseProbe,
  command: string,
): ReadonlySet<string> {
  const added = fetches.map((f) => f.target).filter((t) => !here.has(t));
  if (added.length === 0) return here;
  const gone = new Set(deletes);
  const names = [...after.map((f) => f.path), ...[...here].filter((p) => !gone.has(p)), ...added];
  const herePaths = treeNames(here);
  refuseCaseCollisions(root, caseCollisions(names).filter((g) => g.some((p) => !herePaths(p))), probe, command, 'nothing was changed');
  const renamed = caseRenames(root, added, deletes, probe);
  return renamed.length === 0 ? here : new Set([...here, ...renamed]);
}

/**
 * --theirs over local changes: each local file copied to its conflict path (a fresh name: the plan
 * checked the disk), mode and all, before the pull replaces or deletes it. A path that no longer
 * holds a regular file is not followed (a link could point anywhere); applyStaged will then leave
 * it alone as changed since the scan. Returns the copies made.
 */
function copyAside(root: string, asides: readonly { path: string; aside: string }[]): string[] {
  const made: string[] = [];
  for (const { path: rel, aside } of asides) {
    const from = path.join(root, rel);
    const st = lstatSync(from, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) continue;
    const to = path.join(root, aside);
    mkdirSync(path.dirname(to), { recursive: true });
    copyFileSync(from, to, fsConstants.COPYFILE_EXCL);
    made.push(aside);
  }
  return made;
}

/**
 * The new index records the merged (remote) tree as synced. A file placed by the pull gets the
 * stat data it had when placed (mtime 0, so re-hashed, if it was written again right after); one
 * whose bytes on disk differ (a kept local change, or an edit made during the pull) gets zeroed
 * stat data, so the next status re-reads it and reports it as modified.
 */
function indexAfterMerge(result: TreeFile[], localEntries: IndexEntry[], placed: ReadonlyMap<string, PlacedStat>, written: FetchPlan[]): IndexEntry[] {
  const localByPath = new Map(localEntries.map((e) => [e.path, e]));
  const writtenFiles = new Map(written.map((w) => [w.target, w.file]));
  return result.map((f) => {
    const st = placed.get(f.path);
    if (st !== undefined) {
      // Written with your mode (you changed only that, the remote only the content): the index
      // keeps the remote's, so the mode still shows as your change and the next push sends it.
      const mode = writtenFiles.get(f.path)?.mode === f.mode ? (st.exec ? 0o755 : 0o644) : f.mode;
      return { ...f, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode };
    }
    const local = localByPath.get(f.path);
    if (local && local.mode === f.mode && local.chunks.join() === f.chunks.join()) return { ...local };
    return { ...f, mtimeMs: 0, ctimeMs: 0, ino: 0 };
  });
}

/** Index entries for a clone: every file of the tree was placed, its stat data taken as it was. */
function indexOfPlaced(files: TreeFile[], placed: PlacedFile[]): IndexEntry[] {
  const byPath = new Map(placed.map((f) => [f.target, f]));
  return files.map(({ path, size, chunks }) => {
    const st = byPath.get(path);
    if (!st) throw new Error(`clone did not place ${path}`);
    return { path, size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: normalizeMode(st.statMode), chunks };
  });
}

export interface CloneResult extends PullResult {
  name: string;
}

export async function clone(ctx: ClientContext, opts: { workspace: string; dir?: string; caseProbe?: CaseProbe }): Promise<CloneResult> {
  // Ctrl-C from here until the files are moved into place stops the clone (exit 130), no folder left.
  ctx.cancellation?.();
  const session = requirePrincipal(ctx);
  const found = isTokenSession(session)
    ? await resolveTokenWorkspace(ctx.primitives, session, opts.workspace)
    : await resolveWorkspace(ctx, session, opts.workspace);
  const root = path.resolve(ctx.cwd, opts.dir ?? safeDirName(found.name));
  // another clone (or init) working there right now: say so, not "already linked" or "not empty"
  refuseBusyFolder(root);
  refuseInsideLinkedFolder(root, 'clone', { id: found.workspace.id, name: found.name });
  if (existsSync(root)) {
    if (!lstatSync(root).isDirectory()) throw new UsageError(`${root} exists and is not a folder`);
    if (!emptyToClone(root)) {
      // another clone may have claimed or linked it since the checks above: that (exit 3), not "not empty"
      refuseBusyFolder(root);
      refuseInsideLinkedFolder(root, 'clone', { id: found.workspace.id, name: found.name });
      throw new UsageError(`${root} is not empty`, 'clone into a new or empty folder');
    }
  } else {
    // a file on the way (exit 2) or a folder this user cannot write in (exit 1), said before any download
    checkNewPath(root, 'DIR');
  }
  // the first folder this makes (root or a parent of it): what a failed clone takes back
  let made: string | undefined;
  let madeState: boolean;
  try {
    made = mkdirSync(root, { recursive: true });
    // Exclusive from here: two clones into one new folder both passed the checks above; one gets
    // the lock, the other stops here (exit 3) having written nothing.
    madeState = claimFolder(root);
  } catch (err) {
    // a folder it could not write in: the ones it made go (empty; a lost claim's are in use)
    if (made !== undefined && !(err instanceof SyncError)) removeEmptyFoldersUpTo(root, made);
    throw cannotWrite(root, err, 'DIR');
  }
  // What the checks saw may have changed before the claim: a clone that finished meanwhile linked it.
  refuseInsideLinkedFolder(root, 'clone', { id: found.workspace.id, name: found.name });
  if (!emptyToClone(root)) {
    if (madeState) rmSync(path.join(root, STATE_DIR), { recursive: true, force: true });
    throw new UsageError(`${root} is not empty`, 'clone into a new or empty folder');
  }
  const folder: LinkedFolder = {
    root,
    link: { version: 1, server: principalServer(session), workspaceId: found.workspace.id, teamId: found.workspace.teamId, profile: ctx.profile },
  };
  // Like git: a failed clone leaves no half-linked folder behind, so it can simply be run again.
  // (The files it placed are already gone: placeRemoteFiles takes them back.) It holds the
  // folder's lock, so `.insomnia-sync/` is its own to remove: no other command is using it.
  const madeFolder = made;
  const takeBackLink = (): void => {
    rmSync(path.join(root, STATE_DIR), { recursive: true, force: true });
    if (madeFolder !== undefined) removeEmptyFoldersUpTo(root, madeFolder);
  };
  // a second Ctrl-C or a hangup exits before the catch below runs: the link goes then too
  const forget = takeBackOnExit(takeBackLink);
  try {
    writeLink(root, folder.link);
    const index = emptyIndex(found.workspace.id);
    writeIndex(root, index);
    const result = await withSteadyYoungGeneration(() => pullInto(ctx, folder, session, index, 'theirs', true, opts.caseProbe ?? fileSystemProbe));
    forget();
    return { ...result, name: found.name };
  } catch (err) {
    forget();
    takeBackLink();
    throw cannotWrite(root, err, 'DIR');
  }
}

/**
 * Nothing in the folder, or only an unlinked `.insomnia-sync/`: another clone's claim in progress
 * (the lock then decides) or one left by a clone that was killed before it linked the folder.
 */
function emptyToClone(root: string): boolean {
  const names = readdirSync(root);
  return names.length === 0 || (names.length === 1 && names[0] === STATE_DIR && !existsSync(path.join(root, STATE_DIR, 'link.json')));
}

function safeDirName(name: string): string {
  const cleaned = name.replace(/[\/\\:*?"<>|\x00-\x1f]/g, '-').replace(/^\.+/, '').trim();
  return cleaned || 'workspace';
}

