/** Drives the real CLI as a child process, one config dir per simulated machine. */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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
  /**
   * Kill the CLI (SIGKILL: a synchronous loop hears no other signal) if it has not ended after this
   * many milliseconds; the result then has code -1 and says so in stderr. For a test of a command
   * that once hung: the regression fails the test instead of hanging the suite.
   */
  killAfterMs?: number;
}

const DROP_READ_OVERRIDE = ['--bounding-set', '-dac_override,-dac_read_search', '--'];

export function tempDir(prefix = 'isync-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * A CI job: the CLI with nothing in its environment but PATH, a fresh HOME (or `home`), the server
 * and the access token; no config dir, no terminal.
 */
export function ciJob(server: string, token: string, args: string[], cwd: string, home = tempDir('isync-ci-home-')): Promise<CliResult & { home: string }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, INSOMNIA_SYNC_SERVER: server, INSOMNIA_SYNC_TOKEN: token };
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, home }));
  });
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
    const killer = opts.killAfterMs === undefined ? undefined : setTimeout(() => {
      stderr += `\n[test: killed after ${opts.killAfterMs} ms]`;
      child.kill('SIGKILL');
    }, opts.killAfterMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
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
  return succeeded('signup', await m.run(['signup', '--email', email, '--name', email.split('@')[0]!, '--password-stdin', '--json'], { input: `${password}\n` }));
}

export async function loginMachine(m: Machine, email: string, password = PASSWORD): Promise<CliResult> {
  return succeeded('login', await m.run(['login', '--email', email, '--password-stdin', '--json'], { input: `${password}\n` }));
}

/** Set-up steps throw with the command's exit code and stderr, so a test fails where its set-up did. */
function succeeded(what: string, res: CliResult): CliResult {
  if (res.code !== 0) throw new Error(`${what} failed (${res.code}): ${res.stderr}`);
  return res;
}

/** Machine `a` signed up as `email`, machine `b` logged in to the same account: one person's two devices. */
export async function twoMachines(server: string, email: string): Promise<{ a: Machine; b: Machine }> {
  const [a, b] = [machine(server), machine(server)];
  await signupMachine(a, email);
  await loginMachine(b, email);
  return { a, b };
}

export interface LinkedFolderOptions {
  /** the start of the folder's name in the temp dir, so a left-over folder names its suite */
  prefix?: string;
  /** more flags for `init`, e.g. ['--team', 'Crew'] */
  initArgs?: string[];
  /** false leaves the workspace with no snapshot, as `init` alone does */
  push?: boolean;
  /** the first push's message (`push -m`) */
  message?: string;
}

export interface LinkedFolder {
  dir: string;
  /** `init --json`: its stdout holds the workspace's id */
  init: CliResult;
}

/**
 * A new folder holding `files` (a path may name subfolders), linked on `m` to a new workspace
 * `name`, and pushed once unless `opts.push` is false.
 */
export async function linkedFolder(m: Machine, name: string, files: Record<string, string | Buffer>, opts: LinkedFolderOptions = {}): Promise<LinkedFolder> {
  const dir = tempDir(opts.prefix);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), data);
  }
  const init = succeeded(`init --name ${name}`, await m.run(['init', '--name', name, ...(opts.initArgs ?? []), '--json'], { cwd: dir }));
  if (opts.push !== false) succeeded('push', await m.run(['push', ...(opts.message === undefined ? [] : ['-m', opts.message])], { cwd: dir }));
  return { dir, init };
}

export interface LinkedMachine extends LinkedFolder {
  machine: Machine;
  /** `signup --json` */
  signup: CliResult;
}

/**
 * A new machine signed up as `email`, with one folder linked to workspace `opts.name` (holding
 * `opts.files`, by default one empty JSON file) and pushed unless `opts.push` is false.
 */
export async function linkedMachine(
  server: string,
  email: string,
  opts: LinkedFolderOptions & { name: string; files?: Record<string, string | Buffer>; password?: string },
): Promise<LinkedMachine> {
  const m = machine(server);
  const signup = await signupMachine(m, email, opts.password);
  const folder = await linkedFolder(m, opts.name, opts.files ?? { 'a.json': '{}' }, opts);
  return { machine: m, signup, ...folder };
}

/** Clones workspace `name` on `m` into a new folder (`ws` in a new temp dir) and returns its path. */
export async function clonedFolder(m: Machine, name: string, prefix = 'isync-clone-'): Promise<string> {
  const dir = path.join(tempDir(prefix), 'ws');
  succeeded(`clone ${name}`, await m.run(['clone', name, dir]));
  return dir;
}

/**
 * For two-machine suites: each call pushes a new workspace (`LABEL-N`) with `files` from `a` and
 * clones it on `b`. Made in beforeAll, once the machines exist.
 */
export function folderPairs(a: Machine, b: Machine, label: string, opts: { message?: string } = {}): (files: Record<string, string>) => Promise<{ aDir: string; bDir: string; name: string }> {
  let n = 0;
  return async (files) => {
    const name = `${label}-${++n}`;
    const { dir: aDir } = await linkedFolder(a, name, files, { prefix: `isync-${label}-a-`, ...(opts.message !== undefined ? { message: opts.message } : {}) });
    return { aDir, bDir: await clonedFolder(b, name, `isync-${label}-b-`), name };
  };
}
