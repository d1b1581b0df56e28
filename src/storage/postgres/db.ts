/**
 * The pool the PostgreSQL store runs on, with the two ways it touches the database: single
 * statements on any pooled connection, and transactions (BEGIN … COMMIT on one connection).
 */
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { checkAppliedMigrations, migrationChecksum, type AppliedMigration } from '../schema-version.js';
import { ERASE_LOCK_TIMEOUT_MS, type EraseReport } from '../store.js';

export type Row = Record<string, unknown>;

/** What a transaction body gets: statements on the transaction's one connection. */
export interface Tx {
  query<R extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** affected row count of an INSERT / UPDATE / DELETE */
  exec(sql: string, params?: readonly unknown[]): Promise<number>;
}

/** Errors PostgreSQL asks the client to retry: serialization failure, deadlock, unique race. */
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const ATTEMPTS = 4;

/** How long to wait for a new connection, when the URL sets no libpq `connect_timeout`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** The `statement_timeout` set on each connection whose role, database and URL set none (or 0). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 20_000;
/**
 * How much longer than its statement_timeout a connection waits for an answer before it gives up
 * on the database (a server that accepts connections but does not answer, e.g. stopped): the
 * database's own timeout, which cancels the statement and leaves the connection usable, comes first.
 */
export const UNANSWERED_MARGIN_MS = 10_000;

/** pg's own text for an answer that did not come within query_timeout. */
const READ_TIMEOUT_MESSAGE = 'Query read timeout';

export interface PoolOptions {
  poolSize?: number;
  /** default: the URL's connect_timeout (seconds, as libpq reads it; 0 = none), else DEFAULT_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number;
  /** default DEFAULT_STATEMENT_TIMEOUT_MS */
  statementTimeoutMs?: number;
}

/** The connection's client-side bound on an answer (pg reads it from here for every query). */
function setReadTimeout(client: pg.ClientBase, ms: number): void {
  (client as unknown as { connectionParameters: { query_timeout: number } }).connectionParameters.query_timeout = ms;
}

/**
 * A pool whose waits are bounded: a new connection within the connect timeout; a statement within
 * the session's statement_timeout (the database cancels it: SQLSTATE 57014), which is set to the
 * default on connections that have none, so the role's, the database's or the URL's
 * (`options=-c statement_timeout=…`) wins; and any answer within that plus UNANSWERED_MARGIN_MS,
 * after which the connection is given up (its error is "Query read timeout"). Without them a
 * database that accepts TCP connections but does not answer held requests until the client gave
 * up (two minutes) and the server's start and `migrate` for ever.
 */
export function createPool(url: string, options: PoolOptions = {}): pg.Pool {
  const connectTimeoutMs = options.connectTimeoutMs ?? urlConnectTimeoutMs(url) ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const statementTimeoutMs = options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: connectTimeoutMs,
    // until onConnect has read the session's statement_timeout: the setup queries themselves
    query_timeout: connectTimeoutMs || statementTimeoutMs + UNANSWERED_MARGIN_MS,
    // names the server's connections in pg_stat_activity, unless the URL's application_name does
    fallback_application_name: 'insomnia-sync-server',
    onConnect: async (client) => {
      const { rows } = await client.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'statement_timeout'");
      let ms = Number(rows[0]?.setting ?? 0);
      if (!(ms > 0)) {
        await client.query(`SET statement_timeout = ${Math.round(statementTimeoutMs)}`);
        ms = statementTimeoutMs;
      }
      setReadTimeout(client, ms + UNANSWERED_MARGIN_MS);
    },
  });
  // An idle connection the server drops (restart, admin kill) is an 'error' event on the pool; the
  // next query opens a new one. Without a listener the event would end the process.
  pool.on('error', () => {});
  return pool;
}

/** libpq's connect_timeout parameter of the URL, in ms (0: wait for ever); undefined when absent or not a number. */
function urlConnectTimeoutMs(url: string): number | undefined {
  try {
    const value = new URL(url).searchParams.get('connect_timeout');
    if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
    const seconds = Number(value);
    // libpq: 0 is no limit, and anything below 2 seconds counts as 2
    return seconds === 0 ? 0 : Math.max(2, seconds) * 1000;
  } catch {
    return undefined;
  }
}

