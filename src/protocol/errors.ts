/**
 * Stable error codes shared by server and client (docs/protocol.md §2).
 * The server answers every failure as `{ error: { code, message } }` with the HTTP status below;
 * the CLI maps each code to one exit status (src/cli/exit-codes.ts).
 */
export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  already_exists: 409,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  /**
   * `unknownRoute` is set (true) only on the 404 for a path or method the server has no route for,
   * so a client can tell a wrong server URL path from a missing workspace or team. `sessionEnded`
   * only on `unauthorized` for a session token the server still knows as ended.
   */
  error: { code: ErrorCode; message: string; head?: string | null; unknownRoute?: true; sessionEnded?: SessionEnded };
}

/**
 * Why a session token no longer signs in, on the 401 its holder gets (docs/protocol.md §2), so the
 * client can say what to do: signed out (`revoked`: logout, a password change, a recovery or a
 * revoke from another session), `expired`, or its account was deleted.
 */
export const SESSION_ENDED = ['revoked', 'expired', 'account_deleted'] as const;
export type SessionEnded = (typeof SESSION_ENDED)[number];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_STATUS, value);
}

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
