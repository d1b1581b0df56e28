/**
 * A reader that stops early (`status --json | head -c 10`, `log | head -1`) closes the CLI's
 * standard output. The CLI then ends quietly, as git and gh do: no stack trace, no word about
 * EPIPE, and the exit status it would have had (README "Exit status"). A command that changes
 * something has done it all by then: push has moved the server's head, pull has written the files.
 * Without a server: test/cli/closed-output.test.ts.
 * The exceptions: a token or recovery key that nobody received (token create revokes it), exit 1.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clonedFolder, linkedFolder, PASSWORD, tempDir, twoMachines, type CliResult, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const FILES = 3000; // status --json then says ~180 KB, well over a pipe's 64 KiB buffer
const PUSHES = 20;

let server: StartedServer;
let a: Machine;
let b: Machine;
let folder: string;
let copy: string;

/** Ended as if the whole output had been read: the same status, not a word on stderr. */
function expectQuietEnd(res: CliResult, code = 0): void {
  expect(res.stderr).not.toMatch(/EPIPE|ECONNRESET|\n\s+at /);
  expect(res.stderr).toBe('');
  expect(res.code).toBe(code);
}

beforeAll(async () => {
  server = await startServer();
  ({ a, b } = await twoMachines(server.url, 'pipes@example.com'));
  ({ dir: folder } = await linkedFolder(a, 'pipes', { 'counter.json': '{}' }, { prefix: 'isync-pipes-', push: false }));
  for (let i = 0; i < PUSHES; i++) {
    writeFileSync(path.join(folder, 'counter.json'), JSON.stringify({ i }));
    const push = await a.run(['push', '-m', `push ${i}`, '--json'], { cwd: folder });
    expect(push.code, push.stderr).toBe(0);
  }
  copy = await clonedFolder(b, 'pipes', 'isync-pipes-b-');
  mkdirSync(path.join(folder, 'many'));
  for (let i = 0; i < FILES; i++) writeFileSync(path.join(folder, 'many', `f${i}.json`), JSON.stringify({ i }));
}, 180_000);

afterAll(async () => {
  await server?.stop();
});

