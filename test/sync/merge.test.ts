import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.js';
import { TreeError } from '../../src/sync/errors.js';
import { type MergeAction, type MergeStrategy, planMerge, type TreeFile } from '../../src/sync/merge.js';
import { findFileDirClash } from '../../src/sync/paths.js';

const blob = (n: number): string => n.toString(16).padStart(64, '0');
/** A file whose content is version `v`. */
const f = (path: string, v: number, mode = 0o644): TreeFile => ({ path, mode, size: v, chunks: [blob(v)] });

type Tree = Record<string, number | [number, number]>; // path → version, or [version, mode]
const tree = (t: Tree): TreeFile[] =>
  Object.entries(t).map(([p, v]) => (Array.isArray(v) ? f(p, v[0], v[1]) : f(p, v)));

const STRATEGIES: MergeStrategy[] = ['conflict', 'ours', 'theirs'];

interface Case {
  name: string;
  base: Tree;
  local: Tree;
  remote: Tree;
  /** expected actions per strategy; a single list applies to all three */
  expect: MergeAction[] | Record<MergeStrategy, MergeAction[]>;
}

const write = (path: string, v: number, mode = 0o644): MergeAction => ({ kind: 'write', path, file: f(path, v, mode) });
const restore = (path: string, v: number): MergeAction => ({ kind: 'write', path, file: f(path, v), restored: true });
const del = (path: string): MergeAction => ({ kind: 'delete', path });
/** 'theirs' over a local change: the local file first copied to `aside` */
const writeAside = (path: string, v: number, aside: string, mode = 0o644): MergeAction => ({ kind: 'write', path, file: f(path, v, mode), localAside: aside });
const delAside = (path: string, aside: string): MergeAction => ({ kind: 'delete', path, localAside: aside });
const keep = (path: string): MergeAction => ({ kind: 'keep', path });
const chmod = (path: string, mode: number): MergeAction => ({ kind: 'chmod', path, mode });
const conflict = (path: string, l: TreeFile | null, r: TreeFile | null, conflictPath: string | null): MergeAction => ({
  kind: 'conflict',
  path,
  local: l,
  remote: r,
  conflictPath,
});

