/** Fixtures shared by the index tests (binary layout and the JSON of older versions). */
import { expect } from 'vitest';
import { type IndexEntry, IndexFormatError } from '../../src/sync/index-format.js';

export const blob = (n: number): string => n.toString(16).padStart(64, '0');
export const WS = '0123456789abcdef0123456789abcdef';

export function entry(path: string, over: Partial<IndexEntry> = {}): IndexEntry {
  return { path, size: 3, mtimeMs: 1_700_000_000_123.456, ctimeMs: 1_700_000_000_200.5, ino: 42, mode: 0o644, chunks: [blob(1)], ...over };
}

export function expectIndexError(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IndexFormatError);
  expect((err as IndexFormatError).code).toBe('bad_index');
}
