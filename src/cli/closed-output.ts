/**
 * A reader that stops early (`status --json | head -c 10`, `log | head -1`, `token list | true`)
 * closes the pipe, and Node reports the next write to it as an 'error' event on process.stdout:
 * with no listener, a stack trace and exit 1, though the command did all it had to. As git and gh
 * do, the CLI ends quietly instead: no word on stderr, the rest of the output dropped.
 *
 * The exit status stays the command's own (0 after success). Every command writes its result once,
 * when its work is done (Output.result), so a closed pipe cuts nothing short: a push has pushed,
 * a pull has written its files. The reader that went away reports its own failure, if it was one;
 * and `set -o pipefail` scripts do not fail on `| head`, as they do on git's SIGPIPE (141).
 *
 * A secret shown only once is the exception: `token create` and `account recovery-key` check their
 * write went through (Output.resultDelivered) and fail when it did not.
 *
 * Any other error on stdout means the output was lost for another reason: one line (a JSON error
 * with --json), exit 1 if the command had succeeded. Errors on stderr are dropped: there is nowhere
 * left to say them.
 */
import { EXIT } from './exit-codes.js';

/** Errors that mean the reader closed its end: a pipe (EPIPE) or a socket (ECONNRESET). */
const READER_GONE = new Set(['EPIPE', 'ECONNRESET']);

/** What the watch uses of `process` (a stand-in in tests). */
export interface WatchedProcess {
  stdout: { on(event: 'error', listener: (err: Error) => void): unknown };
  stderr: { on(event: 'error', listener: (err: Error) => void): unknown; write(text: string): unknown };
  exitCode?: number | string | null | undefined;
}

/**
 * Listens for errors on `proc`'s stdout and stderr for the rest of its life. `exitCode(code)` gives
 * the status to end with for a command that returned `code`: EXIT.failure instead of success when
 * stdout failed for a reason other than a closed reader.
 */
export function watchOutputStreams(proc: WatchedProcess, json: () => boolean): { exitCode(code: number): number } {
  let lost = false;
  proc.stderr.on('error', () => {});
  proc.stdout.on('error', (err) => {
    const code = (err as NodeJS.ErrnoException).code;
    if (lost || (code !== undefined && READER_GONE.has(code))) return;
    lost = true;
    const message = `cannot write to standard output: ${err.message}`;
    proc.stderr.write(json() ? JSON.stringify({ error: { code: 'failure', message } }) + '\n' : `error: ${message}\n`);
    // After the command has ended (a write still queued when it returned), its status is set.
    if (proc.exitCode === EXIT.ok || proc.exitCode === undefined) proc.exitCode = EXIT.failure;
  });
  return { exitCode: (code) => (lost && code === EXIT.ok ? EXIT.failure : code) };
}
