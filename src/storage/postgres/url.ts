/**
 * The `postgres://` URL as the operator gave it: checked before node-postgres sees it, described
 * in messages without the user or password. A password with `#`, `/`, `?`, `@`, `:` or `%` must be
 * percent-encoded in a URL (RFC 3986 userinfo); unencoded, the URL either fails to parse ("Invalid
 * URL", which said nothing of why) or, worse, parses as something else: in
 * `postgres://sync:12#x@db/sync` the host is `sync` and the "port" `12`, a piece of the password
 * that a message naming host:port would print. So anything after the authority that holds an `@`,
 * and any fragment, is refused here with the hint, before a connection is tried.
 */
import { StoreConfigError } from '../store.js';

/** What to do about a URL that does not parse as the operator meant. */
export const PERCENT_ENCODING_HINT =
  'percent-encode special characters of the user name and password (# as %23, / as %2F, ? as %3F, @ as %40, : as %3A, % as %25), or leave the password out of the URL and give it in PGPASSWORD or ~/.pgpass';

/** Parses a postgres:// or postgresql:// URL; throws StoreConfigError (never naming the URL) when it cannot be what was meant. */
export function parsePostgresUrl(url: string): URL {
  const refuse = (why: string): never => {
    throw new StoreConfigError(`the PostgreSQL URL ${why}: ${PERCENT_ENCODING_HINT}`);
  };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // the parser's own error carries the input, password and all: not passed on as a cause
    return refuse('cannot be parsed');
  }
  const authority = /^[^:]*:\/\/[^/?#]*/.exec(url)?.[0] ?? '';
  const rest = url.slice(authority.length);
  if (u.hash || url.includes('#') || rest.includes('@')) refuse('has a # or an @ after its host: a password with such characters must be encoded');
  try {
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
  } catch {
    refuse('has a % in its user name or password that is not an encoded character');
  }
  return u;
}

/** host:port/database of a URL, for messages: never the user or password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** Whether the URL carries a password (in its user info, or as a `password` parameter). */
export function urlHasPassword(url: string): boolean {
  try {
    const u = new URL(url);
    return u.password !== '' || u.searchParams.has('password');
  } catch {
    // unparsable: whatever follows `user:` up to an `@` may well be one
    return /^[a-z][a-z0-9+.-]*:\/\/[^@/]*:[^@]*@/i.test(url);
  }
}

/** `text` with the password of every URL in it (user info or `password=` parameter) replaced by `***`. */
export function redactUrlPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:@/\s]*:)[^\s]*@/gi, '$1***@').replace(/([?&]password=)[^&\s]*/gi, '$1***');
}

/**
 * libpq's weaker sslmodes, which node-postgres 8 takes as verify-full (it checks the server's
 * certificate and host name) while printing a nine-line SECURITY WARNING once per process. psql
 * and pg_dump, given the same URL, check nothing for prefer and require.
 */
const VERIFY_FULL_ALIASES = new Set(['prefer', 'require', 'verify-ca']);

/**
 * The URL as node-postgres is given it: an sslmode it treats as verify-full is spelled so (what it
 * does is unchanged, and its multi-line warning is not printed). Anything else is passed as written.
 */
export function driverUrl(url: string): string {
  const u = new URL(url);
  const mode = u.searchParams.get('sslmode');
  if (mode === null || !VERIFY_FULL_ALIASES.has(mode) || u.searchParams.get('uselibpqcompat') === 'true') return url;
  u.searchParams.set('sslmode', 'verify-full');
  return u.toString();
}

/** One-line warnings about a database URL (none for SQLite): what it means here that it may not mean to psql and pg_dump. */
export function databaseUrlWarnings(url: string | undefined): string[] {
  if (!url || !/^postgres(ql)?:\/\//.test(url.trim())) return [];
  let mode: string | null;
  try {
    const u = new URL(url.trim());
    if (u.searchParams.get('uselibpqcompat') === 'true') return [];
    mode = u.searchParams.get('sslmode');
  } catch {
    return [];
  }
  if (mode === null || !VERIFY_FULL_ALIASES.has(mode)) return [];
  return [
    `sslmode=${mode} in the database URL: the server checks the database's certificate and host name as for sslmode=verify-full (psql and pg_dump do not); write sslmode=verify-full, with sslrootcert=FILE naming the CA certificate unless a public CA issued it`,
  ];
}
