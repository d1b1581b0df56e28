/**
 * One error shape for every failure: `{ error: { code, message } }` with ERROR_STATUS[code].
 * Bad input of any kind (schema, JSON syntax, content type, size) is a 4xx; only our own bugs (500)
 * and storage outages (503: disk full, database busy, down or unreachable) are 5xx, and their
 * details stay in the log.
 */
import type { IncomingMessage } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { ERROR_STATUS, type ErrorBody, type ErrorCode } from '../../protocol/errors.js';
import { storageUnavailableReason } from '../../storage/unavailable.js';
import { ApiError } from '../errors.js';

/** fastify's own errors, with fixed messages so nothing of the request body is echoed back */
const FRAMEWORK_ERRORS: Record<string, { code: ErrorCode; message: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'bad_request', message: 'body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'bad_request', message: 'body is empty but content-type is JSON' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'too_large', message: 'request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'bad_request', message: 'unsupported content-type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'bad_request', message: 'content-length does not match the body' },
  FST_ERR_CTP_INVALID_TYPE: { code: 'bad_request', message: 'invalid content-type' },
  FST_ERR_CTP_EMPTY_TYPE: { code: 'bad_request', message: 'missing content-type' },
};

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'rate_limited',
  503: 'unavailable',
};

/** What a client is told when storage fails: the kind of failure, never a path or SQL. */
export function storageUnavailableMessage(reason: string | null): string {
  return reason ? `the server's storage is unavailable (${reason})` : "the server's storage is unavailable";
}

export function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof ApiError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.head !== undefined) body.error.head = err.head;
    if (err.sessionEnded !== undefined) body.error.sessionEnded = err.sessionEnded;
    return { status: err.status, body };
  }
  const e = err as Partial<FastifyError> & { validation?: unknown; validationContext?: string };
  if (e.validation) {
    return { status: 400, body: { error: { code: 'bad_request', message: String(e.message ?? 'invalid request') } } };
  }
  const known = e.code ? FRAMEWORK_ERRORS[e.code] : undefined;
  if (known) return { status: ERROR_STATUS[known.code], body: { error: { ...known } } };
  // a full disk or a stopped database is an outage clients should wait out, not a bug of ours
  const storage = storageUnavailableReason(err);
  if (storage) return { status: ERROR_STATUS.unavailable, body: { error: { code: 'unavailable', message: storageUnavailableMessage(storage) } } };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'bad_request';
    return { status: ERROR_STATUS[code], body: { error: { code, message: 'bad request' } } };
  }
  const code: ErrorCode = status === 503 ? 'unavailable' : 'internal';
  return { status: ERROR_STATUS[code], body: { error: { code, message: code === 'internal' ? 'internal server error' : 'service unavailable' } } };
}

/**
 * Whether `err` is the client hanging up before its request arrived whole: node destroys the
 * request stream with an "aborted" error (code ECONNRESET) when the socket closes mid-body, and the
 * body parsers (fastify's and binary-body.ts) hand that very error on. Told apart by where it comes
 * from — the request stream's own error — not by its code, which a database client's lost
 * connection shares (and which stays a 503 storage outage).
 */
export function isClientAbort(err: unknown, raw: IncomingMessage): boolean {
  return err != null && raw.errored === err;
}

/**
 * `deletedAccount`: the answer instead of a failure (4xx) of a request whose account was deleted
 * while it ran, or null (plugins/auth.ts makeDeletedAccountCheck).
 */
export function registerErrorHandlers(
  app: FastifyInstance,
  deletedAccount?: (request: FastifyRequest, status: number) => Promise<ApiError | null>,
): void {
  app.setErrorHandler(async (err, request, reply) => {
    if (isClientAbort(err, request.raw)) {
      // nobody is left to answer: one line to say so, no stack (this is not a fault of the server)
      const e = err as { code?: unknown; message?: unknown };
      request.log.info({ req: request, error: { code: e.code, message: e.message } }, 'client closed the connection before its request arrived whole');
      return reply.code(400).type('application/json; charset=utf-8').send({ error: { code: 'bad_request', message: 'request aborted' } } satisfies ErrorBody);
    }
    let { status, body } = toErrorBody(err);
    // A lookup or write that found the caller's account gone (deleted after the session check)
    // answers as the next request with this session will: the account was deleted, not "not found",
    // "removed from the team" or a bare 401. A failed check leaves the answer as it was.
    if (deletedAccount && status < 500 && body.error.sessionEnded === undefined) {
      const gone = await deletedAccount(request, status).catch(() => null);
      if (gone) ({ status, body } = toErrorBody(gone));
    }
    if (body.error.code === 'unavailable') {
      // an outage fails every request alike: one line each with the reason; a stack would only repeat
      const e = err as { code?: unknown; message?: unknown };
      request.log.error({ req: request, error: { code: e.code, message: e.message } }, `request failed: ${body.error.message}`);
    } else if (status >= 500) request.log.error({ req: request, err }, 'request failed');
    return reply.code(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: 'no such route', unknownRoute: true } } satisfies ErrorBody);
  });
}
