/** Blob upload, presence check and download, as binary frames (docs/protocol.md §4). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeFrames, FrameError } from '../../protocol/blob-frames.js';
import { ROUTES } from '../../protocol/routes.js';
import { LIMITS, type BlobUploadResponse, type FetchBlobsRequest, type MissingBlobsRequest, type MissingBlobsResponse } from '../../protocol/types.js';
import type { ServerContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { framedLength, frameStream } from '../frame-stream.js';
import type { WorkspaceGuard } from '../plugins/auth.js';
import { schemas } from '../../protocol/schemas.js';

type Params = { workspaceId: string };

export function registerBlobRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  authenticate: (r: FastifyRequest) => Promise<void>,
  requireWorkspaceAccess: WorkspaceGuard,
): void {
  const { store } = ctx;

  app.route<{ Params: Params; Body: MissingBlobsRequest }>({
    method: ROUTES.missingBlobs.method,
    url: ROUTES.missingBlobs.path,
    schema: schemas.missingBlobs,
    onRequest: authenticate,
    handler: async (request): Promise<MissingBlobsResponse> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'write');
      return { missing: await store.missingBlobs(ws.id, request.body.ids) };
    },
  });

  app.route<{ Params: Params; Body: unknown }>({
    method: ROUTES.uploadBlobs.method,
    url: ROUTES.uploadBlobs.path,
    schema: schemas.uploadBlobs,
    bodyLimit: LIMITS.maxBlobBatchBytes,
    onRequest: authenticate,
    handler: async (request): Promise<BlobUploadResponse> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'write');
      const body = request.body ?? Buffer.alloc(0);
      if (!Buffer.isBuffer(body)) throw badRequest('blob uploads are application/octet-stream frames');
      let frames;
      try {
        frames = decodeFrames(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), LIMITS.maxBlobBytes, {
          minFrameBytes: LIMITS.minBlobBytes,
          distinctIds: true,
        });
      } catch (err) {
        if (err instanceof FrameError) throw badRequest(`bad blob frames: ${err.message}`);
        throw err;
      }
      const result = await store.putBlobs(ws.id, frames);
      // deleted after the access check: as if this upload had come after the deletion
      if (!result.ok) throw notFound('workspace not found');
      return { stored: result.stored };
    },
  });

  app.route<{ Params: Params; Body: FetchBlobsRequest }>({
    method: ROUTES.fetchBlobs.method,
    url: ROUTES.fetchBlobs.path,
    schema: schemas.fetchBlobs,
    onRequest: authenticate,
    handler: async (request, reply) => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'read');
      const plan = await store.planBlobFetch(ws.id, request.body.ids, LIMITS.maxFetchBytes);
      void reply.type('application/octet-stream');
      if (plan.length === 0) return reply.send(Buffer.alloc(0));
      void reply.header('content-length', framedLength(plan));
      const damaged = (id: string, storedBytes: number, recordedBytes: number): void =>
        request.log.error({ blob: id, storedBytes, recordedBytes }, 'a stored blob is not as long as its record says: damaged storage (the client sees an integrity failure)');
      return reply.send(frameStream(store, ws.id, plan, damaged));
    },
  });
}
