import { describe, expect, it } from 'vitest';
import { checkFileList, checkFileRecords, checkTreeOrder } from '../../src/sync/checks.js';

const KEYS = ['path', 'mode', 'size', 'chunks'] as const;
const where = (i: number): string => `files[${i}]`;
const blob = (n: number): string => n.toString(16).padStart(64, '0');
const file = (path: string, n = 1): Record<string, unknown> => ({ path, mode: 0o644, size: 3, chunks: [blob(n)] });

/** checkTreeOrder written the slow, obvious way: the order first, then the first path inside a file. */
function referenceTreeOrder(paths: string[]): string | null {
  for (let i = 1; i < paths.length; i++) {
    const a = paths[i - 1] as string;
    const b = paths[i] as string;
    if (a === b) return `${where(i)} repeats a path`;
    if (a > b) return `${where(i)} is out of order (must be sorted by path)`;
  }
  const files = new Set(paths);
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i] as string;
    for (let s = p.indexOf('/'); s !== -1; s = p.indexOf('/', s + 1)) {
      if (files.has(p.slice(0, s))) return `${where(i)} lies inside a path that is also a file`;
    }
  }
  return null;
}

describe('checkTreeOrder', () => {
  it.each([
    [['a', 'b/c', 'b/d'], null],
    [['a', 'a!', 'a/b'], 'files[2] lies inside a path that is also a file'],
    [['a', 'a.json', 'a/b/c'], 'files[2] lies inside a path that is also a file'],
    [['x/a', 'x/a!', 'x/a.b', 'x/a/b'], 'files[3] lies inside a path that is also a file'],
    [['a/b', 'a/b!', 'a/b/c', 'a/b/d'], 'files[2] lies inside a path that is also a file'],
    [['ab', 'ab/c'], 'files[1] lies inside a path that is also a file'],
    [['a', 'ab/c'], null],
    [['a', 'a'], 'files[1] repeats a path'],
    [['b', 'a'], 'files[1] is out of order (must be sorted by path)'],
    // an order problem anywhere wins over an earlier file/folder clash, as it always did
    [['a', 'a/b', 'c', 'b'], 'files[3] is out of order (must be sorted by path)'],
    [[], null],
  ] as [string[], string | null][])('%j → %s', (paths, expected) => {
    expect(checkTreeOrder(paths, where)).toBe(expected);
    expect(referenceTreeOrder(paths)).toBe(expected);
  });

  it('agrees with the reference on 5,000 random lists', () => {
    const parts = ['a', 'b', 'a/', 'b/', '!', '.', '/a', 'ab'];
    let seed = 99;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    let clashes = 0;
    for (let n = 0; n < 5_000; n++) {
      const set = new Set<string>();
      const count = 1 + Math.floor(next() * 8);
      for (let i = 0; i < count; i++) {
        let p = '';
        const len = 1 + Math.floor(next() * 4);
        for (let k = 0; k < len; k++) p += parts[Math.floor(next() * parts.length)];
        set.add(p);
      }
      let paths = [...set].sort();
      if (next() < 0.1) paths = paths.reverse();
      if (next() < 0.1 && paths.length > 0) paths.push(paths[0] as string);
      const expected = referenceTreeOrder(paths);
      if (expected?.includes('inside')) clashes++;
      expect(checkTreeOrder(paths, where), JSON.stringify(paths)).toBe(expected);
    }
    expect(clashes).toBeGreaterThan(500);
  });
});

describe('checkFileRecords', () => {
  it('says whether every record has its keys in canonical order', () => {
    const list = [file('a'), file('b')];
    expect(checkFileRecords(list, KEYS, where)).toEqual({ problem: null, keysInOrder: true });
    list[1] = { mode: 0o644, path: 'b', size: 3, chunks: [blob(1)] };
    expect(checkFileRecords(list, KEYS, where)).toEqual({ problem: null, keysInOrder: false });
  });

  it('accepts records without Object.prototype (the slow key check)', () => {
    const bare = Object.assign(Object.create(null) as object, file('a'));
    expect(checkFileRecords([bare], KEYS, where)).toEqual({ problem: null, keysInOrder: true });
    class Rec {
      constructor(
        public path: string,
        public mode: number,
        public size: number,
        public chunks: string[],
      ) {}
    }
    // valid, but not plain data: JSON.stringify of it need not be canonical
    expect(checkFileRecords([new Rec('a', 0o644, 3, [blob(1)])], KEYS, where)).toEqual({ problem: null, keysInOrder: false });
    const chunks = Object.assign([blob(1)], { toJSON: () => [] });
    expect(checkFileRecords([{ ...file('a'), chunks }], KEYS, where)).toEqual({ problem: null, keysInOrder: false });
  });

  it('does not take an inherited field for an own one', () => {
    const proto = { chunks: [blob(1)] };
    const rec = Object.assign(Object.create(proto) as object, { path: 'a', mode: 0o644, size: 3 });
    expect(checkFileList([rec], KEYS, where)).toBe("files[0] lacks field 'chunks'");
  });

  it('does not take a field added to Object.prototype for an own one', () => {
    const rec = { path: 'a', mode: 0o644, size: 3 };
    Object.defineProperty(Object.prototype, 'chunks', { value: [blob(1)], enumerable: true, configurable: true });
    let problem: string | null;
    try {
      problem = checkFileList([rec], KEYS, where);
    } finally {
      delete (Object.prototype as Record<string, unknown>).chunks;
    }
    expect(problem).toBe("files[0] lacks field 'chunks'");
  });

  it('names the record for an extra or missing key, wherever it is', () => {
    const list = [file('a'), file('b'), { ...file('c'), owner: 'root' }];
    expect(checkFileList(list, KEYS, where)).toBe("files[2] has unknown field 'owner'");
    const { chunks: _c, ...noChunks } = file('d');
    expect(checkFileList([file('a'), noChunks], KEYS, where)).toBe("files[1] lacks field 'chunks'");
  });

  it('passes the failing record to `extra`', () => {
    const list = [file('a'), file('b'), file('c')];
    const extra = (r: Record<string, unknown>, w: () => string): string | null => (r.path === 'b' ? `${w()} is b` : null);
    expect(checkFileList(list, KEYS, where, extra)).toBe('files[1] is b');
  });

  // Every character just outside the hex ranges, and the gap between '9' and 'a' that the
  // two-range scan has to exclude.
  it.each(['/', ':', '@', '`', 'g', 'A', 'F', '~', ' ', '\u00e9', '\u0130'])('rejects %j in a blob id', (c) => {
    const list = [file('a', 1), file('b', 2), file('c', 3)];
    const bad = blob(2).slice(0, 40) + c + blob(2).slice(41);
    (list[1]!.chunks as string[])[0] = bad;
    expect(checkFileList(list, KEYS, where)).toBe('files[1].chunks[0] is not a 64-hex blob id');
  });

  it('accepts every hex digit in a blob id', () => {
    const list = [{ ...file('a'), chunks: ['0123456789abcdef'.repeat(4)] }];
    expect(checkFileList(list, KEYS, where)).toBeNull();
  });
});
