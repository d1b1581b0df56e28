/** log, restore and verify: reading the remote history. */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BlobCheckError, blobOpener, type BlobOpener } from '../../crypto/blob-open.js';
import type { BlobFrame } from '../../protocol/blob-frames.js';
import { chunkBytes, groupByBytes } from '../byte-groups.js';
import type { ClientContext } from '../context.js';
import { ConflictError, IntegrityFailure, UsageError } from '../errors.js';
import { findVerifiedSnapshot, lostBase, lostHistory, walkVerifiedHistory } from '../history.js';
import { decodeIndexFileHead, readIndexBytes, readIndexColumns, refuseInsideLinkedFolder, STATE_DIR } from '../local/link.js';
import { lockFolder } from '../local/folder-lock.js';
import { recordedVerifiedHead, recordVerifiedHead } from '../local/verified-head.js';
import { cannotWrite, checkNewPath } from '../local/new-path.js';
import { takeBackOnExit } from '../local/take-back.js';
import { withSteadyYoungGeneration } from '../local/young-generation.js';
import { lstatOrNull } from '../local/files.js';
import { applyStaged, placeRemoteFiles, removeEmptyFoldersUpTo, seenIn, stageRemoteFiles, treeNames, type ApplyPlan, type RemoteFiles } from '../local/materialize.js';
import { comparePaths } from '../../sync/paths.js';
import { findObstacles, obstacleError } from '../local/obstacles.js';
import { isTokenSession, resolveTokenWorkspace } from '../token-session.js';

import { filesOf } from '../../sync/file-columns.js';
import { loadRemote, localBlobIdKey, readLocalTree, requirePrincipal, trustedSigners } from './linked.js';
import { NAME_A_WORKSPACE_HINT, openLinkedFolder } from './open-linked.js';
import { resolveWorkspace } from './workspaces.js';
import { commitOrDropStaged, LATE_CTRL_C, refuseCaseCollisionsHere } from './pull.js';
import { fileSystemProbe, refuseCaseCollisions, sameNameThere, type CaseProbe } from '../local/case-probe.js';
import { caseCollisions } from '../../sync/case-fold.js';

export interface LogEntry {
  id: string;
  parent: string | null;
  author: { userId: string; name: string; email: string };
  time: string;
  message: string;
  files: number;
  bytes: number;
}

export async function log(ctx: ClientContext, opts: { limit?: number } = {}): Promise<{ workspaceId: string; snapshots: LogEntry[] }> {
  // Ctrl-C stops it (exit 130), requests torn down: never between the two steps of the
  // verified-head record's write (a temp file left in .insomnia-sync/)
  ctx.cancellation?.();
  const p = ctx.primitives;
  const { folder, session } = await openLinkedFolder(ctx);
  const workspaceId = folder.link.workspaceId;
  const [remote, signers] = await Promise.all([loadRemote(p, session, workspaceId), trustedSigners(session, workspaceId, p)]);
  // As verify: the folder's last sync must be in the history shown (a head moved back to before
  // it, or onto another branch, is a rollback, not the newest); the walk goes on past the limit
  // until it has met it, or a head recorded as descending from it (local/verified-head.ts), so
  // that costs at most the snapshots between the head and the last one verified.
  const { base } = decodeIndexFileHead(folder.root, readIndexBytes(folder.root));
  if (base !== null && remote.workspace.head === null) throw lostHistory();
  const known = base === null ? null : recordedVerifiedHead(folder.root, base);
  const entries: LogEntry[] = [];
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  let sawBase = base === null;
  if (limit > 0 || !sawBase) {
    let newest: { id: string; epoch: number } | null = null;
    let walked = 0;
    // `-n N` asks for a first page of at most N when the head settles the base (it is the base, or
    // recorded as descending from it): else the walk goes on past N anyway, in the usual pages
    const headSettles = sawBase || remote.workspace.head === base || remote.workspace.head === known?.head;
    // file lists are counted, not decoded; the walk stops at the limit (and the base)
    await walkVerifiedHistory({ p, api: session.api, ring: remote.ring, signers }, remote.workspace.head, null, 'none', (s) => {
      newest ??= { id: s.id, epoch: s.manifest.epoch };
      if (!sawBase && (s.id === base || s.id === known?.head)) {
        sawBase = true;
        // what the walk verified, recorded for the next status, push or log
        const ahead = walked + (s.id === base ? 0 : known!.ahead);
        if (ahead > 0 && newest.id !== known?.head) recordVerifiedHead(folder.root, { base: base!, head: newest.id, epoch: newest.epoch, ahead });
      }
      walked++;
      if (entries.length < limit) {
        const { author } = s.manifest;
        entries.push({
          id: s.id,
          parent: s.parent,
          author: { userId: author.userId, name: author.name, email: author.email },
          time: s.manifest.time,
          message: s.manifest.message,
          files: s.files,
          bytes: s.bytes,
        });
      }
      return entries.length < limit || !sawBase;
    }, headSettles && Number.isFinite(limit) ? limit : undefined);
  }
  if (!sawBase) throw lostBase();
  return { workspaceId, snapshots: entries };
}

