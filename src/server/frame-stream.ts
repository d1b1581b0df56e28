/**
 * The body of a blob fetch answer as a stream of frames (docs/protocol.md §4). Blobs are read from
 * the store a group at a time as the socket drains, so an answer of LIMITS.maxFetchBytes never sits
 * whole in memory, and each blob's buffer goes to the socket as it came from the store: no copy
 * into a frame buffer.
 */
import { Readable } from 'node:stream';
import { FRAME_HEADER_BYTES } from '../protocol/blob-frames.js';
import type { BlobSizeRecord, Store } from '../storage/store.js';

/** bytes per group read: enough to amortise a read transaction, little enough to stay lean */
const GROUP_BYTES = 512 * 1024;

/** A planned blob was gone or had another size when read: its workspace was deleted meanwhile. */
export class BlobChangedError extends Error {
  readonly code = 'blob_changed';
}

/** Exact length of the framed answer for `plan`: the Content-Length of `frameStream`. */
export function framedLength(plan: readonly BlobSizeRecord[]): number {
  let total = 0;
  for (const p of plan) total += FRAME_HEADER_BYTES + p.size;
  return total;
}

export function frameStream(store: Store, workspaceId: string, plan: readonly BlobSizeRecord[]): Readable {
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
      while (next < plan.length && (next === from || bytes + plan[next]!.size <= GROUP_BYTES)) bytes += plan[next++]!.size;
      const group = plan.slice(from, next);
      store.readBlobs(
        workspaceId,
        group.map((g) => g.id),
      ).then(
        (blobs) => {
          if (this.destroyed) return;
          const headers = Buffer.allocUnsafe(FRAME_HEADER_BYTES * group.length);
          for (let i = 0; i < group.length; i++) {
            const data = blobs[i];
            const { id, size } = group[i]!;
            // the Content-Length is sent already: a frame of another size would corrupt the answer
            if (!data || data.length !== size) {
              this.destroy(new BlobChangedError(`blob ${id.slice(0, 12)} changed during the fetch`));
              return;
            }
            const at = i * FRAME_HEADER_BYTES;
            headers.write(id, at, 32, 'hex');
            headers.writeUInt32BE(size, at + 32);
            this.push(headers.subarray(at, at + FRAME_HEADER_BYTES));
            this.push(data);
          }
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
}
