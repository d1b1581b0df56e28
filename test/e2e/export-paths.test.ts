/**
 * Where export --out, account export --out and restore --to may write: never inside a linked
 * folder, even through a symbolic link (exit 3); a path that is not a usable folder (exit 2) or
 * cannot be written (exit 1, local_write) said in one line naming the path given, never the
 * temporary name beside it; never in place of the shell's current folder.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

describe('export and restore --to: where they may write', () => {
  let server: StartedServer;
  let m: Machine;
  /** the linked folder of workspace Paths, and its one snapshot */
  let ws: string;
  let snapshot: string;

  beforeAll(async () => {
    server = await startServer();
    const linked = await linkedMachine(server.url, 'paths@example.com', { name: 'Paths', files: { 'a.json': '{"a":1}', 'sub/b.json': '{}' } });
    m = linked.machine;
    ws = linked.dir;
    snapshot = (JSON.parse((await m.run(['log', '--json'], { cwd: ws })).stdout) as { snapshots: { id: string }[] }).snapshots[0]!.id;
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('a path into the linked folder through a symbolic link is refused (exit 3)', async () => {
    const elsewhere = tempDir('isync-paths-lnk-');
    symlinkSync(path.join(ws, 'sub'), path.join(elsewhere, 'lnk'));
    const exported = await m.run(['export', '--workspace', 'Paths', '--out', path.join(elsewhere, 'lnk', 'copy')]);
    expect(exported.code, exported.stderr).toBe(3);
    expect(exported.stderr).toMatch(/through a symbolic link/);
    const restored = await m.run(['restore', snapshot, '--to', path.join(elsewhere, 'lnk', 'r')], { cwd: ws });
    expect(restored.code, restored.stderr).toBe(3);
    const account = await m.run(['account', 'export', '--out', path.join(elsewhere, 'lnk', 'acct.tar.gz')]);
    expect(account.code, account.stderr).toBe(3);
    expect(readdirSync(path.join(ws, 'sub'))).toEqual(['b.json']);
  }, 60_000);

  it('a file where a folder must be: exit 2, naming the file', async () => {
    const dir = tempDir('isync-paths-file-');
    const afile = path.join(dir, 'afile');
    writeFileSync(afile, 'x');
    const cases: [string[], RegExp][] = [
      [['export', '--workspace', 'Paths', '--out', path.join(afile, 'x')], /afile is a file, not a folder/],
      [['export', '--workspace', 'Paths', '--out', path.join(afile, 'sub', 'x.tar.gz')], /afile is a file, not a folder/],
      [['export', '--workspace', 'Paths', '--out', afile], /afile is a file, not a folder/],
      [['account', 'export', '--out', path.join(afile, 'acct.tar.gz')], /afile is a file, not a folder/],
      [['restore', snapshot, '--to', path.join(afile, 'sub')], /afile is a file, not a folder/],
      [['clone', 'Paths', path.join(afile, 'sub')], /afile is a file, not a folder/],
    ];
    for (const [args, message] of cases) {
      const res = await m.run(args, { cwd: ws });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr).not.toMatch(/ENOTDIR:|EEXIST/);
    }
    expect(readdirSync(dir)).toEqual(['afile']);
  }, 60_000);

  it('a place that cannot be written (/proc, even for root): exit 1, local_write, naming the path given', async () => {
    for (const out of ['/proc/isync-out.tar.gz', '/proc/isync-out']) {
      const res = await m.run(['export', '--workspace', 'Paths', '--out', out, '--json']);
      expect(res.code, res.stderr).toBe(1);
      const err = (JSON.parse(res.stderr) as { error: { code: string; message: string } }).error;
      expect(err.code).toBe('local_write');
      expect(err.message).toBe(`cannot write ${out} (no such file or folder, ENOENT)`);
    }
    const restored = await m.run(['restore', snapshot, '--to', '/proc/isync-r'], { cwd: ws });
    expect(restored.code, restored.stderr).toBe(1);
    expect(restored.stderr).toMatch(/cannot write \/proc\/isync-r \(/);
    const cloned = await m.run(['clone', 'Paths', '/proc/isync-clone']);
    expect(cloned.code, cloned.stderr).toBe(1);
    expect(cloned.stderr).toMatch(/cannot write \/proc\/isync-clone \(/);
    const account = await m.run(['account', 'export', '--out', '/proc/isync-acct.tar.gz']);
    expect(account.code, account.stderr).toBe(1);
    expect(account.stderr).toMatch(/cannot write \/proc\/isync-acct.tar.gz \(/);
    expect(account.stderr).not.toMatch(/partial/);
  }, 60_000);

  it('--encrypt: a place that cannot be written is said before the passphrase is asked for', async () => {
    // no terminal and no passphrase: asking for one would be exit 2 (missing input)
    const res = await m.run(['export', '--workspace', 'Paths', '--out', '/proc/isync-enc.tar.gz', '--encrypt'], { env: { INSOMNIA_SYNC_EXPORT_PASSPHRASE: undefined } });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/cannot write \/proc\/isync-enc.tar.gz.age \(/);
  }, 60_000);

  it('a folder without write permission (EACCES, for root too without its override): exit 1, never the temporary name', async () => {
    const dir = tempDir('isync-paths-ro-');
    const ro = path.join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    // the CLI runs without root's permission override (setpriv), so root meets EACCES too
    for (const args of [
      ['export', '--workspace', 'Paths', '--out', path.join(ro, 'out.tar.gz')],
      ['export', '--workspace', 'Paths', '--out', path.join(ro, 'out')],
      ['account', 'export', '--out', path.join(ro, 'acct.tar.gz')],
      ['restore', snapshot, '--to', path.join(ro, 'r')],
    ]) {
      const res = await m.run(args, { cwd: ws, withoutReadOverride: true });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(1);
      expect(res.stderr).toMatch(/cannot write .*\/ro\/\S+ \(permission denied, EACCES\)/);
      expect(res.stderr).not.toMatch(/partial|probe/);
    }
    expect(readdirSync(ro)).toEqual([]);
  }, 60_000);

  it('--out . (the current folder, empty) is refused (exit 2) and the folder stays', async () => {
    const here = path.join(tempDir('isync-paths-cwd-'), 'here');
    mkdirSync(here);
    const res = await m.run(['export', '--workspace', 'Paths', '--out', '.'], { cwd: here });
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/is the current folder/);
    expect(existsSync(here)).toBe(true);
    expect(readdirSync(here)).toEqual([]);
    // a new folder inside it is fine
    const inside = await m.run(['export', '--workspace', 'Paths', '--out', 'export'], { cwd: here });
    expect(inside.code, inside.stderr).toBe(0);
    expect(readdirSync(path.join(here, 'export')).sort()).toEqual(['a.json', 'sub']);
  }, 60_000);
});
