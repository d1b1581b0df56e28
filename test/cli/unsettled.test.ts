/**
 * A command whose promise never settles (an await on something nothing will ever settle: a bug)
 * lets Node's event loop drain, and Node ends the process. That must be an error exit with one
 * line, not status 0 and silence. For real: the CLI as a child process, its HTTP requests never
 * answered and holding nothing open (a preloaded hook, NODE_OPTIONS --require, replaces
 * http.request), so `login` waits on the pre-login answer forever. And the guard on its own.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { guardUntilSettled, UNSETTLED_MESSAGE, type GuardedProcess } from '../../src/cli/unsettled.js';

/** An HTTP request that is never answered and keeps nothing alive. */
const HOOK = `
const http = require('node:http'), { EventEmitter } = require('node:events');
http.request = function () {
  const req = new EventEmitter();
  for (const m of ['write', 'end', 'cork', 'uncork', 'destroy', 'setTimeout']) req[m] = () => req;
  return req;
};
`;

describe('a command that never settles: exit 1 and one line, never a silent 0', () => {
  let hook: string;
  let configDir: string;
  beforeAll(() => {
    hook = path.join(tempDir('isync-unsettled-'), 'hook.cjs');
    writeFileSync(hook, HOOK);
    configDir = tempDir('isync-unsettled-config-');
  });
  const run = (args: string[]) =>
    runCli(['login', '--email', 'ann@example.com', '--password-stdin', ...args], {
      input: 'a long enough password\n',
      env: { NODE_OPTIONS: `--require ${hook}`, INSOMNIA_SYNC_CONFIG_DIR: configDir, INSOMNIA_SYNC_SERVER: 'http://127.0.0.1:9' },
    });

  it('for people: one error line on stderr, nothing on stdout', async () => {
    const res = await run([]);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toBe(`error: ${UNSETTLED_MESSAGE}\n`);
  });

  it('with --json: one JSON error on stderr', async () => {
    const res = await run(['--json']);
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(JSON.parse(res.stderr)).toEqual({ error: { code: 'internal', message: UNSETTLED_MESSAGE } });
  });

  it('--version and --help are untouched', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
    expect(version.stderr).toBe('');
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage:');
    expect(help.stderr).toBe('');
  });
});

describe('guardUntilSettled', () => {
  function fakeProcess(): GuardedProcess & EventEmitter & { text: string } {
    const proc = Object.assign(new EventEmitter(), { text: '', exitCode: undefined as GuardedProcess['exitCode'] });
    return Object.assign(proc, { stderr: { write: (t: string) => (proc.text += t) } });
  }

  it('the loop drains first: one line, exit 1, once', () => {
    const proc = fakeProcess();
    guardUntilSettled(proc, () => false);
    proc.emit('beforeExit');
    proc.emit('beforeExit');
    expect(proc.text).toBe(`error: ${UNSETTLED_MESSAGE}\n`);
    expect(proc.exitCode).toBe(1);
  });

  it('settled first: nothing said, the status left to the command', () => {
    const proc = fakeProcess();
    guardUntilSettled(proc, () => true).settled();
    proc.exitCode = 3;
    proc.emit('beforeExit');
    expect(proc.text).toBe('');
    expect(proc.exitCode).toBe(3);
    expect(proc.listenerCount('beforeExit')).toBe(0);
  });
});
