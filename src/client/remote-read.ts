/**
 * A snapshot's files read straight from the server into memory, decrypted and checked chunk by
 * chunk, for callers that must not put plaintext on disk (an encrypted export). Memory stays
 * bounded: requests of about BATCH_BYTES, one in use and the next one in flight.
 */
import { BlobCheckError, blobOpener } from '../crypto/blob-open.js';
import type { Primitives } from '../crypto/primitives.js';
import type { WorkspaceSubkeys } from '../crypto/workspace-keys.js';
import type { TreeFile } from '../sync/merge.js';
import type { ApiClient } from './api.js';
import { chunkBytes, groupByBytes } from './byte-groups.js';
import { IntegrityFailure } from './errors.js';

const BATCH_BYTES = 4 * 1024 * 1024;
const HINT = 'nothing was exported; run `insomnia-sync verify`';

export interface RemoteRead {
  p: Primitives;
  api: ApiClient;
  workspaceId: string;
  keys: WorkspaceSubkeys;
  epoch: number;
  files: TreeFile[];
  signal?: AbortSignal | undefined;
}

export interface RemoteFile {
  file: TreeFile;
  /** the file's plaintext in checked chunks; read it to the end before asking for the next file */
  data: AsyncIterable<Uint8Array>;
}

/**
 * Groups the chunks into requests of about BATCH_BYTES: small files together, a big file a few
 * chunks at a time. `at[f][c]` is the request that carries chunk c of file f.
 */
function requestsOf(files: TreeFile[]): { requests: string[][]; at: number[][] } {
  const chunks = files.flatMap((f, fi) => f.chunks.map((id, c) => ({ fi, c, id, size: chunkBytes(f.size, c) })));
  const at: number[][] = files.map((f) => new Array<number>(f.chunks.length));
  const requests = groupByBytes(chunks, (x) => x.size, BATCH_BYTES).map((group, r) =>
    group.map(({ fi, c, id }) => {
      at[fi]![c] = r;
      return id;
    }),
  );
  return { requests, at };
}

/** Every file of `files`, in order, with its content; throws IntegrityFailure on a bad or missing blob. */
export async function* readRemoteFiles(r: RemoteRead): AsyncGenerator<RemoteFile> {
  const openBlob = blobOpener(r.p, r.keys, { workspaceId: r.workspaceId, epoch: r.epoch });
  const { requests, at } = requestsOf(r.files);
  let started = 0;
  const start = (): Promise<Map<string, Uint8Array>> | null => {
    const ids = requests[started++];
    if (!ids) return null;
    r.signal?.throwIfAborted();
    const p = r.api.fetchBlobs(r.workspaceId, [...new Set(ids)], { signal: r.signal }).then((frames) => new Map(frames.map((f) => [f.id, f.data])));
    p.catch(() => {}); // awaited when its turn comes; a failure before that is not unhandled
    return p;
  };
  // The request in use and the next one in flight, so the network works while the caller packs.
  let current = -1;
  let blobs = new Map<string, Uint8Array>();
  let inFlight = start();
  const take = async (id: string, request: number): Promise<Uint8Array> => {
    while (current < request && inFlight) {
      blobs = await inFlight;
      current++;
      inFlight = start();
    }
    const data = blobs.get(id);
    if (!data) throw new IntegrityFailure(`the server does not have blob ${id.slice(0, 12)}`, HINT);
    try {
      return openBlob(id, data);
    } catch (err) {
      if (err instanceof BlobCheckError) throw new IntegrityFailure(err.message, HINT);
      throw err;
    }
  };
  for (const [f, file] of r.files.entries()) {
    const requestOf = at[f]!;
    async function* data(): AsyncGenerator<Uint8Array> {
      let size = 0;
      for (const [c, id] of file.chunks.entries()) {
        const plain = await take(id, requestOf[c]!);
        size += plain.length;
        yield plain;
      }
      if (size !== file.size) throw new IntegrityFailure(`${file.path} has ${size} bytes, its snapshot says ${file.size}`, HINT);
    }
    yield { file, data: data() };
  }
}
