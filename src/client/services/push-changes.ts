/**
 * The part of push that has work to do (see push.ts): unlock the keys, hash and upload what
 * changed, create the snapshot by compare-and-swap, record the new base.
 */
import { FRAME_HEADER_BYTES } from '../../protocol/blob-frames.js';
import { CHUNK_SIZE } from '../../sync/chunking.js';
import { ENVELOPE_OVERHEAD, objectSealer, type ObjectSealer } from '../../crypto/aead.js';
import { blobIdBytes, type WorkspaceSubkeys } from '../../crypto/workspace-keys.js';
import type { Primitives } from '../../crypto/primitives.js';
import type { ColumnarManifest } from '../../sync/manifest.js';
import { planChanges, planRescan, withoutVanished, type LocalChange, type RescanPlan, type ScannedFile } from '../../sync/diff.js';
import { blobIdsOfRows, mergeFileColumns } from '../../sync/file-columns.js';
import type { IndexColumns, IndexEntry } from '../../sync/index-format.js';
import type { ClientContext, LateNotes } from '../context.js';
import { AuthError, ConflictError, IntegrityFailure } from '../errors.js';
import { isTokenSession } from '../token-session.js';
import { HeadMovedError, type ApiClient } from '../api.js';
import { encodeIndexFile, writeIndex, writeIndexFile } from '../local/link.js';
import { chunksOf, GONE, hashFile, readSmallFile, RESTART } from '../local/files.js';
import { TaskLimiter } from '../local/limit.js';
import { loadRemote, snapshotSigner, trustedSigners, type AskedRemote, type RemoteState } from './linked.js';
import { walkVerifiedHistory } from '../history.js';
import { requireCurrentKeys } from '../keyring.js';
import type { LinkedContext } from './open-linked.js';
import type { PushResult } from './push.js';
import { scannedFileAt, type ScanResult } from '../local/scan.js';
import { caseCollisions } from '../../sync/case-fold.js';
import { baseEpochOf, recordBaseEpoch } from '../local/base-epoch.js';


const BATCH_BYTES = 1024 * 1024;

/**
 * A Ctrl-C once the snapshot is sent (ClientContext.committing). Ended then, the snapshot may be
 * the head without the index knowing: `pull` takes it in as a change made on both sides (nothing
 * to write, no conflict), after which `push` has nothing left to send; a push first would say the
 * remote has new snapshots.
 */
const LATE_CTRL_C_PUSH: LateNotes = {
  finishing: 'Ctrl-C came after push had sent its snapshot: it waits for the answer rather than leave unknown whether the push happened',
  finished: 'Ctrl-C came after push had sent its snapshot: it waited for the answer rather than leave unknown whether the push happened',
  ended: 'cancelled after push had sent its snapshot: it may have been pushed; run `insomnia-sync pull`, then push what is left',
};
const UPLOAD_CONCURRENCY = 3;