export interface RestoreResult {
  workspaceId: string;
  snapshot: string;
  root: string;
  /** files written */
  written: number;
  /** files deleted (the human text says "deleted" too) */
  deleted: number;
  /** files of the snapshot inside `.git`, never written (see VerifiedSnapshot.leftOut) */
  leftOut: string[];
}

/** A file an in-place restore left alone because it changed while the restore downloaded. */
export interface RestoreConflict {
  path: string;
  /** where the snapshot's version was written instead, or null for a file the snapshot deletes */
  conflictPath: string | null;
}

/**
 * Checks out an older snapshot: into the linked folder (its files then differ from the last sync,
 * so the next push records the restore as a new snapshot), or with `to` into a new folder.
 */
export interface RestoreOptions {
  snapshot: string;
  to?: string;
  /** asks whether the folder's file system takes two names that differ only in case for one (default: it is asked) */
  caseProbe?: CaseProbe;
}

export function restore(ctx: ClientContext, opts: RestoreOptions): Promise<RestoreResult> {
  // a download like a pull's: see young-generation.ts
  return withSteadyYoungGeneration(() => restoreSnapshot(ctx, opts));
}

async function restoreSnapshot(ctx: ClientContext, opts: RestoreOptions): Promise<RestoreResult> {
  const caseProbe = opts.caseProbe ?? fileSystemProbe;
  const p = ctx.primitives;
  // Ctrl-C from here until the files are applied stops the restore (exit 130): requests torn
  // down, the folder as it was, its lock released (not left for the next command).
  const signal = ctx.cancellation?.();
  const { folder, session } = await openLinkedFolder(ctx);
  if (!opts.to) lockFolder(folder.root);
  const workspaceId = folder.link.workspaceId;
  const [remote, signers] = await Promise.all([loadRemote(p, session, workspaceId), trustedSigners(session, workspaceId, p)]);
  // the folder's last sync must be in the history it restores from (a rollback fails as pull does)
  const { base } = decodeIndexFileHead(folder.root, readIndexBytes(folder.root));
  const target = await findVerifiedSnapshot({ p, api: session.api, ring: remote.ring, signers }, remote.workspace.head, opts.snapshot, base);
  const keys = remote.ring.byEpoch.get(target.manifest.epoch);
  if (!keys) throw new IntegrityFailure('this snapshot uses a key epoch you do not hold');

  let root: string;
  let deletes: string[] = [];
  let seen: ApplyPlan['seen'] = () => undefined;
  let reserved: ApplyPlan['reserved'] = () => false;
  let files = target.manifest.files;
  /** in place: the files the last sync does not hold (never synced), which the restore leaves alone */
  let untracked = new Set<string>();
  /** for --to: the first folder this made (root or a parent of it), taken back on failure */
  let made: string | undefined;
  if (opts.to) {
    root = path.resolve(ctx.cwd, opts.to);
    refuseInsideLinkedFolder(root, 'restore --to');
    const there = lstatOrNull(root);
    if (there?.isSymbolicLink()) {
      // Not followed, as export does not: the files would land where the name does not say.
      throw new UsageError(`${root} is a symbolic link${existsSync(root) ? '' : ' to a missing file or folder'}`, 'restore --to needs a new or empty folder: choose a new name, or give the real path');
    }
    if (there !== null && !there.isDirectory()) throw new UsageError(`${root} is a file, not a folder`, 'restore --to needs a new or empty folder');
    if (there !== null && readdirSync(root).length > 0) throw new UsageError(`${root} is not an empty folder`, 'restore --to needs a new or empty folder');
    // a file on the way (exit 2) or a folder this user cannot write in (exit 1), said before any download
    if (there === null) checkNewPath(root, '--to');
    try {
      made = mkdirSync(root, { recursive: true });
    } catch (err) {
      throw cannotWrite(root, err, '--to');
    }
    try {
      // asked in the folder itself (it exists now), before anything is written in it
      refuseCaseCollisions(root, caseCollisions(files.map((f) => f.path)), caseProbe, 'restore');
      mkdirSync(path.join(root, STATE_DIR), { recursive: true });
    } catch (err) {
      if (made !== undefined) removeEmptyFoldersUpTo(root, made);
      throw cannotWrite(root, err, '--to');
    }
  } else {
    root = folder.root;
    // only a restore in place compares with the index (--to leaves it unread: 4.4 MB for 50,000 files)
    const index = readIndexColumns(folder.root);
    const local = await readLocalTree(p, root, index, async () => localBlobIdKey(p, session, remote.ring, root, index.base));
    // the scan runs without a break: a Ctrl-C during it is heard here
    signal?.throwIfAborted();
    const wanted = new Map(target.manifest.files.map((f) => [f.path, f]));
    const tree = filesOf(local.files);
    const current = new Map(tree.map((f) => [f.path, f]));
    // Like git checkout: files never synced (not in the index) are not the snapshot's to delete,
    // nor to overwrite (below).
    const tracked = new Set(index.paths);
    deletes = tree.filter((f) => !wanted.has(f.path) && tracked.has(f.path)).map((f) => f.path);
    files = target.manifest.files.filter((f) => {
      const c = current.get(f.path);
      return !c || c.mode !== f.mode || c.chunks.join() !== f.chunks.join();
    });
    untracked = new Set(tree.filter((f) => !tracked.has(f.path)).map((f) => f.path));
    // (one where a folder of the snapshot goes is an obstacle, refused below before anything changes)
    const inTheWay = files.filter((f) => untracked.has(f.path)).map((f) => f.path);
    // Refused before the question below: names that differ only in case where they are one name.
    const seenHere = refuseCaseCollisionsHere(root, new Set(local.files.paths), [...wanted.values(), ...[...untracked].map((p) => ({ path: p }))], files.map((f) => ({ target: f.path, file: f })), deletes, caseProbe, 'restore');
    // What the restore replaces or deletes of what you changed since the last sync; a new file of
    // yours is never among it.
    const touched = new Set([...files.map((f) => f.path), ...deletes]);
    const overwritten = local.changes.filter((c) => c.kind !== 'added' && touched.has(c.path)).map((c) => c.path);
    if (overwritten.length > 0) {
      const kept = inTheWay.length > 0 ? `${inTheWay.length} file(s) never synced stay as they are, with the snapshot's version beside them as NAME.conflict. ` : '';
      const ok = await ctx.prompter.confirm(`${kept}Overwrite ${overwritten.length} unpushed change(s) to synced files (${listed(overwritten)}) with snapshot ${target.id.slice(0, 12)}?`);
      // a confirmation answered no exits 2, as one not given (no terminal) does, and as elsewhere
      if (!ok) throw new UsageError('not restored: you have unpushed changes', 'push them first, or pass --yes to overwrite them');
    }
    const obstacles = findObstacles(root, files.map((f) => f.path), seenHere, new Set(deletes));
    if (obstacles.length > 0) throw obstacleError(obstacles, 'restore');
    const scanned = seenIn(local.files);
    // A file never synced where the snapshot has one counts as one the restore must not replace, as
    // one made during the download does: applyStaged keeps it and writes the snapshot's beside it.
    seen = (rel) => (untracked.has(rel) ? undefined : scanned(rel));
    reserved = treeNames(local.files.paths, wanted.keys());
  }
  ctx.progress.start(`Restoring ${target.id.slice(0, 12)}`);
  const remoteFiles: RemoteFiles = { p, api: session.api, workspaceId, keys, epoch: target.manifest.epoch, root, plans: files.map((f) => ({ target: f.path, file: f })), progress: ctx.progress, signal };
  if (opts.to) {
    const madeFolder = made;
    const takeBackFolders = (): void => {
      rmSync(path.join(root, STATE_DIR), { recursive: true, force: true });
      if (madeFolder !== undefined) removeEmptyFoldersUpTo(root, madeFolder);
    };
    // registered before placeRemoteFiles' own step, so run after it at exit (newest first): the files go, then the folders
    const forget = takeBackOnExit(takeBackFolders);
    try {
      await placeRemoteFiles({ ...remoteFiles, ...(ctx.committing ? { commit: () => ctx.committing!(LATE_CTRL_C.restore) } : {}) });
    } catch (err) {
      // The placed files are taken back already (placeRemoteFiles); the folders go here, so a
      // failed or cancelled restore leaves no folder behind and can simply be run again.
      takeBackFolders();
      throw cannotWrite(root, err, '--to');
    } finally {
      forget();
    }
    rmSync(path.join(root, STATE_DIR), { recursive: true, force: true });
    ctx.progress.stop();
    return { workspaceId, snapshot: target.id, root, written: files.length, deleted: deletes.length, leftOut: target.leftOut.map((f) => f.path) };
  }
  const staged = await stageRemoteFiles(remoteFiles);
  // the point of no return, as pull's: a Ctrl-C heard by now cancels, a later one lets it finish
  await commitOrDropStaged(ctx, staged, LATE_CTRL_C.restore);
  // Like pull: a file changed since the scan (after the confirmation, or during the download) is
  // not what you agreed to overwrite: it stays, and the snapshot's version goes beside it.
  // a copy beside a file in the way takes no name that is one with a file still to come, in any spelling
  const applied = applyStaged(root, { staged: staged.files, drop: staged.drop, deletes, seen, reserved, sameName: (a, b) => sameNameThere(root, a, b, caseProbe) });
  ctx.progress.stop();
  const result: RestoreResult = { workspaceId, snapshot: target.id, root, written: applied.placed.size, deleted: deletes.length - applied.keptDeletes.length, leftOut: target.leftOut.map((f) => f.path) };
  const conflicts: RestoreConflict[] = [
    ...applied.setAside.map((s) => ({ path: s.target, conflictPath: s.aside })),
    ...applied.keptDeletes.map((rel) => ({ path: rel, conflictPath: null })),
  ].sort((x, y) => comparePaths(x.path, y.path));
  if (conflicts.length > 0) {
    const neverSynced = conflicts.filter((c) => untracked.has(c.path)).length;
    const changed = conflicts.length - neverSynced;
    const what = [
      ...(neverSynced > 0 ? [`${neverSynced} file(s) never synced were in the way`] : []),
      ...(changed > 0 ? [`${changed} file(s) changed while restore ran`] : []),
    ];
    throw new ConflictError(
      `${what.join(' and ')}: kept yours` + (applied.setAside.length > 0 ? `; wrote the snapshot's beside ${applied.setAside.length} as NAME.conflict` : ''),
      'compare each file with its copy, keep what you want, delete the copy',
      { ...result, conflicts },
    );
  }
  return result;
}


