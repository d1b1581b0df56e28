/**
 * Garbage collection of unreferenced blobs for SqliteStore (Store.collectGarbage).
 *
 * Referenced = recorded in snapshot_blobs for the blob's workspace: each snapshot records the
 * blobs new relative to its parent, so the union over a workspace's snapshots is every blob any of
 * them needs. What else is stored was uploaded by a push that never created its snapshot (crash,
 * conflict, lost connection) — or by a push still running, which is why a workspace with blob
 * traffic (missingBlobs/putBlobs stamp `blob_activity_at`) since `olderThan` is left alone.
 * Each workspace is collected in its own IMMEDIATE transaction, which serialises it with
 * createSnapshot's check that every referenced blob is stored: no snapshot can end up pointing at
 * a deleted blob.
 */
import type Database from 'better-sqlite3';
import type { GarbageReport } from '../store.js';

const UNREFERENCED = `FROM blobs b WHERE b.workspace_id = ?
  AND NOT EXISTS (SELECT 1 FROM snapshot_blobs s WHERE s.workspace_id = b.workspace_id AND s.blob_id = b.id)`;

export function collectGarbage(db: Database.Database, opts: { olderThan: Date; dryRun?: boolean }): GarbageReport {
  const cutoff = opts.olderThan.getTime();
  const idleSql = 'SELECT id FROM workspaces WHERE blob_activity_at IS NULL OR blob_activity_at < ?';
  const candidates = db.prepare(idleSql).pluck().all(cutoff) as string[];
  const stillIdle = db.prepare('SELECT 1 FROM workspaces WHERE id = ? AND (blob_activity_at IS NULL OR blob_activity_at < ?)').pluck();
  const count = db.prepare(`SELECT count(*) AS blobs, coalesce(sum(b.size), 0) AS bytes ${UNREFERENCED}`);
  // rowids first: deleting by rowid does not re-run the NOT EXISTS probe per row
  const rowids = db.prepare(`SELECT b.rowid ${UNREFERENCED}`).pluck();
  const remove = db.prepare('DELETE FROM blobs WHERE rowid = ?');
  const shrink = db.prepare('UPDATE workspaces SET size = max(0, size - ?) WHERE id = ?');

  const report: GarbageReport = { workspaces: 0, blobs: 0, bytes: 0 };
  const collectOne = db.transaction((workspaceId: string): { blobs: number; bytes: number } => {
    // a push may have started between the candidate list and this transaction
    if (!stillIdle.get(workspaceId, cutoff)) return { blobs: 0, bytes: 0 };
    const found = count.get(workspaceId) as { blobs: number; bytes: number };
    if (opts.dryRun || found.blobs === 0) return found;
    for (const rowid of rowids.all(workspaceId) as number[]) remove.run(rowid);
    shrink.run(found.bytes, workspaceId);
    return found;
  });
  for (const id of candidates) {
    const one = collectOne.immediate(id);
    if (one.blobs > 0) {
      report.workspaces++;
      report.blobs += one.blobs;
      report.bytes += one.bytes;
    }
  }
  return report;
}

/** What missingBlobs and putBlobs record: a push may be counting on this workspace's blobs. */
export const STAMP_BLOB_ACTIVITY_SQL = 'UPDATE workspaces SET blob_activity_at = ? WHERE id = ?';
