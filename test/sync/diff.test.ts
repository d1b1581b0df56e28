import { describe, expect, it } from 'vitest';
import { currentTree, localChanges, planRescan, type ScannedFile } from '../../src/sync/diff.js';
import { TreeError } from '../../src/sync/errors.js';
import { normalizeMode } from '../../src/sync/file-mode.js';
import type { IndexEntry, LocalIndex } from '../../src/sync/index-format.js';

const blob = (n: number): string => n.toString(16).padStart(64, '0');

function entry(path: string, over: Partial<IndexEntry> = {}): IndexEntry {
  return { path, size: 10, mtimeMs: 1000.5, ctimeMs: 2000.25, ino: 7, mode: 0o644, chunks: [blob(1)], ...over };
}
function statOf(e: IndexEntry): ScannedFile {
  return { path: e.path, size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, mode: e.mode };
}
function index(entries: IndexEntry[]): LocalIndex {
  return { version: 1, workspaceId: 'a'.repeat(32), base: null, entries };
}

describe('planRescan', () => {
  const e = entry('f.json');
  const cases: [why: string, scanned: Partial<ScannedFile>, dirty: boolean][] = [
    ['identical stat', {}, false],
    ['identical stat with raw st_mode', { mode: 0o100644 }, false],
    ['group-write bit only (not synced)', { mode: 0o100664 }, false],
    ['size changed', { size: 11 }, true],
    ['mtime changed', { mtimeMs: 1001 }, true],
    ['same size, mtime set back, ctime changed', { ctimeMs: 9999 }, true],
    ['inode changed (replaced by rename)', { ino: 8 }, true],
    ['executable bit added', { mode: 0o100755 }, true],
    ['sub-millisecond mtime difference', { mtimeMs: 1000.5001 }, true],
  ];
  it.each(cases)('%s → dirty=%s', (_why, over, dirty) => {
    const plan = planRescan(index([e]), [{ ...statOf(e), ...over }]);
    expect(plan.deleted).toEqual([]);
    if (dirty) {
      expect(plan.unchanged).toEqual([]);
      expect(plan.dirty).toEqual([{ ...statOf(e), ...over }]);
    } else {
      expect(plan.unchanged).toEqual([e]);
      expect(plan.dirty).toEqual([]);
    }
  });

  it('a racily clean entry (mtimeMs 0) is dirty even when the stat matches', () => {
    const racy = entry('r', { mtimeMs: 0 });
    expect(planRescan(index([racy]), [statOf(racy)]).dirty).toHaveLength(1);
  });

  it('new files are dirty, missing ones deleted, all lists sorted', () => {
    const idx = index([entry('a'), entry('b'), entry('c'), entry('d')]);
    const scan: ScannedFile[] = [
      statOf(entry('z-new')),
      statOf(entry('c', { size: 99 })),
      statOf(entry('a')),
      statOf(entry('m-new')),
    ];
    const plan = planRescan(idx, scan);
    expect(plan.unchanged.map((x) => x.path)).toEqual(['a']);
    expect(plan.dirty.map((x) => x.path)).toEqual(['c', 'm-new', 'z-new']);
    expect(plan.deleted).toEqual(['b', 'd']);
  });

  it('an empty index makes every file dirty', () => {
    const plan = planRescan(index([]), [statOf(entry('x')), statOf(entry('y'))]);
    expect(plan.dirty).toHaveLength(2);
    expect(plan.unchanged).toEqual([]);
  });

  it('refuses a path scanned twice', () => {
    expect(() => planRescan(index([]), [statOf(entry('x')), statOf(entry('x'))])).toThrow(TreeError);
  });
});

