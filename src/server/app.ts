/**
 * Builds the sync server's fastify instance from its dependencies. Never listens: main.ts does,
 * tests call `app.inject`.
 */
import { DEFAULT_KDF as CLIENT_DEFAULT_KDF } from '../crypto/kdf.js';
import { randomBytes } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { ROUTES } from '../protocol/routes.js';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../protocol/revision.js';
import { LIMITS } from '../protocol/types.js';
import type { Store } from '../storage/store.js';
import type { KdfDefaults, ServerContext } from './context.js';
import { readBinaryBody } from './binary-body.js';
import { RequestLogController, loggerOptions } from './logging.js';
import { makeAuthenticate, makeDeletedAccountCheck, makeRequireWorkspaceAccess } from './plugins/auth.js';
import { registerErrorHandlers, storageUnavailableMessage } from './plugins/errors.js';
import { ApiError } from './errors.js';
import { DEFAULT_SCHEMA_CHECK, SCHEMA_NEWER_REASON, SchemaGuard } from './schema-guard.js';
import { DEFAULT_TIMEOUTS, frameworkErrors, installHardening } from './hardening.js';
import { DEFAULT_RATE_LIMITS, installRateLimits, type RateLimitSettings } from './rate-limits.js';
import { ByteBudget, DEFAULT_UPLOAD_BUDGET, DEFAULT_UPLOAD_STALL_MS, installUploadBudget, type UploadBudgetSettings } from './upload-budget.js';
import { discardMailer, type Mailer } from './mail/mailer.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerBlobRoutes } from './routes/blobs.js';
import { registerHealthRoute } from './routes/health.js';
import { registerSnapshotRoutes } from './routes/snapshots.js';
import { registerTeamRoutes } from './routes/teams.js';
import { registerTokenRoutes } from './routes/tokens.js';
import { registerWorkspaceRoutes } from './routes/workspaces.js';

export interface AppDeps {
  store: Store;
  /** false/undefined: no logs; true: pino JSON to stdout; object: pino options (e.g. `{ stream }`, `{ file }`) */
  logger?: boolean | Record<string, unknown>;
  /** Argon2id parameters for new accounts and for unknown emails at prelogin */
  kdfDefaults?: KdfDefaults;
  /** 32 secret bytes; keys the fake prelogin salts */
  serverSecret: Uint8Array;
  /** idle lifetime of a session (default 30 days) */
  sessionTtlMs?: number;
  now?: () => Date;
  /** transactional mail (default: discard; main.ts passes an outbox or SMTP mailer) */
  mailer?: Mailer;
  /** per-IP and per-account limits on guessing routes (default DEFAULT_RATE_LIMITS) */
  rateLimits?: RateLimitSettings;
  /** serve HTTPS with this PEM certificate chain and key (adds Strict-Transport-Security) */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** fastify trustProxy: take the client IP from X-Forwarded-For set by these proxies */
  trustProxy?: boolean | string | string[];
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** request body bytes held at once, server-wide and per account (default DEFAULT_UPLOAD_BUDGET); tests pass a ByteBudget to watch it */
  uploadBudget?: UploadBudgetSettings | ByteBudget;
  /** close the connection of a budgeted upload whose body receives nothing for this long (default DEFAULT_UPLOAD_STALL_MS; 0: never) */
  uploadStallTimeoutMs?: number;
  /** how often the database's schema version is read again (default DEFAULT_SCHEMA_CHECK; see schema-guard.ts) */
  schemaCheck?: { maxAgeMs: number; intervalMs: number };
}

/** New accounts get the client's default cost (measured to take about a second here; see src/crypto/kdf.ts). */
export const DEFAULT_KDF: KdfDefaults = { ...CLIENT_DEFAULT_KDF };
export const DEFAULT_SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

