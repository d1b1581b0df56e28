/**
 * Long-running helper processes for the bench (our sync server, the restic REST backend): started
 * with output to a log file, waited on until they print their URL, stopped by pid with SIGTERM.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const running = new Set();

/**
 * @returns {Promise<{ url: string, pid: number, child: import('node:child_process').ChildProcess, stop: () => Promise<number | null> }>}
 */
export async function startServer(cmd, args, { logFile, urlPattern, env, cwd, timeoutMs = 30_000 }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  let exited = null;
  const exitP = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exited = code ?? signal))));
  exitP.then(() => running.delete(child));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = urlPattern.exec(readFileSync(logFile, 'utf8'));
    if (m) {
      const stop = async () => {
        if (exited === null) child.kill('SIGTERM');
        return exitP;
      };
      return { url: m[1], pid: child.pid, child, stop };
    }
    if (exited !== null) throw new Error(`${cmd} ${args.join(' ')} exited (${exited}) before listening; see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`${cmd} did not start within ${timeoutMs} ms; see ${logFile}`);
    }
    await sleep(25);
  }
}

/** Kills every server this module started that is still running (used on abort). */
export function killAllStarted() {
  for (const child of running) child.kill('SIGTERM');
}