describe('localChanges', () => {
  const idx = index([entry('same'), entry('touched'), entry('edited'), entry('chmod'), entry('gone')]);
  it('classifies by content and mode, over the complete current tree', () => {
    const current = [
      { path: 'same', mode: 0o644, chunks: [blob(1)] },
      { path: 'touched', mode: 0o644, chunks: [blob(1)] }, // dirty by stat, same content
      { path: 'edited', mode: 0o644, chunks: [blob(2)] },
      { path: 'chmod', mode: 0o755, chunks: [blob(1)] },
      { path: 'added', mode: 0o644, chunks: [] },
    ];
    expect(localChanges(idx, current)).toEqual([
      { kind: 'added', path: 'added' },
      { kind: 'modified', path: 'chmod' },
      { kind: 'modified', path: 'edited' },
      { kind: 'deleted', path: 'gone' },
    ]);
  });

  it('a file that grew a chunk is modified', () => {
    expect(localChanges(index([entry('f')]), [{ path: 'f', mode: 0o644, chunks: [blob(1), blob(2)] }])).toEqual([
      { kind: 'modified', path: 'f' },
    ]);
  });

  it('works with planRescan and currentTree end to end', () => {
    const base = index([entry('keep'), entry('touch'), entry('edit'), entry('del')]);
    const scan = [statOf(entry('keep')), statOf(entry('touch', { mtimeMs: 5 })), statOf(entry('edit', { size: 4 })), statOf(entry('new'))];
    const plan = planRescan(base, scan);
    const hashed = plan.dirty.map((f) => ({
      ...f,
      mode: normalizeMode(f.mode),
      chunks: f.path === 'touch' ? [blob(1)] : [blob(3)],
    }));
    const tree = currentTree(plan.unchanged, hashed);
    expect(tree.map((f) => f.path)).toEqual(['edit', 'keep', 'new', 'touch']);
    expect(localChanges(base, tree)).toEqual([
      { kind: 'deleted', path: 'del' },
      { kind: 'modified', path: 'edit' },
      { kind: 'added', path: 'new' },
    ]);
  });

  it('refuses a path listed twice', () => {
    const f = { path: 'x', mode: 0o644, chunks: [] };
    expect(() => localChanges(index([]), [f, f])).toThrow(TreeError);
  });
});

describe('normalizeMode', () => {
  it.each([
    [0o100644, 0o644],
    [0o100600, 0o644],
    [0o100664, 0o644],
    [0o100755, 0o755],
    [0o100700, 0o755],
    [0o100744, 0o755],
    [0o100654, 0o644], // group-exec only: git also keeps 0644
    [0o644, 0o644],
    [0o755, 0o755],
  ])('%o → %o', (input, expected) => {
    expect(normalizeMode(input)).toBe(expected);
  });
});

describe('planRescan and localChanges give the same answer whatever the input order', () => {
  // Sorted inputs take a merge pass, others a map; both must agree on every kind of difference.
  let seed = 7;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  const shuffle = <T>(xs: T[]): T[] => {
    const out = xs.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
    return out;
  };
  // Sorted by code unit, so that filtering keeps them sorted.
  const names = ['A', 'a', 'a!', 'a/b', 'b', 'b.json', 'c/d!', 'c/d/e', 'z', 'é'];

  it('for 2,000 random folders', () => {
    let unchanged = 0;
    let dirty = 0;
    let deleted = 0;
    let changes = 0;
    for (let n = 0; n < 2_000; n++) {
      const indexed = names.filter(() => next() < 0.6).map((p) => entry(p, { mtimeMs: next() < 0.1 ? 0 : 1000.5 }));
      const scan: ScannedFile[] = names
        .filter(() => next() < 0.6)
        .map((p) => statOf(entry(p, next() < 0.3 ? { size: 11 } : next() < 0.1 ? { mode: 0o100755 } : {})));
      const sortedIndex = index(indexed);
      const expected = planRescan({ ...sortedIndex, entries: shuffle(indexed) }, shuffle(scan));
      expect(planRescan(sortedIndex, scan)).toEqual(expected);
      unchanged += expected.unchanged.length;
      dirty += expected.dirty.length;
      deleted += expected.deleted.length;

      const current = scan.map((f) => ({ path: f.path, mode: f.mode, chunks: next() < 0.3 ? [blob(2)] : [blob(1)] }));
      const want = localChanges({ ...sortedIndex, entries: shuffle(indexed) }, shuffle(current));
      expect(localChanges(sortedIndex, current)).toEqual(want);
      changes += want.length;
    }
    expect(Math.min(unchanged, dirty, deleted, changes)).toBeGreaterThan(1000);
  });

  it('an unsorted index with a sorted scan still finds every unchanged file', () => {
    const idx = index([entry('b'), entry('a')]);
    expect(planRescan(idx, [statOf(entry('a')), statOf(entry('b'))]).unchanged.map((e) => e.path)).toEqual(['a', 'b']);
    expect(localChanges(idx, [{ path: 'a', mode: 0o644, chunks: [blob(1)] }])).toEqual([{ kind: 'deleted', path: 'b' }]);
  });

  it('refuses a repeated path in a sorted scan or tree', () => {
    const idx = index([entry('a'), entry('b')]);
    expect(() => planRescan(idx, [statOf(entry('a')), statOf(entry('b')), statOf(entry('b'))])).toThrow(TreeError);
    const f = { path: 'b', mode: 0o644, chunks: [blob(1)] };
    expect(() => localChanges(idx, [{ ...f, path: 'a' }, f, f])).toThrow(TreeError);
  });
});
