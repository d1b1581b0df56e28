/**
 * Files are cut into fixed-size chunks, each stored as one blob (docs/protocol.md, blobs).
 * Fixed-size rather than content-defined: workspace files are small (a few KB to a few MB), so
 * shift-resistant chunking would buy little and cost a rolling hash; a file of at most
 * CHUNK_SIZE bytes is exactly one blob, and LIMITS.maxBlobBytes in the protocol is sized for it.
 */

export const CHUNK_SIZE = 1024 * 1024;

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`file size must be a non-negative safe integer, got ${size}`);
  }
}

/** Number of chunks (blobs) of a file of `size` bytes; 0 for an empty file. */
export function chunkCount(size: number): number {
  checkSize(size);
  return Math.ceil(size / CHUNK_SIZE);
}

/** Byte ranges of the chunks of a file of `size` bytes, in order; empty file → []. */
export function chunkRanges(size: number): { offset: number; length: number }[] {
  const count = chunkCount(size);
  const ranges: { offset: number; length: number }[] = [];
  for (let i = 0; i < count; i++) {
    const offset = i * CHUNK_SIZE;
    ranges.push({ offset, length: Math.min(CHUNK_SIZE, size - offset) });
  }
  return ranges;
}
