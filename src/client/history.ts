/**
 * Fetching and verifying snapshot history: every snapshot's ciphertext hashes to its id, decrypts
 * under a key we hold, carries a valid signature by a member of the workspace's team, and names
 * the parent the chain says it has (SPEC §3, §9.5). Walks keep nothing they have visited.
 */
import type { MemberPublicKeys } from '../protocol/types.js';
import type { SnapshotFrame } from '../protocol/snapshot-frames.js';
import { openSnapshot, openSnapshotHead } from '../sync/snapshot.js';
import { NewerFormatError } from '../sync/errors.js';
import { manifestStats, type Manifest, type ManifestFile } from '../sync/manifest.js';
import { isGitPath } from '../sync/paths.js';
import type { Primitives } from '../crypto/primitives.js';
import { toHex } from '../crypto/encoding.js';
import type { ApiClient } from './api.js';
import type { WorkspaceKeyring } from './keyring.js';
import { IntegrityFailure, NotFoundError, UsageError } from './errors.js';
import { recordedVerifiedHead, recordVerifiedHead } from './local/verified-head.js';
import { recordedBaseEpoch } from './local/base-epoch.js';

export interface VerifiedSnapshot {
  id: string;
  parent: string | null;
  createdAt: string;
  size: number;
  /** `files` is empty when the snapshot was opened without its file list (see walkVerifiedHistory) */
  manifest: Manifest;
  /** number of files and their total bytes, also when `manifest.files` was not kept */
  files: number;
  bytes: number;
  /**
   * Files of the snapshot inside a `.git` folder (pushed by a version that synced git's folder, or
   * by a hostile member): never written anywhere, so left out of `manifest.files`; a push from a
   * folder drops them from the workspace. Empty when the file list was not opened.
   */
  leftOut: ManifestFile[];
}

/**
 * Checks one snapshot completely: its ciphertext hashes to its id, decrypts under a key we hold,
 * is signed by a member of the workspace's team, and names the parent the server says it has.
 * With `withFiles` false the file list is counted instead of decoded (openSnapshotHead).
 */
export function openVerifiedSnapshot(
  { p, ring, signers }: Pick<SnapshotVerifier, 'p' | 'ring' | 'signers'>,
  info: SnapshotFrame,
  withFiles = true,
): VerifiedSnapshot {
  const data = info.data;
  const epochs = [...ring.byEpoch.keys()].sort((a, b) => b - a);
  let opened: { manifest: Manifest; files: number; bytes: number; leftOut: ManifestFile[] } | undefined;
  for (const epoch of epochs) {
    const expected = { id: info.id, workspaceId: ring.workspaceId, parent: info.parent, epoch };
    const key = ring.byEpoch.get(epoch)!.manifestKey;
    try {
      if (withFiles) {
        const { kept, leftOut } = withoutGitFiles(openSnapshot(p, key, expected, data));
        opened = { manifest: kept, ...manifestStats(kept), leftOut };
      } else {
        const head = openSnapshotHead(p, key, expected, data);
        opened = { manifest: { ...head.manifest, files: [] }, files: head.files, bytes: head.bytes, leftOut: [] };
      }
      break;
    } catch (err) {
      // Signed and chained right, in a newer layout: an upgrade reads it, if its author is trusted.
      if (err instanceof NewerFormatError) {
        requireTrustedSigner(signers, info.id, err.author!, epoch);
        throw err;
      }
      /* another epoch's key may open it */
    }
  }
  if (!opened) throw new IntegrityFailure(`snapshot ${info.id.slice(0, 12)} failed its integrity check`, 'run `insomnia-sync verify` for details');
  requireTrustedSigner(signers, info.id, opened.manifest.author, opened.manifest.epoch);
  return { id: info.id, parent: info.parent, createdAt: info.createdAt, size: data.length, ...opened };
}

/**
 * The manifest without its files inside `.git` (see VerifiedSnapshot.leftOut), which no command
 * writes into a folder, an export or an archive. One scan of the joined paths answers the usual
 * manifest, which has none: its segments are those of every path.
 */
