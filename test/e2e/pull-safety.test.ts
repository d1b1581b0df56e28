/**
 * What a pull or restore must not touch: files the scan does not see (behind a symbolic link,
 * ignored, special), files never synced, files an ignore rule was added for after they were
 * synced, and folders that are not theirs (another linked folder, a failed restore's target).
 * Each case runs the real server and CLI processes as two machines.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderPairs, tempDir, twoMachines, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

describe('pull and restore leave alone what is not theirs', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let pair: ReturnType<typeof folderPairs>;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'safety@example.com'));
    pair = folderPairs(a, b, 'safety', { message: 'first' });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function push(m: Machine, dir: string, message: string): Promise<void> {
    const res = await m.run(['push', '-m', message], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
  }

  it('never writes through a symbolic link: the pull stops, nothing changes, and it goes on once the link is gone', async () => {
    const { aDir, bDir } = await pair({ 'api.json': '{"v":1}' });
    const outside = tempDir('isync-safety-outside-');
    writeFileSync(path.join(outside, 'prod.json'), '{"token":"B private"}');
    symlinkSync(outside, path.join(bDir, 'envs'));
    mkdirSync(path.join(aDir, 'envs'));
    writeFileSync(path.join(aDir, 'envs/prod.json'), '{"token":"from A"}');
    writeFileSync(path.join(aDir, 'api.json'), '{"v":2}');
    await push(a, aDir, 'envs');

    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code).toBe(3);
    const err = json(pulled.stderr).error;
    expect(err.message).toContain('envs: a symbolic link where a folder goes');
    expect(err.message).toContain('nothing was changed');
    expect(err.details.obstacles).toEqual([{ path: 'envs', what: 'a symbolic link where a folder goes' }]);
    expect(readFileSync(path.join(outside, 'prod.json'), 'utf8')).toBe('{"token":"B private"}');
    expect(readFileSync(path.join(bDir, 'api.json'), 'utf8')).toBe('{"v":1}');
    expect(json((await b.run(['status', '--json'], { cwd: bDir })).stdout).changes).toEqual([]);

    rmSync(path.join(bDir, 'envs'));
    const again = await b.run(['pull'], { cwd: bDir });
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'envs/prod.json'), 'utf8')).toBe('{"token":"from A"}');
    expect(readFileSync(path.join(outside, 'prod.json'), 'utf8')).toBe('{"token":"B private"}');
  }, 60_000);

  it('never overwrites an ignored file, nor a folder holding one, and applies nothing when it stops', async () => {
    const { aDir, bDir } = await pair({ 'b.json': 'b1', 'env/a.json': 'a1' });
    writeFileSync(path.join(bDir, '.insomnia-syncignore'), '*.secret.json\n.DS_Store\n');
    writeFileSync(path.join(bDir, 'prod.secret.json'), 'B secret');
    writeFileSync(path.join(bDir, 'env/.DS_Store'), 'finder');
    await push(b, bDir, 'ignore rules');
    expect((await a.run(['pull'], { cwd: aDir })).code).toBe(0);

    // A drops the rule and adds its own prod.secret.json; it also turns the folder env into a file
    writeFileSync(path.join(aDir, '.insomnia-syncignore'), '.DS_Store\n');
    writeFileSync(path.join(aDir, 'prod.secret.json'), 'A secret');
    rmSync(path.join(aDir, 'env'), { recursive: true });
    writeFileSync(path.join(aDir, 'env'), 'now a file');
    writeFileSync(path.join(aDir, 'b.json'), 'b2');
    await push(a, aDir, 'clobber');

    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code).toBe(3);
    const { obstacles } = json(pulled.stderr).error.details;
    expect(obstacles.map((o: any) => o.path)).toEqual(['env', 'prod.secret.json']);
    expect(readFileSync(path.join(bDir, 'prod.secret.json'), 'utf8')).toBe('B secret');
    expect(readFileSync(path.join(bDir, 'b.json'), 'utf8')).toBe('b1');
    expect(readFileSync(path.join(bDir, 'env/a.json'), 'utf8')).toBe('a1');
    expect(readFileSync(path.join(bDir, '.insomnia-syncignore'), 'utf8')).toBe('*.secret.json\n.DS_Store\n');
    expect(json((await b.run(['status', '--json'], { cwd: bDir })).stdout).changes).toEqual([]);

    renameSync(path.join(bDir, 'prod.secret.json'), path.join(tempDir(), 'kept.json'));
    rmSync(path.join(bDir, 'env/.DS_Store'));
    const again = await b.run(['pull'], { cwd: bDir });
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'env'), 'utf8')).toBe('now a file');
    expect(readFileSync(path.join(bDir, 'b.json'), 'utf8')).toBe('b2');
  }, 90_000);

  it('an empty folder where a remote file goes gives way; a linked folder inside is never written into', async () => {
    const { aDir, bDir, name } = await pair({ 'a.json': 'a1' });
    mkdirSync(path.join(bDir, 'd/empty'), { recursive: true });
    const elsewhere = path.join(tempDir('isync-safety-nested-'), 'c');
    expect((await b.run(['clone', name, elsewhere])).code).toBe(0);
    renameSync(elsewhere, path.join(bDir, 'sub'));
    writeFileSync(path.join(aDir, 'd'), 'a file now');
    writeFileSync(path.join(aDir, 'a.json'), 'a2');
    await push(a, aDir, 'd');
    expect((await b.run(['pull'], { cwd: bDir })).code, 'pull').toBe(0);
    expect(readFileSync(path.join(bDir, 'd'), 'utf8')).toBe('a file now');

    mkdirSync(path.join(aDir, 'sub'));
    writeFileSync(path.join(aDir, 'sub/file.txt'), 'for the outer workspace');
    await push(a, aDir, 'sub');
    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code).toBe(3);
    expect(json(pulled.stderr).error.details.obstacles).toEqual([{ path: 'sub', what: 'another linked folder (its files belong to its own workspace)' }]);
    expect(existsSync(path.join(bDir, 'sub/file.txt'))).toBe(false);
  }, 90_000);

  it('a synced file the remote turned into a folder gives way to it (the obstacle check looks through the file to be deleted)', async () => {
    const { aDir, bDir } = await pair({ env: 'a file', 'k.json': 'k' });
    rmSync(path.join(aDir, 'env'));
    mkdirSync(path.join(aDir, 'env'));
    writeFileSync(path.join(aDir, 'env/prod.json'), 'prod');
    await push(a, aDir, 'env is a folder');
    const pulled = await b.run(['pull'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'env/prod.json'), 'utf8')).toBe('prod');
    expect(json((await b.run(['status', '--json'], { cwd: bDir })).stdout).changes).toEqual([]);
  }, 60_000);

  it('an ignore rule added for synced files deletes nothing: they stay synced, as in git', async () => {
    const { aDir, bDir } = await pair({ 'api.json': 'x', 'local/settings.json': '{"mine":"A"}' });
    writeFileSync(path.join(aDir, '.insomnia-syncignore'), 'local/\n');
    writeFileSync(path.join(aDir, 'local/new.json'), 'not synced');
    const status = json((await a.run(['status', '--json'], { cwd: aDir })).stdout);
    expect(status.changes.map((c: any) => [c.status ?? c.kind, c.path])).toEqual([[expect.anything(), '.insomnia-syncignore']]);
    await push(a, aDir, 'ignore local/');
    expect((await b.run(['pull'], { cwd: bDir })).code).toBe(0);
    expect(readFileSync(path.join(bDir, 'local/settings.json'), 'utf8')).toBe('{"mine":"A"}');
    expect(existsSync(path.join(bDir, 'local/new.json'))).toBe(false);

    // still synced: an edit goes up, and a deletion is a deletion
    writeFileSync(path.join(aDir, 'local/settings.json'), '{"mine":"A2"}');
    await push(a, aDir, 'edit');
    expect((await b.run(['pull'], { cwd: bDir })).code).toBe(0);
    expect(readFileSync(path.join(bDir, 'local/settings.json'), 'utf8')).toBe('{"mine":"A2"}');
    rmSync(path.join(aDir, 'local/settings.json'));
    await push(a, aDir, 'delete');
    expect((await b.run(['pull'], { cwd: bDir })).code).toBe(0);
    expect(existsSync(path.join(bDir, 'local/settings.json'))).toBe(false);
  }, 90_000);

  it('restore in place keeps files that were never synced; a failed restore --to leaves no folder', async () => {
    const { aDir } = await pair({ 'a.json': 'v1' });
    const first = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots[0].id as string;
    writeFileSync(path.join(aDir, 'a.json'), 'v2');
    writeFileSync(path.join(aDir, 'b.json'), 'b');
    await push(a, aDir, 'v2');
    writeFileSync(path.join(aDir, 'notes.json'), 'never pushed');
    const restored = await a.run(['restore', first, '--yes', '--json'], { cwd: aDir });
    expect(restored.code, restored.stderr).toBe(0);
    expect(json(restored.stdout)).toMatchObject({ written: 1, deleted: 1 });
    expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('v1');
    expect(existsSync(path.join(aDir, 'b.json'))).toBe(false);
    expect(readFileSync(path.join(aDir, 'notes.json'), 'utf8')).toBe('never pushed');

    // the workspace's stored blobs flipped: the restore fails its check (exit 7)
    const link = json(readFileSync(path.join(aDir, '.insomnia-sync/link.json'), 'utf8'));
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    for (const row of db.prepare('SELECT rowid AS r, data FROM blobs WHERE workspace_id = ?').all(link.workspaceId) as { r: number; data: Buffer }[]) {
      const bad = Buffer.from(row.data);
      bad[bad.length - 3]! ^= 1;
      db.prepare('UPDATE blobs SET data = ? WHERE rowid = ?').run(bad, row.r);
    }
    db.close();
    const target = path.join(tempDir('isync-safety-to-'), 'deep', 'out');
    const failed = await a.run(['restore', first, '--to', target], { cwd: aDir });
    expect(failed.code, failed.stderr).toBe(7);
    expect(existsSync(path.dirname(target))).toBe(false);
  }, 90_000);

  it('restore in place never replaces a file not in the last sync: it stays, the snapshot\'s goes beside it as NAME.conflict (exit 3)', async () => {
    const { aDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
    const first = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots[0].id as string;
    rmSync(path.join(aDir, 'b.json'));
    await push(a, aDir, 'without b');
    writeFileSync(path.join(aDir, 'b.json'), 'precious');

    const restored = await a.run(['restore', first, '--yes', '--json'], { cwd: aDir });
    expect(restored.code, restored.stderr).toBe(3);
    expect(restored.stdout).toBe('');
    const err = json(restored.stderr).error;
    expect(err.code).toBe('conflict');
    expect(err.message).toBe("1 file(s) never synced were in the way: kept yours; wrote the snapshot's beside 1 as NAME.conflict");
    expect(err.details.conflicts).toEqual([{ path: 'b.json', conflictPath: 'b.json.conflict' }]);
    expect(readFileSync(path.join(aDir, 'b.json'), 'utf8')).toBe('precious');
    expect(readFileSync(path.join(aDir, 'b.json.conflict'), 'utf8')).toBe('b1');
    rmSync(path.join(aDir, 'b.json.conflict'));

    // with a synced file edited too, the question names what is overwritten, and what is not
    writeFileSync(path.join(aDir, 'a.json'), 'a2 unpushed');
    const asked = await a.run(['restore', first], { cwd: aDir });
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain("1 file(s) never synced stay as they are, with the snapshot's version beside them as NAME.conflict");
    expect(asked.stderr).toContain('Overwrite 1 unpushed change(s) to synced files (a.json) with snapshot');
    expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2 unpushed');

    // a new file alone is not an unpushed change the restore overwrites: nothing to ask
    writeFileSync(path.join(aDir, 'a.json'), 'a1');
    const unasked = await a.run(['restore', first], { cwd: aDir });
    expect(unasked.code, unasked.stderr).toBe(3);
    // as pull, each file is named under the error, with where the snapshot's version went
    expect(unasked.stderr).toContain("\n  b.json: the snapshot's written to b.json.conflict\n");
    expect(unasked.stderr).toContain('hint: compare each file with its copy, keep what you want, delete the copy');
    expect(readFileSync(path.join(aDir, 'b.json'), 'utf8')).toBe('precious');
    expect(readFileSync(path.join(aDir, 'b.json.conflict'), 'utf8')).toBe('b1');
  }, 90_000);

  it('pull says what it did with a file deleted on one side and changed on the other', async () => {
    const { aDir, bDir } = await pair({ 'gone-here.json': 'g1', 'gone-there.json': 't1' });
    rmSync(path.join(bDir, 'gone-here.json'));
    writeFileSync(path.join(bDir, 'gone-there.json'), 't2 by B');
    writeFileSync(path.join(aDir, 'gone-here.json'), 'g2 by A');
    rmSync(path.join(aDir, 'gone-there.json'));
    await push(a, aDir, 'crossed');
    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code).toBe(3);
    const err = json(pulled.stderr).error;
    expect(err.message).toBe('1 file(s) changed both here and on the remote: kept yours; 1 deleted on the remote, kept here');
    expect(err.details.conflicts).toEqual([{ path: 'gone-there.json', conflictPath: null, remote: 'deleted' }]);
    expect(err.details.restored).toEqual(['gone-here.json']);
    expect(readFileSync(path.join(bDir, 'gone-there.json'), 'utf8')).toBe('t2 by B');
    expect(readFileSync(path.join(bDir, 'gone-here.json'), 'utf8')).toBe('g2 by A');

    // alone, the restore is reported on success
    const { aDir: a2, bDir: b2 } = await pair({ 'x.json': 'x1' });
    rmSync(path.join(b2, 'x.json'));
    writeFileSync(path.join(a2, 'x.json'), 'x2');
    await push(a, a2, 'x2');
    const back = await b.run(['pull'], { cwd: b2 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('\n  restored (you had deleted it, the remote changed it): x.json\n');
  }, 90_000);

  it('one command at a time in a folder: a live lock refuses push and pull (exit 3), a dead one is taken over', async () => {
    const { aDir } = await pair({ 'a.json': 'x' });
    const lock = path.join(aDir, '.insomnia-sync/lock');
    writeFileSync(lock, `${process.pid}\n`); // a process that is running: this test
    writeFileSync(path.join(aDir, 'a.json'), 'y');
    for (const cmd of [['push'], ['pull'], ['restore', 'abcd', '--yes']]) {
      const res = await a.run(cmd, { cwd: aDir });
      expect(res.code, cmd.join(' ')).toBe(3);
      expect(res.stderr).toContain(`another insomnia-sync command (process ${process.pid}) is working in ${aDir}`);
    }
    // status reads on (it only skips refreshing the index)
    const status = await a.run(['status', '--json'], { cwd: aDir });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout).changes).toHaveLength(1);

    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(lock, `${gone}\n`);
    const pushed = await a.run(['push'], { cwd: aDir });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(existsSync(lock)).toBe(false);
  }, 60_000);

  it('a clone, restore --to or export inside a linked folder is refused, and a linked folder inside another is not synced by it', async () => {
    const { aDir, name } = await pair({ 'outer.json': 'o' });
    const inner = await a.run(['clone', name, path.join(aDir, 'inner')]);
    expect(inner.code).toBe(3);
    expect(inner.stderr).toContain(`is inside ${aDir}`);
    expect(existsSync(path.join(aDir, 'inner'))).toBe(false);
    const first = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots[0].id as string;
    expect((await a.run(['restore', first, '--to', path.join(aDir, 'old')], { cwd: aDir })).code).toBe(3);
    // an export there is a decrypted copy the next push would sync: refused alike, nothing written
    for (const args of [
      ['export', '--out', 'copy'],
      ['export', '--out', path.join(aDir, 'deep', 'copy.tar.gz')],
      ['export', '--workspace', name, '--out', path.join(aDir, 'copy')],
      ['account', 'export', '--out', 'mine.tar.gz'],
    ]) {
      const res = await a.run(args, { cwd: aDir });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(3);
      expect(res.stderr).toContain(`is inside ${aDir}, which is linked to workspace`);
      expect(res.stderr).toMatch(/export into a folder outside it/);
    }
    expect((await a.run(['export', '--out', aDir], { cwd: aDir })).stderr).toContain(`${aDir} is already a linked folder`);
    expect(readdirSync(aDir).sort()).toEqual(['.insomnia-sync', 'outer.json']);

    // a clone made elsewhere and moved in stays its own workspace
    const elsewhere = path.join(tempDir('isync-safety-moved-'), 'c');
    expect((await a.run(['clone', name, elsewhere])).code).toBe(0);
    writeFileSync(path.join(elsewhere, 'creds.json'), '{"db":"pw"}');
    renameSync(elsewhere, path.join(aDir, 'moved'));
    const status = await a.run(['status', '--json'], { cwd: aDir });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout).changes).toEqual([]);
    expect(readdirSync(path.join(aDir, 'moved'))).toContain('creds.json');
  }, 90_000);

  it('a synced folder that gets its own link leaves the workspace, and push and status say why', async () => {
    const { aDir } = await pair({ 'top.json': 't', 'sub/one.json': '1', 'sub/two.json': '2' });
    // as when a folder linked to another workspace is moved in over it (a link as the tool writes it)
    mkdirSync(path.join(aDir, 'sub', '.insomnia-sync'));
    writeFileSync(path.join(aDir, 'sub', '.insomnia-sync', 'link.json'), '{}');
    const status = await a.run(['status'], { cwd: aDir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('skipped (linked to another workspace): sub/');
    const pushed = await a.run(['push', '-m', 'sub leaves'], { cwd: aDir });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain('warning: sub/ is linked to another workspace: its 2 file(s) were removed from this one');
    expect(readdirSync(path.join(aDir, 'sub')).sort()).toEqual(['.insomnia-sync', 'one.json', 'two.json']);
    const again = await a.run(['push'], { cwd: aDir });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('warning');
  }, 60_000);
  it('a head rolled back to before the last sync: status, verify and pull all exit 7 in the folder', async () => {
    const { aDir, bDir } = await pair({ 'a.json': 'v1' });
    writeFileSync(path.join(aDir, 'a.json'), 'v2');
    await push(a, aDir, 'second');
    writeFileSync(path.join(aDir, 'a.json'), 'v3');
    await push(a, aDir, 'third');
    const pulled = await b.run(['pull'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    const [s3, s2] = json((await a.run(['log', '--json'], { cwd: aDir })).stdout).snapshots.map((s: { id: string }) => s.id) as string[];
    const workspaceId = json(readFileSync(path.join(aDir, '.insomnia-sync/link.json'), 'utf8')).workspaceId as string;
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    const expectRefused = async (why: string): Promise<void> => {
      for (const dir of [aDir, bDir]) {
        for (const command of ['status', 'verify', 'pull']) {
          const res = await (dir === aDir ? a : b).run([command], { cwd: dir });
          expect(res.code, `${why}: ${command}: ${res.stdout}${res.stderr}`).toBe(7);
          expect(res.stderr).toContain('your last synced snapshot is not in the remote history');
          expect(res.stdout).not.toContain('new snapshots');
        }
      }
    };
    try {
      // the head moved back one snapshot; S3 itself is still stored
      db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(s2, workspaceId);
      await expectRefused('head moved back');
      // as an operator would: S3 deleted outright
      db.pragma('foreign_keys = off');
      db.prepare('DELETE FROM snapshots WHERE id = ?').run(s3);
      await expectRefused('snapshot deleted');
    } finally {
      db.close();
    }
    // what is left is an intact history: verify by name, outside the folder, finds nothing wrong
    const named = await a.run(['verify', '--workspace', workspaceId], { cwd: tempDir() });
    expect(named.code, named.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('v3');
  }, 90_000);
});
