/**
 * push: encrypt changed files as blobs, upload only what the server lacks (batched, concurrent),
 * then create a signed snapshot by compare-and-swap on the head we last synced (SPEC §4, §8).
 * Order matters: blobs first, snapshot last, so a crash leaves the old head intact.
 */
import { toB64 } from '../../protocol/encoding.js';
import { encodeFrames, FRAME_HEADER_BYTES, type BlobFrame } from '../../protocol/blob-frames.js';
import { sealEnvelope } from '../../crypto/aead.js';
import { blobId } from '../../crypto/workspace-keys.js';
import { packSnapshot } from '../../sync/snapshot.js';
import type { Manifest } from '../../sync/manifest.js';
import type { LocalChange } from '../../sync/diff.js';
import type { ClientContext } from '../context.js';
import { ConflictError, SyncError } from '../errors.js';
import { HeadMovedError } from '../api.js';
import { writeIndex } from '../local/link.js';
import { readChunk } from '../local/files.js';
import { TaskLimiter } from '../local/limit.js';
import { currentKeys } from '../keyring.js';
import { loadRemote, openLinked, readLocalTree, type RemoteState } from './linked.js';

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

const BATCH_BYTES = 4 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

export async function push(ctx: ClientContext, opts: { message?: string; force?: boolean }): Promise<PushResult> {
  const p = ctx.primitives;
  const { folder, session, index } = openLinked(ctx);
  const workspaceId = folder.link.workspaceId;
  ctx.progress.start('Scanning');
  let remote: RemoteState | undefined;
  const remoteP = loadRemote(p, session, workspaceId);
  remoteP.catch(() => {}); // awaited below; avoid an unhandled rejection while we scan
  const local = await readLocalTree(p, folder.root, index, async () => {
    remote = await remoteP;
    return currentKeys(remote.ring).blobIdKey;
  });
  remote ??= await remoteP;
  const head = remote.workspace.head;
  const result: PushResult = {
    workspaceId,
    snapshot: null,
    parent: head,
    upToDate: false,
    changes: local.changes,
    files: local.tree.length,
    uploadedBlobs: 0,
    uploadedBytes: 0,
  };
  const firstPush = head === null && index.base === null;
  if (local.changes.length === 0 && !firstPush) {
    ctx.progress.stop();
    // Refresh stat data so the next run does not re-read files that were only touched.
    writeIndex(folder.root, { ...index, entries: local.entries });
    return { ...result, upToDate: head === index.base, parent: index.base };
  }
  if (head !== index.base && !opts.force) {
    ctx.progress.stop();
    throw new ConflictError(
      'the remote workspace has new snapshots since your last sync',
      'run `insomnia-sync pull` to merge them, then push again (or push --force to overwrite them with your files)',
    );
  }

  const keys = currentKeys(remote.ring);
  const epoch = remote.ring.epoch;
  // Which chunks the server lacks: ask once for every distinct chunk of the changed files.
  const changed = new Set(local.changes.filter((c) => c.kind !== 'deleted').map((c) => c.path));
  const wanted = new Map<string, { path: string; index: number; size: number }>();
  for (const f of local.tree) {
    if (!changed.has(f.path) && !firstPush) continue;
    f.chunks.forEach((id, i) => {
      if (!wanted.has(id)) wanted.set(id, { path: f.path, index: i, size: f.size });
    });
  }
  ctx.progress.update(`Checking ${wanted.size} blob(s) on the server`);
  const missing = wanted.size > 0 ? await session.api.missingBlobs(workspaceId, [...wanted.keys()]) : [];

  const limiter = new TaskLimiter(UPLOAD_CONCURRENCY);
  let batch: BlobFrame[] = [];
  let batchBytes = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const body = encodeFrames(batch);
    batch = [];
    batchBytes = 0;
    await limiter.add(async () => {
      await session.api.uploadBlobs(workspaceId, body);
    });
  };
  for (const id of missing) {
    const where = wanted.get(id);
    if (!where) throw new SyncError('bad_response', 'the server reported a blob we did not ask about');
    const plain = readChunk(folder.root, where.path, where.index, where.size);
    if (blobId(p, keys.blobIdKey, plain) !== id) {
      throw new ConflictError(`${where.path} changed while it was being pushed`, 'run the push again');
    }
    const sealed = sealEnvelope(p, keys.blobKey, plain, { kind: 'blob', workspaceId, objectId: id, epoch });
    batch.push({ id, data: sealed });
    batchBytes += sealed.length + FRAME_HEADER_BYTES;
    result.uploadedBlobs++;
    result.uploadedBytes += sealed.length;
    if (batchBytes >= BATCH_BYTES) {
      await flush();
      ctx.progress.update(`Uploading ${result.uploadedBlobs}/${missing.length} blob(s)`);
    }
  }
  await flush();
  await limiter.drain();

  ctx.progress.update('Creating snapshot');
  const manifest: Manifest = {
    version: 1,
    workspaceId,
    parent: head,
    epoch,
    author: {
      userId: session.secrets.userId,
      name: session.secrets.name,
      email: session.secrets.email,
      signingKey: toB64(session.identity.ed25519.publicKey),
    },
    time: new Date().toISOString(),
    message: opts.message ?? defaultMessage(local.changes),
    files: local.tree,
  };
  const packed = packSnapshot(p, keys.manifestKey, session.identity.ed25519.secretKey, manifest);
  const blobIds = [...new Set(local.tree.flatMap((f) => f.chunks))];
  try {
    await session.api.createSnapshot(workspaceId, { id: packed.id, parent: head, data: toB64(packed.data), blobIds });
  } catch (err) {
    ctx.progress.stop();
    if (err instanceof HeadMovedError) {
      throw new ConflictError('someone pushed to this workspace at the same time', 'run `insomnia-sync pull`, then push again');
    }
    throw err;
  }
  writeIndex(folder.root, { version: 1, workspaceId, base: packed.id, entries: local.entries });
  ctx.progress.stop();
  return { ...result, snapshot: packed.id };
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