describe('a reader that closes the pipe early', () => {
  it(`status --json with ${FILES} changes, cut after the first chunk: exit 0, stderr empty`, async () => {
    const whole = await a.run(['status', '--json'], { cwd: folder });
    expect(whole.code, whole.stderr).toBe(0);
    expect(JSON.parse(whole.stdout).changes).toHaveLength(FILES);
    expect(whole.stdout.length).toBeGreaterThan(2 * 65536);
    const cut = await a.run(['status', '--json'], { cwd: folder, closeStdout: 'after-first-chunk' });
    expectQuietEnd(cut);
    expect(cut.stdout.length).toBeGreaterThan(0);
    expect(cut.stdout.length).toBeLessThan(whole.stdout.length);
    expect(whole.stdout.startsWith(cut.stdout)).toBe(true);
    // for people too, the pipe closed before the first line
    expectQuietEnd(await a.run(['status'], { cwd: folder, closeStdout: 'at-once' }));
  });

  it(`log on ${PUSHES} snapshots, the pipe closed before the first line: exit 0, stderr empty`, async () => {
    const whole = await b.run(['log', '--json'], { cwd: copy });
    expect(JSON.parse(whole.stdout).snapshots).toHaveLength(PUSHES);
    expectQuietEnd(await b.run(['log'], { cwd: copy, closeStdout: 'at-once' }));
    expectQuietEnd(await b.run(['log', '--json'], { cwd: copy, closeStdout: 'at-once' }));
  });

  it('listings (workspace list, token list, team list, whoami, account show): exit 0, stderr empty', async () => {
    for (const args of [['workspace', 'list'], ['token', 'list'], ['team', 'list'], ['whoami'], ['account', 'show', '--json']]) {
      const res = await b.run(args, { cwd: copy, closeStdout: 'at-once' });
      expect({ args, stderr: res.stderr, code: res.code }).toEqual({ args, stderr: '', code: 0 });
    }
  });

  it('a failure with stdout closed keeps its status and its error: log in a folder not linked exits 5', async () => {
    const res = await b.run(['log'], { cwd: tempDir('isync-pipes-none-'), closeStdout: 'at-once' });
    expect(res.stderr).toMatch(/^error: this folder is not linked/);
    expect(res.stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(res.code).toBe(5);
  });

  it('token create with stdout closed: nobody got the token, so it is revoked; exit 1, one line saying so', async () => {
    const res = await a.run(['token', 'create', '--workspace', 'pipes', '--name', 'lost-in-pipe'], { cwd: folder, closeStdout: 'at-once' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^error: the token could not be written to standard output \(its reader had closed it\), so it was revoked$/m);
    expect(res.stderr).not.toMatch(/EPIPE|\n\s+at |isync_/);
    const tokens = JSON.parse((await a.run(['token', 'list', '--json'])).stdout).tokens as { name: string; status: string }[];
    expect(tokens.filter((t) => t.name === 'lost-in-pipe').map((t) => t.status)).toEqual(['revoked']);
    // the same command with its output read: a live token
    const kept = await a.run(['token', 'create', '--workspace', 'pipes', '--name', 'kept', '--json'], { cwd: folder });
    expect(kept.code, kept.stderr).toBe(0);
    const after = JSON.parse((await a.run(['token', 'list', '--json'])).stdout).tokens as { name: string; status: string }[];
    expect(after.filter((t) => t.name === 'kept').map((t) => t.status)).toEqual(['active']);
  });

  it('account recovery-key with stdout closed: exit 1, saying the key was not shown and the earlier one is gone', async () => {
    const first = await a.run(['account', 'recovery-key', '--password-stdin', '--json'], { input: `${PASSWORD}\n`, closeStdout: 'at-once' });
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stderr).error).toEqual({ code: 'output_lost', message: 'the new recovery key could not be written to standard output (its reader had closed it)' });
    const again = await a.run(['account', 'recovery-key', '--yes', '--password-stdin'], { input: `${PASSWORD}\n`, closeStdout: 'at-once' });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*could not be written.*; your earlier one no longer works either$/m);
    expect(again.stderr).toMatch(/^hint: run `insomnia-sync account recovery-key` again with its output kept$/m);
  });

  it(`push --json with stdout closed: all ${FILES} files pushed, the server's head moved, exit 0`, async () => {
    const before = JSON.parse((await a.run(['status', '--json'], { cwd: folder })).stdout).remoteHead as string;
    expectQuietEnd(await a.run(['push', '-m', 'through a closed pipe', '--json'], { cwd: folder, closeStdout: 'at-once' }));
    const after = JSON.parse((await a.run(['status', '--json'], { cwd: folder })).stdout);
    expect(after.changes).toEqual([]);
    expect(after.remoteHead).not.toBe(before);
    const log = JSON.parse((await a.run(['log', '--limit', '1', '--json'], { cwd: folder })).stdout);
    expect(log.snapshots[0]).toMatchObject({ id: after.remoteHead, message: 'through a closed pipe', files: FILES + 1 });
  });

  it(`pull with stdout closed: all ${FILES} files written, exit 0`, async () => {
    expectQuietEnd(await b.run(['pull'], { cwd: copy, closeStdout: 'at-once' }));
    for (const i of [0, FILES / 2, FILES - 1]) expect(readFileSync(path.join(copy, 'many', `f${i}.json`), 'utf8')).toBe(JSON.stringify({ i }));
    const status = JSON.parse((await b.run(['status', '--json'], { cwd: copy })).stdout);
    expect(status.changes).toEqual([]);
    expect(status.remoteMoved).toBe(false);
    expect(existsSync(path.join(copy, 'many', `f${FILES}.json`))).toBe(false);
  });
});
