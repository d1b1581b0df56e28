/**
 * Runs the real, compiled server (`npm run build` first) on 127.0.0.1 with a free port, for e2e
 * tests. Weak-but-allowed KDF defaults keep tests fast. `stop()` leaves the data directory in
 * place so tests can inspect it afterwards; `cleanup()` stops and removes a directory it made.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(REPO_ROOT, 'bin', 'insomnia-sync-server.js');
const LISTENING = /insomnia-sync-server listening on (https?:\/\/\S+)/;

const GENEROUS_RATE_LIMITS = ['prelogin', 'login', 'verify', 'invite'].flatMap((b) => [`--rate-limit-${b}`, '100000,100000']);

/** setpriv's arguments that take root's right to read, write and search whatever the modes say */
const DROP_DAC_OVERRIDE = ['--bounding-set', '-dac_override,-dac_read_search', '--'];

/**
 * node running BIN, or, with `withoutReadOverride` as root, setpriv running it without
 * CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH: root then meets EACCES as any user would. Nothing
 * changes for a test that is not root.
 */
function serverCommand(args: string[], withoutReadOverride = false): [string, string[]] {
  return withoutReadOverride && process.getuid?.() === 0 ? ['setpriv', [...DROP_DAC_OVERRIDE, process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
}

/**
 * The server's command line run to its end, as an operator runs `migrate`, `backup`, `gc` or an
 * `admin` command (beside a running server or not). INSOMNIA_SYNC_DB is cleared so --data-dir
 * decides, unless `env` sets it.
 */
export function runServerCommand(
  args: string[],
  cwd?: string,
  opts: { withoutReadOverride?: boolean; env?: NodeJS.ProcessEnv } = {},
): { code: number; stdout: string; stderr: string } {
  const [command, argv] = serverCommand(args, opts.withoutReadOverride);
  const r = spawnSync(command, argv, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, INSOMNIA_SYNC_DB: '', ...opts.env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface StartedServer {
  url: string;
  dataDir: string;
  logFile: string;
  process: ChildProcess;
  /** what the server wrote to standard error so far */
  stderr(): string;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited */
  stop(): Promise<void>;
  /** stop, then remove the data directory if this helper created it */
  cleanup(): Promise<void>;
}

export interface StartServerOptions {
  dataDir?: string;
  /** extra command-line arguments, after the defaults (later flags win) */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** database URL for --db (e.g. a PostgreSQL test database); default: SQLite in the data dir */
  db?: string;
  /** as root, run without the right to override file modes (see serverCommand) */
  withoutReadOverride?: boolean;
}

export async function startServer(opts: StartServerOptions = {}): Promise<StartedServer> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'server', 'main.js'))) {
    throw new Error('dist/server/main.js is missing: run `npm run build` before the e2e tests');
  }
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'insomnia-sync-server-'));
  const logFile = join(dataDir, 'server.log');
  const args = [
    '--port', '0',
    '--host', '127.0.0.1',
    '--data-dir', dataDir,
    '--kdf-memory', '65536',
    '--kdf-iterations', '3',
    '--log-file', logFile,
    // e2e suites log in many times from 127.0.0.1; test/e2e/hardening.test.ts checks the limits
    ...GENEROUS_RATE_LIMITS,
    ...(opts.db ? ['--db', opts.db] : []),
    ...(opts.args ?? []),
  ];
  const [command, argv] = serverCommand(args, opts.withoutReadOverride);
  const child = spawn(command, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, INSOMNIA_SYNC_DB: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  const listening = new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${opts.timeoutMs ?? 15_000} ms\n${stderr}`));
    }, opts.timeoutMs ?? 15_000);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = LISTENING.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal})\n${stderr}`));
    });
  });

  let url: string;
  try {
    url = await listening;
  } catch (err) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };

  return {
    url,
    dataDir,
    logFile,
    process: child,
    stderr: () => stderr,
    stop,
    async cleanup() {
      await stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
