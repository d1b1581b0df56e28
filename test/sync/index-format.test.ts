import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import {
  decodeIndex,
  emptyIndex,
  encodeIndex,
  type IndexEntry,
  IndexFormatError,
  type LocalIndex,
  markRacyEntries,
  RACY_WINDOW_MS,
} from '../../src/sync/index-format.js';

const blob = (n: number): string => n.toString(16).padStart(64, '0');
const WS = '0123456789abcdef0123456789abcdef';

function entry(path: string, over: Partial<IndexEntry> = {}): IndexEntry {
  return { path, size: 3, mtimeMs: 1_700_000_000_123.456, ctimeMs: 1_700_000_000_200.5, ino: 42, mode: 0o644, chunks: [blob(1)], ...over };
}

function sample(): LocalIndex {
  return {
    version: 1,
    workspaceId: WS,
    base: 'e'.repeat(64),
    entries: [entry('b/c.json'), entry('a.json', { mode: 0o755, ino: 2 ** 40 }), entry('empty', { size: 0, chunks: [] })],
  };
}

function expectIndexError(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(IndexFormatError);
  expect((err as IndexFormatError).code).toBe('bad_index');
}

describe('encodeIndex / decodeIndex', () => {
  it('round-trips with entries sorted and fractional times kept exactly', () => {
    const i = sample();
    const back = decodeIndex(encodeIndex(i));
    expect(back.entries.map((e) => e.path)).toEqual(['a.json', 'b/c.json', 'empty']);
    expect(back).toEqual({ ...i, entries: [...i.entries].sort((a, b) => (a.path < b.path ? -1 : 1)) });
    expect(back.entries[1]!.mtimeMs).toBe(1_700_000_000_123.456);
  });

  it('round-trips the empty index', () => {
    const i = emptyIndex(WS);
    expect(i).toEqual({ version: 1, workspaceId: WS, base: null, entries: [] });
    expect(decodeIndex(encodeIndex(i))).toEqual(i);
  });

  it('drops fields that are not part of an entry when encoding', () => {
    const i = sample();
    (i.entries[0] as unknown as Record<string, unknown>).extra = 1;
    expect(encodeIndex(i)).not.toContain('extra');
  });

  it('emptyIndex refuses a bad workspace id', () => {
    expectIndexError(() => emptyIndex('nope'));
  });
});

describe('decodeIndex rejects', () => {
  const json = (): Record<string, any> => JSON.parse(encodeIndex(sample()));
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
    expectIndexError(() => decodeIndex(JSON.stringify(j)));
  });
  it.each(['', 'garbage', '[]', 'null', '{"version":1'])('text %j', (t) => {
    expectIndexError(() => decodeIndex(t));
  });
  it('encodeIndex refuses duplicates', () => {
    const i = sample();
    i.entries.push(entry('a.json'));
    expectIndexError(() => encodeIndex(i));
  });
});

describe('markRacyEntries', () => {
  const writtenAt = 1_700_000_100_000;
  it.each([
    ['old file', writtenAt - 60_000, writtenAt - 60_000, false],
    ['just outside the window', writtenAt - RACY_WINDOW_MS - 1, writtenAt - RACY_WINDOW_MS - 1, false],
    ['mtime at the window edge', writtenAt - RACY_WINDOW_MS, writtenAt - 60_000, true],
    ['mtime at write time', writtenAt, writtenAt, true],
    ['mtime in the future', writtenAt + 5_000, writtenAt + 5_000, true],
    ['old mtime but fresh ctime (touch -d)', writtenAt - 86_400_000, writtenAt - 10, true],
  ])('%s', (_why, mtimeMs, ctimeMs, racy) => {
    const input = [entry('a', { mtimeMs, ctimeMs })];
    const out = markRacyEntries(input, writtenAt);
    expect(out[0]!.mtimeMs).toBe(racy ? 0 : mtimeMs);
    expect(out[0]!.ctimeMs).toBe(ctimeMs);
    expect(input[0]!.mtimeMs).toBe(mtimeMs); // input untouched
  });
});

describe('encodeIndex / decodeIndex without copies', () => {
  const sorted = (): LocalIndex => {
    const i = sample();
    return { ...i, entries: [...i.entries].sort((a, b) => (a.path < b.path ? -1 : 1)) };
  };

  it('writes a decoded index back byte for byte', () => {
    const text = encodeIndex(sample());
    expect(encodeIndex(decodeIndex(text))).toBe(text);
    expect(encodeIndex(decodeIndex(encodeIndex(sorted())))).toBe(text);
  });

  it('writes entries with their fields in another order in the usual order', () => {
    const i = sorted();
    const shuffled = i.entries.map((e) => ({ chunks: e.chunks, mode: e.mode, ino: e.ino, ctimeMs: e.ctimeMs, mtimeMs: e.mtimeMs, size: e.size, path: e.path }));
    expect(encodeIndex({ ...i, entries: shuffled })).toBe(encodeIndex(i));
  });

  it('writes the data of entries that are not plain objects, not what their toJSON says', () => {
    const i = sorted();
    class Entry {
      constructor(e: IndexEntry) {
        Object.assign(this, e);
      }
      toJSON(): unknown {
        return { path: '../../etc/passwd' };
      }
    }
    const chunksWithToJSON = (e: IndexEntry): string[] => Object.assign(e.chunks.slice(), { toJSON: () => ['zz'] });
    expect(encodeIndex({ ...i, entries: i.entries.map((e) => new Entry(e) as unknown as IndexEntry) })).toBe(encodeIndex(i));
    expect(encodeIndex({ ...i, entries: i.entries.map((e) => ({ ...e, chunks: chunksWithToJSON(e) })) })).toBe(encodeIndex(i));
  });

  it('drops extra fields of already sorted entries too', () => {
    const i = sorted();
    (i.entries[1] as unknown as Record<string, unknown>).uid = 501;
    const text = encodeIndex(i);
    expect(text).not.toContain('uid');
    expect(text).toBe(encodeIndex(sample()));
  });

  it('refuses a bad entry in an already sorted index', () => {
    const i = sorted();
    i.entries[1]!.chunks = ['g'.repeat(64)];
    expectIndexError(() => encodeIndex(i));
    const j = sorted();
    j.entries[0]!.ino = -1;
    expectIndexError(() => encodeIndex(j));
  });

  it('refuses a path inside a file in an unsorted index', () => {
    const i = sample();
    i.entries.push(entry('a.json/x'));
    expectIndexError(() => encodeIndex(i));
  });

  it('markRacyEntries returns copies that share nothing with the input', () => {
    const input = [entry('a'), entry('b', { mtimeMs: 1_700_000_100_000 })];
    const out = markRacyEntries(input, 1_700_000_100_000);
    expect(out).toEqual([input[0], { ...input[1], mtimeMs: 0 }]);
    out[0]!.chunks.push(blob(2));
    out[0]!.size = 1;
    expect(input[0]).toEqual(entry('a'));
  });
});
