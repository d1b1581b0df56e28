/**
 * push: encrypt changed files as blobs, upload only what the server lacks (batched, concurrent),
 * then create a signed snapshot by compare-and-swap on the head we last synced (SPEC §4, §8).
 * Order matters: blobs first, snapshot last, so a crash leaves the old head intact.
 *
 * Each changed file is read once: its chunks are hashed, and a group of about BATCH_BYTES is asked
 * about ("which of these are missing?"), encrypted and uploaded while the next group is read.
 * A push with nothing changed costs one scan of stat data and one small request.
 */
import type { LocalChange } from '../../sync/diff.js';
import { planRescan } from '../../sync/diff.js';
import type { ClientContext } from '../context.js';
import { scanFolder } from '../local/scan.js';
import { openLinked } from './open-linked.js';

export interface PushResult {
  workspaceId: string;
  snapshot: string | null;
  parent: string | null;
  upToDate: boolean;
  changes: LocalChange[];
  files: number;
  uploadedBlobs: number;
  uploadedBytes: number;
}

export async function push(ctx: ClientContext, opts: { message?: string; force?: boolean }): Promise<PushResult> {
  const { folder, session, index } = await openLinked(ctx);
  const workspaceId = folder.link.workspaceId;
  ctx.progress.start('Scanning');
  const scan = await scanFolder(folder.root);
  const plan = planRescan(index, scan.files);
  const firstPush = index.base === null;
  const mayHaveChanges = plan.dirty.length > 0 || plan.deleted.length > 0 || firstPush;

  const result: PushResult = {
    workspaceId,
    snapshot: null,
    parent: index.base,
    upToDate: false,
    changes: [],
    files: scan.files.length,
    uploadedBlobs: 0,
    uploadedBytes: 0,
  };
  if (!mayHaveChanges) {
    const ws = await session.api.getWorkspace(workspaceId);
    ctx.progress.stop();
    return { ...result, upToDate: ws.head === index.base };
  }
  // Everything past here needs keys, crypto and the upload machinery: loaded only when there is work.
  const { pushChanges } = await import('./push-changes.js');
  return pushChanges(ctx, opts, { folder, session, index, scan, plan, result, firstPush });
}
