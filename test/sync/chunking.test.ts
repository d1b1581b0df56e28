import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE, chunkCount, chunkRanges } from '../../src/sync/chunking.js';

describe('chunkRanges', () => {
  const C = CHUNK_SIZE;
  it('CHUNK_SIZE is 1 MiB', () => {
    expect(C).toBe(1048576);
  });
  it.each([
    [0, []],
    [1, [{ offset: 0, length: 1 }]],
    [C - 1, [{ offset: 0, length: C - 1 }]],
    [C, [{ offset: 0, length: C }]],
    [C + 1, [{ offset: 0, length: C }, { offset: C, length: 1 }]],
    [3 * C, [{ offset: 0, length: C }, { offset: C, length: C }, { offset: 2 * C, length: C }]],
    [3 * C - 1, [{ offset: 0, length: C }, { offset: C, length: C }, { offset: 2 * C, length: C - 1 }]],
  ])('size %i', (size, expected) => {
    expect(chunkRanges(size)).toEqual(expected);
    expect(chunkCount(size)).toBe(expected.length);
  });

  it('ranges cover the file exactly for many sizes', () => {
    for (const size of [5, C * 7 + 12345, C * 64]) {
      const ranges = chunkRanges(size);
      let next = 0;
      for (const r of ranges) {
        expect(r.offset).toBe(next);
        expect(r.length).toBeGreaterThan(0);
        expect(r.length).toBeLessThanOrEqual(C);
        next += r.length;
      }
      expect(next).toBe(size);
    }
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('rejects size %s', (size) => {
    expect(() => chunkRanges(size)).toThrow(RangeError);
  });
});
