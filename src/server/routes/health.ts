/**
 * GET /healthz (docs/protocol.md §3.1): for load balancers, so it asks the database too — a server
 * whose database is down must drop out of rotation, not keep answering "ok".
 */
import type { FastifyInstance } from 'fastify';
import type { ErrorBody } from '../../protocol/errors.js';
import { PROTOCOL_REVISION } from '../../protocol/revision.js';
import { ROUTES } from '../../protocol/routes.js';
import { storageUnavailableReason } from '../../storage/unavailable.js';
import type { ServerContext } from '../context.js';
import { schemas } from '../../protocol/schemas.js';
import { storageUnavailableMessage } from '../plugins/errors.js';
import { SCHEMA_NEWER_REASON } from '../schema-guard.js';

/** A pool waiting on an unreachable host can take minutes; a probe must answer before the balancer gives up. */
export const PING_TIMEOUT_MS = 3000;

type Down = { ok: false; protocol: number } & ErrorBody;

const down = {
  type: 'object',
  required: ['ok', 'protocol', 'error'],
  properties: {
    ok: { type: 'boolean' },
    protocol: { type: 'integer' },
    error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/** `schemaRefusal`: non-null once the database's schema is newer than this server's (schema-guard.ts) */
export function registerHealthRoute(app: FastifyInstance, ctx: ServerContext, schemaRefusal: () => Promise<string | null>): void {
  app.route({
    method: ROUTES.healthz.method,
    url: ROUTES.healthz.path,
    schema: { response: { ...schemas.healthz.response, 503: down } },
    handler: async (request, reply) => {
      try {
        await withTimeout(ctx.store.ping(), PING_TIMEOUT_MS);
        // out of rotation too: a balancer then sends the requests to the servers already upgraded
        if (await withTimeout(schemaRefusal(), PING_TIMEOUT_MS)) {
          const body: Down = { ok: false, protocol: PROTOCOL_REVISION, error: { code: 'unavailable', message: storageUnavailableMessage(SCHEMA_NEWER_REASON) } };
          return reply.code(503).send(body);
        }
      } catch (err) {
        const body: Down = { ok: false, protocol: PROTOCOL_REVISION, error: { code: 'unavailable', message: storageUnavailableMessage(storageUnavailableReason(err)) } };
        // a balancer polls this all through an outage: one line each with the reason, no stack (as plugins/errors.ts)
        const e = err as { code?: unknown; message?: unknown };
        request.log.error({ req: request, error: { code: e.code, message: e.message } }, `health check: ${body.error.message}`);
        return reply.code(503).send(body);
      }
      return { ok: true, protocol: PROTOCOL_REVISION };
    },
  });
}

class PingTimeout extends Error {
  readonly code = 'ETIMEDOUT';
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PingTimeout(`no answer from the database within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
