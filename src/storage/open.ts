/**
 * Picks the storage backend from a database URL: `sqlite:PATH` (default `DATA_DIR/sync.db`) or
 * `postgres://…` / `postgresql://…`. Adding a backend is one branch here.
 */
import { resolve } from 'node:path';
import { StoreConfigError, type Store } from './store.js';
import { openSqliteStore } from './sqlite/sqlite-store.js';

export { StoreConfigError };

export interface OpenStoreOptions {
  /** apply pending migrations on open (default true) */
  migrate?: boolean;
  /** open only a database that exists and has our schema (else StoreMissingError); create nothing */
  existing?: boolean;
}

export async function openStore(url: string | undefined, dataDir: string, options: OpenStoreOptions = {}): Promise<Store> {
  const spec = url?.trim() || `sqlite:${resolve(dataDir, 'sync.db')}`;
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw new StoreConfigError('sqlite: needs a path, e.g. sqlite:./sync.db');
    return openSqliteStore(path === ':memory:' ? path : resolve(path), options);
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    // pg is loaded only here: a SQLite server never pays for it
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore(spec, options);
  }
  throw new StoreConfigError(`unknown database URL ${redactUrl(spec)}: use sqlite:PATH or postgres://…`);
}

/** Database URLs may carry a password; never echo it. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
