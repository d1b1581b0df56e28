import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import {
  decodeIndex,
  decodeIndexHead,
  emptyIndex,
  encodeIndex,
  type IndexEntry,
  indexMatchesScan,
  type LocalIndex,
  FINE_RACY_WINDOW_MS,
  RACY_WINDOW_MS,
  type StatColumns,
} from '../../src/sync/index-format.js';

import { blob, entry, expectIndexError, WS } from './index-fixtures.js';

function sample(): LocalIndex {
  return {
    version: 1,
    workspaceId: WS,
    base: 'e'.repeat(64),
    entries: [
      entry('b/c.json'),
      entry('a.json', { mode: 0o755, ino: 2 ** 40 }),
      entry('empty', { size: 0, chunks: [] }),
      entry('big.bin', { size: 2 * CHUNK_SIZE + 1, chunks: [blob(7), blob(8), blob(9)] }),
      entry('dossier/résumé.json', { chunks: [blob(3)] }),
    ],
  };
}

const sortedEntries = (i: LocalIndex): IndexEntry[] => [...i.entries].sort((a, b) => (a.path < b.path ? -1 : 1));

describe('encodeIndex / decodeIndex', () => {
  it('round-trips with entries sorted, fractional times, big inode numbers and chunked files kept exactly', () => {
    const i = sample();
    const back = decodeIndex(encodeIndex(i));
    expect(back).toEqual({ ...i, entries: sortedEntries(i) });
    expect(back.entries.map((e) => e.path)).toEqual(['a.json', 'b/c.json', 'big.bin', 'dossier/résumé.json', 'empty']);
    expect(back.entries[1]!.mtimeMs).toBe(1_700_000_000_123.456);
    expect(back.entries[0]!.ino).toBe(2 ** 40);
  });

  it('round-trips the empty index and an index with no base', () => {
    const empty = { version: 1 as const, workspaceId: WS, base: null, entries: [] };
    expect(decodeIndex(encodeIndex(emptyIndex(WS)))).toEqual(empty);
    expect(Buffer.from(encodeIndex(emptyIndex(WS)))).toEqual(Buffer.from(encodeIndex(empty)));
    const noBase = { ...sample(), base: null };
    expect(decodeIndex(encodeIndex(noBase)).base).toBeNull();
  });

  it('is canonical: the same index gives the same bytes, whatever the entry order or extra fields', () => {
    const i = sample();
    const withExtra = { ...i, entries: i.entries.map((e) => ({ ...e, uid: 501 }) as IndexEntry).reverse() };
    expect(Buffer.from(encodeIndex(withExtra))).toEqual(Buffer.from(encodeIndex(i)));
    const bytes = encodeIndex(i);
    expect(Buffer.from(encodeIndex(decodeIndex(bytes)))).toEqual(Buffer.from(bytes));
  });

  it('is smaller than the JSON it replaces', () => {
    const i = sample();
    expect(encodeIndex(i).length).toBeLessThan(JSON.stringify(i).length);
  });

  it('emptyIndex refuses a bad workspace id', () => {
    expectIndexError(() => emptyIndex('nope'));
  });
});

describe('encodeIndex refuses', () => {
  const cases: [why: string, mutate: (i: LocalIndex) => void][] = [
    ['a duplicate path', (i) => i.entries.push(entry('a.json'))],
    ['a path inside a file', (i) => i.entries.push(entry('a.json/x'))],
    ['an unsafe path', (i) => (i.entries[0]!.path = '../../etc/passwd')],
    ['the internal folder', (i) => (i.entries[0]!.path = '.insomnia-sync/index')],
    ['a path with a newline', (i) => (i.entries[0]!.path = 'a\nb')],
    ['a path not in NFC', (i) => (i.entries[0]!.path = 'cafe\u0301.json')],
    ['a bad chunk id', (i) => (i.entries[0]!.chunks = ['g'.repeat(64)])],
    ['an upper-case chunk id', (i) => (i.entries[0]!.chunks = ['A'.repeat(64)])],
    ['chunks that do not fit the size', (i) => (i.entries[0]!.size = CHUNK_SIZE + 1)],
    ['a fractional size', (i) => (i.entries[0]!.size = 2.5)],
    ['a negative inode', (i) => (i.entries[0]!.ino = -1)],
    ['a NaN mtime', (i) => (i.entries[0]!.mtimeMs = Number.NaN)],
    ['an infinite ctime', (i) => (i.entries[0]!.ctimeMs = Number.POSITIVE_INFINITY)],
    ['a raw st_mode', (i) => (i.entries[0]!.mode = 0o100644)],
    ['a bad workspace id', (i) => (i.workspaceId = 'x')],
    ['a bad base', (i) => (i.base = 'abc')],
  ];
  it.each(cases)('%s', (_why, mutate) => {
    const i = sample();
    mutate(i);
    expectIndexError(() => encodeIndex(i));
  });
});

