/**
 * status: local changes against the last sync, and whether the remote moved (SPEC §4).
 * Files whose stat data match the index are not read; keys are unlocked only when a file must be
 * re-hashed.
 */
import { planRescan, type LocalChange } from '../../sync/diff.js';
import type { StatColumns } from '../../sync/file-columns.js';
import type { IndexColumns } from '../../sync/index-format.js';
import { comparePaths } from '../../sync/paths.js';
import type { WorkspaceInfo } from '../../protocol/types.js';
import { UnreachableError } from '../errors.js';
import type { ClientContext } from '../context.js';
import { requireBaseInHistory } from '../history.js';
import { writeIndex } from '../local/link.js';
import { tryLockFolder } from '../local/folder-lock.js';
import { scanAgainstIndex } from '../local/scan-index.js';
import { loadRemote, localBlobIdKey, readLocalTree, trustedSigners } from './linked.js';
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

/**
 * status with the server out of reach (a train, a dead VPN): exit 6 as before, but what can be
 * told locally is told — the error's details (`--json`) hold it, and the CLI prints it first.
 * Touched files cannot be compared (the key that names blobs comes from the server): they are
 * listed as modified, `compared: false`.
 */
export class StatusUnreachable extends UnreachableError {
  constructor(
    cause: UnreachableError,
    readonly details: Omit<StatusResult, 'remoteHead' | 'remoteMoved'> & { compared: boolean },
  ) {
    super(cause.message, cause.hint);
  }
}

export async function status(ctx: ClientContext): Promise<StatusResult> {
  // Ctrl-C stops it (exit 130) as it stops a pull: requests torn down, the folder's lock (taken to
  // refresh the index) released, no index half-written — the write runs without a break.
  ctx.cancellation?.();
  const p = ctx.primitives;
  const { folder, session } = await openLinkedFolder(ctx);
  const workspaceP = session.api.getWorkspace(folder.link.workspaceId);
  workspaceP.catch(() => {}); // awaited below; a failure must not surface as unhandled while we scan
  await session.api.flushed(); // the server answers while the folder is scanned
  /** the workspace's keys, asked for only when a file must be re-hashed or the head moved */
  let remoteP: ReturnType<typeof loadRemote> | undefined;
  const remote = (): ReturnType<typeof loadRemote> => (remoteP ??= loadRemote(p, session, folder.link.workspaceId, { workspace: workspaceP }));
  const scanned = await scanAgainstIndex(folder.root);
  const { scan, base } = scanned;
  let changes: LocalChange[] = [];
  let compared = true;
  if (!scanned.clean) {
    const index = scanned.columns();
    try {
      const local = await readLocalTree(p, folder.root, index, async () => localBlobIdKey(p, session, (await remote()).ring, folder.root, index.base), scan);
      // Keep the stat cache fresh so a touched-but-unchanged file is not re-read every time.
      // Not while another command works here (it owns the index), nor over an index one wrote since.
      if (local.changes.length === 0 && local.rehashed && tryLockFolder(folder.root) && scanned.indexUnchanged()) writeIndex(folder.root, { ...local.files, workspaceId: index.workspaceId, base: index.base });
      changes = local.changes;
    } catch (err) {
      if (!(err instanceof UnreachableError)) throw err;
      compared = false;
      changes = changesByStat(index, scan.columns);
    }
  }
  // the scan and the index write run without a break: a Ctrl-C during them is heard here
  await ctx.heardCancel?.();
  const local = { workspaceId: folder.link.workspaceId, root: folder.root, base, changes, skipped: scan.skipped, conflictCopies: scan.conflictCopies };
  let workspace: WorkspaceInfo;
  try {
    workspace = await workspaceP;
  } catch (err) {
    if (err instanceof UnreachableError) throw new StatusUnreachable(err, { ...local, compared });
    throw err;
  }
  if (!compared) throw new StatusUnreachable(new UnreachableError('the server stopped answering while status read your files'), { ...local, compared });
  // A moved head is news only if our base is behind it: checked as pull checks it, by a walk
  // from the head down to the base (exit 7 when it is not there: rolled back or forked).
  if (workspace.head !== base && base !== null) {
    const [{ ring }, signers] = await Promise.all([remote(), trustedSigners(session, folder.link.workspaceId, p)]);
    await requireBaseInHistory({ p, api: session.api, ring, signers }, workspace.head, base, folder.root);
  }
  return { ...local, remoteHead: workspace.head, remoteMoved: workspace.head !== base };
}

/** Local changes by stat data alone: new and deleted files, and every touched one as modified. */
function changesByStat(index: IndexColumns, scan: StatColumns): LocalChange[] {
  const plan = planRescan(index, scan);
  const changes: LocalChange[] = plan.dirty.map((row, k) => ({ kind: plan.dirtyInIndex[k]! < 0 ? 'added' : 'modified', path: scan.paths[row]! }));
  for (const k of plan.deleted) changes.push({ kind: 'deleted', path: index.paths[k]! });
  return changes.sort((x, y) => comparePaths(x.path, y.path));
}
