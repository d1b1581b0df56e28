/**
 * The body of a blob fetch answer as a stream of frames (docs/protocol.md §4), read from the store a
 * group at a time as the socket drains, so an answer of LIMITS.maxFetchBytes never sits whole in
 * memory and each blob is copied once, from the store's buffer into the group's.
 */
import { Readable } from 'node:stream';
import { FRAME_HEADER_BYTES } from '../protocol/blob-frames.js';
import type { BlobSizeRecord, Store } from '../storage/store.js';

/** bytes per group read: big enough to amortise a read transaction, small enough to stay lean */
const GROUP_BYTES = 512 * 1024;

/** A planned blob was gone or changed by the time it was read (its workspace was deleted meanwhile). */
export class BlobChangedError extends Error {
  readonly code = 'blob_changed';
}

/** Exact length of the framed answer: the Content-Length of the stream below. */
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
        bytes += FRAME_HEADER_BYTES + plan[next]!.size;
        next++;
      }
      const group = plan.slice(from, next);
      store.readBlobs(
        workspaceId,
        group.map((g) => g.id),
      ).then(
        (datas) => {
          if (this.destroyed) return;
          if (process.env.ISYNC_NOCOPY) {
            const headers = Buffer.allocUnsafe(FRAME_HEADER_BYTES * group.length);
            for (let i = 0; i < group.length; i++) {
              const data = datas[i];
              const { id, size } = group[i]!;
              if (!data || data.length !== size) {
                this.destroy(new BlobChangedError(`blob ${id.slice(0, 12)} changed during the fetch`));
                return;
              }
              const h = i * FRAME_HEADER_BYTES;
              headers.write(id, h, 32, 'hex');
              headers.writeUInt32BE(size, h + 32);
              this.push(headers.subarray(h, h + FRAME_HEADER_BYTES));
              this.push(data);
            }
            return;
          }
          const out = Buffer.allocUnsafe(bytes);
          let at = 0;
          for (let i = 0; i < group.length; i++) {
            const data = datas[i];
            const { id, size } = group[i]!;
            // the Content-Length is already sent: a short or long frame would corrupt the framing
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
