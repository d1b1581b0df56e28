/**
 * Every command that downloads many blobs keeps the young generation steady while it does
 * (young-generation.ts): restore and verify did not, and a restore --to of 50,000 files peaked at
 * 187–207 MB instead of 137–168 MB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { ClientContext } from '../../src/client/context.js';

const steady = vi.hoisted(() => ({ calls: 0 }));
vi.mock('../../src/client/local/young-generation.js', () => ({
  withSteadyYoungGeneration: async <T>(fn: () => Promise<T>): Promise<T> => {
    steady.calls++;
    return fn();
  },
}));

const { restore, verify } = await import('../../src/client/services/history.js');

const dir = mkdtempSync(path.join(tmpdir(), 'isync-young-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** outside any linked folder: each command fails at once, after it chose how to run */
const ctx = { cwd: dir } as unknown as ClientContext;

describe('downloads under a steady young generation', () => {
  it.each([
    ['restore --to', () => restore(ctx, { snapshot: 'abcd', to: path.join(dir, 'out') })],
    ['restore', () => restore(ctx, { snapshot: 'abcd' })],
    ['verify', () => verify(ctx)],
  ])('%s', async (_name, run) => {
    const before = steady.calls;
    await expect(run()).rejects.toThrow();
    expect(steady.calls).toBe(before + 1);
  });
});
