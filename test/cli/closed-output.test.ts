/**
 * A reader that stops early closes the pipe (`completion bash | head -1`, `status 2>&1 | true`):
 * the CLI ends quietly with its own exit status, never a stack trace about EPIPE. For real: the
 * bundled CLI as a child process whose stdout or stderr this end closes. And the watch on its own.
 * With a server: test/e2e/closed-pipe.test.ts.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';
import { watchOutputStreams, type WatchedProcess } from '../../src/cli/closed-output.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`write ${code}`), { code, syscall: 'write' });
}

describe('the CLI with a closed pipe', () => {
  it('stdout closed before the first write: exit 0, nothing on stderr (completion, --help)', async () => {
    for (const args of [['completion', 'bash'], ['--help'], ['completion', 'zsh', '--json']]) {
      const res = await runCli(args, { closeStdout: 'at-once' });
      expect(res.stderr, args.join(' ')).toBe('');
      expect(res.code, args.join(' ')).toBe(0);
    }
  });

  it('stderr closed: an error ends with its own status (5, not linked), not 1', async () => {
    const cwd = tempDir('isync-closed-');
    const env = { INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-closed-config-'), INSOMNIA_SYNC_SERVER: 'http://127.0.0.1:9' };
    expect((await runCli(['status'], { cwd, env })).code).toBe(5);
    for (const args of [['status'], ['status', '--json']]) {
      const res = await runCli(args, { cwd, env, closeStderr: true });
      expect(res.code, args.join(' ')).toBe(5);
    }
  });
});

describe('watchOutputStreams', () => {
  function fakeProcess(): WatchedProcess & { stdout: EventEmitter; stderr: EventEmitter & { text: string } } {
    const stderr = Object.assign(new EventEmitter(), { text: '', write: (t: string) => (stderr.text += t) });
    return { stdout: new EventEmitter(), stderr, exitCode: undefined };
  }

  it('a reader gone (EPIPE, ECONNRESET) on stdout: no word, the status left to the command', () => {
    for (const code of ['EPIPE', 'ECONNRESET']) {
      const proc = fakeProcess();
      const watch = watchOutputStreams(proc, () => false);
      proc.stdout.emit('error', errno(code));
      proc.stdout.emit('error', errno(code));
      expect(proc.stderr.text).toBe('');
      expect(proc.exitCode).toBeUndefined();
      expect(watch.exitCode(0)).toBe(0);
      expect(watch.exitCode(3)).toBe(3);
    }
  });

  it('any error on stderr: dropped, nowhere to say it', () => {
    const proc = fakeProcess();
    const watch = watchOutputStreams(proc, () => false);
    proc.stderr.emit('error', errno('EPIPE'));
    proc.stderr.emit('error', errno('EIO'));
    expect(proc.stderr.text).toBe('');
    expect(watch.exitCode(0)).toBe(0);
  });

  it('another error on stdout: one line, exit 1 unless the command failed already', () => {
    const proc = fakeProcess();
    const watch = watchOutputStreams(proc, () => false);
    proc.stdout.emit('error', errno('EIO'));
    proc.stdout.emit('error', errno('EIO'));
    expect(proc.stderr.text).toBe('error: cannot write to standard output: write EIO\n');
    expect(watch.exitCode(0)).toBe(1);
    expect(watch.exitCode(5)).toBe(5);
  });

  it('another error on stdout after the command ended: its success turns to exit 1; with --json, a JSON error', () => {
    const proc = fakeProcess();
    watchOutputStreams(proc, () => true);
    proc.exitCode = 0;
    proc.stdout.emit('error', errno('EIO'));
    expect(proc.exitCode).toBe(1);
    expect(JSON.parse(proc.stderr.text)).toEqual({ error: { code: 'failure', message: 'cannot write to standard output: write EIO' } });
    const failed = fakeProcess();
    watchOutputStreams(failed, () => false);
    failed.exitCode = 4;
    failed.stdout.emit('error', errno('EIO'));
    expect(failed.exitCode).toBe(4);
  });
});
