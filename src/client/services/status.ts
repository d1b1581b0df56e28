/** status: local changes against the last sync, and whether the remote moved (SPEC §4). */
import type { LocalChange } from '../../sync/diff.js';
import type { ClientContext } from '../context.js';
import { writeIndex } from '../local/link.js';
import { currentKeys } from '../keyring.js';
import { loadRemote, openLinked, readLocalTree, type RemoteState } from './linked.js';

export interface StatusResult {
  workspaceId: string;
  root: string;
  base: string | null;
  remoteHead: string | null;
  remoteMoved: boolean;
  changes: LocalChange[];
  skipped: string[];
}

export async function status(ctx: ClientContext): Promise<StatusResult> {
  const p = ctx.primitives;
  const { folder, session, index } = openLinked(ctx);
  const remoteP = loadRemote(p, session, folder.link.workspaceId);
  remoteP.catch(() => {});
  let remote: RemoteState | undefined;
  const local = await readLocalTree(p, folder.root, index, async () => {
    remote = await remoteP;
    return currentKeys(remote.ring).blobIdKey;
  });
  remote ??= await remoteP;
  // Keep the stat cache fresh so a touched-but-unchanged file is not re-read every time.
  if (local.changes.length === 0) writeIndex(folder.root, { ...index, entries: local.entries });
  return {
    workspaceId: folder.link.workspaceId,
    root: folder.root,
    base: index.base,
    remoteHead: remote.workspace.head,
    remoteMoved: remote.workspace.head !== index.base,
    changes: local.changes,
    skipped: local.skipped,
  };
}