const cases: Case[] = [
  { name: 'unchanged on both sides', base: { p: 1 }, local: { p: 1 }, remote: { p: 1 }, expect: [] },
  { name: 'local modified only', base: { p: 1 }, local: { p: 2 }, remote: { p: 1 }, expect: [] },
  { name: 'local added only', base: {}, local: { p: 1 }, remote: {}, expect: [] },
  { name: 'local deleted only', base: { p: 1 }, local: {}, remote: { p: 1 }, expect: [] },
  { name: 'local mode change only', base: { p: 1 }, local: { p: [1, 0o755] }, remote: { p: 1 }, expect: [] },
  { name: 'remote modified only', base: { p: 1 }, local: { p: 1 }, remote: { p: 2 }, expect: [write('p', 2)] },
  { name: 'remote added only', base: {}, local: {}, remote: { p: 1 }, expect: [write('p', 1)] },
  { name: 'remote deleted only', base: { p: 1 }, local: { p: 1 }, remote: {}, expect: [del('p')] },
  { name: 'remote mode change only', base: { p: 1 }, local: { p: 1 }, remote: { p: [1, 0o755] }, expect: [write('p', 1, 0o755)] },
  { name: 'both modified identically', base: { p: 1 }, local: { p: 2 }, remote: { p: 2 }, expect: [] },
  { name: 'both added identically', base: {}, local: { p: 3 }, remote: { p: 3 }, expect: [] },
  { name: 'both deleted', base: { p: 1 }, local: {}, remote: {}, expect: [] },
  {
    name: 'both modified differently',
    base: { p: 1 },
    local: { p: 2 },
    remote: { p: 3 },
    expect: {
      conflict: [conflict('p', f('p', 2), f('p', 3), 'p.conflict')],
      ours: [keep('p')],
      theirs: [writeAside('p', 3, 'p.conflict')],
    },
  },
  {
    name: 'both added differently',
    base: {},
    local: { 'd/p': 2 },
    remote: { 'd/p': 3 },
    expect: {
      conflict: [conflict('d/p', f('d/p', 2), f('d/p', 3), 'd/p.conflict')],
      ours: [keep('d/p')],
      theirs: [writeAside('d/p', 3, 'd/p.conflict')],
    },
  },
  // content and mode merge apart, as in git: one side's content change and the other's mode change both stay
  { name: 'local changed the mode, remote the content', base: { p: 1 }, local: { p: [1, 0o755] }, remote: { p: 2 }, expect: [write('p', 2, 0o755)] },
  { name: 'remote changed the mode, local the content', base: { p: 1 }, local: { p: 2 }, remote: { p: [1, 0o755] }, expect: [chmod('p', 0o755)] },
  { name: 'remote cleared the exec bit, local changed the content', base: { p: [1, 0o755] }, local: { p: [2, 0o755] }, remote: { p: 1 }, expect: [chmod('p', 0o644)] },
  { name: 'both made the same content change, remote also the mode', base: { p: 1 }, local: { p: 2 }, remote: { p: [2, 0o755] }, expect: [chmod('p', 0o755)] },
  { name: 'both made the same mode change, local also the content', base: { p: 1 }, local: { p: [2, 0o755] }, remote: { p: [1, 0o755] }, expect: [] },
  { name: 'local changed content and mode, remote the content alike', base: { p: 1 }, local: { p: [2, 0o755] }, remote: { p: 2 }, expect: [] },
  {
    name: 'both changed the content differently, remote also the mode',
    base: { p: 1 },
    local: { p: 2 },
    remote: { p: [3, 0o755] },
    expect: {
      conflict: [conflict('p', f('p', 2), f('p', 3, 0o755), 'p.conflict')],
      ours: [keep('p')],
      theirs: [writeAside('p', 3, 'p.conflict', 0o755)],
    },
  },
  {
    name: 'both changed the content differently, each side the mode too',
    base: { p: [1, 0o755] },
    local: { p: 2 },
    remote: { p: [3, 0o755] },
    expect: {
      conflict: [conflict('p', f('p', 2), f('p', 3, 0o755), 'p.conflict')],
      ours: [keep('p')],
      theirs: [writeAside('p', 3, 'p.conflict', 0o755)],
    },
  },
  {
    name: 'both added the same content with different modes (no base to merge the mode with)',
    base: {},
    local: { p: 1 },
    remote: { p: [1, 0o755] },
    expect: {
      conflict: [conflict('p', f('p', 1), f('p', 1, 0o755), 'p.conflict')],
      ours: [keep('p')],
      theirs: [writeAside('p', 1, 'p.conflict', 0o755)],
    },
  },
  {
    name: 'local modified, remote deleted',
    base: { p: 1 },
    local: { p: 2 },
    remote: {},
    expect: { conflict: [conflict('p', f('p', 2), null, null)], ours: [keep('p')], theirs: [delAside('p', 'p.conflict')] },
  },
  {
    name: 'local deleted, remote modified (restored, not a conflict)',
    base: { p: 1 },
    local: {},
    remote: { p: 2 },
    expect: { conflict: [restore('p', 2)], ours: [keep('p')], theirs: [restore('p', 2)] },
  },
  {
    name: 'remote replaced a file by a folder, local untouched',
    base: { a: 1 },
    local: { a: 1 },
    remote: { 'a/b.json': 2 },
    expect: [del('a'), write('a/b.json', 2)],
  },
  {
    name: 'remote replaced a folder by a file, local untouched (deletes come first)',
    base: { 'a/b': 1, 'a/c': 1 },
    local: { 'a/b': 1, 'a/c': 1 },
    remote: { a: 2 },
    expect: [del('a/b'), del('a/c'), write('a', 2)],
  },
  {
    name: 'local modified file a, remote replaced it by folder a/',
    base: { a: 1 },
    local: { a: 2 },
    remote: { 'a/b.json': 3 },
    expect: {
      conflict: [conflict('a', f('a', 2), null, null), conflict('a/b.json', null, f('a/b.json', 3), 'a.conflict/b.json')],
      ours: [keep('a'), conflict('a/b.json', null, f('a/b.json', 3), 'a.conflict/b.json')],
      theirs: [delAside('a', 'a.conflict'), write('a/b.json', 3)],
    },
  },
  {
    name: 'local added folder a/, remote added file a',
    base: {},
    local: { 'a/x': 1 },
    remote: { a: 2 },
    expect: [conflict('a', null, f('a', 2), 'a.conflict')],
  },
  {
    name: 'local added file a, remote added several files under a/',
    base: {},
    local: { a: 1 },
    remote: { 'a/b': 2, 'a/c/d': 3, e: 4 },
    expect: [
      conflict('a/b', null, f('a/b', 2), 'a.conflict/b'),
      conflict('a/c/d', null, f('a/c/d', 3), 'a.conflict/c/d'),
      write('e', 4),
    ],
  },
  {
    name: 'local replaced file a by folder, remote modified a',
    base: { a: 1 },
    local: { 'a/x': 5 },
    remote: { a: 2 },
    expect: {
      conflict: [conflict('a', null, f('a', 2), 'a.conflict')],
      ours: [keep('a')],
      theirs: [conflict('a', null, f('a', 2), 'a.conflict')],
    },
  },
  {
    name: 'local modified a/b, remote replaced folder a by a file',
    base: { 'a/b': 1 },
    local: { 'a/b': 2 },
    remote: { a: 3 },
    expect: {
      conflict: [conflict('a', null, f('a', 3), 'a.conflict'), conflict('a/b', f('a/b', 2), null, null)],
      ours: [conflict('a', null, f('a', 3), 'a.conflict'), keep('a/b')],
      theirs: [delAside('a/b', 'a.conflict/b'), write('a', 3)],
    },
  },
  {
    name: 'conflict path avoids names used by local and remote files and folders',
    base: { p: 1 },
    local: { p: 2, 'p.conflict': 9 },
    remote: { p: 3, 'p.conflict': 9, 'p.conflict-2/x': 8 },
    expect: {
      conflict: [conflict('p', f('p', 2), f('p', 3), 'p.conflict-3'), write('p.conflict-2/x', 8)],
      ours: [keep('p'), write('p.conflict-2/x', 8)],
      theirs: [writeAside('p', 3, 'p.conflict-3'), write('p.conflict-2/x', 8)],
    },
  },
  {
    name: 'two conflicts never get the same conflict path',
    base: { x: 1, 'x.conflict': 1 },
    local: { x: 2, 'x.conflict': 2 },
    remote: { x: 3, 'x.conflict': 3 },
    expect: {
      conflict: [
        conflict('x', f('x', 2), f('x', 3), 'x.conflict-2'),
        conflict('x.conflict', f('x.conflict', 2), f('x.conflict', 3), 'x.conflict.conflict'),
      ],
      ours: [keep('x'), keep('x.conflict')],
      theirs: [writeAside('x', 3, 'x.conflict-2'), writeAside('x.conflict', 3, 'x.conflict.conflict')],
    },
  },
];

