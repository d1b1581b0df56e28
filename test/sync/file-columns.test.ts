import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../helpers/prng.js';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import { planChanges, planRescan, type LocalChange, type ScannedFile } from '../../src/sync/diff.js';
import {
  checkFileColumns,
  entriesOf,
  fileColumnsOf,
  mergeFileColumns,
  type FileColumns,
  type StatColumns,
} from '../../src/sync/file-columns.js';
import type { IndexEntry } from '../../src/sync/index-format.js';
import { decodeIndex, decodeIndexColumns, encodeIndex } from '../../src/sync/index-format.js';
import { decodeManifest, encodeManifest, ManifestError, type Manifest } from '../../src/sync/manifest.js';
import { blob, entry, WS } from './index-fixtures.js';

const where = (k: number): string => `files[${k}]`;

function columns(entries: IndexEntry[]): FileColumns {
  const r = fileColumnsOf(entries, where);
  if (r.problem !== null) throw new Error(r.problem);
  return r.columns;
}


const NAMES = ['a', 'b', 'a.b', 'a-b', 'é', 'ß', 'x y', 'q"uote', 'z', '日本', 'emoji😀', 'A'];

/** Random sorted, tree-shaped entries: files in nested folders, sizes up to three chunks. */
function randomEntries(next: () => number, count: number): IndexEntry[] {
  const paths = new Set<string>();
  while (paths.size < count) {
    const depth = Math.floor(next() * 3);
    const parts: string[] = [];
    for (let d = 0; d < depth; d++) parts.push(`d${NAMES[Math.floor(next() * NAMES.length)]}`);
    parts.push(`f${NAMES[Math.floor(next() * NAMES.length)]}${Math.floor(next() * 50)}`);
    paths.add(parts.join('/'));
  }
  let id = Math.floor(next() * 1000);
  return [...paths].sort().map((path) => {
    const r = next();
    const size = r < 0.1 ? 0 : r < 0.2 ? CHUNK_SIZE * 2 + 5 : r < 0.25 ? CHUNK_SIZE : Math.floor(next() * 5000) + 1;
    const chunks = Array.from({ length: Math.ceil(size / CHUNK_SIZE) }, () => blob(id++));
    return entry(path, { size, chunks, mode: next() < 0.2 ? 0o755 : 0o644, mtimeMs: 1_700_000_000_000 + Math.floor(next() * 1e6), ino: Math.floor(next() * 1e6) });
  });
}

describe('file columns', () => {
  it('carry index entries both ways unchanged', () => {
    const next = mulberry32(1);
    for (let n = 0; n < 50; n++) {
      const entries = randomEntries(next, Math.floor(next() * 40));
      const c = columns(entries);
      expect(checkFileColumns(c, where)).toBeNull();
      expect(entriesOf(c)).toEqual(entries);
    }
  });

  it('merge kept rows and re-read entries into what the entries alone would give', () => {
    const next = mulberry32(2);
    for (let n = 0; n < 300; n++) {
      const all = randomEntries(next, 1 + Math.floor(next() * 60));
      const base = columns(all.map((e) => ({ ...e, mtimeMs: e.mtimeMs - 1 })));
      const keep: number[] = [];
      const added: IndexEntry[] = [];
      all.forEach((e, k) => {
        const r = next();
        if (r < 0.6) keep.push(k);
        else if (r < 0.85) added.push({ ...e, chunks: e.chunks.map((_, i) => blob(900_000 + k * 4 + i)), mode: 0o755 });
      });
      const expected = [...keep.map((k) => entriesOf(base)[k] as IndexEntry), ...added].sort((a, b) => (a.path < b.path ? -1 : 1));
      const merged = mergeFileColumns(base, keep, added);
      expect(checkFileColumns(merged, where)).toBeNull();
      expect(entriesOf(merged)).toEqual(expected);
    }
  });

  it('check the added entries like any entries', () => {
    const base = columns([entry('a')]);
    expect(() => mergeFileColumns(base, [0], [entry('b', { mode: 0o100700 })])).toThrow('added[0].mode must be 0o644 or 0o755');
    expect(() => mergeFileColumns(base, [0], [entry('b', { size: '3' as unknown as number })])).toThrow(TypeError);
    expect(() => mergeFileColumns(base, [0], [entry('b', { chunks: ['x'.repeat(64)] })])).toThrow(/not a 64-hex blob id/);
  });

  it('a path both kept and added is refused by the check, not silently doubled', () => {
    const base = columns([entry('a'), entry('b')]);
    const merged = mergeFileColumns(base, [0, 1], [entry('b', { chunks: [blob(7)] })]);
    expect(checkFileColumns(merged, where)).toBe('files[2] repeats a path');
  });

  it('name the first rule broken', () => {
    const ok = (): FileColumns => columns([entry('a'), entry('b', { size: CHUNK_SIZE + 1, chunks: [blob(2), blob(3)] }), entry('c')]);
    const cases: [string, (c: FileColumns) => void][] = [
      ['files[1].size must be a non-negative integer', (c) => void (c.stats[4] = 1.5)],
      ['files[0].mtimeMs is not a finite number', (c) => void (c.stats[1] = Number.NaN)],
      ['files[2].ctimeMs is not a finite number', (c) => void (c.stats[10] = Number.POSITIVE_INFINITY)],
      ['files[0].ino is not a non-negative number', (c) => void (c.stats[3] = -1)],
      ['files[2].mode must be 0o644 or 0o755', (c) => void (c.exec[2] = 2)],
      ['files[1].chunks has 2 ids for 3 bytes (expected 1)', (c) => void (c.stats[4] = 3)],
      ['files[1] is out of order (must be sorted by path)', (c) => void ((c.paths as string[])[1] = '0')],
      ['files[1].path: path has an empty segment', (c) => void ((c.paths as string[])[1] = 'b/')],
      ['files[1] lies inside a path that is also a file', (c) => void ((c.paths as string[])[1] = 'a/x')],
      ['file columns have mismatched lengths', (c) => void (c.exec = new Uint8Array(2))],
      ['files[1].path is not a string', (c) => void ((c.paths as unknown[])[1] = 7)],
      ['files[0].path is not a string', (c) => void ((c.paths as unknown[])[0] = undefined)],
      ['file columns have blob ids that no file uses', (c) => void (c.ids = new Uint8Array(c.ids.length + 32))],
    ];
    for (const [problem, spoil] of cases) {
      const c = ok();
      expect(checkFileColumns(c, where)).toBeNull();
      spoil(c);
      expect(checkFileColumns(c, where)).toBe(problem);
    }
  });

  it('are built only from well-typed entries', () => {
    const bad: [string, Partial<IndexEntry>][] = [
      ['files[0].size must be a non-negative integer', { size: '3' as unknown as number }],
      ['files[0].mtimeMs is not a finite number', { mtimeMs: '5' as unknown as number }],
      ['files[0].mode must be 0o644 or 0o755', { mode: 0o600 }],
      ['files[0].chunks is not an array', { chunks: 'x' as unknown as string[] }],
      ['files[0].chunks has 0 ids for 3 bytes (expected 1)', { chunks: [] }],
      ['files[0].chunks[0] is not a 64-hex blob id', { chunks: ['A'.repeat(64)] }],
      ['files[0].chunks[0] is not a 64-hex blob id', { chunks: [blob(1).slice(1)] }],
    ];
    for (const [problem, over] of bad) expect(fileColumnsOf([entry('a', over)], where).problem).toBe(problem);
  });
});

