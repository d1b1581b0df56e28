/** The one place where error codes become exit statuses (SPEC §4). */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  conflict: 3,
  auth: 4,
  notFound: 5,
  unreachable: 6,
  integrity: 7,
  /** SIGINT's conventional status: a cancelled command that cleaned up (CancelledError) */
  cancelled: 130,
} as const;

const BY_CODE: Record<string, number> = {
  usage: EXIT.usage,
  missing_input: EXIT.usage,
  bad_argument: EXIT.usage,
  // The server refused the input (a bad duration, a malformed code). A client bug that sends a bad
  // request lands here too, which SPEC §4 allows: usage or bad input either way.
  bad_request: EXIT.usage,
  conflict: EXIT.conflict,
  unauthorized: EXIT.auth,
  forbidden: EXIT.auth,
  not_logged_in: EXIT.auth,
  not_found: EXIT.notFound,
  unreachable: EXIT.unreachable,
  rate_limited: EXIT.unreachable,
  integrity: EXIT.integrity,
  // A server that offers KDF parameters below our minimum is treated like tampering.
  weak_kdf: EXIT.integrity,
  cancelled: EXIT.cancelled,
};

export function exitCodeFor(code: string): number {
  return BY_CODE[code] ?? EXIT.failure;
}
