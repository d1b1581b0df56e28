/** Reading workspace files chunk by chunk, so memory stays bounded whatever the file size. */
import { closeSync, fstatSync, openSync, readSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { blobId } from '../../crypto/workspace-keys.js';
import type { Primitives } from '../../crypto/primitives.js';
import { CHUNK_SIZE, chunkRanges } from '../../sync/chunking.js';

/** Reads a file and returns its chunks' blob ids. */
export function hashFile(p: Primitives, blobIdKey: Uint8Array, root: string, relPath: string): { chunks: string[]; size: number } {
  const abs = path.join(root, relPath);
  const small = readSmallFile(abs);
  if (small !== null) return { chunks: small.length === 0 ? [] : [blobId(p, blobIdKey, small)], size: small.length };
  const chunks: string[] = [];
  let size = 0;
  forEachChunk(abs, (chunk) => {
    size += chunk.length;
    chunks.push(blobId(p, blobIdKey, chunk));
  });
  return { chunks, size };
}

/** One buffer for every small file this process reads (see readSmallFile). */
let smallScratch: Buffer | null = null;

/**
 * The whole content of a file of at most CHUNK_SIZE bytes (one blob), read into a buffer shared by
 * every call, so valid only until the next call: no allocation and no fstat per file (readFileSync
 * took a quarter of an initial push of 10,000 small files). Null when the file holds more than
 * CHUNK_SIZE bytes — it is big, or grew since the scan: read it with chunksOf.
 */
export function readSmallFile(abs: string): Uint8Array | null {
  const buf = (smallScratch ??= Buffer.allocUnsafe(CHUNK_SIZE + 1));
  const fd = openSync(abs, 'r');
  try {
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, null);
      if (n === 0) return buf.subarray(0, filled);
      filled += n;
      if (filled === buf.length) return null;
    }
  } finally {
    closeSync(fd);
  }
}

/** One scratch buffer for every big file this process reads: allocating 1 MiB per file made GC a quarter of a push. */
let scratch: Buffer | null = null;

/**
 * Yields each CHUNK_SIZE piece of the file. A small file arrives as its own buffer (`owned`); the
 * pieces of a big file share one scratch buffer, so the consumer must copy what it keeps.
 */
export function* chunksOf(abs: string): Generator<{ chunk: Uint8Array; owned: boolean }> {
  const fd = openSync(abs, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size < CHUNK_SIZE) {
      const whole = readFileSync(fd);
      if (whole.length > 0) yield { chunk: whole, owned: true };
      return;
    }
    scratch ??= Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      let filled = 0;
      while (filled < CHUNK_SIZE) {
        const n = readSync(fd, scratch, filled, CHUNK_SIZE - filled, null);
        if (n === 0) break;
        filled += n;
      }
      if (filled === 0) return;
      yield { chunk: scratch.subarray(0, filled), owned: false };
      if (filled < CHUNK_SIZE) return;
    }
  } finally {
    closeSync(fd);
  }
}

export function forEachChunk(abs: string, fn: (chunk: Uint8Array) => void): void {
  for (const { chunk } of chunksOf(abs)) fn(chunk);
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
