/**
 * A bound on request bodies held in memory at once. Blob batches (and binary snapshots) are read
 * whole into a buffer of their declared length before they are stored, so without a bound forty
 * concurrent 64 MiB uploads from one write token took the server to 1.6 GB. Each authenticated
 * request with a body over SMALL_BODY_BYTES reserves its declared length (a body without one: the
 * route's limit) before a byte of it is read, server-wide and for its account (a token counts for
 * the member who made it). A request that does not fit is answered at once, the body unread:
 * 429 `rate_limited` when its account's share is full, 503 `unavailable` when the server's is,
 * both with `Retry-After`; the CLI waits and sends it again. A request alone in flight always
 * fits, whatever its size, so no legal body is refused for good. The reservation ends with the
 * response, or when the connection goes (an aborted upload), or when the body stalls: a reserved
 * body that receives no bytes for `stallMs` (--upload-stall-timeout, default 30 s) has its
 * connection closed, so a client that stops sending cannot hold its account's share (and stall
 * the account's other uploads) until the 300 s request timeout.
 */
import { Transform, pipeline, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BODY_NOT_READ_HEADER } from '../protocol/revision.js';
import { LIMITS } from '../protocol/types.js';
import { ApiError } from './errors.js';
import { accountOf } from './plugins/auth.js';
import { toErrorBody } from './plugins/errors.js';

export interface UploadBudgetSettings {
  /** body bytes in flight on the whole server */
  serverBytes: number;
  /** body bytes in flight for one account (its sessions and its access tokens) */
  accountBytes: number;
}

const MiB = 1024 * 1024;

/** A push has at most three ~1 MiB blob batches in flight, and then one snapshot: far below these. */
export const DEFAULT_UPLOAD_BUDGET: UploadBudgetSettings = { serverBytes: 256 * MiB, accountBytes: 128 * MiB };

/** Bodies up to this size are not counted (every anonymous route's limit, hardening.ts). */
export const SMALL_BODY_BYTES = 64 * 1024;

/** Seconds a refused client is told to wait; uploads are short, so the budget frees up quickly. */
export const UPLOAD_RETRY_AFTER_SECONDS = 1;

/**
 * How long a reserved body may receive nothing before its connection is closed. A push sends a
 * 1-2 MiB batch in well under a second on any working link; 30 s of silence is a client that
 * stopped (suspended, cut off, or holding the budget on purpose), not a slow one.
 */
export const DEFAULT_UPLOAD_STALL_MS = 30_000;

/** Bytes reserved server-wide and per account; `reserve` never blocks. */
export class ByteBudget {
  private used = 0;
  private readonly byAccount = new Map<string, number>();

  constructor(readonly settings: UploadBudgetSettings) {}

  /** bytes reserved now, server-wide or for one account */
  inUse(account?: string): number {
    return account === undefined ? this.used : (this.byAccount.get(account) ?? 0);
  }

  /** A release function (call it once; more calls do nothing), or which share is full. */
  reserve(account: string, bytes: number): (() => void) | 'account' | 'server' {
    const mine = this.byAccount.get(account) ?? 0;
    if (mine > 0 && mine + bytes > this.settings.accountBytes) return 'account';
    if (this.used > 0 && this.used + bytes > this.settings.serverBytes) return 'server';
    this.used += bytes;
    this.byAccount.set(account, mine + bytes);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      const left = (this.byAccount.get(account) ?? bytes) - bytes;
      if (left > 0) this.byAccount.set(account, left);
      else this.byAccount.delete(account);
    };
  }
}

/** The bytes a request's body will take once read, or null when it is not counted. */
function declaredBytes(request: FastifyRequest): number | null {
  const length = request.headers['content-length'];
  const limit = Math.min(request.routeOptions.bodyLimit ?? LIMITS.maxJsonBodyBytes, LIMITS.maxBlobBatchBytes);
  if (length === undefined) {
    // no length: a chunked body is counted at the most it may be; no body at all is not counted
    return request.headers['transfer-encoding'] !== undefined ? limit : null;
  }
  const n = Number(length);
  // a malformed or oversized length is refused by the body parser before anything is read
  if (!Number.isSafeInteger(n) || n <= SMALL_BODY_BYTES || n > limit) return null;
  return n;
}

/** `stallMs`: see DEFAULT_UPLOAD_STALL_MS; 0 turns the watchdog off. */
export function installUploadBudget(app: FastifyInstance, budget: ByteBudget, stallMs = DEFAULT_UPLOAD_STALL_MS): void {
  const releases = new WeakMap<FastifyRequest, () => void>();
  app.addHook('preParsing', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const bytes = declaredBytes(request);
    if (bytes === null) return payload;
    const account = accountOf(request);
    // unauthenticated routes take 64 KiB at most (hardening.ts)
    if (account === undefined) return payload;
    const release = budget.reserve(account, bytes);
    if (typeof release === 'function') {
      releases.set(request, release);
      // the response's 'close' comes once it is sent, and also when the client goes away mid-upload
      reply.raw.once('close', release);
      return stallMs > 0 ? watchProgress(request, reply, payload, stallMs, bytes, release) : payload;
    }
    // answered here, not thrown: a busy moment is no server error to log with a stack
    request.log.warn({ bytes, full: release }, 'upload refused: upload memory in use');
    const { status, body } = toErrorBody(
      release === 'account'
        ? new ApiError('rate_limited', 'too many uploads in flight for this account; retry in a moment')
        : new ApiError('unavailable', 'the server is busy receiving other uploads; retry in a moment'),
    );
    return reply
      .code(status)
      .header('retry-after', String(UPLOAD_RETRY_AFTER_SECONDS))
      .header(BODY_NOT_READ_HEADER, '1')
      .type('application/json; charset=utf-8').send(body);
  });
  // also here: app.inject's answers do not always emit 'close'
  app.addHook('onResponse', async (request) => {
    releases.get(request)?.();
  });
}

/**
 * The body as fastify's parsers read it, through a pass-through that closes the connection when no
 * byte arrives for `stallMs` (from the headers on, then after each chunk): the reservation is
 * released, a warning logged (sizes and the wait only), and the parser ends with an error. The
 * watch ends with the body or the response.
 */
function watchProgress(request: FastifyRequest, reply: FastifyReply, payload: Readable, stallMs: number, declared: number, release: () => void): Readable {
  let received = 0;
  const stalled = (): void => {
    release();
    request.log.warn({ bytes: declared, received, stallSeconds: stallMs / 1000 }, 'upload ended: its body stalled, reservation released');
    // a stuck client reads no answer: the connection goes, as for --request-timeout
    watched.destroy(Object.assign(new Error('request body stalled'), { statusCode: 408 }));
    request.raw.destroy();
  };
  const timer = setTimeout(stalled, stallMs);
  timer.unref();
  // answered before the body was read (the connection may then serve the next request): no watch
  reply.raw.once('close', () => clearTimeout(timer));
  const watched = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      // what fastify compares with Content-Length (the body is passed on unchanged)
      (this as Transform & { receivedEncodedLength?: number }).receivedEncodedLength = received;
      timer.refresh();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
  });
  // an upload the client abandons ends the parser with an error instead of leaving it waiting
  pipeline(payload, watched, () => clearTimeout(timer));
  return watched;
}
