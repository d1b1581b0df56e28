/**
 * Commands that link a folder, started at the same time: of two `clone`s into one new folder, or
 * two `init`s in one folder, exactly one goes on; the other stops with exit 3 having written and
 * made nothing, and takes back nothing of the winner's. The real server and CLI; one forced
 * moment comes from a preload that only these tests load (test/helpers/fs-moment.cjs).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, loginMachine, machine, ROOT, signupMachine, tempDir, type CliResult, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const MOMENT_HOOK = path.join(ROOT, 'test/helpers/fs-moment.cjs');

/** Environment for a CLI run held right after it first makes folder `name`, until file `until` exists (see fs-moment.cjs). */
function heldAfterMkdir(name: string, until: string): { env: Record<string, string> } {
  return { env: { NODE_OPTIONS: `--require ${JSON.stringify(MOMENT_HOOK)}`, ISYNC_TEST_MOMENT: JSON.stringify({ on: 'mkdir', name, until }) } };
}

const linkedTo = (dir: string): string => json(readFileSync(path.join(dir, '.insomnia-sync/link.json'), 'utf8')).workspaceId;

describe('commands that link a folder, at the same time', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  const ws: Record<'W1' | 'W2', { id: string; files: string[] }> = { W1: { id: '', files: [] }, W2: { id: '', files: [] } };

  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    b = machine(server.url);
    await signupMachine(a, 'races@example.com');
    await loginMachine(b, 'races@example.com');
    const contents = { W1: { 'one.txt': 'one\n', 'sub/two.txt': 'two\n' }, W2: { 'w2-secret.txt': 'W2 private secret\n' } };
    for (const name of ['W1', 'W2'] as const) {
      const { init } = await linkedFolder(a, name, contents[name]);
      ws[name] = { id: json(init.stdout).id, files: Object.keys(contents[name]).map((f) => f.split('/')[0]!) };
    }
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
  });

  /** The folder holds exactly `winner`'s files and link, and nothing is changed there. */
  async function holdsOnly(dir: string, winner: 'W1' | 'W2'): Promise<void> {
    expect(linkedTo(dir)).toBe(ws[winner].id);
    expect(readdirSync(dir).sort()).toEqual(['.insomnia-sync', ...ws[winner].files].sort());
    const status = await b.run(['status', '--json'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout).changes).toEqual([]);
  }

  it('clone: the first holds the folder while a second clones another workspace into it; the second wins, the first stops (exit 3) and leaves it alone', async () => {
    const parent = tempDir('isync-races-');
    const dir = path.join(parent, 'same');
    // the first clone makes the folder, then stays held right after, before it writes anything
    // there, until the second has finished (a fixed hold ran out first on a loaded machine)
    const release = path.join(parent, 'release');
    const first = b.run(['clone', 'W1', 'same'], { cwd: parent, ...heldAfterMkdir('same', release) });
    for (const deadline = Date.now() + 30_000; !existsSync(dir) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(dir)).toBe(true);
    const second = await b.run(['clone', 'W2', 'same'], { cwd: parent });
    writeFileSync(release, '');
    const late = await first;
    expect(second.code, second.stderr).toBe(0);
    expect(late.code, late.stderr).toBe(3);
    expect(late.stderr).toMatch(/already a linked folder|another insomnia-sync command/);
    await holdsOnly(dir, 'W2');
  }, 60_000);

  it('clone into an empty folder: one that finds it unlinked, and then linked by another clone before it looks inside, stops with exit 3 (already linked), not "not empty"', async () => {
    const parent = tempDir('isync-races-');
    const dir = path.join(parent, 'same');
    mkdirSync(dir);
    // the late clone has checked that the folder is neither busy nor linked; before it lists the
    // folder (to see that it is empty) it is left aside until the other clone has cloned into it
    const heldFile = path.join(parent, 'late-held');
    const release = path.join(parent, 'release');
    const late = b.run(['clone', 'W2', 'same'], {
      cwd: parent,
      env: {
        NODE_OPTIONS: `--require ${JSON.stringify(MOMENT_HOOK)}`,
        ISYNC_TEST_MOMENT: JSON.stringify({ on: 'readdir', name: 'same', write: { 'late-held': '' }, until: release }),
      },
    });
    for (const deadline = Date.now() + 30_000; !existsSync(heldFile) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 25));
    expect(existsSync(heldFile), 'the late clone never reached its look inside the folder').toBe(true);
    const first = await b.run(['clone', 'W1', 'same'], { cwd: parent });
    expect(first.code, first.stderr).toBe(0);
    writeFileSync(release, '');
    const res = await late;
    expect(res.code, res.stderr).toBe(3);
    expect(res.stderr).toMatch(/already a linked folder/);
    await holdsOnly(dir, 'W1');
  }, 60_000);

  it('clone: three at once into one new folder, of two workspaces: exactly one clones, the others stop with exit 3 and take nothing back', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = path.join(tempDir('isync-races-'), 'same');
      const names = ['W1', 'W2', 'W1'] as const;
      const results: CliResult[] = await Promise.all(names.map((w) => b.run(['clone', w, dir])));
      const won = results.flatMap((r, i) => (r.code === 0 ? [names[i]!] : []));
      expect(won, results.map((r) => `${r.code}: ${r.stderr}`).join('\n')).toHaveLength(1);
      for (const r of results) if (r.code !== 0) expect(r.code, r.stderr).toBe(3);
      await holdsOnly(dir, won[0]!);
    }
  }, 120_000);

  it('init: two at once in one folder make one workspace; the other stops with exit 3 and creates none', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = tempDir('isync-races-init-');
      const name = `Proj-${round}`;
      const results = await Promise.all([a.run(['init', '--name', name], { cwd: dir }), a.run(['init', '--name', name], { cwd: dir })]);
      expect(results.map((r) => r.code).sort(), results.map((r) => `${r.code}: ${r.stderr}`).join('\n')).toEqual([0, 3]);
      expect(results.find((r) => r.code === 3)!.stderr).toMatch(/another insomnia-sync command|already linked/);
      const list = await a.run(['workspace', 'list', '--json']);
      const same = json(list.stdout).workspaces.filter((w: { name: string }) => w.name === name);
      expect(same).toHaveLength(1);
      expect(linkedTo(dir)).toBe(same[0].id);
      expect(readdirSync(dir)).toEqual(['.insomnia-sync']);
    }
  }, 120_000);
});
