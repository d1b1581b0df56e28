/**
 * Pull against local edits: a file's mode and content merge apart (as in git), and an edit made
 * while a pull runs — during its download, or right after it places a file — is never lost nor
 * recorded as synced. The real server and CLI run as two machines; the moments of the races are
 * fixed by a preload that only these tests load (test/helpers/fs-moment.cjs).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const exec = (file: string): boolean => (statSync(file).mode & 0o100) !== 0;

describe('pull and local edits', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let n = 0;

  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    b = machine(server.url);
    await signupMachine(a, 'edits@example.com');
    await loginMachine(b, 'edits@example.com');
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** A workspace pushed from A with `files`, cloned on B. */
  async function pair(files: Record<string, string>): Promise<{ aDir: string; bDir: string }> {
    const name = `edits-${++n}`;
    const aDir = tempDir('isync-edits-a-');
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(aDir, rel)), { recursive: true });
      writeFileSync(path.join(aDir, rel), text);
    }
    expect((await a.run(['init', '--name', name], { cwd: aDir })).code).toBe(0);
    await push(a, aDir, 'first');
    const bDir = path.join(tempDir('isync-edits-b-'), 'ws');
    const cloned = await b.run(['clone', name, bDir]);
    expect(cloned.code, cloned.stderr).toBe(0);
    return { aDir, bDir };
  }

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
});
