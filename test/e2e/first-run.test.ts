/**
 * What a first run trips over, reported by a reviewer: init in a folder that cannot take the link
 * (it must not leave a workspace behind on the server), a second workspace of an existing name, a
 * wrong --server path or a server that is not insomnia-sync, the next step `team invite` prints,
 * and clone into a folder that is already linked.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

/** The newest code of `kind` mailed to `to`, read from the server's outbox. */
function mailedCode(dataDir: string, to: string, kind: 'Verification code' | 'Invite code'): string {
  const dir = path.join(dataDir, 'outbox');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.eml')).sort().reverse()) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    if (!text.includes(`To: ${to}\r\n`)) continue;
    const m = new RegExp(`^${kind}: (\\S+)\\r?$`, 'm').exec(text);
    if (m) return m[1]!;
  }
  throw new Error(`no ${kind} mailed to ${to}`);
}

/** A bash startup file defining `isync` as the CLI, for pasting printed commands. */
function shellFunction(): string {
  const file = path.join(tempDir('isync-first-bash-'), 'env.sh');
  writeFileSync(file, `isync() { "${process.execPath}" "${CLI}" "$@"; }\n`);
  return file;
}

describe('first run', () => {
  let server: StartedServer;
  let a: Machine;

  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    await signupMachine(a, 'first-run@example.com');
  }, 60_000);
  afterAll(async () => {
    await server?.cleanup();
  });

  async function workspaceNames(): Promise<string[]> {
    const list = await a.run(['workspace', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    const parsed = JSON.parse(list.stdout) as { name: string }[] | { workspaces: { name: string }[] };
    return (Array.isArray(parsed) ? parsed : parsed.workspaces).map((w) => w.name);
  }

  it('init where .insomnia-sync is a file: one clear line, exit 2 (a path that is not a usable folder, as for clone), nothing made on the server', async () => {
    const dir = tempDir('isync-first-file-');
    writeFileSync(path.join(dir, '.insomnia-sync'), '');
    const res = await a.run(['init', '--name', 'Blocked'], { cwd: dir });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^error: cannot link .*\.insomnia-sync is in the way \(not a folder\)\nhint: move it away/);
    expect(res.stderr).not.toMatch(/EEXIST/);
    expect(await workspaceNames()).not.toContain('Blocked');
    expect(readFileSync(path.join(dir, '.insomnia-sync'), 'utf8')).toBe('');

    const json = await a.run(['init', '--name', 'Blocked', '--json'], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr).error.code).toBe('usage');
    expect(await workspaceNames()).not.toContain('Blocked');

    // clone into a path that is a file says the same kind of thing with the same status
    expect((await a.run(['init', '--name', 'Clonable'], { cwd: tempDir('isync-first-clonable-') })).code).toBe(0);
    const file = path.join(tempDir('isync-first-notdir-'), 'file');
    writeFileSync(file, '');
    const clone = await a.run(['clone', 'Clonable', file, '--json']);
    expect(clone.code).toBe(2);
    expect(JSON.parse(clone.stderr).error).toEqual({ code: 'usage', message: `${file} exists and is not a folder` });
  }, 30_000);

  it('init that fails to write the link after creating the workspace deletes it again', async () => {
    const dir = tempDir('isync-first-index-');
    // the index cannot be written over a folder; the link and the scratch check go through
    mkdirSync(path.join(dir, '.insomnia-sync', 'index', 'in-the-way'), { recursive: true });
    const res = await a.run(['init', '--name', 'Half linked'], { cwd: dir });
    expect(res.code, res.stderr).toBe(1);
    expect(res.stderr).toMatch(/^error: cannot write the link in .*\.insomnia-sync \([a-z ]+, E[A-Z]+\); the workspace it created on the server is deleted again\n$/);
    expect(await workspaceNames()).not.toContain('Half linked');
    // not left half linked: the folder it found stays, without a link
    expect(existsSync(path.join(dir, '.insomnia-sync', 'link.json'))).toBe(false);
    expect(readdirSync(path.join(dir, '.insomnia-sync')).sort()).toEqual(['index']);
  }, 30_000);

  it('init warns (stderr; --json: sameName) when another workspace has the name, and points to clone', async () => {
    const first = tempDir('isync-first-same-a-');
    const one = await a.run(['init', '--name', 'Twin', '--json'], { cwd: first });
    expect(one.code, one.stderr).toBe(0);
    const created = JSON.parse(one.stdout) as { id: string; sameName: unknown[] };
    expect(created.sameName).toEqual([]);
    expect(one.stderr).toBe('');

    const second = tempDir('isync-first-same-b-');
    const two = await a.run(['init', '--name', 'Twin'], { cwd: second });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toContain(`warning: another workspace is already named "Twin" (${created.id.slice(0, 12)} in team `);
    expect(two.stderr).toContain('`insomnia-sync clone` it instead');
    expect(two.stdout).toMatch(/Created workspace Twin/);

    const third = tempDir('isync-first-same-c-');
    const three = await a.run(['init', '--name', 'Twin', '--json'], { cwd: third });
    expect(three.code, three.stderr).toBe(0);
    expect(three.stderr).toBe('');
    expect(JSON.parse(three.stdout).sameName).toHaveLength(2);
    expect(JSON.parse(three.stdout).sameName[0]).toMatchObject({ id: expect.stringMatching(/^[0-9a-f]{32}$/), team: expect.any(String) });
  }, 60_000);

  it('team invite prints a confirm step that works when pasted (it names the team as given)', async () => {
    expect((await a.run(['account', 'verify', mailedCode(server.dataDir, 'first-run@example.com', 'Verification code')])).code).toBe(0);
    expect((await a.run(['team', 'create', "Ann's team"])).code).toBe(0);
    const bob = machine(server.url);
    await signupMachine(bob, 'first-run-bob@example.com');
    const invited = await a.run(['team', 'invite', 'first-run-bob@example.com', '--team', "Ann's team"]);
    expect(invited.code, invited.stderr).toBe(0);
    const step = /then you run `([^`]+)`/.exec(invited.stdout)?.[1];
    expect(step).toBe(`insomnia-sync team confirm EMAIL --team 'Ann'\\''s team'`);
    expect((await bob.run(['team', 'accept', mailedCode(server.dataDir, 'first-run-bob@example.com', 'Invite code')])).code).toBe(0);
    // pasted into a shell, with EMAIL filled in
    const pasted = execFileSync('bash', ['-c', `${step!.replace('insomnia-sync', 'isync').replace('EMAIL', 'first-run-bob@example.com')} --yes`], {
      env: { ...process.env, NO_COLOR: '1', CI: 'true', INSOMNIA_SYNC_CONFIG_DIR: a.configDir, INSOMNIA_SYNC_SERVER: server.url, BASH_ENV: shellFunction() },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(pasted).toMatch(/first-run-bob@example.com/);
  }, 60_000);

  it('clone into the folder that is already linked says so, naming the workspace', async () => {
    const parent = tempDir('isync-first-clone-');
    const ws1 = path.join(parent, 'ws1');
    mkdirSync(ws1);
    expect((await a.run(['init', '--name', 'WS1'], { cwd: ws1 })).code).toBe(0);
    const res = await a.run(['clone', 'WS1', 'ws1'], { cwd: parent });
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(`error: ${ws1} is already linked to workspace WS1 (`);
    expect(res.stderr).not.toContain('is inside');
    expect(res.stderr).toContain('hint: run `insomnia-sync pull` there');

    // another workspace's folder: named by its id, as the link holds no name
    const other = tempDir('isync-first-clone-other-');
    mkdirSync(path.join(other, 'envs'));
    expect((await a.run(['init', '--name', 'Other'], { cwd: other })).code).toBe(0);
    const into = await a.run(['clone', 'WS1', other]);
    expect(into.code).toBe(3);
    expect(into.stderr).toMatch(/^error: .* is already a linked folder \(workspace [0-9a-f]{32}\)\nhint: clone into another folder/);

    // a folder inside a linked one keeps its message
    const inside = await a.run(['clone', 'WS1', path.join(other, 'envs', 'copy')]);
    expect(inside.code).toBe(3);
    expect(inside.stderr).toContain(`is inside ${other}`);
  }, 60_000);
});
