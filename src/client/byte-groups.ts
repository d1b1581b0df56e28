/**
 * Sizing blob downloads by bytes rather than by count: a fetch request's answer is held whole
 * (ApiClient.fetchBlobs), so a group of ids must add up to a bounded number of bytes whatever the
 * files are like (10,000 small files or one 400 MB file of 1 MiB chunks).
 */
import { CHUNK_SIZE } from '../sync/chunking.js';

/**
 * Splits `items`, in order, into runs whose sizes add up to at most `budget`; an item bigger than
 * the budget makes a run of its own. No run is empty.
 */
export function groupByBytes<T>(items: Iterable<T>, sizeOf: (item: T, index: number) => number, budget: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  let index = 0;
  for (const item of items) {
    const size = sizeOf(item, index++);
    if (current.length > 0 && bytes + size > budget) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/** The plaintext size of chunk `index` of a file of `size` bytes (manifests are checked to match: sync/checks.ts). */
export function chunkBytes(size: number, index: number): number {
  return Math.max(0, Math.min(CHUNK_SIZE, size - index * CHUNK_SIZE));
}
