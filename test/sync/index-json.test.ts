import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import type { LocalIndex } from '../../src/sync/index-format.js';
import { decodeJsonIndex } from '../../src/sync/index-json.js';

import { blob, entry, expectIndexError, WS } from './index-fixtures.js';

function sample(): LocalIndex {
  return {
    version: 1,
    workspaceId: WS,
    base: 'e'.repeat(64),
    entries: [entry('b/c.json'), entry('a.json', { mode: 0o755, ino: 2 ** 40 }), entry('empty', { size: 0, chunks: [] })],
  };
}

/** The JSON text older versions wrote: sorted entries, fields in this order. */
function legacyText(i: LocalIndex): string {
  return JSON.stringify({ ...i, entries: [...i.entries].sort((a, b) => (a.path < b.path ? -1 : 1)) });
}

describe('decodeJsonIndex (index.json from older versions)', () => {
  it('reads what older versions wrote, fractional times exactly', () => {
    const back = decodeJsonIndex(legacyText(sample()));
    expect(back.entries.map((e) => e.path)).toEqual(['a.json', 'b/c.json', 'empty']);
    expect(back.entries[1]!.mtimeMs).toBe(1_700_000_000_123.456);
    expect(back.base).toBe('e'.repeat(64));
  });
});

describe('decodeJsonIndex rejects', () => {
  const json = (): Record<string, any> => JSON.parse(legacyText(sample()));
  const cases: [why: string, mutate: (j: Record<string, any>) => void][] = [
    ['version 2', (j) => (j.version = 2)],
    ['unknown field', (j) => (j.head = null)],
    ['missing base', (j) => delete j.base],
    ['bad workspace id', (j) => (j.workspaceId = 'x')],
    ['bad base', (j) => (j.base = 'abc')],
    ['entries not array', (j) => (j.entries = null)],
    ['entry unknown field', (j) => (j.entries[0].uid = 0)],
    ['entry missing ino', (j) => delete j.entries[0].ino],
    ['mtime not a number', (j) => (j.entries[0].mtimeMs = '1')],
    ['ctime null', (j) => (j.entries[0].ctimeMs = null)],
    ['ino negative', (j) => (j.entries[0].ino = -1)],
    ['mode raw', (j) => (j.entries[0].mode = 0o100644)],
    ['unsafe path', (j) => (j.entries[0].path = '../../etc/passwd')],
    ['internal path', (j) => (j.entries[0].path = '.insomnia-sync/index.json')],
    ['chunks do not fit size', (j) => (j.entries[0].size = CHUNK_SIZE + 1)],
    ['bad chunk id', (j) => (j.entries[0].chunks = ['zz'])],
    ['unsorted', (j) => j.entries.reverse()],
    ['duplicate', (j) => (j.entries[1] = { ...j.entries[0] })],
    ['file is also a folder', (j) => (j.entries[0].path = 'b')],
  ];
  it.each(cases)('%s', (_why, mutate) => {
    const j = json();
    mutate(j);
    expectIndexError(() => decodeJsonIndex(JSON.stringify(j)));
  });
  it.each(['', 'garbage', '[]', 'null', '{"version":1'])('text %j', (t) => {
    expectIndexError(() => decodeJsonIndex(t));
  });
});
