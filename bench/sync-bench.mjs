#!/usr/bin/env node
/**
 * Sync benchmark (`npm run bench`): times our CLI against a loopback sync server on a seeded
 * workspace, and restic against a loopback REST backend on the same folder, side by side.
 * It reports; it never fails on timing. It exits 1 only when a clone or restore is not
 * byte-identical to the source, or a command fails.
 *
 * Options: --files N (10000)  --mb N (100, MiB of content)  --seed N (1)  --changed N (10)
 *          --runs N (10, for --version)  --repeat N (3, no-op push and clone: medians)
 *          --history N (20 more snapshots, then clone and log again; 0 skips)
 *          --no-restic  --cpu-prof  --keep  --out FILE  --help
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { generateWorkspace, mutateFiles } from './lib/workspace-gen.mjs';
import { hasGnuTime, measure, median, processCpuSeconds, processPeakRssMiB } from './lib/measure.mjs';
import { treeDigest } from './lib/tree-hash.mjs';
import { killAllStarted, startServer } from './lib/servers.mjs';
import { topSelfTime } from './lib/cpu-profile.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const CLI = path.join(ROOT, 'bin', 'insomnia-sync.cjs');
const SERVER = path.join(ROOT, 'bin', 'insomnia-sync-server.js');
const REST = path.join(HERE, 'restic-rest-server.mjs');
const NODE = process.execPath;
const PASSWORD = 'bench-correct-horse-battery-staple';
const EMAIL = 'bench@example.test';
const WS_NAME = 'bench';

const TARGET = {
  rssMiB: 150,
  noopPushS: 0.3,
  smallPushS: 0.5,
  initialRatio: 1, // aim 0.5
  cloneRatio: 1,
  versionRatio: 1.5,
};

function parseArgs(argv) {
  const opts = { files: 10_000, mb: 100, seed: 1, changed: 10, runs: 10, repeat: 3, history: 20, restic: true, cpuProf: false, keep: false, out: path.join(HERE, 'results', 'latest.json') };
  const num = (flag, v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--files') opts.files = Math.round(num(a, argv[++i]));
    else if (a === '--mb') opts.mb = num(a, argv[++i]);
    else if (a === '--seed') opts.seed = Math.round(num(a, argv[++i]));
    else if (a === '--changed') opts.changed = Math.round(num(a, argv[++i]));
    else if (a === '--runs') opts.runs = Math.round(num(a, argv[++i]));
    else if (a === '--repeat') opts.repeat = Math.round(num(a, argv[++i]));
    else if (a === '--history') opts.history = Math.round(Number(argv[++i]));
    else if (a === '--no-restic') opts.restic = false;
    else if (a === '--cpu-prof') opts.cpuProf = true;
    else if (a === '--keep') opts.keep = true;
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === '--help' || a === '-h') {
      process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0].replace(/^#!.*\n\/\*\*\n/, '').replace(/^ \* ?/gm, '') + '\n');
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  return opts;
}

const log = (msg) => process.stderr.write(`${msg}\n`);
const fmtS = (s) => (s == null ? '—' : s < 10 ? s.toFixed(3) : s.toFixed(1));
const fmtMiB = (m) => (m == null ? '—' : m.toFixed(0));
const fmtRatio = (r) => (r == null || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`);

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const p = path.join(dir, name);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

function dirBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += dirBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

function makeScratch() {
  const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return mkdtempSync(path.join(base, 'insomnia-sync-bench-'));
}

/** Runs fn while recording the CPU seconds a server process used meanwhile. */
async function withServerCpu(pid, fn) {
  const before = pid ? processCpuSeconds(pid) : NaN;
  const result = await fn();
  return { ...result, serverCpuSeconds: pid ? Math.round((processCpuSeconds(pid) - before) * 100) / 100 : null };
}

function lastJsonLine(text, type) {
  const lines = text.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      const j = JSON.parse(l);
      if (!type || j.message_type === type) return j;
    } catch {
      /* restic prints non-JSON lines too */
    }
  }
  return null;
}

