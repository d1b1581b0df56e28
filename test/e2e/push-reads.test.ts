/**
 * What push reads after its scan: a file may be deleted, turned into a folder, a symlink or a FIFO,
 * or saved again while being read. The real server and CLI as two machines; another program's
 * action is played at the exact moment by a preloaded hook (NODE_OPTIONS --require) that wraps
 * the CLI's fs.openSync / fs.readSync.
 *
 * Root reads a file whatever its mode says, so where this suite runs as root, the tests of a file
 * or folder the user cannot read run the CLI without root's read override (setpriv drops
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH): the same real EACCES either way.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clonedFolder, linkedFolder, tempDir, twoMachines, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
/** how the CLI runs for the tests of unreadable files: with no right to read past a file's mode */
const user = { withoutReadOverride: true };
const MiB = 1024 * 1024;

/**
 * HOOK_PATH: the file's name. On the first open of it for reading, HOOK_ACTION (rm | mkdir |
 * symlink to HOOK_ARG | fifo) is done to it. Or, with HOOK_SAVES: each time HOOK_AFTER bytes of it
 * have been read through one descriptor, it is saved in place with new content, HOOK_SAVES times
 * (with HOOK_SHORT, that read returns no more than HOOK_AFTER bytes: the save lands mid-read).
 */
const HOOK = `
const fs = require('node:fs'), path = require('node:path'), { execFileSync } = require('node:child_process');
const target = path.sep + process.env.HOOK_PATH, action = process.env.HOOK_ACTION, arg = process.env.HOOK_ARG;
let saves = Number(process.env.HOOK_SAVES || 0), after = Number(process.env.HOOK_AFTER || 1), fired = false;
const reading = (flags) => (typeof flags === 'number' ? (flags & 3) === 0 : flags === undefined || flags === 'r');
const open = fs.openSync, read = fs.readSync, fds = new Map();
fs.openSync = function (p, flags, ...rest) {
  const ours = typeof p === 'string' && p.endsWith(target) && reading(flags);
  if (ours && action && !fired) {
    fired = true;
    fs.rmSync(p, { force: true });
    if (action === 'mkdir') fs.mkdirSync(p);
    else if (action === 'symlink') fs.symlinkSync(arg, p);
    else if (action === 'fifo') execFileSync('mkfifo', [p]);
  }
  const fd = open.call(this, p, flags, ...rest);
  if (ours && saves > 0) fds.set(fd, { p, n: 0 });
  return fd;
};
fs.readSync = function (fd, buf, off, len, ...rest) {
  let f = fds.get(fd);
  // HOOK_SHORT: the read stops at HOOK_AFTER bytes, as a short read would, so the save lands mid-file
  if (f && process.env.HOOK_SHORT && typeof len === 'number') len = Math.min(len, Math.max(1, after - f.n));
  const n = read.call(this, fd, buf, off, len, ...rest);
  if (f && (f.n += n) >= after && saves > 0) {
    fds.delete(fd);
    saves--;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25); // a later timestamp tick
    const size = fs.statSync(f.p).size, w = open.call(fs, f.p, 'r+');
    fs.writeSync(w, Buffer.alloc(size, 0x61 + (saves % 26)), 0, size, 0);
    fs.closeSync(w);
  }
  return n;
};
`;