function withoutGitFiles(manifest: Manifest): { kept: Manifest; leftOut: ManifestFile[] } {
  if (!isGitPath(manifest.files.map((f) => f.path).join('/'))) return { kept: manifest, leftOut: [] };
  const leftOut = manifest.files.filter((f) => isGitPath(f.path));
  return { kept: { ...manifest, files: manifest.files.filter((f) => !isGitPath(f.path)) }, leftOut };
}

function requireTrustedSigner(signers: Map<string, MemberPublicKeys>, id: string, author: { userId: string; signingKey: string }, epoch: number): void {
  const signer = signers.get(author.signingKey);
  if (!signer || signer.userId !== author.userId) {
    throw new IntegrityFailure(`snapshot ${id.slice(0, 12)} is signed by a key that belongs to no member of this workspace`);
  }
  // a former member's key counts only for epochs they held: nothing they sign after removal is accepted
  if (signer.untilEpoch !== undefined && epoch > signer.untilEpoch) {
    throw new IntegrityFailure(`snapshot ${id.slice(0, 12)} is signed by a former member of this team, under a key epoch they never held`);
  }
}

/** What checking snapshots takes: the primitives, the server, the workspace's keys and its trusted signers. */
export interface SnapshotVerifier {
  p: Primitives;
  api: ApiClient;
  ring: WorkspaceKeyring;
  signers: Map<string, MemberPublicKeys>;
}

/**
 * One snapshot, checked completely with its files. A clone needs no more: the snapshot's signed
 * manifest names its parent by id, the SHA-256 of the parent's envelope, so a checked snapshot
 * fixes the whole history behind it, as a git commit does (docs/protocol.md §5).
 */
export async function fetchVerifiedSnapshot(
  v: SnapshotVerifier,
  id: string,
): Promise<VerifiedSnapshot> {
  return openVerifiedSnapshot(v, await v.api.getSnapshot(v.ring.workspaceId, id));
}

/**
 * The workspace's head, checked as fetchVerifiedSnapshot does, against what this machine saw
 * (requireHeadAfterMark), and, when it is under an older epoch than the newest key, against its
 * parent's epoch (requireEpochNotAbove): a clone reads no other snapshot, and a head made with
 * replaced keys on top of a newer epoch's snapshot would otherwise pass on a machine that never
 * saw the rotation.
 */
export async function fetchVerifiedHead(v: SnapshotVerifier, head: string): Promise<VerifiedSnapshot> {
  const verified = await fetchVerifiedSnapshot(v, head);
  const epoch = verified.manifest.epoch;
  requireHeadAfterMark(v.ring, { id: verified.id, epoch });
  if (verified.parent !== null && epoch < v.ring.epoch) {
    const parent = openVerifiedSnapshot(v, await v.api.getSnapshot(v.ring.workspaceId, verified.parent), false);
    requireEpochNotAbove({ id: parent.id, epoch: parent.manifest.epoch }, epoch);
  }
  return verified;
}

/**
 * Once this machine saw the workspace at key epoch E with head H (ring.since), an honest server
 * takes snapshots only under E or newer (docs/crypto.md §5.2, §10): a head other than H under an
 * older epoch was made after that with keys that had been replaced — a removed member's, or an
 * access token's made before the rotation — and let in by the server. Epochs never go down along
 * a history, so the head alone tells: below a head under E or newer, older epochs are history.
 */
export function requireHeadAfterMark(ring: Pick<WorkspaceKeyring, 'since'>, head: { id: string; epoch: number }): void {
  const since = ring.since;
  if (since === undefined || head.id === since.head || head.epoch >= since.epoch) return;
  throw new IntegrityFailure(
    `snapshot ${head.id.slice(0, 12)} is under key epoch ${head.epoch}, but this machine saw the workspace at epoch ${since.epoch} before it was pushed: it was made with keys that had been replaced`,
    "a removed member's keys, or an access token made before the rotation, let in by the server; nothing was changed here",
  );
}

/** Which snapshots of a walk are opened with their file list. */
export type FilesOf = 'all' | 'newest' | 'none';

