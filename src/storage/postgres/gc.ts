/**
 * Garbage collection of unreferenced blobs for PostgresStore (Store.collectGarbage), the same rules
 * and batches as sqlite/gc.ts. Each batch is its own transaction that first locks the workspace
 * row — the lock createSnapshot takes for its compare-and-swap — and checks the workspace is still
 * idle, so a snapshot's check that every referenced blob is stored and this deletion happen one
 * after the other, on any number of servers: no snapshot can end up pointing at a deleted blob.
 * Short transactions keep a push that starts in the workspace from waiting on the lock for the
 * whole collection, and keep old row versions from piling up behind one long transaction.
 */
import { GC_BATCH_BLOBS, GC_BATCH_BYTES, collectInBatches, nextTurn, type GarbageReport, type GcBatch } from '../store.js';
import { MIGRATION_LOCK, type PgDb, type Tx } from './db.js';
import { POSTGRES_MIGRATIONS } from './migrations.js';
import { checkAppliedMigrations } from '../schema-version.js';

/** The next batch of a workspace's blobs after `id`: the size only of those no snapshot references. */
const BATCH_SQL = `SELECT b.id,
    CASE WHEN EXISTS (SELECT 1 FROM snapshot_blobs s WHERE s.workspace_id = b.workspace_id AND s.blob_id = b.id) THEN NULL ELSE b.size END AS size
  FROM blobs b WHERE b.workspace_id = $1 AND b.id > $2 ORDER BY b.id LIMIT $3`;

export async function collectGarbage(
  db: PgDb,
  opts: { olderThan: Date; dryRun?: boolean; pause?: () => Promise<void>; signal?: AbortSignal },
): Promise<GarbageReport> {
  const cutoff = opts.olderThan;
  const pause = opts.pause ?? nextTurn;
  const candidates = await db.query('SELECT id FROM workspaces WHERE blob_activity_at IS NULL OR blob_activity_at < $1 ORDER BY id', [cutoff]);

  const batch = async (tx: Tx, workspaceId: string, after: Buffer): Promise<GcBatch> => {
    await checkSchemaInTx(tx);
    // a push may have started since the candidate list or the last batch; a dry run locks nothing
    const idle = await tx.query(
      `SELECT 1 FROM workspaces WHERE id = $1 AND (blob_activity_at IS NULL OR blob_activity_at < $2)${opts.dryRun ? '' : ' FOR NO KEY UPDATE'}`,
      [workspaceId, cutoff],
    );
    if (idle.length === 0) return null;
    const rows = await tx.query<{ id: Buffer; size: number | string | null }>(BATCH_SQL, [workspaceId, after, GC_BATCH_BLOBS]);
    const chosen: Buffer[] = [];
    let blobs = 0;
    let bytes = 0;
    let seen = 0;
    for (const row of rows) {
      seen++;
      if (row.size === null) continue;
      chosen.push(row.id);
      blobs++;
      bytes += Number(row.size);
      if (bytes >= GC_BATCH_BYTES) break;
    }
    const last = seen > 0 ? rows[seen - 1]!.id : after;
    const done = seen === rows.length && rows.length < GC_BATCH_BLOBS;
    if (opts.dryRun || chosen.length === 0) return { blobs, bytes, last, done };
    const [gone] = await tx.query(
      `WITH d AS (DELETE FROM blobs WHERE workspace_id = $1 AND id = ANY($2::bytea[]) RETURNING size)
       SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM d`,
      [workspaceId, chosen],
    );
    const removed = { blobs: Number(gone?.blobs ?? 0), bytes: Number(gone?.bytes ?? 0) };
    await tx.exec('UPDATE workspaces SET size = greatest(0, size - $1) WHERE id = $2', [removed.bytes, workspaceId]);
    return { ...removed, last, done };
  };

  return collectInBatches(
    candidates.map((c) => String(c.id)),
    (workspaceId, after) => db.tx((tx) => batch(tx, workspaceId, after)),
    { pause, signal: opts.signal },
  );
}

/** What missingBlobs and putBlobs record (committed before they read or write blobs). */
export const STAMP_BLOB_ACTIVITY_SQL = 'UPDATE workspaces SET blob_activity_at = $1 WHERE id = $2';

/**
 * Inside a transaction that deletes: throws SchemaMismatchError when a newer server migrated the
 * schema past this build (its tables may reference what this one would delete). The shared
 * advisory lock waits for a migration in progress (which holds MIGRATION_LOCK exclusively, db.ts)
 * and keeps one from starting until this transaction ends, so the version read here stays true
 * while it deletes.
 */
export async function checkSchemaInTx(tx: Tx): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock_shared($1)', [MIGRATION_LOCK]);
  const [row] = await tx.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  checkAppliedMigrations([{ version: Number(row?.v ?? 0), checksum: null }], POSTGRES_MIGRATIONS);
}
