/**
 * applyStaged's up-to-date check, as git's at checkout: a file replaced or deleted by a pull or
 * restore must still be what the scan saw just before; one changed or made since stays, and what
 * would have gone there goes beside it.
 */
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyStaged, matchesSeen, seenIn, stagingDir, statOfPlaced, treeNames, type StagedFile } from '../../src/client/local/materialize.js';
import { scanFolder } from '../../src/client/local/scan.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'isync-apply-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const abs = (rel: string): string => path.join(root, rel);
const read = (rel: string): string => readFileSync(abs(rel), 'utf8');

function write(rel: string, content: string): void {
  mkdirSync(path.dirname(abs(rel)), { recursive: true });
  writeFileSync(abs(rel), content);
}

let n = 0;
/** A file staged as the download stages it: written, then its stat taken from the open file. */
function stage(target: string, content: string): StagedFile {
  mkdirSync(stagingDir(root), { recursive: true });
  const staged = path.join(stagingDir(root), String(n++));
  const fd = openSync(staged, 'w', 0o644);
  try {
    writeSync(fd, content);
    const st = fstatSync(fd);
    return { staged, target, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, exec: (st.mode & 0o100) !== 0, perm: st.mode & 0o777 };
  } finally {
    closeSync(fd);
  }
}

/** What a pull knows when it applies: the scan, taken before the (slow) download. */
async function scan(): Promise<{ seen: ReturnType<typeof seenIn>; paths: readonly string[] }> {
  const { columns } = await scanFolder(root);
  return { seen: seenIn(columns), paths: columns.paths };
}

/** Waits past the file-system clock's tick, so a write after it gets a different mtime. */
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

