/**
 * The built CLI stretches passwords in a worker thread, and loads worker_threads only then. A probe
 * preloaded into the real process reports, at exit, whether the main thread loaded Node's Worker
 * and whether it loaded hash-wasm's Argon2id: the main thread loads it only to compute there (the
 * fallback when no worker starts), which would freeze its event loop (and a spinner) for the
 * Argon2id's second or so. A module list, not a measured pause: on a loaded machine any pause can
 * be long, and timing belongs in the benchmark.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { machine, PASSWORD, runCli, tempDir } from '../helpers/cli.js';

// Imports nothing, so that what it reports is what the CLI loaded.
const PROBE = `process.on('exit', () => {
  const workerModules = process.moduleLoadList.filter((m) => m === 'NativeModule worker_threads' || m === 'NativeModule internal/worker');
  // Loaded only when needed: child_process (commander's executable subcommands), https and tls.
  const lazyModules = process.moduleLoadList.filter((m) => ['NativeModule child_process', 'NativeModule https', 'NativeModule tls'].includes(m));
  // The CLI's entry is CommonJS, as is its bundle: every file the main thread required is in its cache.
  const required = Object.keys(process.mainModule ? process.mainModule.constructor._cache : {});
  const argon2OnMain = required.filter((f) => /argon2\\.umd\\.min/.test(f)).length;
  process.stderr.write('[probe] ' + JSON.stringify({ workerModules, lazyModules, required: required.length, argon2OnMain }) + '\\n');
});
`;

interface ProbeReport {
  workerModules: string[];
  lazyModules: string[];
  /** how many files the main thread required (more than none: the probe sees the cache) */
  required: number;
  /** how many of them are hash-wasm's Argon2id */
  argon2OnMain: number;
}

/** The last report is the main thread's: it exits last (and workers start with no preload anyway). */
function probeReport(stderr: string): ProbeReport {
  const line = stderr.split('\n').filter((l) => l.startsWith('[probe] ')).at(-1);
  if (!line) throw new Error(`no probe report in: ${stderr}`);
  return JSON.parse(line.slice('[probe] '.length)) as ProbeReport;
}

describe('Argon2id in a worker thread, loaded lazily', () => {
  let server: StartedServer;
  let nodeOptions: string;
  beforeAll(async () => {
    server = await startServer();
    const file = path.join(tempDir('isync-probe-'), 'probe.mjs');
    writeFileSync(file, PROBE);
    nodeOptions = `--import ${pathToFileURL(file).href}`;
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('signup and login derive in a worker: Argon2id never runs on the main thread', async () => {
    const m = machine(server.url);
    const up = await m.run(['signup', '--email', 'worker@example.com', '--password-stdin'], { input: `${PASSWORD}\n`, env: { NODE_OPTIONS: nodeOptions } });
    expect(up.code, up.stderr).toBe(0);
    const signupReport = probeReport(up.stderr);
    expect(signupReport.workerModules).toEqual(['NativeModule internal/worker', 'NativeModule worker_threads']);
    expect(signupReport.required).toBeGreaterThan(0);
    expect(signupReport.argon2OnMain).toBe(0);

    const other = machine(server.url);
    const login = await other.run(['login', '--email', 'worker@example.com', '--password-stdin'], { input: `${PASSWORD}\n`, env: { NODE_OPTIONS: nodeOptions } });
    expect(login.code, login.stderr).toBe(0);
    const loginReport = probeReport(login.stderr);
    expect(loginReport.workerModules).toEqual(signupReport.workerModules);
    expect(loginReport.argon2OnMain).toBe(0);
    // A command that talks to the (http) server: still no https, tls or child_process.
    const whoami = await other.run(['whoami', '--json'], { env: { NODE_OPTIONS: nodeOptions } });
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(probeReport(whoami.stderr).lazyModules).toEqual([]);
  });

  it('--version and a command that derives nothing load neither worker_threads nor child_process, https or tls', async () => {
    const version = await runCli(['--version'], { env: { NODE_OPTIONS: nodeOptions } });
    expect(version.code).toBe(0);
    expect(probeReport(version.stderr)).toMatchObject({ workerModules: [], lazyModules: [] });
    const whoami = await machine(server.url).run(['whoami'], { env: { NODE_OPTIONS: nodeOptions } });
    expect(whoami.code).toBe(4);
    expect(probeReport(whoami.stderr)).toMatchObject({ workerModules: [], lazyModules: [] });
  });
});
