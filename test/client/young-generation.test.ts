import { describe, expect, it } from 'vitest';
import { withSteadyYoungGeneration } from '../../src/client/local/young-generation.js';

describe('withSteadyYoungGeneration', () => {
  it("gives back the function's result, and its error, whatever happens inside", async () => {
    await expect(withSteadyYoungGeneration(async () => 42)).resolves.toBe(42);
    await expect(withSteadyYoungGeneration(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    // Allocation-heavy work runs normally under it (and after it).
    const total = await withSteadyYoungGeneration(async () => {
      let n = 0;
      for (let i = 0; i < 2000; i++) n += Buffer.alloc(64 * 1024, i & 0xff)[0]!;
      return n;
    });
    expect(total).toBe([...Array(2000).keys()].reduce((a, i) => a + (i & 0xff), 0));
  });
});
