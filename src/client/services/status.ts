/**
 * status: local changes against the last sync, and whether the remote moved (SPEC §4).
 * Files whose stat data match the index are not read; keys are unlocked only when a file must be
 * re-hashed.
 */
import type { LocalChange } from '../../sync/diff.js';
import type { ClientContext } from '../context.js';
import { IntegrityFailure, NotFoundError } from '../errors.js';
import { lostBase } from '../history.js';
import type { SyncPrincipal } from '../token-session.js';
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
  if (workspace.head !== base && base !== null) await requireBaseKept(session, folder.link.workspaceId, base, workspace.head);
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

/**
 * A moved head is not always news: a server that rolled back to before our last sync would have
 * `status` announce "new snapshots" that pull then refuses. Deciding ancestry takes pull's walk of
 * the history; this asks one snapshot, which catches the base gone (deleted, or the history
 * emptied) and the head moved back onto the base's parent. Exit 7 either way, as pull.
 */
async function requireBaseKept(session: SyncPrincipal, workspaceId: string, base: string, head: string | null): Promise<void> {
  if (head === null) throw new IntegrityFailure('the remote workspace lost its history (its head is empty but you synced before)', lostBase().hint);
  let parent: string | null;
  try {
    parent = (await session.api.getSnapshot(workspaceId, base)).parent;
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw lostBase();
  }
  if (parent === head) throw lostBase();
}