/** The first few paths of a list, for a question on one line. */
function listed(paths: readonly string[]): string {
  return paths.length <= 3 ? paths.join(', ') : `${paths.slice(0, 3).join(', ')}, …`;
}

export interface VerifyResult {
  workspaceId: string;
  snapshots: number;
  blobs: number;
  bytes: number;
  ok: true;
}

/**
 * Bytes of blobs per fetch request; two are in memory at once (one checked, the next one
 * downloading). Peak RSS of verify, 2 MiB against 4 MiB: 100 MB against 138 MB for one 400 MB
 * file, 153–160 MB against 185–196 MB for 50,000 small files (the decrypted chunks are garbage the
 * GC lets pile up in proportion), at about the same speed; 512 blobs a request were up to 512 MiB.
 */
export const VERIFY_BATCH_BYTES = 2 * 1024 * 1024;

const DAMAGED_HINT = "the server's copy is damaged or was altered (pull refuses it too); its operator can restore it from a backup";

/** Like `restic check --read-data`: every snapshot and every referenced blob, decrypted and matched. */
export function verify(ctx: ClientContext, opts: { workspace?: string } = {}): Promise<VerifyResult> {
  // a download like a pull's: see young-generation.ts
  return withSteadyYoungGeneration(() => verifyRemote(ctx, opts));
}

