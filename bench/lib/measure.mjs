/**
 * Runs one command and measures it: wall time from our own clock (ms precision), peak RSS and
 * CPU time from GNU time when /usr/bin/time exists, else peak RSS by polling /proc/PID/status
 * (VmHWM; best effort, it misses the last few ms before exit).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';
export const hasGnuTime = existsSync(GNU_TIME);

let seq = 0;

export class CommandError extends Error {
  constructor(cmd, args, code, stdout, stderr) {
    super(`${cmd} ${args.join(' ')} exited ${code}\n${stderr.slice(-4000) || stdout.slice(-4000)}`);
    this.code = 'command_failed';
    this.exitCode = code;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

function readHwmKiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a live process has used so far, from /proc/PID/stat. */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11], fields[12] are utime and stime (fields 14 and 15 of proc(5)), in clock ticks (100/s on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

export const processPeakRssMiB = (pid) => readHwmKiB(pid) / 1024;

/**
 * @returns {Promise<{ seconds: number, rssMiB: number, cpuSeconds: number | null, stdout: string, stderr: string }>}
 */
export function measure(cmd, args, { cwd, env, input, scratch, withTime = true } = {}) {
  const timed = withTime && hasGnuTime;
  const timeFile = timed ? path.join(scratch, `time-${process.pid}-${seq++}.txt`) : null;
  const argv = timed ? [GNU_TIME, ['-o', timeFile, '-f', '%e %M %U %S', cmd, ...args]] : [cmd, args];
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(argv[0], argv[1], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let polledKiB = 0;
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const poll = !timed && withTime ? setInterval(() => (polledKiB = Math.max(polledKiB, readHwmKiB(child.pid))), 5) : null;
    child.stdin.end(input ?? '');
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      if (poll) clearInterval(poll);
      let rssMiB = polledKiB / 1024;
      let cpuSeconds = null;
      if (timeFile) {
        const line = readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '';
        const [, maxKiB, user, sys] = line.split(' ').map(Number);
        rssMiB = maxKiB / 1024;
        cpuSeconds = user + sys;
        rmSync(timeFile, { force: true });
      }
      if (code !== 0) reject(new CommandError(cmd, args, code, stdout, stderr));
      else resolve({ seconds, rssMiB, cpuSeconds, stdout, stderr });
    });
  });
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
