/**
 * Garbage collection of unreferenced blobs for SqliteStore (Store.collectGarbage).
 *
 * Referenced = recorded in snapshot_blobs for the blob's workspace: each snapshot records the
 * blobs new relative to its parent, so the union over a workspace's snapshots is every blob any of
 * them needs. What else is stored was uploaded by a push that never created its snapshot (crash,
 * conflict, lost connection) — or by a push still running, which is why a workspace with blob
 * traffic (missingBlobs/putBlobs stamp `blob_activity_at`) since `olderThan` is left alone.
 *
 * A workspace is collected in batches, each in its own IMMEDIATE transaction that first checks
 * the workspace is still idle, then looks at the next GC_BATCH_BLOBS blobs in id order and
 * deletes the unreferenced ones among them, up to GC_BATCH_BYTES. The transaction serialises the
 * batch with createSnapshot's check that every referenced blob is stored (no snapshot can end up
 * pointing at a deleted blob), and the idle check with a push's stamp: a push that starts between
 * two batches is told the truth about what is stored, and the rest of its workspace is spared.
 * Batches keep the write lock short (one transaction for a million orphans held it for 16 s: other
 * processes on the file got "database busy"), and a turn of the event loop between them keeps a
 * server that collects in-process answering.
 */
import type Database from 'better-sqlite3';
import { GC_BATCH_BLOBS, GC_BATCH_BYTES, collectInBatches, nextTurn, type GarbageReport, type GcBatch } from '../store.js';

/** The next batch of a workspace's blobs after `id`: the size only of those no snapshot references. */
const BATCH_SQL = `SELECT b.rowid AS rowid, b.id AS id,
    CASE WHEN EXISTS (SELECT 1 FROM snapshot_blobs s WHERE s.workspace_id = b.workspace_id AND s.blob_id = b.id) THEN NULL ELSE b.size END AS size
  FROM blobs b WHERE b.workspace_id = ? AND b.id > ? ORDER BY b.id LIMIT ?`;

interface BatchRow {
  rowid: number;
  id: Buffer;
  size: number | null;
}

export async function collectGarbage(
  db: Database.Database,
  opts: { olderThan: Date; dryRun?: boolean; pause?: () => Promise<void>; signal?: AbortSignal; checkSchema: () => void },
): Promise<GarbageReport> {
  const cutoff = opts.olderThan.getTime();
  const pause = opts.pause ?? nextTurn;
  const idleSql = 'SELECT id FROM workspaces WHERE blob_activity_at IS NULL OR blob_activity_at < ?';
  const candidates = db.prepare(idleSql).pluck().all(cutoff) as string[];
  const stillIdle = db.prepare('SELECT 1 FROM workspaces WHERE id = ? AND (blob_activity_at IS NULL OR blob_activity_at < ?)').pluck();
  const scan = db.prepare(BATCH_SQL);
  const remove = db.prepare('DELETE FROM blobs WHERE rowid = ?');
  const shrink = db.prepare('UPDATE workspaces SET size = max(0, size - ?) WHERE id = ?');

  const batch = db.transaction((workspaceId: string, after: Buffer): GcBatch => {
    // A newer server may have migrated the file since this one opened it, and its tables may
    // reference blobs; migrations take the write lock too, so this sees any that committed.
    opts.checkSchema();
    // a push may have started since the candidate list or the last batch
    if (!stillIdle.get(workspaceId, cutoff)) return null;
    const rows = scan.all(workspaceId, after, GC_BATCH_BLOBS) as BatchRow[];
    let blobs = 0;
    let bytes = 0;
    let seen = 0;
    for (const row of rows) {
      seen++;
      if (row.size === null) continue;
      if (!opts.dryRun) remove.run(row.rowid);
      blobs++;
      bytes += row.size;
      if (bytes >= GC_BATCH_BYTES) break;
    }
    if (!opts.dryRun && bytes > 0) shrink.run(bytes, workspaceId);
    const last = seen > 0 ? rows[seen - 1]!.id : after;
    return { blobs, bytes, last, done: seen === rows.length && rows.length < GC_BATCH_BLOBS };
  });

  // a dry run only reads: no write lock
  return collectInBatches(candidates, (id, after) => (opts.dryRun ? batch.deferred(id, after) : batch.immediate(id, after)), {
    pause,
    signal: opts.signal,
  });
}

/** What missingBlobs and putBlobs record: a push may be counting on this workspace's blobs. */
export const STAMP_BLOB_ACTIVITY_SQL = 'UPDATE workspaces SET blob_activity_at = ? WHERE id = ?';