export function buildApp(deps: AppDeps): FastifyInstance {
  if (deps.serverSecret.length < 32) throw new Error('serverSecret must be at least 32 bytes');
  const ctx: ServerContext = {
    store: deps.store,
    serverSecret: deps.serverSecret,
    kdfDefaults: deps.kdfDefaults ?? DEFAULT_KDF,
    sessionTtlMs: deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    now: deps.now ?? (() => new Date()),
    mailer: deps.mailer ?? discardMailer,
  };

  const app = Fastify({
    logger: loggerOptions(deps.logger),
    logController: new RequestLogController(),
    bodyLimit: LIMITS.maxJsonBodyBytes,
    genReqId: () => randomBytes(8).toString('hex'),
    return503OnClosing: true,
    frameworkErrors,
    connectionTimeout: deps.connectionTimeoutMs ?? DEFAULT_TIMEOUTS.connectionTimeoutMs,
    requestTimeout: deps.requestTimeoutMs ?? DEFAULT_TIMEOUTS.requestTimeoutMs,
    keepAliveTimeout: DEFAULT_TIMEOUTS.keepAliveTimeoutMs,
    ...(deps.trustProxy !== undefined ? { trustProxy: deps.trustProxy } : {}),
    ...(deps.tls ? { https: { cert: deps.tls.cert, key: deps.tls.key } } : {}),
    forceCloseConnections: 'idle',
    ajv: {
      customOptions: {
        // reject unknown fields and wrong types instead of silently fixing them
        removeAdditional: false,
        coerceTypes: false,
        allErrors: false,
      },
    },
  }) as unknown as FastifyInstance;

  registerErrorHandlers(app, makeDeletedAccountCheck(ctx));
  installHardening(app, { tls: deps.tls !== undefined });
  installRateLimits(app, deps.rateLimits ?? DEFAULT_RATE_LIMITS, ctx);
  const budget = deps.uploadBudget ?? DEFAULT_UPLOAD_BUDGET;
  installUploadBudget(app, budget instanceof ByteBudget ? budget : new ByteBudget(budget), deps.uploadStallTimeoutMs ?? DEFAULT_UPLOAD_STALL_MS);

  app.addContentTypeParser('application/octet-stream', (request, payload, done) => {
    const limit = Math.min(request.routeOptions.bodyLimit ?? LIMITS.maxBlobBatchBytes, LIMITS.maxBlobBatchBytes);
    readBinaryBody(payload, request.headers['content-length'], limit, done);
  });

  app.addHook('onRequest', async (request, reply) => {
    // node asks the socket for its peer on first use: ask now, so a request whose client hangs up
    // mid-body still logs its IP (a closed socket has none to tell)
    void request.raw.socket?.remoteAddress;
    void reply.header('x-request-id', request.id);
    void reply.header(PROTOCOL_REVISION_HEADER, String(PROTOCOL_REVISION));
  });

  // a newer server migrated the database: answer nothing more from it (healthz says so itself)
  const schema = new SchemaGuard(deps.store, {
    ...(deps.schemaCheck ?? DEFAULT_SCHEMA_CHECK),
    onMismatch: (message) => app.log.error(`${message}. This server now answers every request 503: upgrade it to the newer release`),
  });
  app.addHook('onClose', async () => schema.stop());
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === ROUTES.healthz.path) return;
    if (await schema.current()) throw new ApiError('unavailable', storageUnavailableMessage(SCHEMA_NEWER_REASON));
  });

  registerHealthRoute(app, ctx, () => schema.current());

  const authenticate = makeAuthenticate(ctx);
  const requireWorkspaceAccess = makeRequireWorkspaceAccess(ctx);
  registerAuthRoutes(app, ctx, authenticate);
  registerWorkspaceRoutes(app, ctx, authenticate, requireWorkspaceAccess);
  registerBlobRoutes(app, ctx, authenticate, requireWorkspaceAccess);
  registerSnapshotRoutes(app, ctx, authenticate, requireWorkspaceAccess);
  registerAccountRoutes(app, ctx, authenticate);
  registerTokenRoutes(app, ctx, authenticate, requireWorkspaceAccess);
  registerTeamRoutes(app, ctx, authenticate);

  return app;
}
