/**
 * What status, push and pull tell about files they cannot sync and about conflicts: names that are
 * not valid UTF-8 or hold control characters, conflict copies still on disk, the files a
 * conflicting pull touched, what --ours and --theirs overrode, and what push --force replaced.
 * Real server and CLI processes, as two machines of one account.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { folderPairs, twoMachines, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

describe('sync output names what it cannot sync and what conflicts', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let pair: ReturnType<typeof folderPairs>;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'sync-ux@example.com'));
    pair = folderPairs(a, b, 'ux');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function push(m: Machine, dir: string, ...args: string[]): Promise<void> {
    const res = await m.run(['push', ...args], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
  }

  it('skips a file or folder whose name is not valid UTF-8 and syncs the rest', async () => {
    const { aDir, bDir } = await pair({ 'a.json': '1' });
    // Buffer paths: the bytes as they are, 0xe9 alone being no UTF-8
    writeFileSync(Buffer.concat([Buffer.from(`${bDir}/caf`), Buffer.from([0xe9]), Buffer.from('.json')]), 'latin-1 name');
    const badDir = Buffer.concat([Buffer.from(`${bDir}/d`), Buffer.from([0xff])]);
    mkdirSync(badDir);
    writeFileSync(Buffer.concat([badDir, Buffer.from('/x.json')]), 'inside');
    writeFileSync(path.join(bDir, 'b.json'), 'new');

    const status = await b.run(['status', '--json'], { cwd: bDir });
    expect(status.code, status.stderr).toBe(0);
    const res = json(status.stdout);
    expect(res.changes).toEqual([{ kind: 'added', path: 'b.json' }]);
    expect(res.skipped).toEqual(['caf\uFFFD.json', 'd\uFFFD']);
    const human = await b.run(['status'], { cwd: bDir });
    expect(human.stdout).toContain('skipped (name is not valid UTF-8): caf\uFFFD.json');

    await push(b, bDir);
    expect((await a.run(['pull'], { cwd: aDir })).code).toBe(0);
    expect(readFileSync(path.join(aDir, 'b.json'), 'utf8')).toBe('new');
    writeFileSync(path.join(aDir, 'a.json'), '2');
    await push(a, aDir);
    const pulled = await b.run(['pull'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('2');
  });

  it('quotes a skipped name holding a newline on one line', async () => {
    const { bDir } = await pair({ 'a.json': '1' });
    writeFileSync(path.join(bDir, 'new\nline.json'), 'x');
    const status = await b.run(['status'], { cwd: bDir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(': "new\\nline.json"\n');
    expect(status.stdout.split('\n').some((l) => l.startsWith('line.json'))).toBe(false);
  });

  it('keeps conflict copies in sight: status lists them, push warns they are not pushed', async () => {
    const { aDir, bDir } = await pair({ 'base.json': 'v1' });
    writeFileSync(path.join(aDir, 'base.json'), 'A');
    await push(a, aDir);
    writeFileSync(path.join(bDir, 'base.json'), 'B');
    expect((await b.run(['pull'], { cwd: bDir })).code).toBe(3);
    expect(readFileSync(path.join(bDir, 'base.json.conflict'), 'utf8')).toBe('A');

    const st = await b.run(['status', '--json'], { cwd: bDir });
    expect(json(st.stdout).conflictCopies).toEqual(['base.json.conflict']);
    const human = await b.run(['status'], { cwd: bDir });
    expect(human.stdout).toContain('1 conflict copy(ies), never pushed');
    expect(human.stdout).toContain('\n  C base.json.conflict\n');

    const pushed = await b.run(['push'], { cwd: bDir });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(pushed.stderr).toMatch(/^warning: 1 conflict copy\(ies\) not pushed.*: base\.json\.conflict; /m);
    const pushedJson = await b.run(['push', '--json'], { cwd: bDir });
    expect(json(pushedJson.stdout).conflictCopies).toEqual(['base.json.conflict']);

    rmSync(path.join(bDir, 'base.json.conflict'));
    const clean = await b.run(['status', '--json'], { cwd: bDir });
    expect(json(clean.stdout).conflictCopies).toEqual([]);
    expect((await b.run(['push'], { cwd: bDir })).stderr).not.toContain('conflict');
  });

  it('a conflicting pull names each file, where its copy went, and what it restored', async () => {
    const { aDir, bDir } = await pair({ 'p.json': 'p1', 'gone.json': 'g1', 'r.json': 'r1' });
    writeFileSync(path.join(aDir, 'p.json'), 'pA');
    rmSync(path.join(aDir, 'gone.json'));
    writeFileSync(path.join(aDir, 'r.json'), 'rA');
    mkdirSync(path.join(aDir, 'k'));
    writeFileSync(path.join(aDir, 'k/x.json'), 'kA');
    await push(a, aDir);

    writeFileSync(path.join(bDir, 'p.json.conflict'), 'mine, named so');
    writeFileSync(path.join(bDir, 'p.json'), 'pB');
    writeFileSync(path.join(bDir, 'gone.json'), 'gB');
    rmSync(path.join(bDir, 'r.json'));
    writeFileSync(path.join(bDir, 'k'), 'a file here');

    const pulled = await b.run(['pull'], { cwd: bDir });
    expect(pulled.code).toBe(3);
    const text = pulled.stdout + pulled.stderr;
    expect(text).toContain('p.json: theirs written to p.json.conflict-2');
    expect(text).toContain('k/x.json: theirs written to k.conflict/x.json');
    expect(text).toContain('gone.json: deleted on the remote, kept here');
    expect(text).toMatch(/restored.*r\.json/);
    expect(text).not.toContain('compare each NAME with NAME.conflict');
    expect(readFileSync(path.join(bDir, 'p.json.conflict-2'), 'utf8')).toBe('pA');

    const st = await b.run(['status', '--json'], { cwd: bDir });
    expect(json(st.stdout).conflictCopies).toEqual(['k.conflict/', 'p.json.conflict', 'p.json.conflict-2']);
  });

  it('pull --theirs keeps a never-synced file and an unpushed edit aside, and says so; --ours names what it kept', async () => {
    const { aDir, bDir } = await pair({ 'base.json': 'v1' });
    writeFileSync(path.join(aDir, 'notes.json'), 'A notes');
    writeFileSync(path.join(aDir, 'base.json'), 'A');
    await push(a, aDir);
    writeFileSync(path.join(bDir, 'notes.json'), 'B notes, never synced');
    writeFileSync(path.join(bDir, 'base.json'), 'B');

    const pulled = await b.run(['pull', '--theirs'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(bDir, 'notes.json'), 'utf8')).toBe('A notes');
    expect(readFileSync(path.join(bDir, 'notes.json.conflict'), 'utf8')).toBe('B notes, never synced');
    expect(readFileSync(path.join(bDir, 'base.json.conflict'), 'utf8')).toBe('B');
    expect(pulled.stdout).toContain('base.json: took theirs, yours kept at base.json.conflict');
    expect(pulled.stdout).toContain('notes.json: took theirs, yours kept at notes.json.conflict');

    // --json names them too
    writeFileSync(path.join(aDir, 'base.json'), 'A2');
    await push(a, aDir);
    writeFileSync(path.join(bDir, 'base.json'), 'B2');
    const again = await b.run(['pull', '--theirs', '--json'], { cwd: bDir });
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout).overridden).toEqual([{ path: 'base.json', took: 'theirs', yoursAt: 'base.json.conflict-2' }]);
    expect(readFileSync(path.join(bDir, 'base.json.conflict-2'), 'utf8')).toBe('B2');

    writeFileSync(path.join(aDir, 'base.json'), 'A3');
    await push(a, aDir);
    writeFileSync(path.join(bDir, 'base.json'), 'B3');
    const ours = await b.run(['pull', '--ours'], { cwd: bDir });
    expect(ours.code, ours.stderr).toBe(0);
    expect(ours.stdout).toContain('base.json: kept yours over the remote');
    expect(readFileSync(path.join(bDir, 'base.json'), 'utf8')).toBe('B3');
  });

  it('push refused over newer snapshots tells what --force costs, and a forced push says what it replaced', async () => {
    const { aDir, bDir } = await pair({ 'a.json': '1' });
    writeFileSync(path.join(aDir, 'a.json'), 'A');
    await push(a, aDir);
    writeFileSync(path.join(aDir, 'new.json'), 'A new');
    await push(a, aDir);
    writeFileSync(path.join(bDir, 'a.json'), 'B');
    const refused = await b.run(['push'], { cwd: bDir });
    expect(refused.code).toBe(3);
    expect(refused.stderr).not.toContain('(or push --force to make your files the new snapshot)');
    expect(refused.stderr).toMatch(/--force.*replace/);

    const forced = await b.run(['push', '--force'], { cwd: bDir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('It replaced 2 newer snapshot(s) of the remote');
    expect(existsSync(path.join(bDir, 'new.json'))).toBe(false);
    const forcedJson = await b.run(['push', '--force', '--json'], { cwd: bDir });
    expect(json(forcedJson.stdout).replacedSnapshots ?? 0).toBe(0);
  });
});