/**
 * Walks from `head` towards the root, checking each snapshot (openVerifiedSnapshot), handing it to
 * `visit` newest first, and stops before `stopAt` (the snapshot we synced last) or when `visit`
 * returns false. Fails when `stopAt` is not an ancestor of `head`: the server rolled back or
 * forked the history. Returns how many snapshots were visited.
 *
 * Snapshots are listed in pages that start small (a pull usually needs one or two) and grow, but
 * never past about PAGE_BYTES: each carries a whole manifest (~1.0 MB for 10,000 files). The chain
 * is followed by the parent each checked snapshot signs: of a page, only the snapshot the walk is
 * at and those that continue from it count; anything else the server lists (a snapshot a rollback
 * left behind, or junk) is passed over and let go with the page. A page longer than asked for
 * fails (exit 7). A page that takes the walk no further (a rollback's left-behind snapshots
 * between a forced head and the fork point, or pushes that landed after the head was read) has
 * the next snapshot fetched by id and the list go on from it, unless the page is not snapshots
 * (an id that is not the hash of its data) or lists the one `before` named: exit 7. Every request
 * takes the chain a snapshot further, so a server that ignores `before` or lists snapshots that
 * are not the history's cannot keep the walk going for ever: the walk holds one page at a time,
 * and costs at most two requests per snapshot of the history it walks.
 */
export async function walkVerifiedHistory(
  v: SnapshotVerifier,
  head: string | null,
  stopAt: string | null,
  filesOf: FilesOf,
  visit: (snapshot: VerifiedSnapshot) => boolean | void,
  /**
   * how many snapshots the caller means to visit, when it knows (`log -n N` where the first one
   * listed settles the base): the first page asks for no more than that, so `log -n 1` lists one
   */
  wanted?: number,
): Promise<number> {
  if (head === null) {
    if (stopAt !== null) throw lostHistory();
    return 0;
  }
  let before: string | undefined;
  let pageSize = Math.max(1, Math.min(FIRST_PAGE, wanted ?? FIRST_PAGE));
  let visited = 0;
  /** the epoch of the snapshot visited last: its parent may not be under a newer one */
  let childEpoch = Infinity;
  let next: string | null = head;
  /** checks the snapshot the walk is at, hands it on; false when `visit` ends the walk */
  const step = (info: SnapshotFrame): boolean => {
    const withFiles = filesOf === 'all' || (filesOf === 'newest' && visited === 0);
    const verified = openVerifiedSnapshot(v, info, withFiles);
    if (visited === 0) requireHeadAfterMark(v.ring, { id: verified.id, epoch: verified.manifest.epoch });
    requireEpochNotAbove({ id: verified.id, epoch: verified.manifest.epoch }, childEpoch);
    childEpoch = verified.manifest.epoch;
    visited++;
    next = verified.parent;
    return visit(verified) !== false;
  };
  while (next !== null && next !== stopAt) {
    const asked = pageSize;
    const page = await v.api.listSnapshots(v.ring.workspaceId, { limit: asked, ...(before ? { before } : {}) });
    // a page may be cut short by size (docs/protocol.md §3.17): only an empty one ends the list
    if (page.length === 0) {
      if (stopAt !== null) throw lostBase();
      throw new IntegrityFailure(`snapshot ${next.slice(0, 12)} is missing from the remote history`);
    }
    if (page.length > asked) throw strayPage(`${page.length} snapshots where ${asked} were asked for`);
    let bytes = 0;
    const from = visited;
    for (const info of page) {
      bytes += info.data.length;
      if (next === null || next === stopAt) break;
      if (info.id !== next) {
        // Listed by arrival, newest first: our base listed before the snapshot the walk is at
        // arrived after it, so it is not behind it (a server that lists out of order fails anyway).
        if (info.id === stopAt) throw lostBase();
        continue;
      }
      if (!step(info)) return visited;
    }
    if (visited === from) {
      // None of the page is on the chain: snapshots a rollback left behind (listed between a
      // forced head and the fork point), or pushes that landed after we read the head. The page
      // must still be snapshots — each id the hash of its data — and none the one `before` named
      // (a server serving one page whatever `before` says); then the next snapshot is fetched by
      // id, checked like any other, and the list goes on from it. Every request still takes the
      // chain a snapshot further, so a lying list costs at most two requests a snapshot.
      const stray = page.find((info) => info.id === before || toHex(v.p.sha256(info.data)) !== info.id);
      if (stray) throw strayPage(`none of them is ${next!.slice(0, 12)}, the next snapshot of the history`);
      const wanted: string = next!;
      const info = await fetchListed(v, wanted, stopAt);
      if (!step(info)) return visited;
      before = wanted;
    } else before = page[page.length - 1]!.id;
    const perSnapshot = bytes / page.length;
    pageSize = Math.max(1, Math.min(pageSize * 4, MAX_PAGE, Math.floor(PAGE_BYTES / Math.max(1, perSnapshot))));
  }
  if (next !== stopAt) throw lostBase();
  return visited;
}

