/**
 * Shared steps of the folder commands (status, push, pull, log, restore, verify): find the linked
 * folder, open the session for its server, fetch the workspace and unlock its keys, and compute the
 * local tree against the index.
 */
import type { AccountResponse, TeamInfo, WorkspaceInfo, MemberPublicKeys } from '../../protocol/types.js';
import type { ClientContext } from '../context.js';
import { IntegrityFailure } from '../errors.js';
import { requireSession, type ActiveSession } from '../session.js';
import { readIndex, requireLinkedFolder, type LinkedFolder } from '../local/link.js';
import { scanFolder, scannedFileAt, trackedPaths, type ScanResult } from '../local/scan.js';
import { FileUnreadableError, hashFile } from '../local/files.js';
import { baseEpochOf } from '../local/base-epoch.js';
import type { WorkspaceKeyring } from '../keyring.js';
import { planChanges, planRescan, withoutVanished, type LocalChange } from '../../sync/diff.js';
import { filesOf, mergeFileColumns, type FileColumns } from '../../sync/file-columns.js';
import { parentDirs } from '../../sync/paths.js';
import type { TreeFile } from '../../sync/merge.js';
import type { IndexColumns, IndexEntry } from '../../sync/index-format.js';
import type { Primitives } from '../../crypto/primitives.js';
import { toB64 } from '../../protocol/encoding.js';
import type { Manifest } from '../../sync/manifest.js';
import { trustedSignersOf, type SignerKnowledge } from '../access-token.js';
import { identityFromSecrets } from '../../crypto/keys.js';
import { isTokenSession, openTokenSession, tokenRemote, tokenSigner, type SyncPrincipal } from '../token-session.js';

export { type LinkedContext } from './open-linked.js';

export interface RemoteState {
  workspace: WorkspaceInfo;
  teams: TeamInfo[];
  ring: WorkspaceKeyring;
}

/** The session for commands not bound to a folder (clone, verify --workspace): the token when set. */
export function requirePrincipal(ctx: ClientContext): SyncPrincipal {
  return openTokenSession(ctx) ?? requireSession(ctx);
}

/** Answers already on their way, so loadRemote need not ask again. */
export interface AskedRemote {
  workspace?: Promise<WorkspaceInfo>;
  me?: Promise<AccountResponse>;
}

/** The workspace and its keys. */
export async function loadRemote(p: Primitives, session: SyncPrincipal, workspaceId: string, asked: AskedRemote = {}, linkedTeamId?: string): Promise<RemoteState> {
  const workspaceP = asked.workspace ?? session.api.getWorkspace(workspaceId);
  if (isTokenSession(session)) return { ...(await tokenRemote(p, session, workspaceP)), teams: [] };
  const [workspace, me, keyring] = await Promise.all([workspaceP, asked.me ?? session.api.me(), import('../keyring.js')]);
  // Workspaces never change teams: one the server moves would come under a team whose keys,
  // members and history this machine has no record of (grant-trust.ts), the server's own.
  if (linkedTeamId !== undefined && workspace.teamId !== linkedTeamId) {
    throw new IntegrityFailure(`the server says this workspace belongs to team ${workspace.teamId.slice(0, 12)}, but this folder was linked to it in team ${linkedTeamId.slice(0, 12)}`, 'nothing was sent or changed; workspaces do not move between teams');
  }
  const ring = await keyring.unlockWorkspace(p, session, workspace, me.teams);
  // The server reads a workspace's keys before its head: a head that came with epoch E's key was
  // read after the rotation to E, so every snapshot under an older epoch is it or behind it.
  ring.since = session.trust.markEpoch(workspace.id, ring.epoch, workspace.head);
  return { workspace, teams: me.teams, ring };
}

/**
 * The Ed25519 keys whose snapshots we accept in this workspace: its team's members and the write
 * tokens they certified, the server's list held to what this machine knows (trustedSignersOf): our
 * own keys and the fingerprints known-keys.json records, or, for a token, the token's own key.
 */
export async function trustedSigners(session: SyncPrincipal, workspaceId: string, p?: Primitives): Promise<Map<string, MemberPublicKeys>> {
  const res = await session.api.workspaceMembersAndTokens(workspaceId);
  return trustedSignersOf(p, workspaceId, res, signerKnowledge(session, p));
}

function signerKnowledge(session: SyncPrincipal, p?: Primitives): SignerKnowledge {
  if (isTokenSession(session)) {
    // only the Ed25519 half is wanted; the X25519 secret is a placeholder
    return { ownTokenKey: toB64(identityFromSecrets(new Uint8Array(32), session.token.signingSecret, p).ed25519.publicKey) };
  }
  const { secrets, identity, trust } = session;
  return {
    self: { userId: secrets.userId, email: secrets.email, x25519PublicKey: toB64(identity.x25519.publicKey), ed25519PublicKey: toB64(identity.ed25519.publicKey) },
    recorded: trust.knownKeys(),
  };
}

