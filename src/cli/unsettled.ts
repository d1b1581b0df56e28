/**
 * Node ends a process once its event loop has nothing left to wait for, even while a command's
 * promise is still pending: an await on something nothing will ever settle (a bug) would end the
 * run with status 0 and no word, and a script would take it for success. The guard turns that into
 * an error like any other: one line (a JSON error with --json), exit 1.
 */
import { EXIT } from './exit-codes.js';

export const UNSETTLED_MESSAGE = 'internal error: the command ended before finishing';

/** What the guard uses of `process` (a stand-in in tests). */
export interface GuardedProcess {
  once(event: 'beforeExit', listener: () => void): unknown;
  removeListener(event: 'beforeExit', listener: () => void): unknown;
  stderr: { write(text: string): unknown };
  exitCode?: number | string | null | undefined;
}

/**
 * Watches `proc` until `settled()` is called: should its event loop drain first, writes one error
 * line to its stderr (JSON if `json()` says so) and sets its exit status to EXIT.failure.
 */
export function guardUntilSettled(proc: GuardedProcess, json: () => boolean): { settled(): void } {
  const drained = (): void => {
    proc.stderr.write(json() ? JSON.stringify({ error: { code: 'internal', message: UNSETTLED_MESSAGE } }) + '\n' : `error: ${UNSETTLED_MESSAGE}\n`);
    proc.exitCode = EXIT.failure;
  };
  proc.once('beforeExit', drained);
  return { settled: () => void proc.removeListener('beforeExit', drained) };
}