export async function pushChanges(
  ctx: ClientContext,
  opts: { message?: string; force?: boolean },
  state: LinkedContext & { index: IndexColumns; scan: ScanResult; plan: RescanPlan; result: PushResult; firstPush: boolean; asked: AskedRemote },
): Promise<PushResult> {
  const p = ctx.primitives;
  const { folder, session, index, scan, result, firstPush } = state;
  const workspaceId = folder.link.workspaceId;

  const remote = await loadRemote(p, session, workspaceId, state.asked, folder.link.teamId);
  requireCurrentKeys(remote.ring);
  // The server would refuse the upload (exit 4); said first, so a moved remote does not make it
  // look like a conflict that pull or --force could solve.
  if (isTokenSession(session) && remote.workspace.tokenScope === 'read') {
    ctx.progress.stop();
    throw new AuthError('this access token is read-only: it can clone and pull but not push', 'push with a token made without --read-only', 'forbidden');
  }
  const head = remote.workspace.head;
  const keys = remote.ring.byEpoch.get(remote.ring.epoch)!;
  let plan = state.plan;
  const baseEpoch = await baseEpochOf(p, session.api, remote.ring, folder.root, index.base);
  // Our keys older than our own last snapshot's: the server took a newer epoch back. Pushing
  // under them would hand what we push to whoever holds the old keys.
  if (baseEpoch !== null && baseEpoch > remote.ring.epoch) {
    throw new IntegrityFailure(`your last snapshot is under key epoch ${baseEpoch}, but the server offers keys only up to epoch ${remote.ring.epoch}: it took the newer keys back`);
  }
  // After a key rotation every file goes out again under the new epoch: one manifest, one epoch.
  if (index.base !== null && baseEpoch !== remote.ring.epoch) {
    plan = planRescan(index, scan.columns, { rehashAll: true });
  }
  // Forced over a head that is not our base: the server may have lost what our base referenced
  // (its history was rolled back, say restored from a backup), so files whose blobs it lacks are
  // read and sent again, and the snapshot names every blob for the server to check.
  const forcedOverOther = head !== index.base;
  if (forcedOverOther && opts.force && plan.unchanged.length > 0) {
    const missing = await session.api.missingBlobs(workspaceId, blobIdsOfRows(index, plan.unchanged));
    if (missing.length > 0) plan = planRescan(index, scan.columns, { rehashAll: true });
  }
  const dirty = plan.dirty.map((k) => scannedFileAt(scan.columns, k));

  if (head !== index.base && !opts.force) {
    // Only refuse when there is really something to push: touched-but-identical files are not changes.
    const read = dirty.map((f) => {
      const content = hashFile(p, keys.blobIdKey, folder.root, f);
      return content && { ...f, ...content };
    });
    const left = withoutVanished(plan, read);
    const changes = planChanges(index, left.plan, left.hashed);
    ctx.progress.stop();
    if (changes.length > 0) {
      throw new ConflictError(
        'the remote workspace has new snapshots since your last sync',
        'run `insomnia-sync pull` to merge them, then push again; `push --force` would instead replace them with your files, undoing what they changed (kept only in `log`/`restore`)',
      );
    }
    return { ...result, changes };
  }

  // A workspace the server holds nothing for (the first push after init) lacks every blob: asking
  // per batch would be a request and a lookup each for a known answer. Any stored byte (an earlier
  // push that stopped before its snapshot) and the server is asked as usual, so a resumed push
  // sends only what is missing. Should another machine upload meanwhile, the server ignores the
  // blobs it already has.
  const askServer = remote.workspace.size !== 0;
  const uploader = new BlobUploader(p, session.api, workspaceId, keys, remote.ring.epoch, ctx, askServer);
  const read: (IndexEntry | null)[] = [];
  const signal = ctx.cancellation?.();
  for (const f of dirty) {
    // files are read and sealed between uploads: a Ctrl-C is heard at the next one
    signal?.throwIfAborted();
    read.push(await uploader.addFile(folder.root, f));
  }
  await uploader.finish();
  result.uploadedBlobs = uploader.uploadedBlobs;
  result.uploadedBytes = uploader.uploadedBytes;
  // A file gone (or no longer a regular file) since the scan is pushed as a scan now would see it: as no file.
  let hashed: IndexEntry[];
  ({ plan, hashed } = withoutVanished(plan, read));

  // Unchanged files go from the old index to the new one as rows; `hashed` is in path order.
  const files = mergeFileColumns(index, plan.unchanged, hashed);
  const changes = planChanges(index, plan, hashed);
  result.changes = changes;
  result.files = files.paths.length;
  // Forced over another head, unchanged files are still a change to the remote: they replace it.
  if (changes.length === 0 && !forcedOverOther && !(firstPush && head === null)) {
    signal?.throwIfAborted();
    writeIndex(folder.root, { ...files, workspaceId, base: index.base });
    ctx.progress.stop();
    return { ...result, upToDate: head === index.base };
  }

  // A warning, not a refusal (git allows it too): one pass over the new snapshot's sorted names,
  // only when a snapshot is made, never in the scan's per-file loop.
  result.caseCollisions = caseCollisions(files.paths);
  // Said in the result: a forced push undoes what the snapshots it replaces changed.
  if (forcedOverOther && head !== null) result.replacedSnapshots = await countNewer(p, session, remote, head, index.base);

  ctx.progress.update('Creating snapshot');
  const signer = await snapshotSigner(p, session, workspaceId);
  const manifest: ColumnarManifest = {
    version: 1,
    workspaceId,
    parent: head,
    epoch: remote.ring.epoch,
    author: signer.author,
    time: new Date().toISOString(),
    message: opts.message ?? (changes.length === 0 && forcedOverOther ? 'your files, pushed over the remote head' : defaultMessage(changes)),
    files,
  };
  const { packSnapshot } = await import('../../sync/snapshot.js');
  const packed = packSnapshot(p, keys.manifestKey, signer.secretKey, manifest);
  // The server checks that these exist and records them for garbage collection; blobs the parent
  // already references exist by induction, so only the new ones travel (docs/protocol.md §5).
  // Files that kept their index entry kept their blobs, so only the re-read files' ids can be new.
  const blobIds = forcedOverOther ? blobIdsOfRows(files, files.paths.map((_, k) => k)) : [...new Set(hashed.flatMap((f) => f.chunks))];
  // The point of no return: a Ctrl-C heard by now cancels; once the snapshot is sent the head may
  // move, so the push waits for the answer and records it, whatever comes.
  await ctx.committing?.(LATE_CTRL_C_PUSH);
  const created = session.api.createSnapshot(workspaceId, { id: packed.id, parent: head, data: packed.data, blobIds }, remote.ring.epoch);
  created.catch(() => {}); // awaited just below; the index is encoded while the server works
  await session.api.flushed();
  const indexBytes = encodeIndexFile({ ...files, workspaceId, base: packed.id });
  try {
    await created;
  } catch (err) {
    ctx.progress.stop();
    // A retry after a lost answer finds our own snapshot already at the head: that is success.
    if (err instanceof HeadMovedError && err.head !== packed.id) {
      throw new ConflictError('someone pushed to this workspace at the same time', 'run `insomnia-sync pull`, then push again');
    }
    // The server's state changed under the push (its key rotated, or garbage collection took
    // blobs it uploaded while it paused): a push from the start sees it and uploads what is needed.
    if (err instanceof ConflictError && !(err instanceof HeadMovedError) && err.hint === undefined) throw new ConflictError(err.message, 'run `insomnia-sync push` again');
    if (!(err instanceof HeadMovedError)) throw err;
  }
  writeIndexFile(folder.root, indexBytes);
  recordBaseEpoch(folder.root, packed.id, remote.ring.epoch);
  ctx.progress.stop();
  return { ...result, snapshot: packed.id, parent: head, files: files.paths.length };
}