/** The snapshot `id`, next on the chain, by itself; gone from the server is a lost history. */
async function fetchListed(v: SnapshotVerifier, id: string, stopAt: string | null): Promise<SnapshotFrame> {
  try {
    return await v.api.getSnapshot(v.ring.workspaceId, id);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    if (stopAt !== null) throw lostBase();
    throw new IntegrityFailure(`snapshot ${id.slice(0, 12)} is missing from the remote history`);
  }
}

/** A page of the snapshot list that does not go on with the history: the server's doing. */
function strayPage(what: string): IntegrityFailure {
  return new IntegrityFailure(
    `the server's list of snapshots does not follow the workspace's history (${what})`,
    'nothing was changed here; the server answers wrongly or was altered: tell its operator',
  );
}

/**
 * Key epochs never go back along a history: a snapshot under an older epoch than its parent was
 * made with keys that had been replaced, by a removed member or a server holding them back.
 */
export function requireEpochNotAbove(parent: { id: string; epoch: number }, childEpoch: number): void {
  if (parent.epoch > childEpoch) {
    throw new IntegrityFailure(
      `the snapshot after ${parent.id.slice(0, 12)} is under key epoch ${childEpoch}, older than its parent's ${parent.epoch}: it was made with keys that had been replaced`,
    );
  }
}

/** Our base gone from the remote: a server restored from a backup, or one that rewrote history. */
export function lostBase(): IntegrityFailure {
  return new IntegrityFailure(
    'your last synced snapshot is not in the remote history (rolled back or rewritten)',
    'if the server was restored from a backup, `insomnia-sync push --force` makes your files the head again; check `insomnia-sync log` first',
  );
}

/** The history emptied: the head is none, but this folder synced a snapshot. */
export function lostHistory(): IntegrityFailure {
  return new IntegrityFailure('the remote workspace lost its history (its head is empty but you synced before)', lostBase().hint);
}

/**
 * A moved head is not always news: a server that rolled back to before our last sync, or moved
 * the head onto another branch, would have `status` announce "new snapshots" that pull then
 * refuses, and `log` or `export` show the older head as the newest. So ancestry is decided as
 * pull decides it: `base` (the snapshot the folder synced last) must be reached from `head` by
 * the parents each checked snapshot signs (walkVerifiedHistory, file lists counted, not decoded),
 * never by what the server says of the base itself. Exit 7 otherwise, with pull's message. Returns
 * how many snapshots the head is ahead of the base.
 *
 * With `root`, the linked folder, the answer is recorded (local/verified-head.ts): asked again
 * with the same head it costs nothing, and with a newer head a walk down to the recorded one (its
 * epoch checked against the snapshot after it, as the walk checks the others). A recorded head
 * the new one does not reach (the server moved it back or aside) counts for nothing: the walk
 * then goes to the base, as without a record.
 */
