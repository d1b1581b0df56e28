/** Reading workspace files chunk by chunk, so memory stays bounded whatever the file size. */
import { closeSync, openSync, readSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { blobId } from '../../crypto/workspace-keys.js';
import type { Primitives } from '../../crypto/primitives.js';
import { CHUNK_SIZE, chunkRanges } from '../../sync/chunking.js';

/** Reads a file and returns its chunks' blob ids. */
export function hashFile(p: Primitives, blobIdKey: Uint8Array, root: string, relPath: string): { chunks: string[]; size: number } {
  const abs = path.join(root, relPath);
  const chunks: string[] = [];
  let size = 0;
  forEachChunk(abs, (chunk) => {
    size += chunk.length;
    chunks.push(blobId(p, blobIdKey, chunk));
  });
  return { chunks, size };
}

/** Calls `fn` with each CHUNK_SIZE piece of the file (the buffer is reused between calls for big files). */
export function forEachChunk(abs: string, fn: (chunk: Uint8Array, index: number) => void): void {
  const fd = openSync(abs, 'r');
  try {
    const first = Buffer.allocUnsafe(CHUNK_SIZE);
    let n = readSync(fd, first, 0, CHUNK_SIZE, null);
    if (n === 0) return;
    if (n < CHUNK_SIZE) {
      fn(first.subarray(0, n), 0);
      return;
    }
    let index = 0;
    let buf = first;
    const spare = Buffer.allocUnsafe(CHUNK_SIZE);
    while (n > 0) {
      fn(buf.subarray(0, n), index++);
      buf = buf === first ? spare : first;
      n = readSync(fd, buf, 0, CHUNK_SIZE, null);
    }
  } finally {
    closeSync(fd);
  }
}

export function readChunk(root: string, relPath: string, index: number, fileSize: number): Uint8Array {
  const ranges = chunkRanges(fileSize);
  const range = ranges[index];
  if (!range) throw new Error(`chunk ${index} out of range for ${relPath}`);
  if (ranges.length === 1) return readFileSync(path.join(root, relPath));
  const fd = openSync(path.join(root, relPath), 'r');
  try {
    const buf = Buffer.allocUnsafe(range.length);
    const n = readSync(fd, buf, 0, range.length, range.offset);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
