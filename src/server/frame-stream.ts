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
            // the Content-Length is sent already: a frame of another size would corrupt the answer
            if (!data || data.length !== size) {
              this.destroy(new BlobChangedError(`blob ${id.slice(0, 12)} changed during the fetch`));
              return;
            }
            out.write(id, at, 32, 'hex');
            out.writeUInt32BE(size, at + 32);
            out.set(data, at + FRAME_HEADER_BYTES);
            at += FRAME_HEADER_BYTES + size;
          }
          this.push(out);
        },
        (err: unknown) => this.destroy(err instanceof Error ? err : new Error(String(err))),
      );
    },
  });
}