async function verifyRemote(ctx: ClientContext, opts: { workspace?: string }): Promise<VerifyResult> {
  const p = ctx.primitives;
  let workspaceId: string;
  let session;
  /** the folder's last synced snapshot: the history must still hold it, as pull requires */
  let base: string | null = null;
  if (opts.workspace) {
    const principal = requirePrincipal(ctx);
    session = principal;
    workspaceId = isTokenSession(principal)
      ? (await resolveTokenWorkspace(p, principal, opts.workspace)).id
      : (await resolveWorkspace(ctx, principal, opts.workspace)).id;
  } else {
    const linked = await openLinkedFolder(ctx, NAME_A_WORKSPACE_HINT);
    session = linked.session;
    workspaceId = linked.folder.link.workspaceId;
    base = readIndexColumns(linked.folder.root).base;
  }
  ctx.progress.start('Verifying snapshots');
  try {
    const [remote, signers] = await Promise.all([loadRemote(p, session, workspaceId), trustedSigners(session, workspaceId, p)]);
    // Every blob with the epoch of the first snapshot that references it, and its plaintext size;
    // manifests are let go as read.
    const blobs = new Map<string, number>();
    const sizes: number[] = [];
    let sawBase = base === null;
    const snapshots = await walkVerifiedHistory({ p, api: session.api, ring: remote.ring, signers }, remote.workspace.head, null, 'all', (s) => {
      if (s.id === base) sawBase = true;
      for (const f of s.leftOut.length > 0 ? [...s.manifest.files, ...s.leftOut] : s.manifest.files) {
        for (const [c, id] of f.chunks.entries()) {
          if (blobs.has(id)) continue;
          blobs.set(id, s.manifest.epoch);
          sizes.push(chunkBytes(f.size, c));
        }
      }
    });
    // An intact chain can still be a rollback: the head moved back to before what this folder synced.
    if (!sawBase) throw lostBase();
    const ids = [...blobs.keys()];
    // Requests sized in bytes, not blobs: an answer is held whole, and 512 chunks of a big file
    // were 512 MiB.
    const groups = groupByBytes(ids, (_, i) => sizes[i]!, VERIFY_BATCH_BYTES);
    sizes.length = 0;
    const fetchGroup = (group: string[]): Promise<BlobFrame[]> => {
      const p = session.api.fetchBlobs(workspaceId, group);
      p.catch(() => {}); // awaited when its turn comes; a failure before that is not unhandled
      return p;
    };
    let bytes = 0;
    let checked = 0;
    const openers = new Map<number, BlobOpener>();
    let next = groups.length > 0 ? fetchGroup(groups[0]!) : null;
    for (const [g, group] of groups.entries()) {
      const frames = await next!;
      next = g + 1 < groups.length ? fetchGroup(groups[g + 1]!) : null;
      const got = new Map(frames.map((f) => [f.id, f.data]));
      for (const id of group) {
        const data = got.get(id);
        if (!data) throw new IntegrityFailure(`blob ${id.slice(0, 12)} is missing on the server`);
        const epoch = blobs.get(id)!;
        const keys = remote.ring.byEpoch.get(epoch);
        if (!keys) throw new IntegrityFailure(`blob ${id.slice(0, 12)} uses a key epoch you do not hold`);
        let open = openers.get(epoch);
        if (!open) openers.set(epoch, (open = blobOpener(p, keys, { workspaceId, epoch })));
        try {
          bytes += open(id, data).length;
        } catch (err) {
          if (err instanceof BlobCheckError) throw new IntegrityFailure(err.message);
          throw err;
        }
      }
      checked += group.length;
      ctx.progress.update(`Verified ${checked}/${ids.length} blob(s)`);
    }
    ctx.progress.stop();
    return { workspaceId, snapshots, blobs: ids.length, bytes, ok: true };
  } catch (err) {
    ctx.progress.stop();
    // The checks verify shares with pull hint "run `insomnia-sync verify`": here that is this very command.
    if (err instanceof IntegrityFailure && (err.hint === undefined || err.hint.includes('insomnia-sync verify'))) throw new IntegrityFailure(err.message, DAMAGED_HINT);
    throw err;
  }
}
