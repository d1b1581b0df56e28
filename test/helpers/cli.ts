/** Drives the real CLI as a child process, one config dir per simulated machine. */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin/insomnia-sync.cjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Machine {
  configDir: string;
  server: string;
  run(args: string[], opts?: RunOptions): Promise<CliResult>;
  /** the same, but starts the process and hands it back (to kill it midway) */
  spawn(args: string[], opts?: { cwd?: string }): ReturnType<typeof spawn>;
}

export interface RunOptions {
  cwd?: string;
  input?: string;
  env?: Record<string, string | undefined>;
  /**
   * Run the CLI without root's right to read and search whatever the modes say (CAP_DAC_OVERRIDE,
   * CAP_DAC_READ_SEARCH dropped with setpriv), so a test running as root meets EACCES as a user
   * would. Nothing changes for a test that is not root.
   */
  withoutReadOverride?: boolean;
  /**
   * Close this end of the CLI's standard output, as a reader that stops early does (`| head`):
   * 'at-once' before the CLI writes anything, so its first write meets a closed pipe;
   * 'after-first-chunk' once the first chunk has been read (kept in `stdout`), so a document larger
   * than the pipe's buffer is cut short in the middle.
   */
  closeStdout?: 'at-once' | 'after-first-chunk';
  /** Close this end of the CLI's standard error at once: whatever it says there meets a closed pipe. */
  closeStderr?: boolean;
}

const DROP_READ_OVERRIDE = ['--bounding-set', '-dac_override,-dac_read_search', '--'];

export function tempDir(prefix = 'isync-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', CI: 'true', ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const dropRights = opts.withoutReadOverride === true && process.getuid?.() === 0;
    const [command, argv] = dropRights ? ['setpriv', [...DROP_READ_OVERRIDE, process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
    const child = spawn(command, argv, {
      cwd: opts.cwd ?? ROOT,
      env: env as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (opts.closeStdout === 'after-first-chunk') child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.closeStdout === 'at-once') child.stdout.destroy();
    if (opts.closeStderr === true) child.stderr.destroy();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

export function machine(server: string, configDir = tempDir('isync-config-')): Machine {
  const baseEnv = { INSOMNIA_SYNC_CONFIG_DIR: configDir, INSOMNIA_SYNC_SERVER: server, INSOMNIA_SYNC_PASSWORD: undefined };
  return {
    configDir,
    server,
    run: (args, opts = {}) => runCli(args, { ...opts, env: { ...baseEnv, ...opts.env } }),
    spawn: (args, opts = {}) =>
      spawn(process.execPath, [CLI, ...args], {
        cwd: opts.cwd ?? ROOT,
        env: { ...process.env, ...baseEnv, NO_COLOR: '1', CI: 'true' } as NodeJS.ProcessEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
  };
}

export const PASSWORD = 'correct horse battery staple ✓';

/** signup with the password on stdin */
export async function signupMachine(m: Machine, email: string, password = PASSWORD): Promise<CliResult> {
  const res = await m.run(['signup', '--email', email, '--name', email.split('@')[0]!, '--password-stdin', '--json'], { input: `${password}\n` });
  if (res.code !== 0) throw new Error(`signup failed (${res.code}): ${res.stderr}`);
  return res;
}

export async function loginMachine(m: Machine, email: string, password = PASSWORD): Promise<CliResult> {
  const res = await m.run(['login', '--email', email, '--password-stdin', '--json'], { input: `${password}\n` });
  if (res.code !== 0) throw new Error(`login failed (${res.code}): ${res.stderr}`);
  return res;
}