/** The connection itself failed or stopped answering: no ROLLBACK can be sent on it, it must not be reused. */
function connectionGone(err: unknown): boolean {
  const e = err as { message?: unknown; code?: unknown };
  if (e?.message === READ_TIMEOUT_MESSAGE) return true;
  return typeof e?.code === 'string' && /^(E[A-Z]+|08\w{3}|57P0[123])$/.test(e.code);
}

/** Any value that picks the migration lock: one lock for every server on the database. */
export const MIGRATION_LOCK = 0x15_05_00_01;

export class PgDb implements Tx {
  constructor(readonly pool: pg.Pool) {}

  async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(sql, params as unknown[])).rows;
  }

  async exec(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.pool.query(sql, params as unknown[])).rowCount ?? 0;
  }

  /**
   * Runs `body` in one transaction (READ COMMITTED; bodies lock what they compare-and-swap with
   * SELECT … FOR UPDATE). A deadlock, serialization failure or a unique-key race with another
   * writer rolls back and runs the body again: each body checks before it inserts, so the retry
   * sees the row that won and answers as if it had come second.
   */
  async tx<T>(body: (tx: Tx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      const tx: Tx = {
        query: async <R extends Row = Row>(sql: string, params: readonly unknown[] = []) => (await client.query<R>(sql, params as unknown[])).rows,
        exec: async (sql, params = []) => (await client.query(sql, params as unknown[])).rowCount ?? 0,
      };
      let broken = false;
      try {
        await client.query('BEGIN');
        const result = await body(tx);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // a connection that timed out still has its statement in flight: a ROLLBACK would only
        // queue behind it; closing the connection ends the transaction on the server
        if (connectionGone(err)) broken = true;
        else {
          try {
            await client.query('ROLLBACK');
          } catch {
            broken = true; // the connection is gone: do not hand it back to the pool
          }
        }
        if (attempt < ATTEMPTS && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Throws SchemaMismatchError for a schema newer than this build's or an applied migration that
   * differs from it; writes nothing. A database without schema_migrations passes (nothing applied).
   */
  async checkSchema(client: Pick<pg.PoolClient, 'query'> = this.pool): Promise<void> {
    const applied = await appliedMigrations(client);
    if (applied) checkAppliedMigrations(applied, POSTGRES_MIGRATIONS);
  }

  /** Store.eraseDeletedRows on PostgreSQL (see there). */
  async eraseDeletedRows(): Promise<EraseReport> {
    const client = await this.pool.connect();
    try {
      const { rows: notOwned } = await client.query<{ name: string }>(
        `SELECT t.name FROM unnest($1::text[]) WITH ORDINALITY AS t(name, n) JOIN pg_class c ON c.oid = to_regclass(t.name)
         WHERE NOT pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY t.n`,
        [SERVICE_DATA_TABLES],
      );
      if (notOwned.length > 0) {
        const { rows } = await client.query<{ role: string }>('SELECT quote_ident(current_user) AS role');
        throw new EraseRefusedError(
          `the role ${rows[0]?.role ?? ''} does not own ${notOwned.map((r) => r.name).join(', ')}: only their owner (the role that migrated them) or a superuser can rewrite them; run this command as that role`,
        );
      }
      // A rewrite may take a while and must not be cut short; its wait for a table's lock must be
      // short, since every request for the table queues behind it. The connection is not reused.
      await client.query('SET statement_timeout = 0');
      await client.query(`SET lock_timeout = ${ERASE_LOCK_TIMEOUT_MS}`);
      setReadTimeout(client, 0);
      const tables: string[] = [];
      for (const table of SERVICE_DATA_TABLES) {
        // the names are ours (quoted all the same); VACUUM takes no parameters and no transaction
        await client.query(`VACUUM (FULL, ANALYZE) ${pg.escapeIdentifier(table)}`);
        tables.push(table);
      }
      // ANALYZE keeps sample values of each column (emails among them) in pg_statistic, whose old
      // rows only a superuser's rewrite removes
      const { rows } = await client.query<{ super: boolean }>('SELECT rolsuper AS super FROM pg_roles WHERE rolname = current_user');
      const statistics = rows[0]?.super === true;
      if (statistics) await client.query('VACUUM FULL pg_catalog.pg_statistic');
      return { tables, statistics, walTruncated: null };
    } finally {
      client.release(true);
    }
  }

  /**
   * True when every migration of this build is applied with its checksum recorded; throws
   * SchemaMismatchError as checkSchema does. Reads only.
   */
  async schemaIsCurrent(): Promise<boolean> {
    const applied = await appliedMigrations(this.pool);
    if (!applied) return false;
    checkAppliedMigrations(applied, POSTGRES_MIGRATIONS);
    return POSTGRES_MIGRATIONS.every((_, i) => applied.some((m) => m.version === i + 1 && m.checksum !== null));
  }

  /**
   * Checks the schema (checkSchema), records the checksums of migrations applied before they were
   * recorded, then applies the pending migrations, each in its own transaction with its checksum,
   * holding an advisory lock so servers started at the same moment take turns instead of racing
   * on the same DDL.
   */
  async migrate(): Promise<number[]> {
    // Up to date (every start of every server but the first after an upgrade): no lock, no DDL,
    // nothing written, so a role with data rights only can run the server on a migrated schema.
    if (await this.schemaIsCurrent()) return [];
    const client = await this.pool.connect();
    const applied: number[] = [];
    try {
      // A migration may rewrite a large table, and the lock waits for another server's migration:
      // neither is cut short. The connection is closed afterwards rather than reused so.
      await client.query('SET statement_timeout = 0');
      setReadTimeout(client, 0);
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query('BEGIN');
        try {
          // refused before anything is written: a newer schema is left as it is
          await this.checkSchema(client);
          await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL, checksum text)');
          // only when missing: ALTER … IF NOT EXISTS would still need to own the table
          if (!(await hasChecksumColumn(client))) await client.query('ALTER TABLE schema_migrations ADD COLUMN checksum text');
          // applied before checksums were kept: this build's text is all there is to go on
          for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
            await client.query('UPDATE schema_migrations SET checksum = $1 WHERE version = $2 AND checksum IS NULL', [migrationChecksum(sql), i + 1]);
          }
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
        const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
          const version = i + 1;
          if (done.has(version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(sql);
            await client.query('INSERT INTO schema_migrations (version, applied_at, checksum) VALUES ($1, now(), $2)', [version, migrationChecksum(sql)]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK');
            throw err;
          }
          applied.push(version);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      }
    } finally {
      client.release(true);
    }
    return applied;
  }
}

/**
 * The tables whose rows hold service data in plain text (emails, names, IP addresses and client
 * names, token names, team names, password verifiers), which eraseDeletedRows rewrites.
 */
export const SERVICE_DATA_TABLES = ['users', 'email_verifications', 'team_invitations', 'sessions', 'access_tokens', 'account_recovery', 'teams'] as const;

/** The role may not rewrite the tables (VACUUM FULL needs their owner, or a superuser). */
export class EraseRefusedError extends Error {
  readonly code = 'erase_refused';
}

/** The checksum column of schema_migrations (found through the search_path, as every query is). */
async function hasChecksumColumn(client: Pick<pg.PoolClient, 'query'>): Promise<boolean> {
  const { rows } = await client.query(
    "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('schema_migrations') AND attname = 'checksum' AND NOT attisdropped",
  );
  return rows.length > 0;
}

/** The applied migrations, or null when there is no schema_migrations table (a new database). */
async function appliedMigrations(client: Pick<pg.PoolClient, 'query'>): Promise<AppliedMigration[] | null> {
  const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('schema_migrations')::text AS t");
  if (rows[0]?.t == null) return null;
  const sql = (await hasChecksumColumn(client)) ? 'SELECT version, checksum FROM schema_migrations' : 'SELECT version, NULL::text AS checksum FROM schema_migrations';
  return (await client.query<{ version: number; checksum: string | null }>(sql)).rows;
}