describe('planMerge cases', () => {
  for (const c of cases) {
    for (const strategy of STRATEGIES) {
      it(`${c.name} [${strategy}]`, () => {
        const remote = tree(c.remote);
        const plan = planMerge(tree(c.base), tree(c.local), remote, strategy);
        const expected = Array.isArray(c.expect) ? c.expect : c.expect[strategy];
        expect(plan.actions).toEqual(expected);
        expect(plan.conflicts).toBe(expected.filter((a) => a.kind === 'conflict').length);
        expect(plan.result).toEqual([...remote].sort((a, b) => (a.path < b.path ? -1 : 1)));
      });
    }
  }
});

describe('planMerge conflict paths and input checks', () => {
  it('skips conflict names that `taken` reports (e.g. an old copy on disk)', () => {
    const onDisk = new Set(['p.conflict', 'p.conflict-2']);
    const plan = planMerge(tree({ p: 1 }), tree({ p: 2 }), tree({ p: 3 }), 'conflict', (p) => onDisk.has(p));
    expect(plan.actions).toEqual([conflict('p', f('p', 2), f('p', 3), 'p.conflict-3')]);
  });

  it('skips a taken name for a relocated folder', () => {
    const plan = planMerge(tree({}), tree({ a: 1 }), tree({ 'a/b': 2 }), 'conflict', (p) => p === 'a.conflict');
    expect(plan.actions).toEqual([conflict('a/b', null, f('a/b', 2), 'a.conflict-2/b')]);
  });

  it('skips a conflict name that is a local file', () => {
    const plan = planMerge(tree({ q: 1 }), tree({ q: 2, 'q.conflict': 5 }), tree({ q: 3 }), 'conflict');
    expect(plan.actions).toEqual([conflict('q', f('q', 2), f('q', 3), 'q.conflict-2')]);
  });

  it('with `sameName`, skips a conflict name that is a tree name or another copy spelt otherwise, asking only about such pairs', () => {
    const asked: string[] = [];
    const folds = (a: string, b: string): boolean => {
      asked.push(`${a}|${b}`);
      return true;
    };
    // a synced `p.Conflict` (the suffix is case-sensitive: not a copy), a remote folder `Q.CONFLICT/`, a local `r.conflict-2`
    const plan = planMerge(
      tree({ p: 1, q: 1, r: 1, s: 1 }),
      tree({ p: 2, 'p.Conflict': 1, q: 2, r: 2, 'r.CONFLICT-2': 1, s: 1 }),
      tree({ p: 3, 'p.Conflict': 1, q: 3, 'Q.CONFLICT/x': 1, r: 3, s: 1 }),
      'conflict',
      (p) => p === 'r.conflict',
      folds,
    );
    expect(plan.actions.filter((a) => a.kind === 'conflict')).toEqual([
      conflict('p', f('p', 2), f('p', 3), 'p.conflict-2'),
      conflict('q', f('q', 2), f('q', 3), 'q.conflict-2'),
      conflict('r', f('r', 2), f('r', 3), 'r.conflict-3'),
    ]);
    expect(asked.sort()).toEqual(['p.conflict|p.Conflict', 'q.conflict|Q.CONFLICT', 'r.conflict-2|r.CONFLICT-2']);

    // --theirs: the local file's copy too; where the file system tells them apart, the plain names
    const theirs = planMerge(tree({ p: 1 }), tree({ p: 2 }), tree({ p: 3, 'P.conflict': 1 }), 'theirs', undefined, folds);
    expect(theirs.actions).toEqual([write('P.conflict', 1), writeAside('p', 3, 'p.conflict-2')]);
    const apart = planMerge(tree({ p: 1 }), tree({ p: 2 }), tree({ p: 3, 'P.conflict': 1 }), 'theirs', undefined, () => false);
    expect(apart.actions).toEqual([write('P.conflict', 1), writeAside('p', 3, 'p.conflict')]);
  });

  it('does not change its inputs', () => {
    const base = tree({ p: 1 });
    const local = tree({ p: 2 });
    const remote = tree({ p: 3, q: 1 });
    const copies = JSON.stringify([base, local, remote]);
    planMerge(base, local, remote, 'conflict');
    expect(JSON.stringify([base, local, remote])).toBe(copies);
  });

  it.each([
    ['duplicate in base', [f('p', 1), f('p', 1)], [], []],
    ['duplicate in local', [], [f('p', 1), f('p', 2)], []],
    ['duplicate in remote', [], [], [f('p', 1), f('p', 2)]],
    ['file/folder clash in local', [], [f('a', 1), f('a/b', 1)], []],
    ['file/folder clash in remote', [], [], [f('a/b', 1), f('a', 1)]],
  ])('refuses %s', (_why, base, local, remote) => {
    expect(() => planMerge(base, local, remote, 'conflict')).toThrow(TreeError);
  });

  it('refuses an unknown strategy', () => {
    expect(() => planMerge([], [], [], 'mine' as MergeStrategy)).toThrow(TypeError);
  });
});

