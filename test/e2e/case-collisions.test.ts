/**
 * Names that differ only in case (`A.yaml`, `a.yaml`): Linux holds both, a Mac or Windows folder
 * one. push on Linux warns; clone, pull, restore and export into a folder whose file system takes
 * them for one stop before anything is written (exit 3), on the server and here nothing is lost.
 * CI has no case-insensitive file system: INSOMNIA_SYNC_TEST_FOLD_CASE=1 (test-only, see
 * src/client/local/case-probe.ts) makes the real CLI's probe answer as a Mac's would; without it,
 * the same commands on this Linux file system go ahead as before.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, tempDir, twoMachines, clonedFolder, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const FOLDS = { INSOMNIA_SYNC_TEST_FOLD_CASE: '1' };

describe('names that differ only in case', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let n = 0;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'case@example.com'));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** a workspace pushed from `a` holding a case pair, and its name */
  async function collidingWorkspace(): Promise<{ dir: string; name: string }> {
    const name = `case-${++n}`;
    const { dir } = await linkedFolder(a, name, { 'A.yaml': 'upper', 'a.yaml': 'lower', 'other.json': '{}' }, { prefix: 'isync-case-a-' });
    return { dir, name };
  }

  it('push warns, naming the pairs, with --json listing them; a push with nothing to send does not', async () => {
    const { dir } = await linkedFolder(a, `case-${++n}`, { 'ok.json': '1' }, { prefix: 'isync-case-a-' });
    writeFileSync(path.join(dir, 'A.yaml'), 'upper');
    writeFileSync(path.join(dir, 'a.yaml'), 'lower');
    mkdirSync(path.join(dir, 'Envs'));
    mkdirSync(path.join(dir, 'envs'));
    writeFileSync(path.join(dir, 'Envs/x.json'), 'x');
    writeFileSync(path.join(dir, 'envs/y.json'), 'y');

    const pushed = await a.run(['push'], { cwd: dir });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toContain(
      'warning: names that differ only in case in one folder: A.yaml and a.yaml; Envs and envs; a Mac or Windows machine cannot hold both (clone and pull refuse there): rename one',
    );
    expect(pushed.stdout).toContain('Pushed snapshot');

    // nothing to push: no snapshot, no warning (and no work to find it)
    const noop = await a.run(['push', '--json'], { cwd: dir });
    expect(noop.code, noop.stderr).toBe(0);
    expect(json(noop.stdout).caseCollisions).toEqual([]);
    expect((await a.run(['push'], { cwd: dir })).stderr).toBe('');

    writeFileSync(path.join(dir, 'ok.json'), '2');
    const again = await a.run(['push', '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout).caseCollisions).toEqual([
      ['A.yaml', 'a.yaml'],
      ['Envs', 'envs'],
    ]);
    expect(again.stderr).toBe('');
  });

  it('clone into a folder that folds case stops before writing anything (exit 3); on Linux it holds both', async () => {
    const { name } = await collidingWorkspace();
    const parent = tempDir('isync-case-b-');
    const target = path.join(parent, 'ws');
    const refused = await b.run(['clone', name, target], { env: FOLDS });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      'error: clone would write names that differ only in case, which the file system here takes for one: A.yaml and a.yaml; nothing was written',
    );
    expect(refused.stderr).toContain('hint: rename one of each on a machine that tells them apart (Linux) and push, then run clone again');
    expect(refused.stderr.trim().split('\n')).toHaveLength(2);
    expect(readdirSync(parent)).toEqual([]);

    const asJson = await b.run(['clone', name, target, '--json'], { env: FOLDS });
    expect(asJson.code).toBe(3);
    expect(json(asJson.stderr).error).toMatchObject({ code: 'conflict', details: { caseCollisions: [['A.yaml', 'a.yaml']] } });
    expect(readdirSync(parent)).toEqual([]);

    // the same clone where the file system tells them apart
    const cloned = await b.run(['clone', name, target]);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(readFileSync(path.join(target, 'A.yaml'), 'utf8')).toBe('upper');
    expect(readFileSync(path.join(target, 'a.yaml'), 'utf8')).toBe('lower');
  });

  it('pull that would add a name beside one differing only in case stops with nothing changed; one that adds none goes ahead', async () => {
    const name = `case-${++n}`;
    const { dir: aDir } = await linkedFolder(a, name, { 'A.yaml': 'upper', 'other.json': '{}' }, { prefix: 'isync-case-a-' });
    const bDir = await clonedFolder(b, name, 'isync-case-b-');
    writeFileSync(path.join(aDir, 'a.yaml'), 'lower');
    writeFileSync(path.join(aDir, 'other.json'), '{"v":2}');
    expect((await a.run(['push'], { cwd: aDir })).code).toBe(0);

    const refused = await b.run(['pull', '--json'], { cwd: bDir, env: FOLDS });
    expect(refused.code).toBe(3);
    const err = json(refused.stderr).error;
    expect(err.message).toBe('pull would write names that differ only in case, which the file system here takes for one: A.yaml and a.yaml; nothing was changed');
    expect(err.details).toEqual({ caseCollisions: [['A.yaml', 'a.yaml']] });
    expect(readdirSync(bDir).sort()).toEqual(['.insomnia-sync', 'A.yaml', 'other.json']);
    expect(readFileSync(path.join(bDir, 'other.json'), 'utf8')).toBe('{}');
    const status = json((await b.run(['status', '--json'], { cwd: bDir })).stdout);
    expect(status.changes).toEqual([]);
    expect(status.remoteMoved).toBe(true);

    // where the file system tells them apart, the same pull goes ahead
    const pulled = await b.run(['pull'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'a.yaml'), 'utf8')).toBe('lower');

    // both names are here already: a pull that adds neither asks nothing and goes ahead
    writeFileSync(path.join(aDir, 'a.yaml'), 'lower 2');
    expect((await a.run(['push'], { cwd: aDir })).code).toBe(0);
    const edit = await b.run(['pull'], { cwd: bDir, env: FOLDS });
    expect(edit.code, edit.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'a.yaml'), 'utf8')).toBe('lower 2');
  });

  it('a rename that only changes case pulls as any rename where the names are one', async () => {
    const name = `case-${++n}`;
    const { dir: aDir } = await linkedFolder(a, name, { 'Env.json': 'env', 'Dir/x.json': 'x' }, { prefix: 'isync-case-a-' });
    const bDir = await clonedFolder(b, name, 'isync-case-b-');
    renameSync(path.join(aDir, 'Env.json'), path.join(aDir, 'env.json'));
    renameSync(path.join(aDir, 'Dir'), path.join(aDir, 'dir'));
    expect((await a.run(['push'], { cwd: aDir })).code).toBe(0);

    const pulled = await b.run(['pull', '--json'], { cwd: bDir, env: FOLDS });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(json(pulled.stdout)).toMatchObject({ written: ['dir/x.json', 'env.json'], deleted: ['Dir/x.json', 'Env.json'] });
    expect(readdirSync(bDir).sort()).toEqual(['.insomnia-sync', 'dir', 'env.json']);
  });

  it('restore, in place and --to, stops with nothing written', async () => {
    const { dir } = await collidingWorkspace();
    const first = json((await a.run(['log', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
    rmSync(path.join(dir, 'a.yaml'));
    expect((await a.run(['push'], { cwd: dir })).code).toBe(0);

    const inPlace = await a.run(['restore', first.slice(0, 12), '--yes'], { cwd: dir, env: FOLDS });
    expect(inPlace.code).toBe(3);
    expect(inPlace.stderr).toContain('error: restore would write names that differ only in case, which the file system here takes for one: A.yaml and a.yaml; nothing was changed');
    expect(readdirSync(dir).sort()).toEqual(['.insomnia-sync', 'A.yaml', 'other.json']);

    const parent = tempDir('isync-case-to-');
    const to = await a.run(['restore', first.slice(0, 12), '--to', path.join(parent, 'old')], { cwd: dir, env: FOLDS });
    expect(to.code).toBe(3);
    expect(to.stderr).toContain('error: restore would write names that differ only in case');
    expect(readdirSync(parent)).toEqual([]);

    const ok = await a.run(['restore', first.slice(0, 12), '--to', path.join(parent, 'old')], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(path.join(parent, 'old', 'a.yaml'), 'utf8')).toBe('lower');
  });

  it('export to a folder stops with nothing written; a .tar.gz holds both', async () => {
    const { name } = await collidingWorkspace();
    const parent = tempDir('isync-case-export-');
    const refused = await a.run(['export', '--workspace', name, '--out', path.join(parent, 'out')], { env: FOLDS });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(
      'error: export would write names that differ only in case, which the file system here takes for one: A.yaml and a.yaml; nothing was written (an --out NAME.tar.gz archive holds both)',
    );
    expect(readdirSync(parent)).toEqual([]);

    const tgz = await a.run(['export', '--workspace', name, '--out', path.join(parent, 'out.tar.gz')], { env: FOLDS });
    expect(tgz.code, tgz.stderr).toBe(0);
    expect(existsSync(path.join(parent, 'out.tar.gz'))).toBe(true);
  });

  describe('conflict copies take a name free of the names here and those written, in any case', () => {
    /** a workspace of `notes.yaml` on `a` and `b`; `a` then edits it and adds `notes.yaml.Conflict` (not a conflict copy: the suffix is case-sensitive), b edits it too */
    async function conflictBesideCaseTwin(): Promise<{ aDir: string; bDir: string; name: string }> {
      const name = `case-${++n}`;
      const { dir: aDir } = await linkedFolder(a, name, { 'notes.yaml': 'base' }, { prefix: 'isync-case-a-' });
      const bDir = await clonedFolder(b, name, 'isync-case-b-');
      writeFileSync(path.join(aDir, 'notes.yaml'), 'theirs');
      writeFileSync(path.join(aDir, 'notes.yaml.Conflict'), 'a file of theirs');
      expect((await a.run(['push'], { cwd: aDir })).code).toBe(0);
      writeFileSync(path.join(bDir, 'notes.yaml'), 'mine');
      return { aDir, bDir, name };
    }
    const filesIn = (dir: string): string[] => readdirSync(dir).filter((f) => f !== '.insomnia-sync').sort();

    it('pull writes theirs beside yours as NAME.conflict-2 where NAME.Conflict comes too; on Linux as NAME.conflict', async () => {
      const { bDir, name } = await conflictBesideCaseTwin();
      const pulled = await b.run(['pull', '--json'], { cwd: bDir, env: FOLDS });
      expect(pulled.code, pulled.stderr).toBe(3);
      const err = json(pulled.stderr).error;
      expect(err.details.conflicts).toEqual([{ path: 'notes.yaml', conflictPath: 'notes.yaml.conflict-2', remote: 'changed' }]);
      expect(err.details.written).toEqual(['notes.yaml.Conflict']);
      expect(filesIn(bDir)).toEqual(['notes.yaml', 'notes.yaml.Conflict', 'notes.yaml.conflict-2']);
      expect(readFileSync(path.join(bDir, 'notes.yaml'), 'utf8')).toBe('mine');
      expect(readFileSync(path.join(bDir, 'notes.yaml.conflict-2'), 'utf8')).toBe('theirs');
      expect(readFileSync(path.join(bDir, 'notes.yaml.Conflict'), 'utf8')).toBe('a file of theirs');

      // a later conflict: the copy also avoids the synced notes.yaml.Conflict here, and the old copy
      rmSync(path.join(bDir, 'notes.yaml.conflict-2'));
      const aDir2 = await clonedFolder(a, name, 'isync-case-a-');
      writeFileSync(path.join(aDir2, 'notes.yaml'), 'theirs 2');
      expect((await a.run(['push'], { cwd: aDir2 })).code).toBe(0);
      const again = await b.run(['pull', '--json'], { cwd: bDir, env: FOLDS });
      expect(again.code, again.stderr).toBe(3);
      expect(json(again.stderr).error.details.conflicts).toEqual([{ path: 'notes.yaml', conflictPath: 'notes.yaml.conflict-2', remote: 'changed' }]);
      expect(readFileSync(path.join(bDir, 'notes.yaml.conflict-2'), 'utf8')).toBe('theirs 2');

      // where the file system tells them apart, the plain name
      const { bDir: linux } = await conflictBesideCaseTwin();
      const plain = await b.run(['pull', '--json'], { cwd: linux });
      expect(plain.code).toBe(3);
      expect(json(plain.stderr).error.details.conflicts).toEqual([{ path: 'notes.yaml', conflictPath: 'notes.yaml.conflict', remote: 'changed' }]);
      expect(filesIn(linux)).toEqual(['notes.yaml', 'notes.yaml.Conflict', 'notes.yaml.conflict']);
    });

    it('pull --theirs copies yours to NAME.conflict-2 where NAME.Conflict comes too', async () => {
      const { bDir } = await conflictBesideCaseTwin();
      const pulled = await b.run(['pull', '--theirs', '--json'], { cwd: bDir, env: FOLDS });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(json(pulled.stdout).overridden).toEqual([{ path: 'notes.yaml', took: 'theirs', yoursAt: 'notes.yaml.conflict-2' }]);
      expect(filesIn(bDir)).toEqual(['notes.yaml', 'notes.yaml.Conflict', 'notes.yaml.conflict-2']);
      expect(readFileSync(path.join(bDir, 'notes.yaml'), 'utf8')).toBe('theirs');
      expect(readFileSync(path.join(bDir, 'notes.yaml.conflict-2'), 'utf8')).toBe('mine');
    });

    it('restore in place writes the snapshot’s beside a file never synced as NAME.conflict-2 where NAME.Conflict comes too', async () => {
      const { dir } = await linkedFolder(a, `case-${++n}`, { 'notes.yaml': 'old', 'notes.yaml.Conflict': 'old twin' }, { prefix: 'isync-case-a-' });
      const first = json((await a.run(['log', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
      rmSync(path.join(dir, 'notes.yaml'));
      rmSync(path.join(dir, 'notes.yaml.Conflict'));
      writeFileSync(path.join(dir, 'keep.json'), '{}');
      expect((await a.run(['push'], { cwd: dir })).code).toBe(0);
      writeFileSync(path.join(dir, 'notes.yaml'), 'never synced');

      const restored = await a.run(['restore', first.slice(0, 12), '--yes', '--json'], { cwd: dir, env: FOLDS });
      expect(restored.code, restored.stderr).toBe(3);
      expect(json(restored.stderr).error.details.conflicts).toEqual([{ path: 'notes.yaml', conflictPath: 'notes.yaml.conflict-2' }]);
      expect(filesIn(dir)).toEqual(['notes.yaml', 'notes.yaml.Conflict', 'notes.yaml.conflict-2']);
      expect(readFileSync(path.join(dir, 'notes.yaml'), 'utf8')).toBe('never synced');
      expect(readFileSync(path.join(dir, 'notes.yaml.conflict-2'), 'utf8')).toBe('old');
    });
  });
});
