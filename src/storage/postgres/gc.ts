/**
 * Garbage collection of unreferenced blobs for PostgresStore (Store.collectGarbage), the same rules
 * as sqlite/gc.ts. Each workspace is collected in its own transaction that first locks the
 * workspace row — the lock createSnapshot takes for its compare-and-swap — so a snapshot's check
 * that every referenced blob is stored and this deletion happen one after the other, on any
 * number of servers: no snapshot can end up pointing at a deleted blob.
 */
import type { GarbageReport } from '../store.js';
import type { PgDb } from './db.js';

const UNREFERENCED = `FROM blobs b WHERE b.workspace_id = $1
  AND NOT EXISTS (SELECT 1 FROM snapshot_blobs s WHERE s.workspace_id = b.workspace_id AND s.blob_id = b.id)`;

export async function collectGarbage(db: PgDb, opts: { olderThan: Date; dryRun?: boolean }): Promise<GarbageReport> {
  const cutoff = opts.olderThan;
  const candidates = await db.query('SELECT id FROM workspaces WHERE blob_activity_at IS NULL OR blob_activity_at < $1 ORDER BY id', [cutoff]);
  const report: GarbageReport = { workspaces: 0, blobs: 0, bytes: 0 };
  for (const c of candidates) {
    const workspaceId = String(c.id);
    const one = await db.tx(async (tx) => {
      // a push may have started between the candidate list and this transaction
      const idle = await tx.query(
        'SELECT 1 FROM workspaces WHERE id = $1 AND (blob_activity_at IS NULL OR blob_activity_at < $2) FOR NO KEY UPDATE',
        [workspaceId, cutoff],
      );
      if (idle.length === 0) return { blobs: 0, bytes: 0 };
      const [found] = await tx.query(`SELECT count(*) AS blobs, coalesce(sum(b.size), 0) AS bytes ${UNREFERENCED}`, [workspaceId]);
      const counted = { blobs: Number(found?.blobs ?? 0), bytes: Number(found?.bytes ?? 0) };
      if (opts.dryRun || counted.blobs === 0) return counted;
      const [gone] = await tx.query(`WITH d AS (DELETE ${UNREFERENCED} RETURNING b.size) SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM d`, [
        workspaceId,
      ]);
      const removed = { blobs: Number(gone?.blobs ?? 0), bytes: Number(gone?.bytes ?? 0) };
      await tx.exec('UPDATE workspaces SET size = greatest(0, size - $1) WHERE id = $2', [removed.bytes, workspaceId]);
      return removed;
    });
    if (one.blobs > 0) {
      report.workspaces++;
      report.blobs += one.blobs;
      report.bytes += one.bytes;
    }
  }
  return report;
}

/** What missingBlobs and putBlobs record (committed before they read or write blobs). */
export const STAMP_BLOB_ACTIVITY_SQL = 'UPDATE workspaces SET blob_activity_at = $1 WHERE id = $2';
