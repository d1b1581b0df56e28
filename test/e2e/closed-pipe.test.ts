/**
 * A reader that stops early (`status --json | head -c 10`, `log | head -1`) closes the CLI's
 * standard output. The CLI then ends quietly, as git and gh do: no stack trace, no word about
 * EPIPE, and the exit status it would have had (README "Exit status"). A command that changes
 * something has done it all by then: push has moved the server's head, pull has written the files.
 * Without a server: test/cli/closed-output.test.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, signupMachine, tempDir, type CliResult, type Machine } from '../helpers/cli.js';
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
  a = machine(server.url);
  b = machine(server.url);
  await signupMachine(a, 'pipes@example.com');
  await loginMachine(b, 'pipes@example.com');
  folder = tempDir('isync-pipes-');
  writeFileSync(path.join(folder, 'counter.json'), '{}');
  const init = await a.run(['init', '--name', 'pipes', '--json'], { cwd: folder });
  expect(init.code, init.stderr).toBe(0);
  for (let i = 0; i < PUSHES; i++) {
    writeFileSync(path.join(folder, 'counter.json'), JSON.stringify({ i }));
    const push = await a.run(['push', '-m', `push ${i}`, '--json'], { cwd: folder });
    expect(push.code, push.stderr).toBe(0);
  }
  copy = path.join(tempDir('isync-pipes-b-'), 'copy');
  const clone = await b.run(['clone', 'pipes', copy, '--json']);
  expect(clone.code, clone.stderr).toBe(0);
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
