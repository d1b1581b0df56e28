/**
 * Ctrl-C in the middle of a clone or an export: the command takes back what it started (the
 * cloned folder, the decrypted staging folder, the partial archive) and exits 130. A proxy holds
 * each blob download for a while, so the signal lands while files are half placed. Also: an
 * encrypted export killed outright leaves no plaintext anywhere, and a name taken while an export
 * runs is not replaced.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, type Dirent } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const HOLD_MS = 400;
const MARKER = 'CANCEL-PLAINTEXT-MARKER-7e1d';

/** Forwards everything; holds each blob download's answer for HOLD_MS. */
async function startSlowFetchProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const send = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (/\/blobs\/fetch$/.test(req.url ?? '')) setTimeout(send, HOLD_MS);
      else send();
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  // Node's 5 s default closes idle sockets the CLI may just be reusing on a loaded machine (a
  // reset, exit 6); the real server keeps them for 130 s.
  server.keepAliveTimeout = 130_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Every file under `dir`, read while the command runs: a folder it removes between the listing and
 * the look inside it (a staging folder, its write probe) counts as having nothing in it.
 */
function filesIn(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Every file under `dir` but the link folder's. */
function filesUnder(dir: string): string[] {
  return filesIn(dir)
    .map((e) => path.join(e.parentPath, e.name))
    .filter((file) => !file.includes(`${path.sep}.insomnia-sync`));
}

/**
 * Runs the CLI, sends SIGINT (or `signal`, or each of several signals in a row) once `ready()`
 * holds, and gives its exit code and stderr.
 */
function interrupted(
  m: Machine,
  args: string[],
  ready: () => boolean,
  env: Record<string, string> = {},
  signal: NodeJS.Signals | NodeJS.Signals[] = 'SIGINT',
  cwd?: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string; sawReady: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: m.server, NO_COLOR: '1', CI: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    let stderr = '';
    let stdout = '';
    let sawReady = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const poll = setInterval(() => {
      if (!sawReady && ready()) {
        sawReady = true;
        // apart, so the second of two is not merged into the first while both are pending
        (Array.isArray(signal) ? signal : [signal]).forEach((s, i) => setTimeout(() => child.exitCode === null && child.kill(s), i * 50));
      }
    }, 5);
    child.on('error', reject);
    child.on('close', (code, killedBy) => {
      clearInterval(poll);
      resolve({ code, signal: killedBy, stderr, stdout, sawReady });
    });
  });
}

/**
 * The status a shell reports: 130 from the CLI, or 128 + 2 for a second Ctrl-C that lands while
 * the process, already cleaned up, is tearing itself down (after the CLI's handlers are gone).
 */
function cancelledStatus(res: { code: number | null; signal: NodeJS.Signals | null }): number | null {
  return res.signal === 'SIGINT' ? 130 : res.code;
}

/** Whether any file under `dir` (hidden ones included) holds bytes. */
function someFileUnder(dir: string): boolean {
  return filesIn(dir).some((e) => (statSync(path.join(e.parentPath, e.name), { throwIfNoEntry: false })?.size ?? 0) > 0);
}

