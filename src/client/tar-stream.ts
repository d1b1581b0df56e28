/**
 * A tar archive (POSIX ustar, with pax headers for long names) made from entries in memory, as a
 * stream of blocks: what an encrypted export packs without ever writing a plaintext file. Headers
 * are node-tar's encoders, so the archive reads as one node-tar itself would write (portable: no
 * owner, no atime/ctime).
 */
import { Header, Pax } from 'tar';

export type TarEntry =
  | { type: 'dir'; path: string; mode: number; mtime: Date }
  | { type: 'file'; path: string; mode: number; mtime: Date; size: number; data: AsyncIterable<Uint8Array> | Iterable<Uint8Array> };

const BLOCK = 512;

function headerBlocks(path: string, type: 'Directory' | 'File', mode: number, size: number, mtime: Date): Buffer[] {
  const header = new Header({ path, mode, size, mtime, type });
  const out: Buffer[] = [];
  // encode() answers whether the fields fit ustar; a long path or a big size goes in a pax header first
  if (header.encode()) out.push(new Pax({ path, size, mtime }).encode());
  out.push(header.block!);
  return out;
}

/** The archive's bytes; an entry whose data is not exactly `size` bytes is an error, not a corrupt archive. */
export async function* tarStream(entries: AsyncIterable<TarEntry> | Iterable<TarEntry>): AsyncGenerator<Uint8Array> {
  for await (const e of entries) {
    if (e.type === 'dir') {
      yield* headerBlocks(e.path.endsWith('/') ? e.path : `${e.path}/`, 'Directory', e.mode, 0, e.mtime);
      continue;
    }
    yield* headerBlocks(e.path, 'File', e.mode, e.size, e.mtime);
    let written = 0;
    for await (const chunk of e.data) {
      written += chunk.length;
      if (written > e.size) throw new Error(`tar: ${e.path} is longer than its ${e.size} bytes`);
      yield chunk;
    }
    if (written !== e.size) throw new Error(`tar: ${e.path} is shorter than its ${e.size} bytes`);
    if (written % BLOCK !== 0) yield new Uint8Array(BLOCK - (written % BLOCK));
  }
  yield new Uint8Array(2 * BLOCK);
}