/** Applies a plan to the local tree the way the pull service must: deletes, then writes and copies. */
function apply(local: TreeFile[], actions: MergeAction[]): Map<string, TreeFile> {
  const out = new Map(local.map((x) => [x.path, x]));
  for (const a of actions) {
    if ((a.kind === 'delete' || a.kind === 'write') && a.localAside !== undefined) {
      expect(out.has(a.localAside)).toBe(false);
      out.set(a.localAside, out.get(a.path)!);
    }
    if (a.kind === 'delete') out.delete(a.path);
    else if (a.kind === 'write') {
      expect(out.has(a.path) && a.restored).toBeFalsy();
      out.set(a.path, a.file);
    } else if (a.kind === 'chmod') {
      const was = out.get(a.path);
      expect(was).toBeDefined();
      out.set(a.path, { ...was!, mode: a.mode });
    } else if (a.kind === 'conflict' && a.conflictPath !== null && a.remote !== null) {
      expect(out.has(a.conflictPath)).toBe(false);
      out.set(a.conflictPath, a.remote);
    }
  }
  return out;
}


const POOL = ['a', 'a/b', 'a/c', 'a/b/x', 'b', 'b.conflict', 'c', 'c/d', 'c/d/e', 'a.conflict', 'a.conflict/b'];

function randomTree(next: () => number, from?: TreeFile[]): TreeFile[] {
  const files = new Map<string, TreeFile>();
  const mode = (): number => (next() < 0.3 ? 0o755 : 0o644);
  if (from) {
    for (const x of from) {
      if (next() >= 0.6) continue;
      const r = next();
      // kept; a new content; the exec bit flipped; or both
      const v = r < 0.55 ? x.size : 1 + Math.floor(next() * 3);
      files.set(x.path, r < 0.4 ? x : f(x.path, v, r < 0.55 || r >= 0.85 ? x.mode ^ 0o111 : x.mode));
    }
  }
  for (const p of POOL) if (next() < 0.25) files.set(p, f(p, 1 + Math.floor(next() * 3), mode()));
  // drop files until it is a valid tree
  for (;;) {
    const clash = findFileDirClash(files.keys());
    if (clash === null) break;
    files.delete(next() < 0.5 ? clash[0] : clash[1]);
  }
  return [...files.values()];
}