/**
 * How many snapshots lie between our base and the remote head, checked as pull checks them; null
 * when the base is not in the remote history (rolled back or rewritten), so they cannot be told.
 */
async function countNewer(p: Primitives, session: LinkedContext['session'], remote: RemoteState, head: string, base: string | null): Promise<number | null> {
  const signers = await trustedSigners(session, remote.workspace.id, p);
  try {
    return await walkVerifiedHistory({ p, api: session.api, ring: remote.ring, signers }, head, base, 'none', () => {});
  } catch (err) {
    if (err instanceof IntegrityFailure) return null;
    throw err;
  }
}

/** A group of sealed blobs, framed for upload in one buffer (protocol/blob-frames.ts). */
interface FrameGroup {
  buf: Buffer;
  used: number;
  ids: string[];
  /** where each frame starts in buf */
  starts: number[];
}

// Room for one more whole chunk past the batch target, so a group never needs a second buffer.
const GROUP_CAPACITY = BATCH_BYTES + FRAME_HEADER_BYTES + ENVELOPE_OVERHEAD + CHUNK_SIZE;

/**
 * Hashes and encrypts files chunk by chunk as they are read, each sealed blob written straight
 * into its group's upload buffer (so plaintext lives only in one reused read buffer, and a push
 * allocates a handful of group buffers instead of three arrays per blob), and uploads, group by
 * group, the blobs the server lacks. Sealing before asking costs a little for blobs the server
 * already has (a push resumed after a crash), and saves holding plaintext while the question is
 * in flight.
 */
class BlobUploader {
  uploadedBlobs = 0;
  uploadedBytes = 0;
  private readonly limiter = new TaskLimiter(UPLOAD_CONCURRENCY);
  private readonly seen = new Set<string>();
  private readonly spare: Buffer[] = [];
  private group: FrameGroup = this.newGroup();
  private readonly sealer: ObjectSealer;

  constructor(
    private readonly p: Primitives,
    private readonly api: ApiClient,
    private readonly workspaceId: string,
    private readonly keys: WorkspaceSubkeys,
    epoch: number,
    private readonly ctx: ClientContext,
    /** false: send every blob without asking which the server lacks (it holds none) */
    private readonly askServer: boolean,
  ) {
    this.sealer = objectSealer(p, keys.blobKey, { kind: 'blob', workspaceId, epoch });
  }