/** Who signs a new snapshot: the account's identity, or the access token's own key. */
export async function snapshotSigner(
  p: Primitives,
  session: SyncPrincipal,
  workspaceId: string,
): Promise<{ author: Manifest['author']; secretKey: Uint8Array }> {
  if (isTokenSession(session)) return tokenSigner(p, session, workspaceId);
  const { secrets, identity } = session as ActiveSession;
  return {
    author: { userId: secrets.userId, name: secrets.name, email: secrets.email, signingKey: toB64(identity.ed25519.publicKey) },
    secretKey: identity.ed25519.secretKey,
  };
}

export interface LocalTree {
  /** the folder as it is now, content addressed, with fresh stat data (filesOf / entriesOf for records) */
  files: FileColumns;
  changes: LocalChange[];
  skipped: string[];
  /** whether any file had to be re-read */
  rehashed: boolean;
}

/**
 * Scans the folder; re-reads only files whose stat differs from the index (`blobIdKey` is asked for
 * only then). A path whose file is gone, or became a folder, symlink or FIFO, between the scan and
 * its read counts as no file. A file this user may not read stops it (FileUnreadableError), but
 * where `mayLeaveUnread` says the caller needs no content (see untouchedByRemote): it is then
 * left out as if it were gone, so a pull records it with stat data that make the next status read
 * it again.
 */
export async function readLocalTree(
  p: Primitives,
  root: string,
  index: IndexColumns,
  blobIdKey: () => Promise<Uint8Array>,
  scanned?: ScanResult,
  mayLeaveUnread?: (path: string) => boolean,
): Promise<LocalTree> {
  const scan = scanned ?? (await scanFolder(root, trackedPaths(() => index.paths)));
  let plan = planRescan(index, scan.columns);
  let hashed: IndexEntry[] = [];
  if (plan.dirty.length > 0) {
    const key = await blobIdKey();
    const read: (IndexEntry | null)[] = [];
    for (const k of plan.dirty) {
      const f = scannedFileAt(scan.columns, k);
      let content: ReturnType<typeof hashFile>;
      try {
        content = hashFile(p, key, root, f);
      } catch (err) {
        if (!(err instanceof FileUnreadableError && mayLeaveUnread?.(f.path) === true)) throw err;
        content = null;
      }
      read.push(content && { ...f, ...content });
    }
    // A file gone (or no longer a regular file) since the scan is what a scan now would find: none.
    ({ plan, hashed } = withoutVanished(plan, read));
  }
  return { files: mergeFileColumns(index, plan.unchanged, hashed), changes: planChanges(index, plan, hashed), skipped: scan.skipped, rehashed: hashed.length > 0 };
}

/**
 * For pull: whether the remote left `rel` as the last sync had it — the same file or none, no
 * remote file inside it nor on the way to it — so the three-way merge does not need its local
 * content: whatever it holds, it stays as it is (an unreadable new file need not stop the pull).
 */
export function untouchedByRemote(base: IndexColumns, remote: readonly TreeFile[]): (rel: string) => boolean {
  let maps: { base: Map<string, TreeFile>; remote: Map<string, TreeFile>; dirs: Set<string> } | null = null;
  return (rel) => {
    maps ??= {
      base: new Map(filesOf(base).map((f) => [f.path, f])),
      remote: new Map(remote.map((f) => [f.path, f])),
      dirs: new Set(remote.flatMap((f) => parentDirs(f.path))),
    };
    const b = maps.base.get(rel);
    const r = maps.remote.get(rel);
    const same = b === undefined || r === undefined ? b === r : b.mode === r.mode && b.size === r.size && b.chunks.join() === r.chunks.join();
    return same && !maps.dirs.has(rel) && !parentDirs(rel).some((d) => maps!.remote.has(d));
  };
}

/**
 * The blob-id key the folder's files were last named with: the last synced snapshot's epoch's (it
 * differs from the newest after a key rotation, and a touched file must hash to its old id to be
 * seen as unchanged), else the newest.
 */
export async function localBlobIdKey(p: Primitives, session: SyncPrincipal, ring: WorkspaceKeyring, root: string, base: string | null): Promise<Uint8Array> {
  const epoch = await baseEpochOf(p, session.api, ring, root, base);
  return (epoch !== null ? ring.byEpoch.get(epoch)?.blobIdKey : undefined) ?? blobIdKeyOf(ring);
}

/** The blob-id key of the newest epoch: what new blobs are named with. */
export function blobIdKeyOf(ring: WorkspaceKeyring): Uint8Array {
  return ring.byEpoch.get(ring.epoch)!.blobIdKey;
}