/** Patches bytes of a valid encoding, to build files that only a damaged disk or a bug would write. */
function patched(fn: (b: Buffer) => Buffer | void): Uint8Array {
  const b = Buffer.from(encodeIndex(sample()));
  return fn(b) ?? b;
}

const HEAD = 72;
const N = 5;
const MODES_AT = HEAD + N * 32;
const PATHS_AT = MODES_AT + N + 4;

describe('decodeIndex rejects', () => {
  const cases: [why: string, bytes: () => Uint8Array][] = [
    ['no bytes', () => new Uint8Array(0)],
    ['a short header', () => patched((b) => b.subarray(0, 40))],
    ['another magic', () => patched((b) => void b.write('ISYNCIDY', 0, 'latin1'))],
    ['layout 1', () => patched((b) => void b.writeUInt32LE(1, 8))],
    ['a count beyond the file', () => patched((b) => void b.writeUInt32LE(1_000_000, 12))],
    ['a base flag of 2', () => patched((b) => void (b[32] = 2))],
    ['stray padding', () => patched((b) => void (b[70] = 1))],
    ['an absent base with bytes', () => patched((b) => void ((b[32] = 0), (b[40] = 1)))],
    ['a mode flag of 2', () => patched((b) => void (b[MODES_AT] = 2))],
    ['path bytes beyond the file', () => patched((b) => void b.writeUInt32LE(1 << 30, MODES_AT + N))],
    ['invalid UTF-8 in a path', () => patched((b) => void (b[PATHS_AT] = 0xff))],
    ['a path turned into a control character', () => patched((b) => void (b[PATHS_AT] = 0x01))],
    ['one path more than entries', () => patched((b) => void (b[PATHS_AT + 1] = 0x0a))], // 'a.json' → 'a' + separator + 'json'
    ['paths out of order', () => patched((b) => void (b[PATHS_AT] = 0x7a))], // 'a.json' → 'z.json'
    ['a fractional size', () => patched((b) => void b.writeDoubleLE(2.5, HEAD))],
    ['a NaN mtime', () => patched((b) => void b.writeDoubleLE(Number.NaN, HEAD + 8))],
    ['a negative inode', () => patched((b) => void b.writeDoubleLE(-1, HEAD + 24))],
    ['a size that needs another chunk id', () => patched((b) => void b.writeDoubleLE(CHUNK_SIZE + 1, HEAD))],
    ['a missing chunk id', () => patched((b) => b.subarray(0, b.length - 32))],
    ['a trailing byte', () => patched((b) => Buffer.concat([b, Buffer.of(0)]))],
  ];
  it.each(cases)('%s', (_why, bytes) => {
    expectIndexError(() => decodeIndex(bytes()));
  });

  it('refuses what is not bytes', () => {
    expectIndexError(() => decodeIndex('ISYNCIDX' as unknown as Uint8Array));
  });
});