  /**
   * Reads, seals and queues one scanned file; null if its path no longer holds a regular file.
   * A big file saved again during the read is read again (chunksOf): the blobs of the torn read may
   * still be uploaded, but no snapshot names them.
   */
  async addFile(root: string, file: ScannedFile): Promise<IndexEntry | null> {
    const small = readSmallFile(root, file);
    if (small === GONE) return null;
    if (small !== null) {
      if (small.length === 0) return { ...file, size: 0, chunks: [] };
      return { ...file, size: small.length, chunks: [await this.add(small)] };
    }
    const chunks: string[] = [];
    let size = 0;
    for (const piece of chunksOf(root, file)) {
      if (piece === GONE) return null;
      if (piece === RESTART) {
        chunks.length = 0;
        size = 0;
        continue;
      }
      chunks.push(await this.add(piece));
      size += piece.length;
    }
    return { ...file, size, chunks };
  }

  /** Seals one chunk into the current group (once per id); `plaintext` may be reused after. */
  private async add(plaintext: Uint8Array): Promise<string> {
    const mac = blobIdBytes(this.p, this.keys.blobIdKey, plaintext);
    const id = Buffer.from(mac.buffer, mac.byteOffset, mac.byteLength).toString('hex');
    if (this.seen.has(id)) return id;
    this.seen.add(id);
    const sealedLength = ENVELOPE_OVERHEAD + plaintext.length;
    const g = this.group;
    // The frame header from the id's bytes: no hex decode and pattern check per blob.
    g.buf.set(mac, g.used);
    g.buf.writeUInt32BE(sealedLength, g.used + 32);
    this.sealer.sealInto(id, plaintext, g.buf, g.used + FRAME_HEADER_BYTES);
    g.ids.push(id);
    g.starts.push(g.used);
    g.used += FRAME_HEADER_BYTES + sealedLength;
    if (g.used >= BATCH_BYTES) await this.dispatch();
    return id;
  }

  private newGroup(): FrameGroup {
    return { buf: this.spare.pop() ?? Buffer.allocUnsafe(GROUP_CAPACITY), used: 0, ids: [], starts: [] };
  }

  /** Hands the group to an upload slot; waits only while UPLOAD_CONCURRENCY uploads are in flight. */
  private async dispatch(): Promise<void> {
    const group = this.group;
    if (group.ids.length === 0) return;
    this.group = this.newGroup();
    await this.limiter.add(async () => {
      try {
        await this.upload(group);
      } finally {
        this.spare.push(group.buf);
      }
    });
  }

  private async upload(g: FrameGroup): Promise<void> {
    const missing = this.askServer ? new Set(await this.api.missingBlobs(this.workspaceId, g.ids)) : null;
    if (missing?.size === 0) return;
    let body: Uint8Array;
    let count = 0;
    if (missing === null || g.ids.every((id) => missing.has(id))) {
      body = g.buf.subarray(0, g.used);
      count = g.ids.length;
    } else {
      const parts: Buffer[] = [];
      g.ids.forEach((id, i) => {
        if (!missing.has(id)) return;
        parts.push(g.buf.subarray(g.starts[i], i + 1 < g.starts.length ? g.starts[i + 1] : g.used));
        count++;
      });
      body = Buffer.concat(parts);
    }
    await this.api.uploadFrameBody(this.workspaceId, body);
    this.uploadedBlobs += count;
    this.uploadedBytes += body.length - count * FRAME_HEADER_BYTES;
    this.ctx.progress.update(`Uploaded ${this.uploadedBlobs} blob(s), ${(this.uploadedBytes / 1048576).toFixed(1)} MiB`);
  }

  async finish(): Promise<void> {
    await this.dispatch();
    await this.limiter.drain();
  }
}

function defaultMessage(changes: LocalChange[]): string {
  const count = (k: LocalChange['kind']) => changes.filter((c) => c.kind === k).length;
  const parts = [
    count('added') && `${count('added')} added`,
    count('modified') && `${count('modified')} modified`,
    count('deleted') && `${count('deleted')} deleted`,
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'initial snapshot';
}
