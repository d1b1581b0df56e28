/**
 * The body of a blob fetch answer as a stream of frames (docs/protocol.md §4). Blobs are read from
 * the store a group at a time as the socket drains, so an answer of LIMITS.maxFetchBytes never sits
 * whole in memory (it used to, twice: the blobs, then their frames). Each group goes out as one
 * buffer: pushing header and data of every blob separately cost more server CPU in the bench than
 * the copy it saved.
 */
import { Readable } from 'node:stream';
import { FRAME_HEADER_BYTES } from '../protocol/blob-frames.js';
import type { BlobSizeRecord, Store } from '../storage/store.js';

/** bytes per group read: enough to amortise a read transaction, little enough to stay lean */
const GROUP_BYTES = 512 * 1024;

/** A planned blob was gone when read: its workspace was deleted meanwhile. */
export class BlobChangedError extends Error {
  readonly code = 'blob_changed';
}

/** Told of a blob whose stored bytes are not as long as its record says: damaged storage. */
export type DamagedBlobReport = (id: string, storedBytes: number, recordedBytes: number) => void;

/** Exact length of the framed answer for `plan`: the Content-Length of `frameStream`. */
export function framedLength(plan: readonly BlobSizeRecord[]): number {
  let total = 0;
  for (const p of plan) total += FRAME_HEADER_BYTES + p.size;
  return total;
}

/**
 * A blob whose stored bytes differ in length from its size record (damaged storage: a truncated
 * row, a restore gone wrong) goes out cut or zero-padded to the recorded size, under its own id:
 * the answer stays well-formed, and the client's check of the blob against its id fails as an
 * integrity failure (exit 7) that names the blob, not as a connection reset (exit 6).
 */
export function frameStream(store: Store, workspaceId: string, plan: readonly BlobSizeRecord[], onDamaged?: DamagedBlobReport): Readable {
  let next = 0;
  return new Readable({
    highWaterMark: GROUP_BYTES,
    read() {
      if (next >= plan.length) {
        this.push(null);
        return;
      }
      const from = next;
      let bytes = 0;
      while (next < plan.length && (next === from || bytes + FRAME_HEADER_BYTES + plan[next]!.size <= GROUP_BYTES)) {
        bytes += FRAME_HEADER_BYTES + plan[next++]!.size;
      }
      const group = plan.slice(from, next);
      const ids = group.map((g) => g.id);
      store.readBlobs(workspaceId, ids).then(
        (blobs) => {
          if (this.destroyed) return;
          const out = Buffer.allocUnsafe(bytes);
          let at = 0;
          for (let i = 0; i < group.length; i++) {
            const data = blobs[i];
            const { id, size } = group[i]!;
            if (!data) {
              this.destroy(new BlobChangedError(`blob ${id.slice(0, 12)} changed during the fetch`));
              return;
            }
            out.write(id, at, 32, 'hex');
            out.writeUInt32BE(size, at + 32);
            // the Content-Length is sent already: every frame keeps its planned size
            if (data.length === size) out.set(data, at + FRAME_HEADER_BYTES);
            else {
              onDamaged?.(id, data.length, size);
              out.fill(0, at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + size);
              out.set(data.subarray(0, size), at + FRAME_HEADER_BYTES);
            }
            at += FRAME_HEADER_BYTES + size;
          }
          this.push(out);
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
}
