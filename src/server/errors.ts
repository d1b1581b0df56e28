import { ERROR_STATUS, SESSION_ENDED, type ErrorCode, type SessionEnded } from '../protocol/errors.js';

/** An error the server answers as `{ error: { code, message } }` with ERROR_STATUS[code]. */
export class ApiError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** only for `conflict` on createSnapshot: the current head */
    readonly head?: string | null,
    /** only for `unauthorized`: why the session token presented no longer signs in */
    readonly sessionEnded?: SessionEnded,
  ) {
    super(message);
    this.status = ERROR_STATUS[code];
  }
}

export const notFound = (what = 'not found'): ApiError => new ApiError('not_found', what);
export const badRequest = (message: string): ApiError => new ApiError('bad_request', message);
export const unauthorized = (message = 'not signed in or session expired'): ApiError => new ApiError('unauthorized', message);

/**
 * The response schema of an error (protocol ErrorBody), the one every route declares: fastify's
 * serializer drops what a response schema does not name, so each optional field is listed here.
 */
export const ERROR_BODY_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        head: { type: ['string', 'null'] },
        sessionEnded: { type: 'string', enum: SESSION_ENDED },
      },
    },
  },
} as const;