describe('Ctrl-C takes back what a command started', () => {
  let server: StartedServer;
  let proxy: Awaited<ReturnType<typeof startSlowFetchProxy>>;
  let m: Machine;
  /** the linked folder of workspace Cancel, and its one snapshot */
  let ws: string;
  let snapshot: string;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startSlowFetchProxy(server.url);
    m = machine(proxy.url);
    await signupMachine(m, 'cancel@example.com');
    ws = tempDir('isync-cancel-ws-');
    // ~12 MB in files of 40 KB: three blob downloads of ~4 MiB, each held by the proxy.
    for (let i = 0; i < 300; i++) {
      mkdirSync(path.join(ws, `d${i % 10}`), { recursive: true });
      writeFileSync(path.join(ws, `d${i % 10}`, `f${i}.json`), MARKER + randomBytes(20_000).toString('hex'));
    }
    expect((await m.run(['init', '--name', 'Cancel'], { cwd: ws })).code).toBe(0);
    const pushed = await m.run(['push'], { cwd: ws });
    expect(pushed.code, pushed.stderr).toBe(0);
    snapshot = (JSON.parse((await m.run(['log', '--json'], { cwd: ws })).stdout) as { snapshots: { id: string }[] }).snapshots[0]!.id;
    // One file of 24 MiB: 24 chunks, fetched 4 at a time, each request held by the proxy.
    const big = tempDir('isync-cancel-big-');
    writeFileSync(path.join(big, 'big.bin'), Buffer.concat([Buffer.from(MARKER), randomBytes(24 * 1024 * 1024)]));
    expect((await m.run(['init', '--name', 'Big'], { cwd: big })).code).toBe(0);
    const pushedBig = await m.run(['push'], { cwd: big });
    expect(pushedBig.code, pushedBig.stderr).toBe(0);
  }, 180_000);

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('clone: exit 130 and no folder left, not even the one it made', async () => {
    const dir = path.join(tempDir('isync-cancel-clone-'), 'copy');
    // the clone writes into a staging tree and moves it into place at the end: interrupted while it fills
    const staged = path.join(dir, '.insomnia-sync', 'staging');
    const res = await interrupted(m, ['clone', 'Cancel', dir], () => filesIn(staged).length > 0);
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(res.stderr).toMatch(/cancelled/);
    expect(existsSync(dir)).toBe(false);
    // and it can simply be run again
    const again = await m.run(['clone', 'Cancel', dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(filesUnder(dir)).toHaveLength(300);
  }, 60_000);

  /** A clone of Cancel whose files are all deleted (unpushed), so a restore in place downloads them all again. */
  async function emptiedClone(): Promise<string> {
    const dir = path.join(tempDir('isync-cancel-inplace-'), 'ws');
    const cloned = await m.run(['clone', 'Cancel', dir]);
    expect(cloned.code, cloned.stderr).toBe(0);
    for (let i = 0; i < 10; i++) rmSync(path.join(dir, `d${i}`), { recursive: true });
    return dir;
  }
  /** What a cancelled command in a linked folder must not leave there: its lock, its staging folder. */
  const stateLeft = (dir: string): string[] => readdirSync(path.join(dir, '.insomnia-sync')).filter((f) => f === 'lock' || f.startsWith('lock.') || f === 'staging');

  it('restore in place: exit 130, nothing restored, no lock and no staging folder left; it can simply be run again', async () => {
    const dir = await emptiedClone();
    const res = await interrupted(m, ['restore', snapshot, '--yes'], () => someFileUnder(path.join(dir, '.insomnia-sync', 'staging')), {}, 'SIGINT', dir);
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(stateLeft(dir)).toEqual([]);
    expect(filesUnder(dir)).toEqual([]);
    const again = await m.run(['restore', snapshot, '--yes'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(filesUnder(dir)).toHaveLength(300);
  }, 60_000);

  it('export --out DIR of one big file: one Ctrl-C stops it between its chunks (exit 130), nothing left', async () => {
    const parent = tempDir('isync-cancel-big-out-');
    const out = path.join(parent, 'copy');
    // interrupted while the big file is being written into the staging folder beside DIR
    const res = await interrupted(m, ['export', '--workspace', 'Big', '--out', out], () => someFileUnder(parent));
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(res.stderr).toMatch(/cancelled/);
    expect(res.stderr).not.toMatch(/Exported/);
    expect(readdirSync(parent)).toEqual([]);
  }, 60_000);

  it('export --out DIR: the folders it made for DIR go too', async () => {
    const top = tempDir('isync-cancel-parents-');
    const out = path.join(top, 'new', 'a', 'dir');
    const res = await interrupted(m, ['export', '--workspace', 'Cancel', '--out', out], () => someFileUnder(top));
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(readdirSync(top)).toEqual([]);
  }, 60_000);

  // A second Ctrl-C ends the command at once, and a hangup (the terminal closed) at the first:
  // no time for the command's own cleanup, but what it wrote still goes before the exit.
  const abrupt: { name: string; signals: NodeJS.Signals[] }[] = [
    { name: 'two Ctrl-C in a row', signals: ['SIGINT', 'SIGINT'] },
    { name: 'a hangup (SIGHUP)', signals: ['SIGHUP'] },
  ];
  for (const { name, signals } of abrupt) {
    it(`export --out DIR, ${name}: exit 130, no decrypted file left`, async () => {
      const parent = tempDir('isync-abrupt-dir-');
      const res = await interrupted(m, ['export', '--workspace', 'Big', '--out', path.join(parent, 'copy')], () => someFileUnder(parent), {}, signals);
      expect(res.sawReady).toBe(true);
      expect(cancelledStatus(res), res.stderr).toBe(130);
      expect(readdirSync(parent)).toEqual([]);
    }, 60_000);

    it(`export --out FILE.tar.gz, ${name}: exit 130, no partial archive left`, async () => {
      const parent = tempDir('isync-abrupt-tgz-');
      const res = await interrupted(m, ['export', '--workspace', 'Big', '--out', path.join(parent, 'x.tar.gz')], () => someFileUnder(parent), {}, signals);
      expect(res.sawReady).toBe(true);
      expect(cancelledStatus(res), res.stderr).toBe(130);
      expect(readdirSync(parent)).toEqual([]);
    }, 60_000);

    it(`clone W DIR, ${name}: exit 130, no folder and no link left`, async () => {
      const parent = tempDir('isync-abrupt-clone-');
      const dir = path.join(parent, 'c', 'copy');
      const res = await interrupted(m, ['clone', 'Big', dir], () => someFileUnder(path.join(dir, '.insomnia-sync', 'staging')), {}, signals);
      expect(res.sawReady).toBe(true);
      expect(cancelledStatus(res), res.stderr).toBe(130);
      expect(readdirSync(parent)).toEqual([]);
    }, 60_000);

    it(`restore in place, ${name}: exit 130, no lock and no staging folder left`, async () => {
      const dir = await emptiedClone();
      const res = await interrupted(m, ['restore', snapshot, '--yes'], () => someFileUnder(path.join(dir, '.insomnia-sync', 'staging')), {}, signals, dir);
      expect(res.sawReady).toBe(true);
      expect(cancelledStatus(res), res.stderr).toBe(130);
      expect(stateLeft(dir)).toEqual([]);
      expect(filesUnder(dir)).toEqual([]);
    }, 60_000);

    it(`restore --to DIR, ${name}: exit 130, nothing left`, async () => {
      const parent = tempDir('isync-abrupt-restore-');
      const res = await interrupted(m, ['restore', snapshot, '--to', path.join(parent, 'r', 'to')], () => someFileUnder(parent), {}, signals, ws);
      expect(res.sawReady).toBe(true);
      expect(cancelledStatus(res), res.stderr).toBe(130);
      expect(readdirSync(parent)).toEqual([]);
    }, 60_000);
  }

  it('export: exit 130, the partial archive removed and nothing in TMPDIR', async () => {
    const tmp = tempDir('isync-cancel-tmp-');
    const out = path.join(tempDir('isync-cancel-out-'), 'cancel.tar.gz');
    const started = (): boolean => filesUnder(tmp).length > 0 || filesUnder(path.dirname(out)).length > 0;
    const res = await interrupted(m, ['export', '--workspace', 'Cancel', '--out', out], started, { TMPDIR: tmp });
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(path.dirname(out))).toEqual([]);
  }, 60_000);

  // The archive's plaintext lives only in memory: killed outright (no cleanup can run), it leaves
  // nothing readable in TMPDIR nor beside --out, only the partial ciphertext.
  for (const command of [['export', '--workspace', 'Cancel'], ['account', 'export']]) {
    it(`${command.join(' ')} --encrypt killed (SIGKILL) midway leaves no plaintext on disk`, async () => {
      const tmp = tempDir('isync-kill-tmp-');
      const outDir = tempDir('isync-kill-out-');
      const out = path.join(outDir, 'kill.tar.gz');
      const partialGrew = (): boolean => filesUnder(outDir).some((f) => statSync(f).size > 256 * 1024);
      const res = await interrupted(m, [...command, '--out', out, '--encrypt'], () => filesUnder(tmp).length > 0 || partialGrew(), {
        TMPDIR: tmp,
        INSOMNIA_SYNC_EXPORT_PASSPHRASE: 'kill passphrase 1',
      }, 'SIGKILL');
      expect(res.sawReady, `${res.code} ${res.stderr}`).toBe(true);
      expect(res.code).toBeNull();
      const left = [...filesUnder(tmp), ...filesUnder(outDir)];
      for (const f of left) expect(readFileSync(f).includes(MARKER), f).toBe(false);
      expect(filesUnder(tmp)).toEqual([]);
      for (const f of filesUnder(outDir)) expect(readFileSync(f).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    }, 60_000);
  }

  it('export --out DIR: a name taken while the export runs is refused (exit 2), not replaced', async () => {
    const parent = tempDir('isync-race-dir-');
    const out = path.join(parent, 'copy');
    let squatted = false;
    // once the export has started writing, a dangling symlink takes the name DIR
    const res = await interrupted(m, ['export', '--workspace', 'Cancel', '--out', out], () => {
      if (!squatted && readdirSync(parent).length > 0) {
        squatted = true;
        try {
          symlinkSync(path.join(parent, 'nowhere'), out);
        } catch {
          /* the export made DIR itself: its files go where they may replace others' */
        }
      }
      return false;
    });
    expect(squatted).toBe(true);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/appeared while exporting/);
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
    expect(readdirSync(parent)).toEqual(['copy']);
  }, 60_000);
});
