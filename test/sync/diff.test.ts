import { describe, expect, it } from 'vitest';
import { planChanges, planRescan, withoutVanished, type ScannedFile } from '../../src/sync/diff.js';
import { TreeError } from '../../src/sync/errors.js';
import { fileColumnsOf, type FileColumns, type StatColumns } from '../../src/sync/file-columns.js';
import { normalizeMode } from '../../src/sync/file-mode.js';
import type { IndexEntry } from '../../src/sync/index-format.js';

const blob = (n: number): string => n.toString(16).padStart(64, '0');

function entry(path: string, over: Partial<IndexEntry> = {}): IndexEntry {
  return { path, size: 10, mtimeMs: 1000.5, ctimeMs: 2000.25, ino: 7, mode: 0o644, chunks: [blob(1)], ...over };
}
function statOf(e: IndexEntry): ScannedFile {
  return { path: e.path, size: e.size, mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino, mode: e.mode };
}
function index(entries: IndexEntry[]): FileColumns {
  const r = fileColumnsOf(entries, (k) => `entries[${k}]`);
  if (r.problem !== null) throw new Error(r.problem);
  return r.columns;
}
/** A scan's columns, as scanFolder makes them: modes reduced to the owner's execute bit. */
function scanOf(files: ScannedFile[]): StatColumns {
  return {
    paths: files.map((f) => f.path),
    stats: Float64Array.from(files.flatMap((f) => [f.size, f.mtimeMs, f.ctimeMs, f.ino])),
    exec: Uint8Array.from(files.map((f) => (normalizeMode(f.mode) === 0o755 ? 1 : 0))),
  };
}
const paths = (c: StatColumns, rows: number[]): string[] => rows.map((k) => c.paths[k] as string);

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
    const plan = planRescan(index([e]), scanOf([{ ...statOf(e), ...over }]));
    expect(plan.deleted).toEqual([]);
    expect(plan).toEqual(dirty ? { unchanged: [], dirty: [0], dirtyInIndex: [0], deleted: [] } : { unchanged: [0], dirty: [], dirtyInIndex: [], deleted: [] });
  });

  it('a racily clean entry (mtimeMs 0) is dirty even when the stat matches', () => {
    const racy = entry('r', { mtimeMs: 0 });
    expect(planRescan(index([racy]), scanOf([statOf(racy)])).dirty).toEqual([0]);
  });

  it('new files are dirty, missing ones deleted, all lists in path order', () => {
    const idx = index([entry('a'), entry('b'), entry('c'), entry('d')]);
    const scan = scanOf([statOf(entry('a')), statOf(entry('c', { size: 99 })), statOf(entry('m-new')), statOf(entry('z-new'))]);
    const plan = planRescan(idx, scan);
    expect(paths(idx, plan.unchanged)).toEqual(['a']);
    expect(paths(scan, plan.dirty)).toEqual(['c', 'm-new', 'z-new']);
    expect(plan.dirtyInIndex).toEqual([2, -1, -1]);
    expect(paths(idx, plan.deleted)).toEqual(['b', 'd']);
  });

  it('an empty index makes every file dirty and new', () => {
    const plan = planRescan(index([]), scanOf([statOf(entry('x')), statOf(entry('y'))]));
    expect(plan).toEqual({ unchanged: [], dirty: [0, 1], dirtyInIndex: [-1, -1], deleted: [] });
  });

  it('refuses a path scanned twice or out of order', () => {
    expect(() => planRescan(index([]), scanOf([statOf(entry('x')), statOf(entry('x'))]))).toThrow(TreeError);
    expect(() => planRescan(index([]), scanOf([statOf(entry('y')), statOf(entry('x'))]))).toThrow(TreeError);
  });
});

describe('planChanges', () => {
  it('classifies by content and mode: touched files are not changes', () => {
    const idx = index([entry('chmod'), entry('edited'), entry('gone'), entry('same'), entry('touched')]);
    const scan = scanOf([
      statOf(entry('added')),
      statOf(entry('chmod', { mode: 0o755 })),
      statOf(entry('edited', { size: 4 })),
      statOf(entry('same')),
      statOf(entry('touched', { mtimeMs: 5 })),
    ]);
    const plan = planRescan(idx, scan);
    expect(paths(scan, plan.dirty)).toEqual(['added', 'chmod', 'edited', 'touched']);
    const hashed = [
      { path: 'added', mode: 0o644, chunks: [] },
      { path: 'chmod', mode: 0o755, chunks: [blob(1)] },
      { path: 'edited', mode: 0o644, chunks: [blob(2)] },
      { path: 'touched', mode: 0o644, chunks: [blob(1)] },
    ];
    expect(planChanges(idx, plan, hashed)).toEqual([
      { kind: 'added', path: 'added' },
      { kind: 'modified', path: 'chmod' },
      { kind: 'modified', path: 'edited' },
      { kind: 'deleted', path: 'gone' },
    ]);
  });

  it('a file that grew a chunk is modified', () => {
    const idx = index([entry('f')]);
    const plan = planRescan(idx, scanOf([statOf(entry('f', { size: 2_000_000 }))]));
    expect(planChanges(idx, plan, [{ path: 'f', mode: 0o644, chunks: [blob(1), blob(2)] }])).toEqual([{ kind: 'modified', path: 'f' }]);
  });
});

describe('withoutVanished', () => {
  it('drops dirty rows whose read found no file: a synced one becomes deleted, a new one is left out', () => {
    const idx = index([entry('a'), entry('b-gone'), entry('c-vanished'), entry('d')]);
    const scan = scanOf([statOf(entry('a', { size: 1 })), statOf(entry('c-vanished', { size: 2 })), statOf(entry('d')), statOf(entry('e-new-vanished')), statOf(entry('f-new'))]);
    const plan = planRescan(idx, scan);
    expect(paths(scan, plan.dirty)).toEqual(['a', 'c-vanished', 'e-new-vanished', 'f-new']);
    const a = { path: 'a', mode: 0o644, chunks: [blob(2)] };
    const f = { path: 'f-new', mode: 0o644, chunks: [blob(3)] };
    const left = withoutVanished(plan, [a, null, null, f]);
    expect(left.hashed).toEqual([a, f]);
    expect(paths(scan, left.plan.dirty)).toEqual(['a', 'f-new']);
    expect(left.plan.dirtyInIndex).toEqual([0, -1]);
    expect(left.plan.deleted).toEqual([1, 2]); // index rows, in order
    expect(left.plan.unchanged).toEqual(plan.unchanged);
    expect(planChanges(idx, left.plan, left.hashed)).toEqual([
      { kind: 'modified', path: 'a' },
      { kind: 'deleted', path: 'b-gone' },
      { kind: 'deleted', path: 'c-vanished' },
      { kind: 'added', path: 'f-new' },
    ]);
  });

  it('with nothing vanished, gives the plan back as it is', () => {
    const idx = index([entry('a')]);
    const plan = planRescan(idx, scanOf([statOf(entry('a', { size: 1 }))]));
    const hashed = [{ path: 'a', mode: 0o644, chunks: [blob(2)] }];
    expect(withoutVanished(plan, hashed)).toEqual({ plan, hashed });
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