describe('encodeIndex writtenAtMs (racily clean entries)', () => {
  const writtenAt = 1_700_000_100_000;
  // whole-second timestamps (ext3, HFS+, FAT): the 2 s window
  const F = 0.123456; // a part of a millisecond, as fine timestamps have
  it.each([
    ['old file', writtenAt - 60_000, writtenAt - 60_000, false],
    ['just outside the window', writtenAt - RACY_WINDOW_MS - 1000, writtenAt - RACY_WINDOW_MS - 1000, false],
    ['mtime at the window edge', writtenAt - RACY_WINDOW_MS, writtenAt - 60_000, true],
    ['mtime at write time', writtenAt, writtenAt, true],
    ['mtime in the future', writtenAt + 5_000, writtenAt + 5_000, true],
    ['old mtime but fresh ctime (touch -d)', writtenAt - 86_400_000, writtenAt - 1000, true],
    // fine timestamps (ext4, tmpfs, APFS, NTFS): the window is FINE_RACY_WINDOW_MS
    ['fine: a second before the write', writtenAt - 1000 + F, writtenAt - 1000 + F, false],
    ['fine: just outside the window', writtenAt - FINE_RACY_WINDOW_MS - 1 + F, writtenAt - FINE_RACY_WINDOW_MS - 1 + F, false],
    ['fine: inside the window', writtenAt - FINE_RACY_WINDOW_MS + F, writtenAt - 60_000 + F, true],
    ['fine: old whole-second mtime (touch -d) but fresh ctime', writtenAt - 86_400_000, writtenAt - 10 + F, true],
    ['fine ctime a second old makes a whole-second mtime fine too', writtenAt - 1000, writtenAt - 1000 + F, false],
  ])('%s', (_why, mtimeMs, ctimeMs, racy) => {
    const i: LocalIndex = { version: 1, workspaceId: WS, base: null, entries: [entry('a', { mtimeMs, ctimeMs })] };
    const back = decodeIndex(encodeIndex(i, { writtenAtMs: writtenAt }));
    expect(back.entries[0]!.mtimeMs).toBe(racy ? 0 : mtimeMs);
    expect(back.entries[0]!.ctimeMs).toBe(ctimeMs);
    expect(i.entries[0]!.mtimeMs).toBe(mtimeMs); // input untouched
    // Without writtenAtMs nothing is marked.
    expect(decodeIndex(encodeIndex(i)).entries[0]!.mtimeMs).toBe(mtimeMs);
  });
});

describe('indexMatchesScan', () => {
  const OLD = 1_600_000_000_000.5;
  const indexOf = (entries: IndexEntry[]): Uint8Array => encodeIndex({ version: 1, workspaceId: WS, base: 'e'.repeat(64), entries });
  const files = (): IndexEntry[] => [
    entry('a.json', { mtimeMs: OLD, ctimeMs: OLD, ino: 1 }),
    entry('b/c.json', { mtimeMs: OLD, ctimeMs: OLD, ino: 2, mode: 0o755 }),
    entry('dossier/résumé.json', { mtimeMs: OLD, ctimeMs: OLD, ino: 3 }),
  ];
  const columnsOf = (entries: IndexEntry[]): StatColumns => ({
    paths: entries.map((e) => e.path),
    stats: Float64Array.from(entries.flatMap((e) => [e.size, e.mtimeMs, e.ctimeMs, e.ino])),
    exec: Uint8Array.from(entries.map((e) => (e.mode === 0o755 ? 1 : 0))),
  });

  it('is true when the scan holds exactly the indexed files with identical stat data', () => {
    expect(indexMatchesScan(indexOf(files()), columnsOf(files()))).toBe(true);
    expect(indexMatchesScan(indexOf([]), columnsOf([]))).toBe(true);
  });

  it.each<[string, (e: IndexEntry[]) => IndexEntry[]]>([
    ['a changed size', (e) => e.map((f, i) => (i === 1 ? { ...f, size: 4 } : f))],
    ['a changed mtime', (e) => e.map((f, i) => (i === 2 ? { ...f, mtimeMs: OLD + 1 } : f))],
    ['a changed ctime (mtime set back)', (e) => e.map((f, i) => (i === 0 ? { ...f, ctimeMs: OLD + 0.001 } : f))],
    ['a changed inode (replaced by rename)', (e) => e.map((f, i) => (i === 0 ? { ...f, ino: 9 } : f))],
    ['a lost execute bit', (e) => e.map((f) => ({ ...f, mode: 0o644 }))],
    ['a new file', (e) => [...e, entry('z.json', { mtimeMs: OLD, ctimeMs: OLD })]],
    ['a deleted file', (e) => e.slice(1)],
    ['a renamed file', (e) => e.map((f, i) => (i === 0 ? { ...f, path: 'a.yaml' } : f))],
  ])('is false for %s', (_why, change) => {
    expect(indexMatchesScan(indexOf(files()), columnsOf(change(files())))).toBe(false);
  });

  it('is false for a racily clean entry (stored mtime 0), so it is re-read', () => {
    const racy = files().map((f, i) => (i === 1 ? { ...f, mtimeMs: 0 } : f));
    expect(indexMatchesScan(indexOf(racy), columnsOf(files()))).toBe(false);
  });

  it('decodeIndexHead reads the base without the entries, and refuses what is not an index', () => {
    expect(decodeIndexHead(indexOf(files()))).toEqual({ workspaceId: WS, base: 'e'.repeat(64) });
    expectIndexError(() => decodeIndexHead(new Uint8Array(10)));
  });
});
