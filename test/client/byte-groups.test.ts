import { describe, expect, it } from 'vitest';
import { chunkBytes, groupByBytes } from '../../src/client/byte-groups.js';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';

const MiB = 1024 * 1024;

describe('groupByBytes', () => {
  it('keeps order and puts whole items into runs of at most the budget', () => {
    const sizes = [3, 3, 2, 5, 1, 1, 1, 8];
    const groups = groupByBytes(sizes, (s) => s, 8);
    expect(groups).toEqual([[3, 3, 2], [5, 1, 1, 1], [8]]);
    expect(groups.flat()).toEqual(sizes);
  });

  it('gives an item over the budget a run of its own, and makes no empty run', () => {
    expect(groupByBytes([1, 20, 1], (s) => s, 8)).toEqual([[1], [20], [1]]);
    expect(groupByBytes([], (s: number) => s, 8)).toEqual([]);
    expect(groupByBytes([0, 0, 0], (s) => s, 8)).toEqual([[0, 0, 0]]);
  });

  it('passes each item its index, for sizes kept beside the items', () => {
    const ids = ['a', 'b', 'c', 'd'];
    const sizes = [6, 1, 6, 1];
    expect(groupByBytes(ids, (_, i) => sizes[i]!, 7)).toEqual([['a', 'b'], ['c', 'd']]);
  });

  it('bounds the chunks of a 400 MiB file by bytes: 8 chunks of 1 MiB per 8 MiB run', () => {
    const size = 400 * MiB + 123;
    const chunks = Array.from({ length: Math.ceil(size / CHUNK_SIZE) }, (_, c) => c);
    const groups = groupByBytes(chunks, (c) => chunkBytes(size, c), 8 * MiB);
    expect(Math.max(...groups.map((g) => g.reduce((n, c) => n + chunkBytes(size, c), 0)))).toBeLessThanOrEqual(8 * MiB);
    expect(groups).toHaveLength(51);
    expect(groups.flat()).toEqual(chunks);
  });
});

describe('chunkBytes', () => {
  it('is CHUNK_SIZE but for the last chunk, which holds the rest', () => {
    expect(chunkBytes(CHUNK_SIZE * 2 + 5, 0)).toBe(CHUNK_SIZE);
    expect(chunkBytes(CHUNK_SIZE * 2 + 5, 1)).toBe(CHUNK_SIZE);
    expect(chunkBytes(CHUNK_SIZE * 2 + 5, 2)).toBe(5);
    expect(chunkBytes(CHUNK_SIZE, 0)).toBe(CHUNK_SIZE);
    expect(chunkBytes(10, 0)).toBe(10);
  });
});
