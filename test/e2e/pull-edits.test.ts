/**
 * Pull against local edits: a file's mode and content merge apart (as in git), and an edit made
 * while a pull runs — during its download, or right after it places a file — is never lost nor
 * recorded as synced. The real server and CLI run as two machines; the moments of the races are
 * fixed by a preload that only these tests load (test/helpers/fs-moment.cjs).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderPairs, ROOT, twoMachines, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const MOMENT_HOOK = path.join(ROOT, 'test/helpers/fs-moment.cjs');

/** Environment for a CLI run during which another program writes the folder at one moment (see fs-moment.cjs). */
function at(moment: { on: 'staging' | 'placed'; name?: string; before?: number; after?: number; write: Record<string, string | null> }): { env: Record<string, string> } {
  return { env: { NODE_OPTIONS: `--require ${JSON.stringify(MOMENT_HOOK)}`, ISYNC_TEST_MOMENT: JSON.stringify(moment) } };
}
const exec = (file: string): boolean => (statSync(file).mode & 0o100) !== 0;

describe('pull and local edits', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let pair: ReturnType<typeof folderPairs>;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'edits@example.com'));
    pair = folderPairs(a, b, 'edits', { message: 'first' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function push(m: Machine, dir: string, message: string): Promise<void> {
    const res = await m.run(['push', '-m', message], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
  }

  async function changes(m: Machine, dir: string): Promise<unknown[]> {
    const res = await m.run(['status', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    return json(res.stdout).changes;
  }

  it('a remote mode change and a local content change both stay: no conflict, and the next push sends both', async () => {
    const { aDir, bDir } = await pair({ 'run.sh': 'echo run\n' });
    chmodSync(path.join(aDir, 'run.sh'), 0o755);
    await push(a, aDir, 'chmod +x');
    writeFileSync(path.join(bDir, 'run.sh'), 'echo run --verbose\n');

    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(json(pulled.stdout)).toMatchObject({ written: [], conflicts: [], modeChanged: ['run.sh'] });
    expect(readFileSync(path.join(bDir, 'run.sh'), 'utf8')).toBe('echo run --verbose\n');
    expect(exec(path.join(bDir, 'run.sh'))).toBe(true);
    expect(existsSync(path.join(bDir, 'run.sh.conflict'))).toBe(false);
    expect(await changes(b, bDir)).toEqual([{ kind: 'modified', path: 'run.sh' }]);

    await push(b, bDir, 'verbose');
    expect((await a.run(['pull'], { cwd: aDir })).code).toBe(0);
    expect(readFileSync(path.join(aDir, 'run.sh'), 'utf8')).toBe('echo run --verbose\n');
    expect(exec(path.join(aDir, 'run.sh'))).toBe(true);
    expect(await changes(a, aDir)).toEqual([]);
    expect(await changes(b, bDir)).toEqual([]);
  }, 60_000);

  it('a local mode change and a remote content change both stay: the remote content comes with your mode, still yours to push', async () => {
    const { aDir, bDir } = await pair({ 'run.sh': 'echo run\n' });
    writeFileSync(path.join(aDir, 'run.sh'), 'echo run --fast\n');
    await push(a, aDir, 'fast');
    chmodSync(path.join(bDir, 'run.sh'), 0o755);

    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(json(pulled.stdout)).toMatchObject({ written: ['run.sh'], conflicts: [] });
    expect(readFileSync(path.join(bDir, 'run.sh'), 'utf8')).toBe('echo run --fast\n');
    expect(exec(path.join(bDir, 'run.sh'))).toBe(true);
    expect(await changes(b, bDir)).toEqual([{ kind: 'modified', path: 'run.sh' }]);

    await push(b, bDir, 'chmod +x');
    expect((await a.run(['pull'], { cwd: aDir })).code).toBe(0);
    expect(readFileSync(path.join(aDir, 'run.sh'), 'utf8')).toBe('echo run --fast\n');
    expect(exec(path.join(aDir, 'run.sh'))).toBe(true);
  }, 60_000);

  it('an edit made while pull downloads is kept, never overwritten or deleted: a conflict, exit 3, and still a local change', async () => {
    const { aDir, bDir } = await pair({ 'x.json': '{"x":1}', 'y.json': '{"y":1}', 'z.json': '{"z":1}' });
    writeFileSync(path.join(aDir, 'x.json'), '{"x":"remote 2"}');
    rmSync(path.join(aDir, 'y.json'));
    writeFileSync(path.join(aDir, 'n.json'), '{"n":"remote"}');
    writeFileSync(path.join(aDir, 'z.json'), '{"z":"remote 2"}');
    await push(a, aDir, 'remote');

    // the folder is scanned and the download has begun when an editor saves these
    const edits = { 'x.json': '{"x":"edited during the pull"}', 'y.json': '{"y":"edited during the pull"}', 'n.json': '{"n":"made during the pull"}' };
    const pulled = await b.run(['pull', '--json'], { cwd: bDir, ...at({ on: 'staging', write: edits }) });
    expect(pulled.code, pulled.stderr).toBe(3);
    const details = json(pulled.stderr).error.details;
    expect(details.conflicts).toEqual([
      { path: 'n.json', conflictPath: 'n.json.conflict', remote: 'changed' },
      { path: 'x.json', conflictPath: 'x.json.conflict', remote: 'changed' },
      { path: 'y.json', conflictPath: null, remote: 'deleted' },
    ]);
    expect(details.written).toEqual(['z.json']);
    expect(details.deleted).toEqual([]);
    for (const [rel, text] of Object.entries(edits)) expect(readFileSync(path.join(bDir, rel), 'utf8'), rel).toBe(text);
    expect(readFileSync(path.join(bDir, 'x.json.conflict'), 'utf8')).toBe('{"x":"remote 2"}');
    expect(readFileSync(path.join(bDir, 'n.json.conflict'), 'utf8')).toBe('{"n":"remote"}');
    expect(readFileSync(path.join(bDir, 'z.json'), 'utf8')).toBe('{"z":"remote 2"}');
    expect(readdirSync(path.join(bDir, '.insomnia-sync'))).not.toContain('staging');

    // the index is what is on disk: each kept edit is a local change against the remote head
    expect(await changes(b, bDir)).toEqual([
      { kind: 'modified', path: 'n.json' },
      { kind: 'modified', path: 'x.json' },
      { kind: 'added', path: 'y.json' },
    ]);
    expect((await b.run(['pull'], { cwd: bDir })).stdout).toContain('Already up to date');
    rmSync(path.join(bDir, 'x.json.conflict'));
    rmSync(path.join(bDir, 'n.json.conflict'));
    await push(b, bDir, 'mine');
    expect((await a.run(['pull'], { cwd: aDir })).code).toBe(0);
    for (const [rel, text] of Object.entries(edits)) expect(readFileSync(path.join(aDir, rel), 'utf8'), rel).toBe(text);
  }, 90_000);

  it('a file the remote turned into a folder, edited during the download, stays; the folder\'s files go beside it', async () => {
    const { aDir, bDir } = await pair({ env: 'a file', 'k.json': 'k' });
    rmSync(path.join(aDir, 'env'));
    mkdirSync(path.join(aDir, 'env'));
    writeFileSync(path.join(aDir, 'env/prod.json'), 'prod');
    await push(a, aDir, 'env is a folder');
    const pulled = await b.run(['pull', '--json'], { cwd: bDir, ...at({ on: 'staging', write: { env: 'edited during the pull' } }) });
    expect(pulled.code, pulled.stderr).toBe(3);
    expect(json(pulled.stderr).error.details.conflicts).toEqual([
      { path: 'env', conflictPath: null, remote: 'deleted' },
      { path: 'env/prod.json', conflictPath: 'env.conflict/prod.json', remote: 'changed' },
    ]);
    expect(readFileSync(path.join(bDir, 'env'), 'utf8')).toBe('edited during the pull');
    expect(readFileSync(path.join(bDir, 'env.conflict/prod.json'), 'utf8')).toBe('prod');
  }, 60_000);

  it('restore in place keeps a file edited while it downloads, and writes the snapshot\'s version beside it (exit 3)', async () => {
    const { aDir } = await pair({ 'r.json': 'r1', 's.json': 's1' });
    const first = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots[0].id as string;
    writeFileSync(path.join(aDir, 'r.json'), 'r2');
    writeFileSync(path.join(aDir, 's.json'), 's2');
    writeFileSync(path.join(aDir, 't.json'), 't2');
    await push(a, aDir, 'two');
    const restored = await a.run(['restore', first, '--yes', '--json'], { cwd: aDir, ...at({ on: 'staging', write: { 'r.json': 'r edited during restore', 't.json': 't edited during restore' } }) });
    expect(restored.code, restored.stderr).toBe(3);
    expect(json(restored.stderr).error.details).toMatchObject({
      written: 1,
      deleted: 0,
      conflicts: [
        { path: 'r.json', conflictPath: 'r.json.conflict' },
        { path: 't.json', conflictPath: null },
      ],
    });
    expect(readFileSync(path.join(aDir, 'r.json'), 'utf8')).toBe('r edited during restore');
    expect(readFileSync(path.join(aDir, 'r.json.conflict'), 'utf8')).toBe('r1');
    expect(readFileSync(path.join(aDir, 's.json'), 'utf8')).toBe('s1');
    expect(readFileSync(path.join(aDir, 't.json'), 'utf8')).toBe('t edited during restore');
  }, 60_000);

  it('a same-size edit right after pull places a file is not recorded as synced: status and push see it, the next pull keeps it', async () => {
    const { aDir, bDir } = await pair({ 'a0.json': '{"token":"aaaa-1111"}' });
    writeFileSync(path.join(aDir, 'a0.json'), '{"token":"bbbb-2222"}');
    await push(a, aDir, 'remote');
    // an editor re-saves the file (same size) the moment the new version appears, well before the pull
    // records the index (outside the window in which the index treats a change as racy)
    const pulled = await b.run(['pull'], { cwd: bDir, ...at({ on: 'placed', name: 'a0.json', before: 50, after: 300, write: { 'a0.json': '{"token":"LOCAL-777"}' } }) });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'a0.json'), 'utf8')).toBe('{"token":"LOCAL-777"}');
    expect(statSync(path.join(bDir, 'a0.json')).size).toBe('{"token":"bbbb-2222"}'.length);
    expect(await changes(b, bDir)).toEqual([{ kind: 'modified', path: 'a0.json' }]);

    writeFileSync(path.join(aDir, 'a0.json'), '{"token":"cccc-3333"}');
    await push(a, aDir, 'again');
    const next = await b.run(['pull', '--json'], { cwd: bDir });
    expect(next.code, next.stderr).toBe(3);
    expect(json(next.stderr).error.details.conflicts).toEqual([{ path: 'a0.json', conflictPath: 'a0.json.conflict', remote: 'changed' }]);
    expect(readFileSync(path.join(bDir, 'a0.json'), 'utf8')).toBe('{"token":"LOCAL-777"}');
  }, 60_000);

  it('pull --theirs with no free name for a copy stops before it changes a file: nothing replaced, its copies of yours gone again, a re-run converges', async () => {
    const { aDir, bDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
    writeFileSync(path.join(aDir, 'a.json'), 'a remote');
    writeFileSync(path.join(aDir, 'b.json'), 'b remote');
    await push(a, aDir, 'remote');
    writeFileSync(path.join(bDir, 'a.json'), 'a mine');
    // every name a copy of b.json could take is a file of yours already
    for (let n = 1; n <= 1000; n++) writeFileSync(path.join(bDir, n === 1 ? 'b.json.conflict' : `b.json.conflict-${n}`), 'old');

    // b.json, edited while the pull downloads, has no name for its copy: found before a.json (first
    // in the apply's order) is replaced, so neither is (the copy of yours made for a.json goes)
    const pulled = await b.run(['pull', '--theirs', '--json'], { cwd: bDir, killAfterMs: 30_000, ...at({ on: 'staging', write: { 'b.json': 'b edited during the pull' } }) });
    expect(pulled.code, pulled.stderr).toBe(1);
    expect(json(pulled.stderr).error).toMatchObject({ code: 'no_conflict_name', message: 'no free name for a conflict copy of b.json: b.json.conflict to b.json.conflict-1000 are all taken' });
    expect(readFileSync(path.join(bDir, 'b.json'), 'utf8')).toBe('b edited during the pull');
    expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a mine');
    expect(existsSync(path.join(bDir, 'a.json.conflict'))).toBe(false);
    expect(readdirSync(path.join(bDir, '.insomnia-sync')).filter((f) => f === 'lock' || f === 'staging')).toEqual([]);
    // names freed, the same pull goes through
    for (let n = 2; n <= 1000; n++) rmSync(path.join(bDir, `b.json.conflict-${n}`));
    const again = await b.run(['pull', '--theirs', '--json'], { cwd: bDir });
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a remote');
    expect(readFileSync(path.join(bDir, 'b.json'), 'utf8')).toBe('b remote');
    expect(await changes(b, bDir)).toEqual([]);
  }, 90_000);

  it('restore in place with no free name for the copy beside a never-synced file stops before it changes a file (exit 1)', async () => {
    const { aDir } = await pair({ 'a.json': 'a1', 'n.json': 'n1' });
    const first = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots[0].id as string;
    writeFileSync(path.join(aDir, 'a.json'), 'a2');
    rmSync(path.join(aDir, 'n.json'));
    writeFileSync(path.join(aDir, 'gone.json'), 'g');
    await push(a, aDir, 'two');
    // never synced where the snapshot has a file, and every name for the snapshot's copy taken
    writeFileSync(path.join(aDir, 'n.json'), 'mine');
    for (let n = 1; n <= 1000; n++) writeFileSync(path.join(aDir, n === 1 ? 'n.json.conflict' : `n.json.conflict-${n}`), 'old');

    const restored = await a.run(['restore', first, '--yes', '--json'], { cwd: aDir, killAfterMs: 30_000 });
    expect(restored.code, restored.stderr).toBe(1);
    expect(json(restored.stderr).error.code).toBe('no_conflict_name');
    // a.json (before n.json in the apply's order) not replaced, gone.json not deleted
    expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2');
    expect(readFileSync(path.join(aDir, 'gone.json'), 'utf8')).toBe('g');
    expect(readFileSync(path.join(aDir, 'n.json'), 'utf8')).toBe('mine');
    expect(readdirSync(path.join(aDir, '.insomnia-sync')).filter((f) => f === 'lock' || f === 'staging')).toEqual([]);
  }, 90_000);

  // The same in a subfolder: a copy's name was once "taken" for good because its folder is a folder
  // of the trees, and the CLI spun at 100 % CPU, deaf to Ctrl-C, leaving its lock and staging
  // folder. killAfterMs makes such a regression fail here instead of hanging the suite.
  describe('in a subfolder', () => {
    const HANG_MS = 30_000;
    const stateLeft = (dir: string): string[] => readdirSync(path.join(dir, '.insomnia-sync')).filter((f) => f === 'lock' || f === 'staging');

    it('restore in place keeps a never-synced file where the snapshot has one, and writes the snapshot\'s beside it (exit 3)', async () => {
      const { aDir } = await pair({ 'd/f.json': '1', 'top.json': '1' });
      const first = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots[0].id as string;
      rmSync(path.join(aDir, 'd'), { recursive: true });
      await push(a, aDir, 'two');
      mkdirSync(path.join(aDir, 'd'));
      writeFileSync(path.join(aDir, 'd/f.json'), 'mine');

      const restored = await a.run(['restore', first, '--yes', '--json'], { cwd: aDir, killAfterMs: HANG_MS });
      expect(restored.code, restored.stderr).toBe(3);
      expect(json(restored.stderr).error.details.conflicts).toEqual([{ path: 'd/f.json', conflictPath: 'd/f.json.conflict' }]);
      expect(readFileSync(path.join(aDir, 'd/f.json'), 'utf8')).toBe('mine');
      expect(readFileSync(path.join(aDir, 'd/f.json.conflict'), 'utf8')).toBe('1');
      expect(stateLeft(aDir)).toEqual([]);
    }, 90_000);

    it('pull keeps files edited or made there while it downloads, and a copy\'s name taken meanwhile: conflicts beside them (exit 3)', async () => {
      const { aDir, bDir } = await pair({ 'd/x.json': 'x1', 'd/c.json': 'c1', 'd/e/z.json': 'z1' });
      for (const [rel, text] of Object.entries({ 'd/x.json': 'x remote', 'd/n.json': 'n remote', 'd/c.json': 'c remote', 'd/e/z.json': 'z remote' })) writeFileSync(path.join(aDir, rel), text);
      await push(a, aDir, 'remote');
      writeFileSync(path.join(bDir, 'd/c.json'), 'c mine'); // a conflict the merge names: d/c.json.conflict

      const edits = { 'd/x.json': 'x edited during the pull', 'd/n.json': 'n made during the pull', 'd/c.json.conflict': 'made during the pull', 'd/e/z.json': 'z edited during the pull' };
      const pulled = await b.run(['pull', '--json'], { cwd: bDir, killAfterMs: HANG_MS, ...at({ on: 'staging', write: edits }) });
      expect(pulled.code, pulled.stderr).toBe(3);
      expect(json(pulled.stderr).error.details.conflicts).toEqual([
        { path: 'd/c.json', conflictPath: 'd/c.json.conflict.conflict', remote: 'changed' },
        { path: 'd/e/z.json', conflictPath: 'd/e/z.json.conflict', remote: 'changed' },
        { path: 'd/n.json', conflictPath: 'd/n.json.conflict', remote: 'changed' },
        { path: 'd/x.json', conflictPath: 'd/x.json.conflict', remote: 'changed' },
      ]);
      for (const [rel, text] of Object.entries(edits)) expect(readFileSync(path.join(bDir, rel), 'utf8'), rel).toBe(text);
      expect(readFileSync(path.join(bDir, 'd/c.json'), 'utf8')).toBe('c mine');
      expect(readFileSync(path.join(bDir, 'd/c.json.conflict.conflict'), 'utf8')).toBe('c remote');
      expect(readFileSync(path.join(bDir, 'd/e/z.json.conflict'), 'utf8')).toBe('z remote');
      expect(readFileSync(path.join(bDir, 'd/n.json.conflict'), 'utf8')).toBe('n remote');
      expect(readFileSync(path.join(bDir, 'd/x.json.conflict'), 'utf8')).toBe('x remote');
      expect(stateLeft(bDir)).toEqual([]);
    }, 90_000);

    it('pull --theirs copies yours beside the file; one edited again while it downloads stays, a conflict (exit 3)', async () => {
      const { aDir, bDir } = await pair({ 'd/t.json': 't1', 'd/u.json': 'u1' });
      writeFileSync(path.join(aDir, 'd/t.json'), 't remote');
      writeFileSync(path.join(aDir, 'd/u.json'), 'u remote');
      await push(a, aDir, 'remote');
      writeFileSync(path.join(bDir, 'd/t.json'), 't mine');
      writeFileSync(path.join(bDir, 'd/u.json'), 'u mine');

      const pulled = await b.run(['pull', '--theirs', '--json'], { cwd: bDir, killAfterMs: HANG_MS, ...at({ on: 'staging', write: { 'd/t.json': 't edited during the pull' } }) });
      expect(pulled.code, pulled.stderr).toBe(3);
      const details = json(pulled.stderr).error.details;
      // d/t.json.conflict, the copy of what --theirs was to replace, was on disk when the copy of theirs was named
      expect(details.conflicts).toEqual([{ path: 'd/t.json', conflictPath: 'd/t.json.conflict-2', remote: 'changed' }]);
      expect(details.overridden).toEqual([{ path: 'd/u.json', took: 'theirs', yoursAt: 'd/u.json.conflict' }]);
      expect(readFileSync(path.join(bDir, 'd/t.json'), 'utf8')).toBe('t edited during the pull');
      expect(readFileSync(path.join(bDir, 'd/t.json.conflict-2'), 'utf8')).toBe('t remote');
      expect(existsSync(path.join(bDir, 'd/t.json.conflict'))).toBe(false); // the stale copy of yours is gone
      expect(readFileSync(path.join(bDir, 'd/u.json'), 'utf8')).toBe('u remote');
      expect(readFileSync(path.join(bDir, 'd/u.json.conflict'), 'utf8')).toBe('u mine');
      expect(stateLeft(bDir)).toEqual([]);
    }, 90_000);
  });
});
