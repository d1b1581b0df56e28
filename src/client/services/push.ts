/**
 * push: encrypt changed files as blobs, upload only what the server lacks (batched, concurrent),
 * then create a signed snapshot by compare-and-swap on the head we last synced (SPEC §4, §8).
 * Order matters: blobs first, snapshot last, so a crash leaves the old head intact.
 *
 * Each changed file is read once: its chunks are hashed and sealed, and a group of about
 * BATCH_BYTES is asked about ("which of these are missing?") and uploaded while the next group is
 * read. A push with nothing changed costs one scan of stat data, three byte comparisons with the
 * index and one small request.
 */
import type { LocalChange } from '../../sync/diff.js';
import { planRescan } from '../../sync/diff.js';
import type { ClientContext } from '../context.js';
import { scanAgainstIndex } from '../local/scan-index.js';
import { lockFolder } from '../local/folder-lock.js';
import type { WorkspaceInfo } from '../../protocol/types.js';
import { openLinkedFolder, type LinkedContext } from './open-linked.js';

export interface PushResult {
  workspaceId: string;
  snapshot: string | null;
  parent: string | null;
  upToDate: boolean;
  changes: LocalChange[];
  files: number;
  uploadedBlobs: number;
  uploadedBytes: number;
  /** paths the scan passed over, as status lists them; a folder linked to another workspace ends in '/' */
  skipped: string[];
  /** conflict copies on disk (pull's, or files named like them): never pushed, see ScanResult */
  conflictCopies: string[];
  /**
   * --force over a head that is not our base: how many newer snapshots of the remote it replaced
   * (they stay in the history), null when our base is not in that history; 0 otherwise
   */
  replacedSnapshots: number | null;
  /**
   * groups of paths in the pushed snapshot whose names differ only in case in one folder
   * (sync/case-fold.ts): fine here, but a Mac or Windows machine cannot hold both; [] when none
   * or when no snapshot was made
   */
  caseCollisions: string[][];
}

export async function push(ctx: ClientContext, opts: { message?: string; force?: boolean }): Promise<PushResult> {
  // Ctrl-C from here until the snapshot is sent stops the push (exit 130): requests torn down,
  // the index as it was, the folder's lock released; blobs already uploaded are reused by the
  // next push (or collected). Once the snapshot is sent, the push waits for the answer.
  const signal = ctx.cancellation?.();
  const { folder, session } = await openLinkedFolder(ctx);
  lockFolder(folder.root);
  const workspaceId = folder.link.workspaceId;
  // Whatever the scan finds, the remote head is needed: asked first, answered while we scan.
  const workspace = session.api.getWorkspace(workspaceId);
  workspace.catch(() => {}); // awaited below; a failure must not surface as unhandled while we scan
  await session.api.flushed();
  ctx.progress.start('Scanning');
  const scanned = await scanAgainstIndex(folder.root);
  // the scan runs without a break: a Ctrl-C during it is heard here
  signal?.throwIfAborted();
  const { scan, base } = scanned;
  const result: PushResult = {
    workspaceId,
    snapshot: null,
    parent: null,
    upToDate: false,
    changes: [],
    files: scan.columns.paths.length,
    uploadedBlobs: 0,
    uploadedBytes: 0,
    skipped: scan.skipped,
    conflictCopies: scan.conflictCopies,
    replacedSnapshots: 0,
    caseCollisions: [],
  };
  // --force over a remote that is not at our base makes our files the head, changed or not.
  const replacing = async (): Promise<boolean> => opts.force === true && (await workspace).head !== base;
  // The usual case, nothing touched since the last sync, is answered from the index's raw columns.
  if (base !== null && scanned.clean && !(await replacing())) return upToDateResult(ctx, session, workspace, { ...result, parent: base }, folder.root);

  // Something was touched: the keys will most likely be needed, so they are asked for now and
  // the index decoded while the server answers.
  const me = ctx.accessToken === undefined ? session.api.me() : undefined;
  me?.catch(() => {});
  await session.api.flushed();
  const index = scanned.columns();
  const plan = planRescan(index, scan.columns);
  const firstPush = index.base === null;
  if (plan.dirty.length === 0 && plan.deleted.length === 0 && !firstPush && !(await replacing())) return upToDateResult(ctx, session, workspace, { ...result, parent: base }, folder.root);
  // Everything past here needs keys, crypto and the upload machinery: loaded only when there is work.
  const { pushChanges } = await import('./push-changes.js');
  return pushChanges(ctx, opts, { folder, session, index, scan, plan, result: { ...result, parent: index.base }, firstPush, asked: { workspace, ...(me ? { me } : {}) } });
}

/**
 * Nothing to push: the answer is whether the remote is where we left it. A head that moved is
 * "new snapshots" only when our base is behind it, walked to as pull walks (exit 7 otherwise: the
 * server rolled back or forked the history); the head where we left it costs nothing more.
 */
async function upToDateResult(ctx: ClientContext, session: LinkedContext['session'], workspace: Promise<WorkspaceInfo>, result: PushResult, root: string): Promise<PushResult> {
  const ws = await workspace;
  if (ws.head !== result.parent && result.parent !== null) {
    ctx.progress.update('Checking the remote history');
    const [{ loadRemote, trustedSigners }, { requireBaseInHistory }] = await Promise.all([import('./linked.js'), import('../history.js')]);
    const p = ctx.primitives;
    const [{ ring }, signers] = await Promise.all([loadRemote(p, session, result.workspaceId, { workspace }), trustedSigners(session, result.workspaceId, p)]);
    await requireBaseInHistory({ p, api: session.api, ring, signers }, ws.head, result.parent, root);
  }
  ctx.progress.stop();
  return { ...result, upToDate: ws.head === result.parent };
}