export async function requireBaseInHistory(v: SnapshotVerifier, head: string | null, base: string, root: string | null = null): Promise<number> {
  if (head === base) return 0;
  const known = root === null ? null : recordedVerifiedHead(root, base);
  if (known && head === known.head) {
    requireHeadAfterMark(v.ring, { id: head, epoch: known.epoch });
    return known.ahead;
  }
  let newest: VerifiedSnapshot | null = null;
  let oldest: VerifiedSnapshot | null = null;
  const seen = (s: VerifiedSnapshot): void => {
    newest ??= s;
    oldest = s;
  };
  /** the walk reached the base itself: checked and recorded as without a record */
  const reachedBase = (ahead: number): number => {
    if (root !== null && newest !== null) {
      // as pull checks it: the snapshot after the base not under an older epoch than the base's, as recorded here
      const baseEpoch = recordedBaseEpoch(root, base);
      if (baseEpoch !== null) requireEpochNotAbove({ id: base, epoch: baseEpoch }, (oldest as unknown as VerifiedSnapshot).manifest.epoch);
      recordVerifiedHead(root, { base, head: head!, epoch: (newest as VerifiedSnapshot).manifest.epoch, ahead });
    }
    return ahead;
  };
  if (known && head !== null) {
    let metBase = false;
    try {
      // The recorded head descends from the base, so meeting the base first means the head is on
      // another branch from it: this walk alone then shows the base is an ancestor (without the
      // stop it would go on to the root before falling back to a second walk).
      const walked = await walkVerifiedHistory(v, head, known.head, 'none', (s) => {
        if (s.id === base) {
          metBase = true;
          return false;
        }
        seen(s);
      });
      if (metBase) return reachedBase(walked - 1);
      requireEpochNotAbove({ id: known.head, epoch: known.epoch }, oldest!.manifest.epoch);
      const ahead = walked + known.ahead;
      recordVerifiedHead(root!, { ...known, head, epoch: newest!.manifest.epoch, ahead });
      return ahead;
    } catch (err) {
      if (!(err instanceof IntegrityFailure) || metBase) throw err;
      newest = oldest = null; // not through the recorded head: walked to the base below
    }
  }
  return reachedBase(await walkVerifiedHistory(v, head, base, 'none', seen));
}

/** walkVerifiedHistory collected newest first, for walks that are short (a pull's) or need every snapshot. */
export async function fetchVerifiedChain(
  v: SnapshotVerifier,
  head: string | null,
  stopAt: string | null,
  filesOf: FilesOf,
): Promise<VerifiedSnapshot[]> {
  const chain: VerifiedSnapshot[] = [];
  await walkVerifiedHistory(v, head, stopAt, filesOf, (s) => void chain.push(s));
  return chain;
}

const FIRST_PAGE = 4;
const MAX_PAGE = 64;
/** bytes of snapshot data a page should stay under (a page holds at least one) */
const PAGE_BYTES = 8 * 1024 * 1024;

/**
 * The snapshot whose id starts with `prefix`, checked with its files: the history is walked
 * without file lists to find it (and to tell an ambiguous prefix), then it alone is fetched whole.
 * `base`, a linked folder's last synced snapshot, must be met on the way (as log and verify
 * require): a history rolled back or forked from under the folder fails as pull does (exit 7).
 */
export async function findVerifiedSnapshot(
  v: SnapshotVerifier,
  head: string | null,
  prefix: string,
  base: string | null = null,
): Promise<VerifiedSnapshot> {
  const wanted = prefix.trim().toLowerCase();
  // Bad input is a usage error (exit 2), as for token ids; an id that could exist but does not is 5.
  if (!/^[0-9a-f]*$/.test(wanted)) throw new UsageError(`${wanted} is not a snapshot id: ids are hexadecimal (0-9, a-f)`, 'see `insomnia-sync log`');
  if (wanted.length > 64) throw new UsageError(`${wanted.slice(0, 12)}… is longer than a snapshot id (64 characters)`, 'see `insomnia-sync log`');
  if (wanted.length < 4) throw new UsageError(`snapshot ${wanted} is too short: give at least the first 4 characters of its id`, 'see `insomnia-sync log`');
  if (base !== null && head === null) throw lostHistory();
  const hits: string[] = [];
  let sawBase = base === null;
  await walkVerifiedHistory(v, head, null, 'none', (s) => {
    if (s.id.startsWith(wanted)) hits.push(s.id);
    if (s.id === base) sawBase = true;
  });
  if (!sawBase) throw lostBase();
  if (hits.length === 0) throw new NotFoundError(`no snapshot ${wanted} in this workspace`, 'see `insomnia-sync log`');
  if (hits.length > 1) throw new UsageError(`snapshot prefix ${wanted} is ambiguous`, 'give more characters of the id');
  return fetchVerifiedSnapshot(v, hits[0]!);
}