/** The scan's view of index entries: their stat data, touched where `touch` says. */
function scanOf(entries: IndexEntry[]): ScannedFile[] {
  return entries.map(({ path, size, mtimeMs, ctimeMs, ino, mode }) => ({ path, size, mtimeMs, ctimeMs, ino, mode }));
}

function statColumns(files: ScannedFile[]): StatColumns {
  return {
    paths: files.map((f) => f.path),
    stats: Float64Array.from(files.flatMap((f) => [f.size, f.mtimeMs, f.ctimeMs, f.ino])),
    exec: Uint8Array.from(files.map((f) => (f.mode & 0o100 ? 1 : 0))),
  };
}

/** The rules of planRescan and planChanges spelt out the slow way, path by path: the model they must match. */
function reference(entries: IndexEntry[], scanned: ScannedFile[], contentOf: (f: ScannedFile) => Pick<IndexEntry, 'mode' | 'chunks'>) {
  const indexed = new Map(entries.map((e) => [e.path, e]));
  const scannedPaths = new Set(scanned.map((f) => f.path));
  const unchanged: string[] = [];
  const dirty: string[] = [];
  const changes: LocalChange[] = [];
  for (const f of scanned) {
    const e = indexed.get(f.path);
    const sameStat = e !== undefined && e.mtimeMs !== 0 && e.size === f.size && e.mtimeMs === f.mtimeMs && e.ctimeMs === f.ctimeMs && e.ino === f.ino && e.mode === f.mode;
    if (sameStat) {
      unchanged.push(f.path);
      continue;
    }
    dirty.push(f.path);
    const now = contentOf(f);
    if (e === undefined) changes.push({ kind: 'added', path: f.path });
    else if (e.mode !== now.mode || e.chunks.join() !== now.chunks.join()) changes.push({ kind: 'modified', path: f.path });
  }
  const deleted = entries.filter((e) => !scannedPaths.has(e.path)).map((e) => e.path);
  for (const p of deleted) changes.push({ kind: 'deleted', path: p });
  return { unchanged, dirty, deleted, changes: changes.sort((x, y) => (x.path < y.path ? -1 : 1)) };
}

