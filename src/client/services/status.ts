/**
 * status: local changes against the last sync, and whether the remote moved (SPEC §4).
 * Files whose stat data match the index are not read; keys are unlocked only when a file must be
 * re-hashed.
 */
import type { LocalChange } from '../../sync/diff.js';
import type { ClientContext } from '../context.js';
import { requireBaseKept } from '../history.js';
import { writeIndex } from '../local/link.js';
import { tryLockFolder } from '../local/folder-lock.js';
import { scanAgainstIndex } from '../local/scan-index.js';
import { loadRemote, localBlobIdKey, readLocalTree } from './linked.js';
import { openLinkedFolder } from './open-linked.js';

export interface StatusResult {
  workspaceId: string;
  root: string;
  base: string | null;
  remoteHead: string | null;
  remoteMoved: boolean;
  changes: LocalChange[];
  skipped: string[];
  /** conflict copies left by pull (or files named like them), never synced: see ScanResult */
  conflictCopies: string[];
}

export async function status(ctx: ClientContext): Promise<StatusResult> {
  const p = ctx.primitives;
  const { folder, session } = await openLinkedFolder(ctx);
  const workspaceP = session.api.getWorkspace(folder.link.workspaceId);
  workspaceP.catch(() => {}); // awaited below; a failure must not surface as unhandled while we scan
  await session.api.flushed(); // the server answers while the folder is scanned
  const scanned = await scanAgainstIndex(folder.root);
  const { scan, base } = scanned;
  let changes: LocalChange[] = [];
  if (!scanned.clean) {
    const index = scanned.columns();
    const local = await readLocalTree(p, folder.root, index, async () => localBlobIdKey(p, session, (await loadRemote(p, session, folder.link.workspaceId)).ring, folder.root, index.base), scan);
    // Keep the stat cache fresh so a touched-but-unchanged file is not re-read every time.
    // Not while another command works here (it owns the index), nor over an index one wrote since.
    if (local.changes.length === 0 && local.rehashed && tryLockFolder(folder.root) && scanned.indexUnchanged()) writeIndex(folder.root, { ...local.files, workspaceId: index.workspaceId, base: index.base });
    changes = local.changes;
  }
  const workspace = await workspaceP;
  if (workspace.head !== base && base !== null) await requireBaseKept(session.api, folder.link.workspaceId, base, workspace.head);
  return {
    workspaceId: folder.link.workspaceId,
    root: folder.root,
    base,
    remoteHead: workspace.head,
    remoteMoved: workspace.head !== base,
    changes,
    skipped: scan.skipped,
    conflictCopies: scan.conflictCopies,
  };
}
