/**
 * The pool the PostgreSQL store runs on, with the two ways it touches the database: single
 * statements on any pooled connection, and transactions (BEGIN … COMMIT on one connection).
 */
import pg from 'pg';
import { POSTGRES_MIGRATIONS } from './migrations.js';

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

/** Any value that picks the migration lock: one lock for every server on the database. */
const MIGRATION_LOCK = 0x15_05_00_01;

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
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone: do not hand it back to the pool
        }
        if (attempt < ATTEMPTS && RETRYABLE.has((err as { code?: string }).code ?? '')) continue;
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  /**
   * Applies pending migrations, each in its own transaction, holding an advisory lock so servers
   * started at the same moment take turns instead of racing on the same DDL.
   */
  async migrate(): Promise<number[]> {
    const client = await this.pool.connect();
    const applied: number[] = [];
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      try {
        await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)');
        const done = new Set((await client.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
        for (const [i, sql] of POSTGRES_MIGRATIONS.entries()) {
          const version = i + 1;
          if (done.has(version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(sql);
            await client.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, now())', [version]);
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
      client.release();
    }
    return applied;
  }
}