describe('push reads what the scan saw, or treats the path as a scan now would', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let hook: string;
  let n = 0;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'reads@example.com'));
    hook = path.join(tempDir('isync-hook-'), 'hook.cjs');
    writeFileSync(hook, HOOK);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** A workspace pushed from A with `files`. */
  async function pushed(files: Record<string, string | Buffer>): Promise<{ dir: string; name: string }> {
    const name = `reads-${++n}`;
    const { dir } = await linkedFolder(a, name, files, { prefix: 'isync-reads-', message: 'first' });
    return { dir, name };
  }

  function pushWithHook(dir: string, env: Record<string, string>) {
    return a.run(['push', '--json'], { cwd: dir, env: { NODE_OPTIONS: `--require ${hook}`, ...env } });
  }

  const cloned = (name: string): Promise<string> => clonedFolder(b, name, 'isync-reads-b-');

  async function snapshotCount(dir: string): Promise<number> {
    const res = await a.run(['log', '--json'], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
    return json(res.stdout).snapshots.length;
  }

  it('a file deleted after the scan is pushed as deleted, the other changes go up, no raw errno', async () => {
    const { dir, name } = await pushed({ 'k.json': '{"v":1}', 'o.json': '{"o":1}' });
    writeFileSync(path.join(dir, 'k.json'), '{"v":2}');
    writeFileSync(path.join(dir, 'o.json'), '{"o":2}');
    const res = await pushWithHook(dir, { HOOK_PATH: 'k.json', HOOK_ACTION: 'rm' });
    expect(res.code, res.stderr).toBe(0);
    expect(json(res.stdout).changes).toEqual([
      { kind: 'deleted', path: 'k.json' },
      { kind: 'modified', path: 'o.json' },
    ]);
    const bDir = await cloned(name);
    expect(existsSync(path.join(bDir, 'k.json'))).toBe(false);
    expect(readFileSync(path.join(bDir, 'o.json'), 'utf8')).toBe('{"o":2}');
    // The index agrees: nothing left to push.
    expect(json((await a.run(['status', '--json'], { cwd: dir })).stdout).changes).toEqual([]);
  });

  it('a new file turned into a folder after the scan is left out of this push, no raw errno', async () => {
    const { dir } = await pushed({ 'o.json': '{"o":1}' });
    writeFileSync(path.join(dir, 'k.json'), '{"v":2}');
    writeFileSync(path.join(dir, 'o.json'), '{"o":2}');
    const res = await pushWithHook(dir, { HOOK_PATH: 'k.json', HOOK_ACTION: 'mkdir' });
    expect(res.code, res.stderr).toBe(0);
    expect(json(res.stdout).changes).toEqual([{ kind: 'modified', path: 'o.json' }]);
  });

  it('a file swapped for a symlink out of the folder after the scan: the outside file is never pushed', async () => {
    const outside = path.join(tempDir('isync-reads-outside-'), 'secret.txt');
    writeFileSync(outside, 'OUTSIDE-SECRET');
    const { dir, name } = await pushed({ 'k.json': '{"v":1}' });
    writeFileSync(path.join(dir, 'k.json'), '{"v":2}');
    const res = await pushWithHook(dir, { HOOK_PATH: 'k.json', HOOK_ACTION: 'symlink', HOOK_ARG: outside });
    expect(res.code, res.stderr).toBe(0);
    expect(json(res.stdout).changes).toEqual([{ kind: 'deleted', path: 'k.json' }]);
    const bDir = await cloned(name);
    expect(existsSync(path.join(bDir, 'k.json'))).toBe(false);
    // status says what the push did: the link is skipped, nothing left to push.
    const st = json((await a.run(['status', '--json'], { cwd: dir })).stdout);
    expect(st).toMatchObject({ changes: [], skipped: ['k.json'] });
  });

  it('a file swapped for a FIFO after the scan does not block push', async () => {
    const { dir } = await pushed({ 'k.json': '{"v":1}' });
    writeFileSync(path.join(dir, 'k.json'), '{"v":2}');
    const res = await pushWithHook(dir, { HOOK_PATH: 'k.json', HOOK_ACTION: 'fifo' });
    expect(res.code, res.stderr).toBe(0);
    expect(json(res.stdout).changes).toEqual([{ kind: 'deleted', path: 'k.json' }]);
    rmSync(path.join(dir, 'k.json'));
  }, 30_000);

  it('a big file saved in place while push reads it goes up as the new version whole, never a mix', async () => {
    const { dir, name } = await pushed({ 'big.bin': Buffer.alloc(3 * MiB + 5, 'A') });
    writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(3 * MiB + 5, 'B'));
    const res = await pushWithHook(dir, { HOOK_PATH: 'big.bin', HOOK_SAVES: '1', HOOK_AFTER: String(2 * MiB) });
    expect(res.code, res.stderr).toBe(0);
    const onDisk = readFileSync(path.join(dir, 'big.bin'));
    expect(onDisk[0]).toBe(0x61); // the hook's save ('a')
    const bDir = await cloned(name);
    expect(readFileSync(path.join(bDir, 'big.bin')).equals(onDisk)).toBe(true);
  });

  it('a small file saved in place in the middle of its read goes up as the new version whole, never a mix', async () => {
    const { dir, name } = await pushed({ 'small.bin': Buffer.alloc(256 * 1024, 'A') });
    writeFileSync(path.join(dir, 'small.bin'), Buffer.alloc(256 * 1024, 'B'));
    const res = await pushWithHook(dir, { HOOK_PATH: 'small.bin', HOOK_SAVES: '1', HOOK_AFTER: String(128 * 1024), HOOK_SHORT: '1' });
    expect(res.code, res.stderr).toBe(0);
    const onDisk = readFileSync(path.join(dir, 'small.bin'));
    expect(onDisk[0]).toBe(0x61); // the hook's save ('a')
    const bDir = await cloned(name);
    expect(readFileSync(path.join(bDir, 'small.bin')).equals(onDisk)).toBe(true);
  });

  it('a small file saved again during every read: exit 1 file_changed, no snapshot', async () => {
    const { dir } = await pushed({ 'small.bin': Buffer.alloc(256 * 1024, 'A') });
    writeFileSync(path.join(dir, 'small.bin'), Buffer.alloc(256 * 1024, 'B'));
    const before = await snapshotCount(dir);
    const res = await pushWithHook(dir, { HOOK_PATH: 'small.bin', HOOK_SAVES: '99', HOOK_AFTER: String(128 * 1024), HOOK_SHORT: '1' });
    expect(res.code).toBe(1);
    expect(json(res.stderr)).toEqual({ error: { code: 'file_changed', message: 'small.bin changed while being read; try again once it is saved' } });
    expect(await snapshotCount(dir)).toBe(before);
  });

  it('a small file saved in place over and over while push reads it: each snapshot holds one version whole, or push exits 1 file_changed', async () => {
    const size = 256 * 1024;
    const { dir, name } = await pushed({ 'small.bin': Buffer.alloc(size, 'A') });
    const bDir = await cloned(name);
    // Another program saving the file in place in a tight loop, alternately all 'B' and all 'C':
    // one read of 256 KiB races one write of it.
    const writer = spawn(process.execPath, [
      '-e',
      `const fs = require('node:fs'); const bufs = [Buffer.alloc(${size}, 'B'), Buffer.alloc(${size}, 'C')];
       const fd = fs.openSync(process.argv[1], 'r+'); process.stdout.write('go\\n');
       const pause = new Int32Array(new SharedArrayBuffer(4));
       for (let i = 0; ; i++) { fs.writeSync(fd, bufs[i % 2], 0, ${size}, 0); if (i % 8 === 7) Atomics.wait(pause, 0, 0, 2); }`,
      path.join(dir, 'small.bin'),
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => writer.stdout!.once('data', resolve));
      let pushedOnce = false;
      for (let round = 0; round < 8; round++) {
        const res = await a.run(['push', '--json', '-m', `round ${round}`], { cwd: dir });
        if (res.code === 1) {
          expect(json(res.stderr)).toEqual({ error: { code: 'file_changed', message: 'small.bin changed while being read; try again once it is saved' } });
          continue;
        }
        expect(res.code, res.stderr).toBe(0);
        pushedOnce = true;
        const pulled = await b.run(['pull', '--json'], { cwd: bDir });
        expect(pulled.code, pulled.stderr).toBe(0);
        const got = readFileSync(path.join(bDir, 'small.bin'));
        expect(got.length).toBe(size);
        const first = got[0]!;
        // one version whole: every byte the same as the first
        expect(got.every((byte) => byte === first), `snapshot of round ${round} mixes two versions`).toBe(true);
      }
      expect(pushedOnce, 'no push got through the saves').toBe(true);
    } finally {
      writer.kill();
    }
    // Once the saving stops, push takes the last version saved.
    await new Promise((resolve) => (writer.exitCode !== null || writer.signalCode !== null ? resolve(null) : writer.once('exit', resolve)));
    const last = await a.run(['push', '--json'], { cwd: dir });
    expect(last.code, last.stderr).toBe(0);
    expect((await b.run(['pull'], { cwd: bDir })).code).toBe(0);
    expect(readFileSync(path.join(bDir, 'small.bin')).equals(readFileSync(path.join(dir, 'small.bin')))).toBe(true);
  }, 60_000);

  it('a big file saved again during every read: exit 1, one line naming it, no snapshot', async () => {
    const { dir } = await pushed({ 'big.bin': Buffer.alloc(3 * MiB + 5, 'A') });
    writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(3 * MiB + 5, 'B'));
    const before = await snapshotCount(dir);
    const res = await pushWithHook(dir, { HOOK_PATH: 'big.bin', HOOK_SAVES: '99', HOOK_AFTER: String(2 * MiB) });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(json(res.stderr)).toEqual({ error: { code: 'file_changed', message: 'big.bin changed while being read; try again once it is saved' } });
    expect(await snapshotCount(dir)).toBe(before);
    const plain = await a.run(['push'], { cwd: dir, env: { NODE_OPTIONS: `--require ${hook}`, HOOK_PATH: 'big.bin', HOOK_SAVES: '99', HOOK_AFTER: String(2 * MiB) } });
    expect(plain.code).toBe(1);
    expect(plain.stderr.trim().split('\n')).toEqual([expect.stringContaining('big.bin changed while being read; try again once it is saved')]);
    // Once the saving stops, push goes through.
    const again = await a.run(['push', '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await snapshotCount(dir)).toBe(before + 1);
  });

  it('a file the user cannot read: status and push fail with one line naming it (exit 1), no snapshot; readable again, nothing is lost', async () => {
    const { dir, name } = await pushed({ 'k.json': '{"v":1}', 'o.json': '{"o":1}' });
    writeFileSync(path.join(dir, 'k.json'), '{"v":2}');
    writeFileSync(path.join(dir, 'o.json'), '{"o":2}');
    chmodSync(path.join(dir, 'k.json'), 0o000);
    const before = await snapshotCount(dir);
    for (const cmd of ['status', 'push']) {
      const res = await a.run([cmd, '--json'], { cwd: dir, ...user });
      expect(res.code, res.stderr).toBe(1);
      expect(res.stdout).toBe('');
      expect(json(res.stderr)).toEqual({ error: { code: 'file_unreadable', message: 'cannot read k.json: permission denied' } });
      const plain = await a.run([cmd], { cwd: dir, ...user });
      expect(plain.code).toBe(1);
      expect(plain.stdout).toBe('');
      expect(plain.stderr).toBe('error: cannot read k.json: permission denied\n');
    }
    expect(await snapshotCount(dir)).toBe(before);
    // Readable again: both changes go up.
    chmodSync(path.join(dir, 'k.json'), 0o644);
    const again = await a.run(['push', '--json'], { cwd: dir, ...user });
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout).changes).toEqual([
      { kind: 'modified', path: 'k.json' },
      { kind: 'modified', path: 'o.json' },
    ]);
    const bDir = await cloned(name);
    expect(readFileSync(path.join(bDir, 'k.json'), 'utf8')).toBe('{"v":2}');
    expect(readFileSync(path.join(bDir, 'o.json'), 'utf8')).toBe('{"o":2}');
  });

  it('a folder the user cannot read: status and push fail with one line naming it (exit 1), no snapshot', async () => {
    const { dir } = await pushed({ 'o.json': '{"o":1}' });
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'x.json'), '{"x":1}');
    writeFileSync(path.join(dir, 'o.json'), '{"o":2}');
    chmodSync(path.join(dir, 'sub'), 0o000);
    const before = await snapshotCount(dir);
    try {
      for (const cmd of ['status', 'push']) {
        const res = await a.run([cmd, '--json'], { cwd: dir, ...user });
        expect(res.code, res.stderr).toBe(1);
        expect(json(res.stderr)).toEqual({ error: { code: 'file_unreadable', message: 'cannot read sub/: permission denied' } });
      }
      expect(await snapshotCount(dir)).toBe(before);
    } finally {
      chmodSync(path.join(dir, 'sub'), 0o755);
    }
  });

  it('a folder named .insomnia-syncignore: status and push fail with one line, not EISDIR', async () => {
    const { dir } = await pushed({ 'k.json': '{"v":1}' });
    mkdirSync(path.join(dir, '.insomnia-syncignore'));
    for (const cmd of ['status', 'push']) {
      const res = await a.run([cmd, '--json'], { cwd: dir });
      expect(res.code).toBe(1);
      expect(json(res.stderr)).toEqual({ error: { code: 'bad_ignore_file', message: '.insomnia-syncignore is a folder: it must be a file of ignore rules; rename or remove it' } });
    }
    rmSync(path.join(dir, '.insomnia-syncignore'), { recursive: true });
    expect((await a.run(['status'], { cwd: dir })).code).toBe(0);
  });
});
