/** Snapshots: create by compare-and-swap of the head, list, get (docs/protocol.md §3). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { fromB64 } from '../../protocol/encoding.js';
import { ROUTES } from '../../protocol/routes.js';
import type * as T from '../../protocol/types.js';
import { LIMITS } from '../../protocol/types.js';
import type { ServerContext } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import { getTokenAuth, type WorkspaceGuard } from '../plugins/auth.js';
import { schemas } from '../../protocol/schemas.js';
import { sha256Hex } from '../tokens.js';
import { snapshotView } from '../views.js';
import { decodeSnapshotUpload, encodeSnapshotFrames, SnapshotFrameError, SNAPSHOT_FRAMES_TYPE, type SnapshotUpload } from '../../protocol/snapshot-frames.js';

type Params = { workspaceId: string };
const DEFAULT_LIST_LIMIT = 100;

export function registerSnapshotRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  authenticate: (r: FastifyRequest) => Promise<void>,
  requireWorkspaceAccess: WorkspaceGuard,
): void {
  const { store } = ctx;

  app.route<{ Params: Params; Querystring: { epoch?: string }; Body: T.CreateSnapshotRequest | Buffer }>({
    method: ROUTES.createSnapshot.method,
    url: ROUTES.createSnapshot.path,
    schema: schemas.createSnapshot,
    onRequest: authenticate,
    handler: async (request): Promise<T.CreateSnapshotResponse> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'write');
      const { id, parent, data: bytes, blobIds } = snapshotUpload(request.body);
      if (sha256Hex(bytes) !== id) throw badRequest('snapshot id is not the SHA-256 of its data');
      // A push that began before a member was removed would put new data under keys they hold: the
      // epoch it names must be the team's current one (checked in the store's transaction). A token
      // must name it; a session client that names none (older versions) is taken at its word.
      const epoch = request.query.epoch === undefined ? undefined : Number(request.query.epoch);
      if (epoch === undefined && getTokenAuth(request)) throw badRequest('an access token must name the key epoch the snapshot is encrypted under (?epoch=)');
      const snapshot = { id, parent, data: bytes, blobIds, createdAt: ctx.now(), ...(epoch === undefined ? {} : { epoch }) };
      const result = await store.createSnapshot(ws.id, snapshot);
      if (result.ok) return { head: result.head };
      switch (result.reason) {
        case 'stale_epoch':
          throw new ApiError('conflict', `the team's key was rotated while you pushed (now epoch ${result.epoch}); push again to encrypt under the new key`);
        case 'conflict':
          throw new ApiError('conflict', 'the workspace head has moved; pull and try again', result.head);
        case 'missing_blobs':
          // A conflict with the server's state, not a bad request: the usual cause is a push that
          // paused between its upload and this request past the GC grace, and pushing again uploads them.
          throw new ApiError('conflict', `missing blobs: ${result.missing.length} referenced blob(s) not stored (not uploaded, or removed by garbage collection while the push paused)`);
        case 'exists':
          throw new ApiError('already_exists', 'this snapshot already exists');
        case 'no_workspace':
          throw notFound('workspace not found');
      }
    },
  });

  app.route<{ Params: Params; Querystring: { limit?: string; before?: string } }>({
    method: ROUTES.listSnapshots.method,
    url: ROUTES.listSnapshots.path,
    schema: schemas.listSnapshots,
    onRequest: authenticate,
    handler: async (request, reply): Promise<T.SnapshotListResponse | FastifyReply> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'read');
      const limit = Math.min(Number(request.query.limit ?? DEFAULT_LIST_LIMIT), LIMITS.maxSnapshotsPerList);
      // a page of whole manifests is cut by size too: 1000 of 10,000 files would be ~1.7 GB
      const opts: { limit: number; before?: string; maxBytes: number } = { limit, maxBytes: LIMITS.maxSnapshotListBytes };
      if (request.query.before !== undefined) opts.before = request.query.before;
      const list = await store.listSnapshots(ws.id, opts);
      if (wantsFrames(request.headers.accept)) return reply.type(SNAPSHOT_FRAMES_TYPE).send(encodeSnapshotFrames(list));
      return { snapshots: list.map(snapshotView) };
    },
  });

  app.route<{ Params: Params & { snapshotId: string } }>({
    method: ROUTES.getSnapshot.method,
    url: ROUTES.getSnapshot.path,
    schema: schemas.getSnapshot,
    onRequest: authenticate,
    handler: async (request, reply): Promise<T.SnapshotInfo | FastifyReply> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'read');
      const snap = await store.getSnapshot(ws.id, request.params.snapshotId);
      if (!snap) throw notFound('snapshot not found');
      if (wantsFrames(request.headers.accept)) return reply.type(SNAPSHOT_FRAMES_TYPE).send(encodeSnapshotFrames([snap]));
      return snapshotView(snap);
    },
  });
}

/** Binary snapshot frames only for a client that asks for them alone; JSON for everyone else. */
function wantsFrames(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes(SNAPSHOT_FRAMES_TYPE) && !accept.includes('json');
}

/** The creation body in either form: JSON with base64url data, or binary (SnapshotUpload). */
function snapshotUpload(body: T.CreateSnapshotRequest | Buffer): SnapshotUpload {
  if (Buffer.isBuffer(body)) {
    try {
      return decodeSnapshotUpload(body);
    } catch (err) {
      if (err instanceof SnapshotFrameError) throw badRequest(`bad snapshot body: ${err.message}`);
      throw err;
    }
  }
  try {
    return { id: body.id, parent: body.parent, blobIds: body.blobIds, data: fromB64(body.data) };
  } catch {
    throw badRequest('snapshot data is not base64url');
  }
}