describe('planRescan and planChanges', () => {
  it('agree with the path-by-path model for 500 random folders', () => {
    const next = mulberry32(3);
    let unchanged = 0;
    let changed = 0;
    for (let n = 0; n < 500; n++) {
      const entries = randomEntries(next, Math.floor(next() * 50)).map((e) => (next() < 0.1 ? { ...e, mtimeMs: 0 } : e));
      const scanned = scanOf(entries)
        .filter(() => next() > 0.1)
        .map((f) => {
          const r = next();
          if (r < 0.1) return { ...f, mtimeMs: f.mtimeMs + 1 };
          if (r < 0.15) return { ...f, ino: f.ino + 1 };
          if (r < 0.2) return { ...f, mode: f.mode ^ 0o111 };
          return f;
        });
      for (const e of randomEntries(next, 5)) if (!entries.some((x) => x.path === e.path || x.path.startsWith(`${e.path}/`) || e.path.startsWith(`${x.path}/`))) scanned.push(scanOf([e])[0] as ScannedFile);
      scanned.sort((a, b) => (a.path < b.path ? -1 : 1));
      // Half the re-read files really changed content.
      const contentOf = (f: ScannedFile) => {
        const was = entries.find((e) => e.path === f.path)?.chunks ?? [blob(5)];
        return { mode: f.mode, chunks: f.ino % 2 ? was : was.map((_, i) => blob(800_000 + i)) };
      };
      const want = reference(entries, scanned, contentOf);

      const cols = columns(entries);
      const scan = statColumns(scanned);
      const plan = planRescan(cols, scan);
      expect(plan.unchanged.map((k) => cols.paths[k])).toEqual(want.unchanged);
      expect(plan.dirty.map((k) => scan.paths[k])).toEqual(want.dirty);
      expect(plan.deleted.map((k) => cols.paths[k])).toEqual(want.deleted);
      expect(plan.dirtyInIndex.map((k) => (k < 0 ? null : cols.paths[k]))).toEqual(want.dirty.map((p) => (entries.some((e) => e.path === p) ? p : null)));
      const hashed = plan.dirty.map((k) => ({ ...(scanned[k] as ScannedFile), ...contentOf(scanned[k] as ScannedFile) }));
      expect(planChanges(cols, plan, hashed)).toEqual(want.changes);
      unchanged += want.unchanged.length;
      changed += want.changes.length;
    }
    expect(Math.min(unchanged, changed)).toBeGreaterThan(1000);
  });

  it('rehashAll marks every scanned file dirty and remembers its index row', () => {
    const entries = [entry('a'), entry('b'), entry('c')];
    const scan = statColumns(scanOf([entries[0] as IndexEntry, entries[2] as IndexEntry]));
    expect(planRescan(columns(entries), scan, { rehashAll: true })).toEqual({ unchanged: [], dirty: [0, 1], dirtyInIndex: [0, 2], deleted: [1] });
    expect(planRescan(columns(entries), scan)).toEqual({ unchanged: [0, 2], dirty: [], dirtyInIndex: [], deleted: [1] });
  });
});

describe('columnar manifests and indexes', () => {
  const head = (): Omit<Manifest, 'files'> => ({
    version: 1,
    workspaceId: WS,
    parent: null,
    epoch: 1,
    author: { userId: WS, name: 'Ann "A" \\ Lee', email: 'ann@example.com', signingKey: 'A'.repeat(43) },
    time: '2026-01-02T03:04:05.678Z',
    message: 'line one\nline "two" ✓',
  });

  it('encode to the same bytes as the records', () => {
    const next = mulberry32(4);
    for (let n = 0; n < 200; n++) {
      const entries = randomEntries(next, Math.floor(next() * 40));
      const files = entries.map(({ path, mode, size, chunks }) => ({ path, mode, size, chunks }));
      const bytes = encodeManifest({ ...head(), files: columns(entries) });
      expect(Buffer.from(bytes).equals(Buffer.from(encodeManifest({ ...head(), files })))).toBe(true);
      expect(decodeManifest(bytes).files).toEqual(files);

      const index = { version: 1 as const, workspaceId: WS, base: blob(9), entries };
      expect(Buffer.from(encodeIndex({ ...columns(entries), workspaceId: WS, base: blob(9) })).equals(Buffer.from(encodeIndex(index)))).toBe(true);
      expect(decodeIndexColumns(encodeIndex(index))).toMatchObject({ workspaceId: WS, base: blob(9), paths: entries.map((e) => e.path) });
      expect(decodeIndex(encodeIndex(index))).toEqual(index);
    }
  });

  it('refuse what the record encoder refuses', () => {
    const c = columns([entry('a'), entry('b')]);
    (c.paths as string[])[1] = 'a';
    expect(() => encodeManifest({ ...head(), files: c })).toThrow(ManifestError);
    expect(() => encodeManifest({ ...head(), files: c })).toThrow('manifest.files[1] repeats a path');
    expect(() => encodeManifest({ ...head(), epoch: 0, files: columns([entry('a')]) })).toThrow('manifest.epoch must be a positive integer');
    expect(() => encodeManifest({ ...head(), files: {} as unknown as FileColumns })).toThrow(ManifestError);
  });

  it('keep a first path that starts with a byte-order mark', () => {
    const index = { version: 1 as const, workspaceId: WS, base: null, entries: [entry('\ufeffnotes.json')] };
    expect(decodeIndex(encodeIndex(index))).toEqual(index);
    const files = index.entries.map(({ path, mode, size, chunks }) => ({ path, mode, size, chunks }));
    expect(decodeManifest(encodeManifest({ ...head(), files })).files).toEqual(files);
  });
});
