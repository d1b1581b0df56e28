/**
 * Which storage errors mean "the database cannot serve right now" rather than "a bug": the server
 * answers those 503 `unavailable` (clients retry later) instead of 500 `internal`. The reason is a
 * few fixed words for the message, never the driver's text, which may name paths or SQL.
 */

/** SQLite primary result codes (better-sqlite3 gives the extended code, e.g. SQLITE_READONLY_DBMOVED). */
const SQLITE_REASONS: Record<string, string> = {
  SQLITE_FULL: 'disk full',
  SQLITE_BUSY: 'database busy',
  SQLITE_LOCKED: 'database busy',
  SQLITE_READONLY: 'database read-only',
  SQLITE_CANTOPEN: 'database cannot be opened',
  SQLITE_IOERR: 'I/O error',
  SQLITE_NOMEM: 'out of memory',
  SQLITE_PROTOCOL: 'database busy',
};

/**
 * PostgreSQL SQLSTATEs, exact or by class (the first two characters). A statement cancelled by its
 * statement_timeout (57014, also an operator's pg_cancel_backend) or refused a lock within
 * lock_timeout (55P03), and a serialization failure or deadlock still there after the transaction's
 * retries (40001, 40P01), are load the client can wait out, like SQLite's busy timeout.
 */
const PG_REASONS: Record<string, string> = {
  '57P01': 'database shutting down',
  '57P02': 'database shutting down',
  '57P03': 'database starting up or not accepting connections',
  '57014': 'database statement timeout',
  '55P03': 'database busy',
  '40001': 'database busy',
  '40P01': 'database busy',
  '53': 'database out of resources',
  '08': 'database connection failed',
};

/** Socket errors of a database client (pg) that cannot reach or lost its server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * pg reports a connection that closed under it, or a pool that could not connect in time, only in
 * its message; these are its own fixed texts (node-postgres 8).
 */
const PG_CONNECTION_MESSAGES = [/^Connection terminated/, /^timeout exceeded when trying to connect$/, /^Client has encountered a connection error and is not queryable$/];
/** …and an answer that did not come within the connection's read timeout (postgres/db.ts). */
const PG_UNANSWERED_MESSAGE = /^Query read timeout$/;

/** A short reason when `err` (or an error it wraps) says the storage is unavailable; else null. */
export function storageUnavailableReason(err: unknown): string | null {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const reason = ownReason(e as { code?: unknown; message?: unknown });
    if (reason) return reason;
  }
  return null;
}

function ownReason(e: { code?: unknown; message?: unknown }): string | null {
  const code = typeof e.code === 'string' ? e.code : '';
  if (code.startsWith('SQLITE_')) {
    const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
    return SQLITE_REASONS[primary] ?? null;
  }
  if (NETWORK_CODES.has(code)) return 'database unreachable';
  if (/^[0-9A-Z]{5}$/.test(code)) return PG_REASONS[code] ?? PG_REASONS[code.slice(0, 2)] ?? null;
  const message = typeof e.message === 'string' ? e.message : '';
  if (PG_UNANSWERED_MESSAGE.test(message)) return 'database not answering';
  if (PG_CONNECTION_MESSAGES.some((re) => re.test(message))) return 'database connection lost';
  return null;
}