describe('applyStaged', () => {
  it('a replaced file keeps its read and write bits (a 0600 file of secrets stays 0600); only the executable bit comes from the remote', async () => {
    write('secret.json', 'old');
    chmodSync(path.join(root, 'secret.json'), 0o600);
    write('tool.sh', 'old');
    chmodSync(path.join(root, 'tool.sh'), 0o640);
    const { seen, paths } = await scan();
    const exec = stage('tool.sh', 'new');
    chmodSync(exec.staged, 0o755);
    const out = applyStaged(root, { staged: [stage('secret.json', 'new'), { ...exec, exec: true, perm: 0o755 }], deletes: [], seen, reserved: treeNames(paths) });
    expect(out.setAside).toEqual([]);
    expect(statSync(path.join(root, 'secret.json')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(root, 'tool.sh')).mode & 0o777).toBe(0o750);
    expect(readFileSync(path.join(root, 'secret.json'), 'utf8')).toBe('new');
    // the index records what is there, not a change to re-hash
    expect(out.placed.get('secret.json')!.mtimeMs).not.toBe(0);
    expect(out.placed.get('tool.sh')!.exec).toBe(true);
  });

  it('replaces and deletes files unchanged since the scan, and places new ones', async () => {
    write('same.json', 'old');
    write('gone.json', 'bye');
    write('d/deep.json', 'bye');
    const { seen, paths } = await scan();
    const staged = [stage('same.json', 'new'), stage('new/file.json', 'fresh')];
    const out = applyStaged(root, { staged, deletes: ['gone.json', 'd/deep.json'], seen, reserved: treeNames(paths) });
    expect(out.setAside).toEqual([]);
    expect(out.keptDeletes).toEqual([]);
    expect(read('same.json')).toBe('new');
    expect(read('new/file.json')).toBe('fresh');
    expect(existsSync(abs('gone.json'))).toBe(false);
    expect(existsSync(abs('d'))).toBe(false); // emptied by the delete
    expect(existsSync(stagingDir(root))).toBe(false);
    expect([...out.placed.keys()].sort()).toEqual(['new/file.json', 'same.json']);
  });

  it('leaves a file edited since the scan and writes the new version beside it; keeps a deleted file that was edited', async () => {
    write('x.json', '{"v":1}');
    write('y.json', '{"y":1}');
    const { seen, paths } = await scan();
    const staged = [stage('x.json', '{"v":"remote"}')];
    await tick();
    write('x.json', '{"v":"edit"}'); // same inode, new content
    write('y.json', '{"y":2}');
    const out = applyStaged(root, { staged, deletes: ['y.json'], seen, reserved: treeNames(paths) });
    expect(out.setAside).toEqual([{ target: 'x.json', aside: 'x.json.conflict' }]);
    expect(out.keptDeletes).toEqual(['y.json']);
    expect(out.placed.size).toBe(0);
    expect(read('x.json')).toBe('{"v":"edit"}');
    expect(read('x.json.conflict')).toBe('{"v":"remote"}');
    expect(read('y.json')).toBe('{"y":2}');
  });

  it('sees a same-size rewrite by a new inode (an editor saving by rename) and a chmod by ctime', async () => {
    write('a.json', 'aaaa');
    write('b.sh', 'bbbb');
    const { seen, paths } = await scan();
    const staged = [stage('a.json', 'AAAA'), stage('b.sh', 'BBBB')];
    // saved by rename over it: a new inode, same size (the mtime may well be in the same tick)
    write('a.json.tmp', 'zzzz');
    renameSync(abs('a.json.tmp'), abs('a.json'));
    await tick();
    chmodSync(abs('b.sh'), 0o600); // no exec change: only the ctime tells
    const out = applyStaged(root, { staged, deletes: [], seen, reserved: treeNames(paths) });
    expect(out.setAside.map((s) => s.target).sort()).toEqual(['a.json', 'b.sh']);
    expect(read('a.json')).toBe('zzzz');
    expect(read('b.sh')).toBe('bbbb');
  });

  it('never replaces a file made since the scan where there was none; a file deleted since the scan is written', async () => {
    write('old.json', 'old');
    const { seen, paths } = await scan();
    const staged = [stage('n.json', 'remote'), stage('old.json', 'remote old')];
    write('n.json', 'mine');
    rmSync(abs('old.json'));
    const out = applyStaged(root, { staged, deletes: [], seen, reserved: treeNames(paths) });
    expect(out.setAside).toEqual([{ target: 'n.json', aside: 'n.json.conflict' }]);
    expect(read('n.json')).toBe('mine');
    expect(read('n.json.conflict')).toBe('remote');
    expect(read('old.json')).toBe('remote old');
  });

  it('names a copy set aside past names on disk, in the trees, and planned for other copies', async () => {
    write('x.json', '1');
    write('x.json.conflict', 'an old copy');
    const { seen, paths } = await scan();
    const staged = [stage('x.json', '2'), stage('x.json.conflict-2', 'a planned conflict copy')];
    await tick();
    write('x.json', '3');
    const out = applyStaged(root, { staged, deletes: [], seen, reserved: treeNames(paths, ['x.json.conflict-3']) });
    expect(out.setAside).toEqual([{ target: 'x.json', aside: 'x.json.conflict-4' }]);
    expect(read('x.json.conflict-4')).toBe('2');
    expect(read('x.json.conflict')).toBe('an old copy');
  });

  it('names a copy in a subfolder of the trees beside its file, past names taken there (the folder does not take them all)', async () => {
    write('d/e/x.json', '1');
    write('d/e/x.json.conflict', 'an old copy');
    const { seen, paths } = await scan();
    // d/n.json: where the trees have none, made since the scan; d/e/x.json: changed since the scan
    const staged = [stage('d/n.json', 'remote n'), stage('d/e/x.json', 'remote x')];
    await tick();
    write('d/n.json', 'mine');
    write('d/e/x.json', 'mine too');
    const out = applyStaged(root, { staged, deletes: [], seen, reserved: treeNames(paths, ['d/n.json', 'd/e/x.json', 'd/e/x.json.conflict-2']) });
    expect(out.setAside).toEqual([
      { target: 'd/n.json', aside: 'd/n.json.conflict' },
      { target: 'd/e/x.json', aside: 'd/e/x.json.conflict-3' },
    ]);
    expect(read('d/n.json')).toBe('mine');
    expect(read('d/n.json.conflict')).toBe('remote n');
    expect(read('d/e/x.json.conflict-3')).toBe('remote x');
    expect(read('d/e/x.json.conflict')).toBe('an old copy');
  });

  it('gives up with one clear error, not a search without end, when no name for a copy is free; the staging folder goes', async () => {
    const { seen } = await scan();
    const staged = [stage('n.json', 'remote')];
    write('n.json', 'mine');
    let asked = 0;
    // every name reserved; a search that does not stop meets this error instead of hanging the suite
    const everyName = (): boolean => {
      if (++asked > 5000) throw new Error('still searching');
      return true;
    };
    expect(() => applyStaged(root, { staged, deletes: [], seen, reserved: everyName })).toThrow(
      expect.objectContaining({ code: 'no_conflict_name', message: 'no free name for a conflict copy of n.json: n.json.conflict to n.json.conflict-1000 are all taken' }),
    );
    expect(asked).toBeLessThan(1100);
    expect(read('n.json')).toBe('mine');
    expect(existsSync(stagingDir(root))).toBe(false);
  });

  it('no free name for a copy stops the apply before it changes anything: no delete done, no file placed, none replaced', async () => {
    write('a.json', 'old a');
    write('gone.json', 'bye');
    write('z.json', 'old z');
    const { seen, paths } = await scan();
    // a.json first, z.json last in the apply's order: the copy of z.json has no free name
    const staged = [stage('a.json', 'new a'), stage('new.json', 'fresh'), stage('z.json', 'new z')];
    await tick();
    write('z.json', 'mine');
    for (let i = 1; i <= 1000; i++) write(i === 1 ? 'z.json.conflict' : `z.json.conflict-${i}`, 'old copy');
    expect(() => applyStaged(root, { staged, deletes: ['gone.json'], seen, reserved: treeNames(paths) })).toThrow(
      expect.objectContaining({ code: 'no_conflict_name' }),
    );
    expect(read('a.json')).toBe('old a');
    expect(read('gone.json')).toBe('bye');
    expect(existsSync(abs('new.json'))).toBe(false);
    expect(read('z.json')).toBe('mine');
    expect(existsSync(stagingDir(root))).toBe(false);
  });

  it('the same for a copy under a folder that is a file again (a kept delete): the name is chosen before anything changes', async () => {
    write('env', 'a file');
    write('a.json', 'old a');
    const { seen, paths } = await scan();
    const staged = [stage('a.json', 'new a'), stage('env/prod.json', 'p')];
    await tick();
    write('env', 'edited');
    for (let i = 1; i <= 1000; i++) write(i === 1 ? 'env.conflict' : `env.conflict-${i}`, 'taken');
    expect(() => applyStaged(root, { staged, deletes: ['env'], seen, reserved: treeNames(paths, ['a.json', 'env/prod.json']) })).toThrow(
      expect.objectContaining({ code: 'no_conflict_name' }),
    );
    expect(read('a.json')).toBe('old a');
    expect(read('env')).toBe('edited');
  });

  it('puts files under a folder that is a file again (a kept delete) beside it, in a sibling folder', async () => {
    write('env', 'a file');
    const { seen, paths } = await scan();
    const staged = [stage('env/prod.json', 'p'), stage('env/dev/x.json', 'x')];
    await tick();
    write('env', 'edited');
    const out = applyStaged(root, { staged, deletes: ['env'], seen, reserved: treeNames(paths, ['env/prod.json', 'env/dev/x.json']) });
    expect(out.keptDeletes).toEqual(['env']);
    expect(out.setAside).toEqual([
      { target: 'env/prod.json', aside: 'env.conflict/prod.json' },
      { target: 'env/dev/x.json', aside: 'env.conflict/dev/x.json' },
    ]);
    expect(read('env')).toBe('edited');
    expect(read('env.conflict/dev/x.json')).toBe('x');
  });

  it('an empty folder where a file goes gives way; one that got a file meanwhile stays, the file goes beside it', async () => {
    mkdirSync(abs('e/f'), { recursive: true });
    mkdirSync(abs('g'));
    const { seen, paths } = await scan();
    const staged = [stage('e', 'file e'), stage('g', 'file g')];
    write('g/new.txt', 'made meanwhile');
    const out = applyStaged(root, { staged, deletes: [], seen, reserved: treeNames(paths) });
    expect(read('e')).toBe('file e');
    expect(out.setAside).toEqual([{ target: 'g', aside: 'g.conflict' }]);
    expect(read('g/new.txt')).toBe('made meanwhile');
    expect(read('g.conflict')).toBe('file g');
  });

  it('sets and clears execute bits where a read bit is, keeping the content', async () => {
    write('run.sh', 'echo');
    write('plain.sh', 'echo');
    chmodSync(abs('run.sh'), 0o640);
    chmodSync(abs('plain.sh'), 0o755);
    const { seen, paths } = await scan();
    applyStaged(root, { staged: [], deletes: [], chmods: [{ path: 'run.sh', mode: 0o755 }, { path: 'plain.sh', mode: 0o644 }, { path: 'gone.sh', mode: 0o755 }], seen, reserved: treeNames(paths) });
    expect(statSync(abs('run.sh')).mode & 0o777).toBe(0o750);
    expect(statSync(abs('plain.sh')).mode & 0o777).toBe(0o644);
    expect(read('run.sh')).toBe('echo');
  });

  it('leaves the mode of a file changed since the scan, and never follows a folder swapped for a link', async () => {
    write('edited.sh', 'echo');
    write('d/run.sh', 'echo');
    const outside = mkdtempSync(path.join(os.tmpdir(), 'isync-outside-'));
    try {
      writeFileSync(path.join(outside, 'run.sh'), 'not yours');
      chmodSync(path.join(outside, 'run.sh'), 0o644);
      const { seen, paths } = await scan();
      await tick();
      write('edited.sh', 'echo changed');
      rmSync(abs('d'), { recursive: true });
      symlinkSync(outside, abs('d'));
      const out = applyStaged(root, { staged: [], deletes: [], chmods: [{ path: 'edited.sh', mode: 0o755 }, { path: 'd/run.sh', mode: 0o755 }], seen, reserved: treeNames(paths) });
      expect(out.keptModes.sort()).toEqual(['d/run.sh', 'edited.sh']);
      expect(statSync(abs('edited.sh')).mode & 0o111).toBe(0);
      expect(statSync(path.join(outside, 'run.sh')).mode & 0o777).toBe(0o644);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('matchesSeen', () => {
  it('wants nothing where nothing was seen, and the same regular file by size, mtime, ctime, inode and exec bit', () => {
    write('f', 'content');
    const st = lstatSync(abs('f'));
    const seen = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, exec: false };
    expect(matchesSeen(null, undefined)).toBe(true);
    expect(matchesSeen(st, undefined)).toBe(false);
    expect(matchesSeen(null, seen)).toBe(false);
    expect(matchesSeen(st, seen)).toBe(true);
    for (const change of [{ size: 1 }, { mtimeMs: 1 }, { ctimeMs: 1 }, { ino: 1 }, { exec: true }]) expect(matchesSeen(st, { ...seen, ...change }), JSON.stringify(change)).toBe(false);
    mkdirSync(abs('d'));
    const dir = lstatSync(abs('d'));
    expect(matchesSeen(dir, { size: dir.size, mtimeMs: dir.mtimeMs, ctimeMs: dir.ctimeMs, ino: dir.ino, exec: true })).toBe(false);
  });
});

describe('statOfPlaced', () => {
  const staged = { ino: 7, size: 10, mtimeMs: 1000.5, exec: true };
  it('records the placed file as it is when it is still the staged one (a rename may change only the ctime)', () => {
    expect(statOfPlaced(staged, { ino: 7, size: 10, mtimeMs: 1000.5, ctimeMs: 2000.25, mode: 0o100755 })).toEqual({ size: 10, mtimeMs: 1000.5, ctimeMs: 2000.25, ino: 7, exec: true });
  });
  it('records mtime 0 (re-hash it) when the placed file was written again before its lstat', () => {
    for (const after of [{ mtimeMs: 1200 }, { size: 11 }, { ino: 8 }, { mode: 0o100644 }]) {
      expect(statOfPlaced(staged, { ino: 7, size: 10, mtimeMs: 1000.5, ctimeMs: 2000, mode: 0o100755, ...after }).mtimeMs, JSON.stringify(after)).toBe(0);
    }
  });
});
