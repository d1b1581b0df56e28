/**
 * Errors a client service can raise. Each has a stable `code`; src/cli/exit-codes.ts maps codes to
 * exit statuses (SPEC §4) in one place. Messages are one line and never contain secrets.
 */
export class SyncError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** a second line telling the user what to do next */
    readonly hint?: string,
  ) {
    super(message);
  }

  /**
   * Lines shown between the message and the hint in human output (a list of the files concerned,
   * already quoted for a terminal); --json has the same in the error's details.
   */
  lines?: readonly string[];
}

/** Bad flags or arguments (exit 2). */
export class UsageError extends SyncError {
  constructor(message: string, hint?: string) {
    super('usage', message, hint);
  }
}

/** A required input (password, confirmation) has no source (exit 2). */
export class MissingInputError extends SyncError {
  constructor(message: string, hint?: string) {
    super('missing_input', message, hint);
  }
}

/** Remote moved, or a pull left conflicts (exit 3). */
export class ConflictError extends SyncError {
  constructor(message: string, hint?: string, readonly details?: unknown) {
    super('conflict', message, hint);
  }
}

/** Not logged in, wrong password, revoked session, forbidden (exit 4). */
export class AuthError extends SyncError {
  constructor(message: string, hint?: string, code = 'unauthorized') {
    super(code, message, hint);
  }
}

export class NotFoundError extends SyncError {
  constructor(message: string, hint?: string) {
    super('not_found', message, hint);
  }
}

/** The server cannot be reached or answers 5xx (exit 6). */
export class UnreachableError extends SyncError {
  constructor(message: string, hint?: string) {
    super('unreachable', message, hint);
  }
}

/**
 * The server refused for now: too many attempts (429). Exit 6 like unreachable (SPEC §4: "server
 * unavailable"), but its own code, so a script can tell waiting from a dead server.
 */
export class RateLimitedError extends SyncError {
  constructor(message: string, hint?: string) {
    super('rate_limited', message, hint);
  }
}

/** A ciphertext, signature or history check failed (exit 7). */
export class IntegrityFailure extends SyncError {
  constructor(message: string, hint?: string) {
    super('integrity', message, hint);
  }
}

/**
 * Stopped by Ctrl-C (or SIGTERM) in a command that cleans up first, or by Ctrl-C / Ctrl-D at a
 * prompt (exit 130, as a shell reports SIGINT).
 */
export class CancelledError extends SyncError {
  constructor(message = 'cancelled: nothing it had started is left behind') {
    super('cancelled', message);
  }
}