function newestFile(dir, ext) {
  const files = readdirSync(dir).filter((f) => f.endsWith(ext)).map((f) => path.join(dir, f));
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0];
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(ROOT, 'dist', 'cli-bundle', 'main.cjs')) || !existsSync(path.join(ROOT, 'dist', 'server', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (or `npm run bench`, which builds)');
  }
  const resticBin = opts.restic ? findOnPath('restic') : null;
  const scratch = makeScratch();
  const servers = [];
  const cleanup = () => {
    killAllStarted();
    if (!opts.keep) rmSync(scratch, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const started = Date.now();
  try {
    return await run(opts, scratch, resticBin, servers);
  } finally {
    for (const s of servers) await s.stop();
    cleanup();
    log(`${opts.keep ? `kept scratch ${scratch}` : `removed scratch ${scratch}`}; total ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

async function run(opts, scratch, resticBin, servers) {
  log(`scratch: ${scratch}${scratch.startsWith('/dev/shm') ? ' (tmpfs)' : ''}`);
  const ws = path.join(scratch, 'ws');
  mkdirSync(ws);

  // 1. The workspace.
  let t = performance.now();
  const files = generateWorkspace(ws, { files: opts.files, mb: opts.mb, seed: opts.seed });
  const genSeconds = (performance.now() - t) / 1000;
  const source0 = treeDigest(ws);
  log(`generated ${source0.files} files, ${(source0.bytes / 1048576).toFixed(1)} MiB in ${genSeconds.toFixed(1)} s (seed ${opts.seed})`);

  // 2. Our server and account.
  const ours = await startServer(
    NODE,
    [SERVER, '--port', '0', '--host', '127.0.0.1', '--data-dir', path.join(scratch, 'server-data'), '--kdf-memory', '65536', '--kdf-iterations', '3'],
    { logFile: path.join(scratch, 'server.log'), urlPattern: /insomnia-sync-server listening on (http:\/\/\S+)/, cwd: scratch },
  );
  servers.push(ours);
  const env = { ...process.env, INSOMNIA_SYNC_CONFIG_DIR: path.join(scratch, 'config'), INSOMNIA_SYNC_SERVER: ours.url, NO_COLOR: '1' };
  delete env.INSOMNIA_SYNC_TOKEN;
  delete env.INSOMNIA_SYNC_PASSWORD;
  delete env.INSOMNIA_SYNC_PROFILE;
  const cli = (args, o = {}) => withServerCpu(ours.pid, () => measure(NODE, [CLI, '--json', ...args], { cwd: ws, env, scratch, ...o }));
  const signup = await cli(['signup', '--email', EMAIL, '--password-stdin'], { input: `${PASSWORD}\n` });
  const init = await cli(['init', '--name', WS_NAME]);
  log(`server ${ours.url}; signup ${fmtS(signup.seconds)} s, init ${fmtS(init.seconds)} s`);

  // 3. restic over its REST backend, same folder, cache inside scratch.
  let rest = null;
  let resticEnv = null;
  let resticVersion = null;
  const repo = path.join(scratch, 'restic-repo');
  if (resticBin) {
    resticVersion = execFileSync(resticBin, ['version'], { encoding: 'utf8' }).trim();
    rest = await startServer(NODE, [REST, '--dir', repo, '--port', '0'], {
      logFile: path.join(scratch, 'restic-rest.log'),
      urlPattern: /restic-rest-server listening on (http:\/\/\S+)/,
      cwd: scratch,
    });
    servers.push(rest);
    resticEnv = { ...process.env, RESTIC_PASSWORD: PASSWORD, RESTIC_CACHE_DIR: path.join(scratch, 'restic-cache'), RESTIC_REPOSITORY: `rest:${rest.url}` };
    delete resticEnv.RESTIC_PASSWORD_FILE;
    delete resticEnv.RESTIC_PASSWORD_COMMAND;
    await measure(resticBin, ['init'], { cwd: scratch, env: resticEnv, scratch });
    log(`restic: ${resticVersion}; REST backend ${rest.url}`);
  } else {
    log(opts.restic ? 'restic not found on PATH: skipping the restic comparison' : 'restic comparison off (--no-restic)');
  }
  const restic = resticBin
    ? (args, o = {}) => withServerCpu(rest.pid, () => measure(resticBin, args, { cwd: scratch, env: resticEnv, scratch, ...o }))
    : async () => null;
  // .insomnia-sync/ is our local link state, never synced; restic skips it too so both move the same files.
  const backup = () => restic(['backup', '--json', '--exclude', '.insomnia-sync', ws]);

  // 4. The timed operations, ours then restic's, on the same tree state.
  const ops = {};
  // Operations that leave the state as they found it run `repeat` times, ours and restic's
  // alternating: the median time and the highest peak RSS are reported (a single run on this
  // machine varies by ±15 %).
  const step = async (key, label, oursFn, resticFn, { repeat = 1, before } = {}) => {
    log(`${label}${repeat > 1 ? ` (${repeat} runs each)` : ''}…`);
    const os = [];
    const rs = [];
    for (let i = 0; i < repeat; i++) {
      before?.();
      os.push(await oursFn());
      const r = await resticFn();
      if (r) rs.push(r);
    }
    const o = summarize(os);
    const r = rs.length > 0 ? summarize(rs) : null;
    ops[key] = { label, ours: o, restic: r };
    log(`  ours ${fmtS(o.seconds)} s, ${fmtMiB(o.rssMiB)} MiB${r ? `; restic ${fmtS(r.seconds)} s, ${fmtMiB(r.rssMiB)} MiB` : ''}${repeat > 1 ? ` (medians; ours ${os.map((x) => fmtS(x.seconds)).join(' ')})` : ''}`);
  };
  await step('initialPush', 'initial push / backup', () => cli(['push', '-m', 'initial']), backup);
  await step('noopPush', 'no-op push / backup', () => cli(['push']), backup, { repeat: opts.repeat });
  const changed = mutateFiles(ws, files, { count: opts.changed, seed: opts.seed });
  const source = treeDigest(ws);
  await step('smallPush', `push / backup after ${changed.length} changed files`, () => cli(['push', '-m', 'edit']), backup);
  const cloneDir = path.join(scratch, 'clone');
  const restoreDir = path.join(scratch, 'restore');
  await step(
    'clone',
    'clone / restore into an empty folder',
    () => cli(['clone', WS_NAME, cloneDir], { cwd: scratch }),
    () => restic(['restore', 'latest', '--target', restoreDir]),
    {
      repeat: opts.repeat,
      before: () => {
        rmSync(cloneDir, { recursive: true, force: true });
        rmSync(restoreDir, { recursive: true, force: true });
      },
    },
  );

  // 5. Correctness: the clone (and restic's restore) must equal the source tree byte for byte.
  const checks = {};
  const cloned = treeDigest(cloneDir);
  checks.clone = { ok: cloned.files === source.files && cloned.sha256 === source.sha256, files: cloned.files, expectedFiles: source.files, sha256: cloned.sha256, expectedSha256: source.sha256 };
  if (!checks.clone.ok) {
    const a = new Set(source.paths);
    const b = new Set(cloned.paths);
    checks.clone.missing = source.paths.filter((p) => !b.has(p)).slice(0, 10);
    checks.clone.extra = cloned.paths.filter((p) => !a.has(p)).slice(0, 10);
  }
  if (resticBin) {
    // restic restores the absolute source path below the target.
    const restored = treeDigest(path.join(restoreDir, ws));
    checks.restore = { ok: restored.files === source.files && restored.sha256 === source.sha256, files: restored.files, sha256: restored.sha256 };
  }
  // 5b. A longer history: a clone must cost the same however many snapshots lie behind the head,
  // and log walks them all (ours only: restic's restore reads its index, not its snapshots).
  let history = null;
  if (opts.history > 0) {
    log(`history: ${opts.history} more pushes of one changed file, then clone and log…`);
    for (let i = 0; i < opts.history; i++) {
      mutateFiles(ws, files, { count: 1, seed: opts.seed + 1000 + i });
      await cli(['push', '-m', `history ${i}`]);
    }
    const snapshots = 2 + opts.history;
    const longClone = path.join(scratch, 'clone-long');
    const clone = await cli(['clone', WS_NAME, longClone], { cwd: scratch });
    rmSync(longClone, { recursive: true, force: true });
    const logged = await cli(['log']);
    const listed = JSON.parse(logged.stdout).snapshots.length;
    if (listed !== snapshots) throw new Error(`log listed ${listed} snapshots, expected ${snapshots}`);
    history = { snapshots, clone: { seconds: clone.seconds, rssMiB: clone.rssMiB }, cloneWithTwoSeconds: ops.clone.ours.seconds, log: { seconds: logged.seconds, rssMiB: logged.rssMiB } };
    log(`  ${snapshots} snapshots: clone ${fmtS(clone.seconds)} s, ${fmtMiB(clone.rssMiB)} MiB; log ${fmtS(logged.seconds)} s, ${fmtMiB(logged.rssMiB)} MiB`);
  }
  // restic's fixed cost per command (start, scrypt of the repository key, index load), for context.
  let resticOpen = null;
  if (resticBin) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await measure(resticBin, ['cat', 'config'], { cwd: scratch, env: resticEnv, scratch })).seconds);
    resticOpen = median(runs);
  }
  const pushed = [ops.initialPush, ops.noopPush, ops.smallPush].map((op) => JSON.parse(op.ours.stdout));

  // 6. Start-up cost: `insomnia-sync --version` against bare `node -e 0`, alternating, after warm-ups.
  log(`--version vs node -e 0 (${opts.runs} runs each)…`);
  const versionRuns = [];
  const nodeRuns = [];
  const quick = (args) => measure(NODE, args, { cwd: scratch, env, scratch, withTime: false });
  for (let i = 0; i < 2; i++) {
    await quick([CLI, '--version']);
    await quick(['-e', '0']);
  }
  for (let i = 0; i < opts.runs; i++) {
    versionRuns.push((await quick([CLI, '--version'])).seconds);
    nodeRuns.push((await quick(['-e', '0'])).seconds);
  }
  const versionRss = await measure(NODE, [CLI, '--version'], { cwd: scratch, env, scratch });
  const nodeRss = await measure(NODE, ['-e', '0'], { cwd: scratch, env, scratch });
  const version = { medianSeconds: median(versionRuns), nodeMedianSeconds: median(nodeRuns), runs: versionRuns, nodeRuns, rssMiB: versionRss.rssMiB, nodeRssMiB: nodeRss.rssMiB };

  // 7. Server-side numbers.
  const serverInfo = {
    ours: { peakRssMiB: processPeakRssMiB(ours.pid), dataDirBytes: dirBytes(path.join(scratch, 'server-data')) },
    restic: rest ? { peakRssMiB: processPeakRssMiB(rest.pid), repoBytes: dirBytes(repo) } : null,
  };

  // 8. Optional CPU profile of a fresh initial push and clone (a second server, so the timed run is unprofiled).
  const profile = opts.cpuProf ? await profileRun(scratch, ws, files, { changedCount: opts.changed, seed: opts.seed }) : null;

  const results = buildResults({ opts, source, genSeconds, ops, version, serverInfo, checks, pushed, changed, resticVersion, resticOpen, profile, scratch, history });
  printReport(results);
  mkdirSync(path.dirname(opts.out), { recursive: true });
  writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
  log(`results written to ${path.relative(process.cwd(), opts.out) || opts.out}`);

  if (!checks.clone.ok || (checks.restore && !checks.restore.ok)) {
    log(`CORRECTNESS FAILURE: ${JSON.stringify(checks, null, 2)}`);
    process.exitCode = 1;
  }
}

/** One result for several runs of an operation: median times, highest peak RSS, the first run's output. */
function summarize(runs) {
  if (runs.length === 1) return runs[0];
  const med = (k) => (runs.every((r) => typeof r[k] === 'number') ? median(runs.map((r) => r[k])) : runs[0][k]);
  return {
    ...runs[0],
    seconds: med('seconds'),
    cpuSeconds: med('cpuSeconds'),
    serverCpuSeconds: med('serverCpuSeconds'),
    rssMiB: Math.max(...runs.map((r) => r.rssMiB ?? 0)),
    runsSeconds: runs.map((r) => r.seconds),
  };
}

async function profileRun(scratch, ws, files, { changedCount, seed }) {
  log('cpu profile: fresh server, account and workspace…');
  const dir = path.join(scratch, 'prof');
  const wsCopy = path.join(dir, 'ws');
  mkdirSync(dir);
  cpSync(ws, wsCopy, { recursive: true, filter: (src) => path.basename(src) !== '.insomnia-sync' });
  const profDirs = { server: path.join(dir, 'server'), push: path.join(dir, 'push'), noopPush: path.join(dir, 'noop'), smallPush: path.join(dir, 'small'), clone: path.join(dir, 'clone') };
  const server = await startServer(
    NODE,
    ['--cpu-prof', '--cpu-prof-dir', profDirs.server, SERVER, '--port', '0', '--host', '127.0.0.1', '--data-dir', path.join(dir, 'server-data'), '--kdf-memory', '65536', '--kdf-iterations', '3'],
    { logFile: path.join(dir, 'server.log'), urlPattern: /insomnia-sync-server listening on (http:\/\/\S+)/, cwd: dir },
  );
  const env = { ...process.env, INSOMNIA_SYNC_CONFIG_DIR: path.join(dir, 'config'), INSOMNIA_SYNC_SERVER: server.url, NO_COLOR: '1' };
  const cli = (args, o = {}) => measure(NODE, [...(o.prof ? ['--cpu-prof', '--cpu-prof-dir', o.prof] : []), CLI, '--json', ...args], { cwd: wsCopy, env, scratch, ...o });
  await cli(['signup', '--email', EMAIL, '--password-stdin'], { input: `${PASSWORD}\n` });
  await cli(['init', '--name', WS_NAME]);
  const push = await cli(['push'], { prof: profDirs.push });
  const noop = await cli(['push'], { prof: profDirs.noopPush });
  mutateFiles(wsCopy, files, { count: changedCount, seed: seed + 1 });
  const small = await cli(['push'], { prof: profDirs.smallPush });
  const clone = await cli(['clone', WS_NAME, path.join(dir, 'clone-out')], { prof: profDirs.clone, cwd: dir });
  await server.stop();
  const out = {};
  for (const [name, d] of Object.entries(profDirs)) {
    const file = existsSync(d) ? newestFile(d, '.cpuprofile') : null;
    out[name] = file ? topSelfTime(file, { root: ROOT, limit: 10 }) : null;
  }
  out.push.wallSeconds = push.seconds;
  out.noopPush.wallSeconds = noop.seconds;
  out.smallPush.wallSeconds = small.seconds;
  out.clone.wallSeconds = clone.seconds;
  return out;
}

function buildResults({ opts, source, genSeconds, ops, version, serverInfo, checks, pushed, changed, resticVersion, resticOpen, profile, history }) {
  const rows = [];
  const rssOk = (o) => o.rssMiB <= TARGET.rssMiB;
  const add = (key, target, timeOk) => {
    const { label, ours, restic } = ops[key];
    const ratio = restic ? ours.seconds / restic.seconds : null;
    const failures = [];
    const timeVerdict = timeOk(ours.seconds, ratio);
    if (timeVerdict === false) failures.push('time');
    if (!rssOk(ours)) failures.push('RSS');
    rows.push({
      key,
      operation: label,
      oursSeconds: ours.seconds,
      oursRssMiB: ours.rssMiB,
      oursCpuSeconds: ours.cpuSeconds,
      serverCpuSeconds: ours.serverCpuSeconds,
      resticSeconds: restic?.seconds ?? null,
      resticRssMiB: restic?.rssMiB ?? null,
      resticCpuSeconds: restic?.cpuSeconds ?? null,
      resticServerCpuSeconds: restic?.serverCpuSeconds ?? null,
      ratio,
      target: `${target}; RSS ≤ ${TARGET.rssMiB} MB`,
      ok: timeVerdict === null ? (failures.length ? `NO (${failures.join(', ')})` : 'n/a (no restic); RSS ok') : failures.length ? `NO (${failures.join(', ')})` : 'yes',
    });
  };
  add('initialPush', `ratio < ${TARGET.initialRatio} (aim 0.5)`, (_s, r) => (r == null ? null : r < TARGET.initialRatio));
  add('noopPush', `≤ ${TARGET.noopPushS} s`, (s) => s <= TARGET.noopPushS);
  add('smallPush', `≤ ${TARGET.smallPushS} s`, (s) => s <= TARGET.smallPushS);
  add('clone', `≤ restic restore`, (_s, r) => (r == null ? null : r <= TARGET.cloneRatio));
  const vRatio = version.medianSeconds / version.nodeMedianSeconds;
  rows.push({
    key: 'version',
    operation: `--version (median of ${version.runs.length}) vs node -e 0 (${(version.nodeMedianSeconds * 1000).toFixed(0)} ms)`,
    oursSeconds: version.medianSeconds,
    oursRssMiB: version.rssMiB,
    resticSeconds: null,
    resticRssMiB: null,
    ratio: vRatio,
    target: `≤ ${TARGET.versionRatio}× node -e 0`,
    ok: vRatio <= TARGET.versionRatio ? 'yes' : 'NO (time)',
  });
  const b = (op) => ops[op].restic && lastJsonLine(ops[op].restic.stdout, 'summary');
  return {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}`, loadAvgAtEnd: os.loadavg().map((x) => Math.round(x * 100) / 100), restic: resticVersion, gnuTime: hasGnuTime },
    params: { files: opts.files, mb: opts.mb, seed: opts.seed, changed: opts.changed, versionRuns: opts.runs, repeat: opts.repeat, scratch: 'tmpfs (/dev/shm) when present', resticCache: 'RESTIC_CACHE_DIR inside scratch (restic defaults otherwise)', rssUnit: 'MiB (2^20 bytes)' },
    workspace: { files: source.files, bytes: source.bytes, generateSeconds: genSeconds, changedFiles: changed },
    rows,
    ours: {
      initialPush: { uploadedBlobs: pushed[0].uploadedBlobs, uploadedBytes: pushed[0].uploadedBytes },
      noopPush: { upToDate: pushed[1].upToDate, changes: pushed[1].changes.length },
      smallPush: { changes: pushed[2].changes.length, uploadedBlobs: pushed[2].uploadedBlobs, uploadedBytes: pushed[2].uploadedBytes },
      server: serverInfo.ours,
    },
    restic: serverInfo.restic
      ? { openRepoSeconds: resticOpen, initialBackup: b('initialPush'), noopBackup: b('noopPush'), smallBackup: b('smallPush'), server: serverInfo.restic }
      : null,
    checks,
    history,
    profile,
  };
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function printReport(res) {
  const out = [];
  const mib = (n) => (n / 1048576).toFixed(1);
  out.push('');
  out.push(`insomnia-sync bench: ${res.workspace.files} files, ${mib(res.workspace.bytes)} MiB, seed ${res.params.seed}; node ${res.machine.node}, ${res.machine.cpus} CPU, load ${res.machine.loadAvgAtEnd.join(' ')}; ${res.machine.restic ?? 'no restic'}`);
  out.push('');
  if (res.params.repeat > 1) out.push(`no-op push and clone: median time and highest RSS of ${res.params.repeat} runs each, ours and restic's alternating`);
  out.push(
    table(
      ['operation', 'ours s', 'ours RSS MB', 'restic s', 'restic RSS MB', 'ratio', 'target', 'ok?'],
      res.rows.map((r) => [r.operation, fmtS(r.oursSeconds), fmtMiB(r.oursRssMiB), fmtS(r.resticSeconds), fmtMiB(r.resticRssMiB), fmtRatio(r.ratio), r.target, r.ok]),
    ),
  );
  out.push('');
  out.push('CPU seconds (client user+sys / server process):');
  for (const r of res.rows.filter((x) => x.oursCpuSeconds != null)) {
    out.push(`  ${r.operation.padEnd(44)} ours ${fmtS(r.oursCpuSeconds)} / ${fmtS(r.serverCpuSeconds)}${r.resticCpuSeconds != null ? `   restic ${fmtS(r.resticCpuSeconds)} / ${fmtS(r.resticServerCpuSeconds)}` : ''}`);
  }
  out.push('');
  const o = res.ours;
  out.push(`ours: initial push uploaded ${o.initialPush.uploadedBlobs} blobs, ${mib(o.initialPush.uploadedBytes)} MiB; small push ${o.smallPush.changes} changes, ${o.smallPush.uploadedBlobs} blobs, ${(o.smallPush.uploadedBytes / 1024).toFixed(0)} KiB; server data dir ${mib(o.server.dataDirBytes)} MiB, server peak RSS ${fmtMiB(o.server.peakRssMiB)} MiB`);
  if (res.restic) {
    const r = res.restic;
    out.push(`restic: initial backup added ${mib(r.initialBackup?.data_added ?? 0)} MiB (before compression); small backup ${r.smallBackup?.files_changed ?? '?'} changed files, ${((r.smallBackup?.data_added ?? 0) / 1024).toFixed(0)} KiB; repo ${mib(r.server.repoBytes)} MiB, REST backend peak RSS ${fmtMiB(r.server.peakRssMiB)} MiB`);
    out.push(`restic fixed cost per command (\`restic cat config\`: start, scrypt of the repo key): ${fmtS(r.openRepoSeconds)} s`);
  }
  if (res.history) {
    const h = res.history;
    out.push(`history of ${h.snapshots} snapshots: clone ${fmtS(h.clone.seconds)} s, ${fmtMiB(h.clone.rssMiB)} MB (${fmtS(h.cloneWithTwoSeconds)} s with 2); log ${fmtS(h.log.seconds)} s, ${fmtMiB(h.log.rssMiB)} MB`);
  }
  const c = res.checks;
  out.push(`correctness: clone ${c.clone.ok ? 'identical' : 'DIFFERENT'} (${c.clone.files} files, sha256 ${c.clone.sha256.slice(0, 16)}…)${c.restore ? `; restic restore ${c.restore.ok ? 'identical' : 'DIFFERENT'}` : ''}`);
  if (res.profile) {
    for (const [name, p] of Object.entries(res.profile)) {
      if (!p) continue;
      out.push('');
      const what = { server: 'server during all profiled commands', push: 'CLI initial push', noopPush: 'CLI no-op push', smallPush: `CLI push of ${res.params.changed} changed files`, clone: 'CLI clone' }[name];
      out.push(`cpu profile, ${what}: ${p.busyMs} ms busy, ${p.idleMs} ms idle${p.wallSeconds ? `, ${fmtS(p.wallSeconds)} s wall (profiled)` : ''}; top self time (% of busy):`);
      out.push(table(['self ms', '%', 'function', 'where'], p.top.map((t) => [t.selfMs, t.pct, t.name, t.where])));
      out.push('charged to the innermost frame of our code on the stack:');
      out.push(table(['ms', '%', 'function', 'where'], p.topOwn.map((t) => [t.selfMs, t.pct, t.name, t.where])));
      out.push('self time by file / package:');
      out.push(table(['self ms', '%', 'file or package'], p.topFiles.map((t) => [t.selfMs, t.pct, t.file])));
    }
  }
  out.push('');
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((err) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  process.exit(1);
});
