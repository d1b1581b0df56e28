import { ERROR_STATUS, type ErrorCode, type SessionEnded } from '../protocol/errors.js';

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
