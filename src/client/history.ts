/**
 * Fetching and verifying snapshot history: every snapshot's ciphertext hashes to its id, decrypts
 * under a key we hold, carries a valid signature by a member of the workspace's team, and names
 * the parent the chain says it has (SPEC §3, §9.5).
 */
import { fromB64 } from '../protocol/encoding.js';
import type { MemberPublicKeys, SnapshotInfo } from '../protocol/types.js';
import { openSnapshot } from '../sync/snapshot.js';
import type { Manifest } from '../sync/manifest.js';
import type { Primitives } from '../crypto/primitives.js';
import type { ApiClient } from './api.js';
import type { WorkspaceKeyring } from './keyring.js';
import { IntegrityFailure, NotFoundError } from './errors.js';

export interface VerifiedSnapshot {
  id: string;
  parent: string | null;
  createdAt: string;
  size: number;
  manifest: Manifest;
}

export function openVerifiedSnapshot(
  p: Primitives,
  ring: WorkspaceKeyring,
  signers: Map<string, MemberPublicKeys>,
  info: SnapshotInfo,
): VerifiedSnapshot {
  const data = fromB64(info.data);
  const epochs = [...ring.byEpoch.keys()].sort((a, b) => b - a);
  let manifest: Manifest | undefined;
  for (const epoch of epochs) {
    try {
      manifest = openSnapshot(p, ring.byEpoch.get(epoch)!.manifestKey, { id: info.id, workspaceId: ring.workspaceId, parent: info.parent, epoch }, data);
      break;
    } catch {
      /* another epoch's key may open it */
    }
  }
  if (!manifest) throw new IntegrityFailure(`snapshot ${info.id.slice(0, 12)} failed its integrity check`, 'run `insomnia-sync verify` for details');
  const signer = signers.get(manifest.author.signingKey);
  if (!signer || signer.userId !== manifest.author.userId) {
    throw new IntegrityFailure(`snapshot ${info.id.slice(0, 12)} is signed by a key that belongs to no member of this workspace`);
  }
  // a former member's key counts only for epochs they held: nothing they sign after removal is accepted
  if (signer.untilEpoch !== undefined && manifest.epoch > signer.untilEpoch) {
    throw new IntegrityFailure(`snapshot ${info.id.slice(0, 12)} is signed by a former member of this team, under a key epoch they never held`);
  }
  return { id: info.id, parent: info.parent, createdAt: info.createdAt, size: data.length, manifest };
}

/**
 * Walks from `head` towards the root, verifying each snapshot, and stops before `stopAt`
 * (the snapshot we synced last). Newest first. Fails when `stopAt` is not an ancestor of `head`:
 * the server rolled back or forked the history.
 *
 * Snapshots are listed in pages that start small and grow (a pull usually needs one or two, and
 * each carries a whole manifest: ~2 MB for 10,000 files), and each is let go once verified. With
 * `filesOf: 'newest'` only the newest manifest keeps its file list (pull and clone use no other),
 * so memory does not grow with the length of the history.
 */
export async function fetchVerifiedChain(
  p: Primitives,
  api: ApiClient,
  ring: WorkspaceKeyring,
  signers: Map<string, MemberPublicKeys>,
  head: string | null,
  stopAt: string | null,
  opts: { filesOf?: 'all' | 'newest' } = {},
): Promise<VerifiedSnapshot[]> {
  const chain: VerifiedSnapshot[] = [];
  if (head === null) {
    if (stopAt !== null) throw new IntegrityFailure('the remote workspace lost its history (its head is empty but you synced before)');
    return chain;
  }
  const known = new Map<string, SnapshotInfo>();
  let before: string | undefined;
  let exhausted = false;
  let pageSize = FIRST_PAGE;
  let next: string | null = head;
  while (next !== null && next !== stopAt) {
    const info = known.get(next);
    if (!info && !exhausted) {
      const page = await api.listSnapshots(ring.workspaceId, { limit: pageSize, ...(before ? { before } : {}) });
      for (const s of page) known.set(s.id, s);
      if (page.length < pageSize) exhausted = true;
      else before = page[page.length - 1]!.id;
      pageSize = Math.min(pageSize * 4, MAX_PAGE);
      continue;
    }
    if (!info) {
      if (stopAt !== null) throw new IntegrityFailure('your last synced snapshot is not in the remote history (rolled back or rewritten)');
      throw new IntegrityFailure(`snapshot ${next.slice(0, 12)} is missing from the remote history`);
    }
    known.delete(next);
    const verified = openVerifiedSnapshot(p, ring, signers, info);
    if (opts.filesOf === 'newest' && chain.length > 0) verified.manifest = { ...verified.manifest, files: [] };
    chain.push(verified);
    next = info.parent;
  }
  if (next !== stopAt) throw new IntegrityFailure('your last synced snapshot is not in the remote history (rolled back or rewritten)');
  return chain;
}

const FIRST_PAGE = 4;
const MAX_PAGE = 64;

export function findSnapshot(chain: VerifiedSnapshot[], prefix: string): VerifiedSnapshot {
  const wanted = prefix.toLowerCase();
  const hits = chain.filter((s) => s.id.startsWith(wanted));
  if (hits.length === 0 || wanted.length < 4) throw new NotFoundError(`no snapshot ${prefix} in this workspace`, 'see `insomnia-sync log`');
  if (hits.length > 1) throw new NotFoundError(`snapshot prefix ${prefix} is ambiguous`, 'give more characters of the id');
  return hits[0]!;
}