const same = (x: TreeFile | undefined, y: TreeFile | undefined): boolean => JSON.stringify(x) === JSON.stringify(y);
const content = (x: TreeFile | undefined): string => JSON.stringify(x && [x.size, x.chunks]);

describe('planMerge invariants on random trees', () => {
  it('never loses a change, never clashes, for 1500 random merges per strategy', () => {
    const next = mulberry32(20240601);
    for (let round = 0; round < 1500; round++) {
      const base = randomTree(next);
      const local = randomTree(next, base);
      const remote = randomTree(next, base);
      const B = new Map(base.map((x) => [x.path, x]));
      const L = new Map(local.map((x) => [x.path, x]));
      const R = new Map(remote.map((x) => [x.path, x]));
      const trees = JSON.stringify({ round, base, local, remote });
      for (const strategy of STRATEGIES) {
        const ctx = `${strategy} ${trees}`;
        const plan = planMerge(base, local, remote, strategy);
        const out = apply(local, plan.actions);
        expect(findFileDirClash(out.keys()), ctx).toBeNull();
        const conflictActions = plan.actions.filter((a) => a.kind === 'conflict');
        expect(plan.conflicts, ctx).toBe(conflictActions.length);
        const asides = plan.actions.flatMap((a) => ((a.kind === 'write' || a.kind === 'delete') && a.localAside !== undefined ? [a.localAside] : []));
        if (strategy !== 'theirs') expect(asides, ctx).toEqual([]);
        const copies = [...conflictActions.map((a) => a.conflictPath).filter((p) => p !== null), ...asides];
        expect(new Set(copies).size, ctx).toBe(copies.length);
        for (const p of copies) expect(L.has(p) || R.has(p), ctx).toBe(false);
        const where = new Map(plan.actions.map((a) => [a.path, a]));
        for (const [p, r] of R) {
          const a = where.get(p);
          const b = B.get(p);
          const copied = a?.kind === 'conflict' && a.conflictPath !== null && same(out.get(a.conflictPath), r);
          // what the remote changed (content, mode, or both) is in the folder, in place or as a
          // conflict copy, unless a local change won: 'ours', or a local edit/deletion the remote
          // did not touch
          const localWon = !same(L.get(p), b) && (strategy === 'ours' || same(r, b) || a?.kind === 'conflict');
          if (!localWon && !copied) {
            const o = out.get(p);
            if ((b === undefined || content(r) !== content(b)) && content(o) !== content(r)) expect(content(o), ctx).toBe(content(r));
            if ((b === undefined || r.mode !== b.mode) && o?.mode !== r.mode) expect(o?.mode, ctx).toBe(r.mode);
          }
        }
        for (const [p, l] of L) {
          const b = B.get(p);
          const changed = !same(l, b);
          // a local change or addition survives unless 'theirs' chose the remote side: its content
          // if it changed that, its mode if it changed that (the other may come from the remote)
          if (changed && strategy !== 'theirs') {
            const o = out.get(p);
            if ((b === undefined || content(l) !== content(b)) && content(o) !== content(l)) expect(content(o), ctx).toBe(content(l));
            if ((b === undefined || l.mode !== b.mode) && o?.mode !== l.mode) expect(o?.mode, ctx).toBe(l.mode);
          }
          // with 'theirs', the local change survives in place where the remote had not moved, and
          // its content beside it (a copy kept aside) where the remote side won
          if (changed && strategy === 'theirs' && same(R.get(p), B.get(p))) expect(same(out.get(p), l), ctx).toBe(true);
          if (changed && strategy === 'theirs') {
            const a = where.get(p);
            const aside = a && (a.kind === 'write' || a.kind === 'delete') ? a.localAside : undefined;
            const contentChanged = b === undefined || content(l) !== content(b);
            if (contentChanged) expect(content(out.get(p)) === content(l) || (aside !== undefined && same(out.get(aside), l)), ctx).toBe(true);
          }
        }
        for (const [p] of B) {
          // a file nobody changed stays; one only the remote deleted goes
          if (same(L.get(p), B.get(p)) && same(R.get(p), B.get(p))) expect(same(out.get(p), B.get(p)), ctx).toBe(true);
          if (same(L.get(p), B.get(p)) && !R.has(p)) expect(out.has(p), ctx).toBe(false);
        }
        expect(plan.result.map((x) => x.path), ctx).toEqual([...R.keys()].sort());
      }
    }
  });
});
