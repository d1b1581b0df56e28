/**
 * Ctrl-C (SIGINT, or SIGTERM) at every phase of the commands that write a linked folder — pull,
 * clone, restore, push — ends the same way: before the point of no return (applying files, sending
 * the snapshot) the command stops, exits 130 with one line, leaves the folder and its index as they
 * were and its lock released (the next command finds no lock to take over); past it, the command
 * finishes, says that the Ctrl-C came too late, and exits as it would have.
 *
 * The CLI is held at the phase's exact moment, by a proxy holding one request or by a preload
 * holding one file-system call (test/helpers/fs-moment.cjs), the signal sent and seen delivered,
 * and only then let go: no fixed sleeps.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, folderPairs, loginMachine, machine, ROOT, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const MOMENT_HOOK = path.join(ROOT, 'test/helpers/fs-moment.cjs');
const json = <T = any>(text: string): T => JSON.parse(text) as T;

/** The bit of a signal in /proc/PID/status's pending masks. */
const SIGNAL_BIT: Partial<Record<NodeJS.Signals, bigint>> = { SIGHUP: 1n << 0n, SIGINT: 1n << 1n, SIGTERM: 1n << 14n };

/** Whether `signal` sent to `pid` has been delivered (no longer pending); true once the process is gone. */
function delivered(pid: number, signal: NodeJS.Signals): boolean {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return true;
  }
  const bit = SIGNAL_BIT[signal]!;
  return ['SigPnd', 'ShdPnd'].every((field) => {
    const hex = new RegExp(`^${field}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1];
    return hex === undefined || (BigInt(`0x${hex}`) & bit) === 0n;
  });
}

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  sawReady: boolean;
}

/**
 * Runs the CLI in `cwd`; once `ready()` holds, sends `signal` (or each of `signals` in turn, the
 * next once the one before is delivered), waits until it is delivered, then calls `release()`
 * (lets a held request or call go on).
 */
function interrupt(m: Machine, args: string[], cwd: string, ready: () => boolean, release: () => void, opts: { env?: Record<string, string>; signal?: NodeJS.Signals; signals?: NodeJS.Signals[] } = {}): Promise<Interrupted> {
  const toSend = [...(opts.signals ?? [opts.signal ?? 'SIGINT'])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: { ...process.env, INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: m.server, NO_COLOR: '1', CI: 'true', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sawReady = false;
    let sent: NodeJS.Signals | null = null;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      if (!sawReady && !ready()) return;
      sawReady = true;
      if (sent !== null && !delivered(child.pid!, sent)) return;
      sent = toSend.shift() ?? null;
      if (sent !== null) child.kill(sent);
      else {
        clearInterval(poll);
        release();
      }
    }, 5);
    child.on('error', reject);
    child.on('close', (code, killedBy) => {
      clearInterval(poll);
      release();
      resolve({ code, signal: killedBy, stdout, stderr, sawReady });
    });
  });
}

/** A preload moment that holds the CLI once reached; `reached()` says it is there, `release()` lets it go. */
function heldMoment(moment: { on: 'staging' | 'placed' | 'readdir' | 'written'; name?: string }): { env: Record<string, string>; reached: () => boolean; release: () => void } {
  const dir = tempDir('isync-hold-');
  const mark = path.join(dir, 'mark');
  const release = path.join(dir, 'release');
  return {
    env: { NODE_OPTIONS: `--require ${JSON.stringify(MOMENT_HOOK)}`, ISYNC_TEST_MOMENT: JSON.stringify({ ...moment, hold: { mark, release } }) },
    reached: () => existsSync(mark),
    release: () => writeFileSync(release, ''),
  };
}

/** What a command that stopped must not leave in the link folder: its lock, a takeover guard, its staging folder. */
const stateLeft = (dir: string): string[] => readdirSync(path.join(dir, '.insomnia-sync')).filter((f) => f === 'lock' || f.startsWith('lock.') || f === 'staging' || f.endsWith('.tmp'));

describe('Ctrl-C at every phase of a folder-writing command', () => {
  let server: StartedServer;
  let proxy: RecordingProxy;
  let a: Machine;
  /** b's requests go through the proxy, which holds the one `holdIf` picks until released */
  let b: Machine;
  let holdIf: ((method: string, url: string) => boolean) | null = null;
  let held: (() => void) | null = null;
  const releaseHeld = (): void => {
    held?.();
    held = null;
  };
  let pair: ReturnType<typeof folderPairs>;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startRecordingProxy(server.url, undefined, (method, url) => {
      if (!holdIf?.(method, url)) return;
      holdIf = null;
      return new Promise<void>((resolve) => (held = resolve));
    });
    a = machine(server.url);
    b = machine(proxy.url);
    await signupMachine(a, 'phases@example.com');
    await loginMachine(b, 'phases@example.com');
    pair = folderPairs(a, b, 'phases', { message: 'first' });
  }, 60_000);

  afterAll(async () => {
    releaseHeld();
    await proxy?.close();
    await server?.stop();
  });

  /** Holds b's next request that `pick` matches; ready once it arrived. */
  function holdRequest(pick: (method: string, url: string) => boolean): () => boolean {
    held = null;
    holdIf = pick;
    return () => held !== null;
  }

  async function push(m: Machine, dir: string, message: string): Promise<void> {
    const res = await m.run(['push', '-m', message], { cwd: dir });
    expect(res.code, res.stderr).toBe(0);
  }

  const headOf = async (m: Machine, dir: string): Promise<string> => json((await m.run(['log', '--json', '-n', '1'], { cwd: dir })).stdout).snapshots[0].id;
  const changesOf = async (m: Machine, dir: string): Promise<unknown[]> => json((await m.run(['status', '--json'], { cwd: dir })).stdout).changes;

  /** The end every cancelled command shares: exit 130, one line, no lock or staging folder left. */
  function expectCancelled(res: Interrupted, dir: string | null): void {
    expect(res.sawReady).toBe(true);
    expect({ code: res.code, signal: res.signal }, res.stderr).toEqual({ code: 130, signal: null });
    expect(res.stderr).toMatch(/^error: cancelled/m);
    if (dir !== null) expect(stateLeft(dir)).toEqual([]);
  }

  describe('restore in place', () => {
    it('Ctrl-C while it scans the folder: exit 130, nothing restored, lock released; it can simply be run again', async () => {
      const { aDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
      const first = await headOf(a, aDir);
      writeFileSync(path.join(aDir, 'a.json'), 'a2');
      await push(a, aDir, 'two');
      const hold = heldMoment({ on: 'readdir', name: '.' });
      const res = await interrupt(a, ['restore', first, '--yes'], aDir, hold.reached, hold.release, { env: hold.env });
      expectCancelled(res, aDir);
      expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2');
      expect(await changesOf(a, aDir)).toEqual([]);
      const again = await a.run(['restore', first, '--yes'], { cwd: aDir });
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a1');
    }, 90_000);

    it('Ctrl-C while it reads the history: the request is torn down, exit 130, lock released', async () => {
      const { bDir } = await pair({ 'a.json': 'a1' });
      const first = await headOf(b, bDir);
      writeFileSync(path.join(bDir, 'a.json'), 'a2');
      await push(b, bDir, 'two');
      const ready = holdRequest((method, url) => method === 'GET' && /\/snapshots\?/.test(url));
      // not released until the command has ended: only a request torn down lets it end
      const res = await interrupt(b, ['restore', first, '--yes'], bDir, ready, () => {});
      releaseHeld();
      expectCancelled(res, bDir);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a2');
    }, 90_000);
    it('a hangup as the last file is staged, before anything is restored: exit 130, the decrypted staged files removed', async () => {
      const { aDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
      const first = await headOf(a, aDir);
      writeFileSync(path.join(aDir, 'a.json'), 'a2');
      await push(a, aDir, 'two');
      const hold = heldMoment({ on: 'staging' });
      const res = await interrupt(a, ['restore', first, '--yes'], aDir, hold.reached, hold.release, { env: hold.env, signal: 'SIGHUP' });
      expectCancelled(res, aDir);
      expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2');
      expect(await changesOf(a, aDir)).toEqual([]);
    }, 90_000);
  });

  describe('pull', () => {
    it('Ctrl-C while it verifies the remote history: exit 130, lock released, nothing changed', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1' });
      writeFileSync(path.join(aDir, 'a.json'), 'a2');
      await push(a, aDir, 'two');
      const ready = holdRequest((method, url) => method === 'GET' && /\/snapshots\?/.test(url));
      const res = await interrupt(b, ['pull'], bDir, ready, () => {});
      releaseHeld();
      expectCancelled(res, bDir);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a1');
    }, 90_000);

    it('Ctrl-C (SIGTERM) while it scans the folder: exit 130, nothing changed, index as it was; the next pull works', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
      writeFileSync(path.join(aDir, 'a.json'), 'a2');
      await push(a, aDir, 'two');
      const hold = heldMoment({ on: 'readdir', name: '.' });
      const res = await interrupt(b, ['pull'], bDir, hold.reached, hold.release, { env: hold.env, signal: 'SIGTERM' });
      expectCancelled(res, bDir);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a1');
      expect(await changesOf(b, bDir)).toEqual([]);
      const again = await b.run(['pull'], { cwd: bDir });
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a2');
    }, 90_000);

    it('Ctrl-C just as the last file is downloaded, before anything is applied, is never missed: exit 130, nothing applied', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
      writeFileSync(path.join(aDir, 'a.json'), 'a2');
      await push(a, aDir, 'two');
      // one file to download: held as it is staged, so the signal lands as the download ends
      const hold = heldMoment({ on: 'staging' });
      const res = await interrupt(b, ['pull'], bDir, hold.reached, hold.release, { env: hold.env });
      expectCancelled(res, bDir);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a1');
      expect(await changesOf(b, bDir)).toEqual([]);
    }, 90_000);

    for (const signals of [['SIGHUP'], ['SIGINT', 'SIGINT']] as NodeJS.Signals[][]) {
      it(`${signals.join(' then ')} as the last file is staged, before anything is applied: exit 130, the decrypted staged files removed`, async () => {
        const { aDir, bDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
        writeFileSync(path.join(aDir, 'a.json'), 'a2');
        await push(a, aDir, 'two');
        const hold = heldMoment({ on: 'staging' });
        const res = await interrupt(b, ['pull'], bDir, hold.reached, hold.release, { env: hold.env, signals });
        // no staging folder left: what was decrypted is gone (stateLeft)
        expectCancelled(res, bDir);
        expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a1');
        expect(await changesOf(b, bDir)).toEqual([]);
      }, 90_000);
    }

    for (const signals of [['SIGINT', 'SIGINT'], ['SIGINT', 'SIGHUP'], ['SIGHUP']] as NodeJS.Signals[][]) {
      it(`${signals.join(' then ')} while it applies the changes, heard once they are done: the pull stands, exit 0, never a silent 130`, async () => {
        const { aDir, bDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
        writeFileSync(path.join(aDir, 'a.json'), 'a2');
        writeFileSync(path.join(aDir, 'b.json'), 'b2');
        await push(a, aDir, 'two');
        const hold = heldMoment({ on: 'placed', name: 'a.json' });
        const res = await interrupt(b, ['pull'], bDir, hold.reached, hold.release, { env: hold.env, signals });
        expect(res.sawReady).toBe(true);
        expect(res.code, res.stderr).toBe(0);
        if (signals[0] === 'SIGINT') expect(res.stderr).toMatch(/^warning: Ctrl-C came as pull was applying the changes: it went on to the end/m);
        expect(res.stderr).not.toMatch(/^error:/m);
        expect(stateLeft(bDir)).toEqual([]);
        expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a2');
        expect(readFileSync(path.join(bDir, 'b.json'), 'utf8')).toBe('b2');
        expect(await changesOf(b, bDir)).toEqual([]);
        expect(json((await b.run(['pull', '--json'], { cwd: bDir })).stdout).upToDate).toBe(true);
      }, 90_000);
    }

    it('Ctrl-C while it applies the changes: it finishes them, records the sync, says the Ctrl-C came too late, exit 0', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1', 'b.json': 'b1' });
      writeFileSync(path.join(aDir, 'a.json'), 'a2');
      writeFileSync(path.join(aDir, 'b.json'), 'b2');
      await push(a, aDir, 'two');
      const hold = heldMoment({ on: 'placed', name: 'a.json' });
      const res = await interrupt(b, ['pull'], bDir, hold.reached, hold.release, { env: hold.env });
      expect(res.sawReady).toBe(true);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toMatch(/^warning: Ctrl-C came as pull was applying the changes: it went on to the end/m);
      expect(stateLeft(bDir)).toEqual([]);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a2');
      expect(readFileSync(path.join(bDir, 'b.json'), 'utf8')).toBe('b2');
      expect(await changesOf(b, bDir)).toEqual([]);
      expect(json((await b.run(['pull', '--json'], { cwd: bDir })).stdout).upToDate).toBe(true);
    }, 90_000);
  });

  describe('clone', () => {
    it('Ctrl-C while it checks the newest snapshot: exit 130, no folder left', async () => {
      const { name } = await pair({ 'a.json': 'a1' });
      const parent = tempDir('isync-phases-clone-');
      const dir = path.join(parent, 'copy');
      const ready = holdRequest((method, url) => method === 'GET' && /\/snapshots\/[0-9a-f]{64}$/.test(url));
      const res = await interrupt(b, ['clone', name, dir], parent, ready, () => {});
      releaseHeld();
      expectCancelled(res, null);
      expect(readdirSync(parent)).toEqual([]);
      const again = await b.run(['clone', name, dir]);
      expect(again.code, again.stderr).toBe(0);
    }, 90_000);
  });

  describe('status', () => {
    it('Ctrl-C while it refreshes the index under the lock: exit 130, lock released, no temp file; the next status runs clean', async () => {
      const { aDir } = await pair({ 'a.json': 'a1' });
      // touched, not changed: status re-hashes it and refreshes the index (under the folder's lock)
      utimesSync(path.join(aDir, 'a.json'), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
      const hold = heldMoment({ on: 'written', name: '.insomnia-sync/index.' });
      const res = await interrupt(a, ['status'], aDir, hold.reached, hold.release, { env: hold.env });
      // no lock, takeover guard or index temp file left (stateLeft)
      expectCancelled(res, aDir);
      const again = await a.run(['status', '--json'], { cwd: aDir });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toBe('');
      expect(json(again.stdout).changes).toEqual([]);
      expect(stateLeft(aDir)).toEqual([]);
    }, 90_000);

    it('Ctrl-C (SIGTERM) while it scans the folder: exit 130, nothing left behind', async () => {
      const { aDir } = await pair({ 'a.json': 'a1' });
      const hold = heldMoment({ on: 'readdir', name: '.' });
      const res = await interrupt(a, ['status'], aDir, hold.reached, hold.release, { env: hold.env, signal: 'SIGTERM' });
      expectCancelled(res, aDir);
      expect(await changesOf(a, aDir)).toEqual([]);
    }, 90_000);

    it('Ctrl-C while it waits for the server: the request is torn down, exit 130', async () => {
      const { bDir } = await pair({ 'a.json': 'a1' });
      const ready = holdRequest((method, url) => method === 'GET' && /\/workspaces\/[^/?]+$/.test(url));
      const res = await interrupt(b, ['status'], bDir, ready, () => {});
      releaseHeld();
      expectCancelled(res, bDir);
    }, 90_000);
  });

  describe('log', () => {
    it('Ctrl-C while it reads the history: the request is torn down, exit 130, nothing left in .insomnia-sync', async () => {
      const { bDir } = await pair({ 'a.json': 'a1' });
      const ready = holdRequest((method, url) => method === 'GET' && /\/snapshots\?/.test(url));
      const res = await interrupt(b, ['log'], bDir, ready, () => {});
      releaseHeld();
      expectCancelled(res, bDir);
    }, 90_000);
  });

  describe('push', () => {
    it('Ctrl-C while it scans the folder: exit 130, nothing pushed, lock released; the next push works', async () => {
      const { bDir } = await pair({ 'a.json': 'a1' });
      const before = await headOf(b, bDir);
      writeFileSync(path.join(bDir, 'a.json'), 'a2');
      const hold = heldMoment({ on: 'readdir', name: '.' });
      const res = await interrupt(b, ['push'], bDir, hold.reached, hold.release, { env: hold.env });
      expectCancelled(res, bDir);
      expect(await headOf(b, bDir)).toBe(before);
      expect(await changesOf(b, bDir)).toEqual([{ kind: 'modified', path: 'a.json' }]);
      await push(b, bDir, 'after');
    }, 90_000);

    it('Ctrl-C while it uploads: the upload is torn down, exit 130, head and index as they were', async () => {
      const { bDir } = await pair({ 'a.json': 'a1' });
      const before = await headOf(b, bDir);
      writeFileSync(path.join(bDir, 'a.json'), 'a2');
      const ready = holdRequest((method, url) => method === 'PUT' && /\/blobs$/.test(url));
      const res = await interrupt(b, ['push'], bDir, ready, () => {});
      releaseHeld();
      expectCancelled(res, bDir);
      expect(await headOf(b, bDir)).toBe(before);
      expect(await changesOf(b, bDir)).toEqual([{ kind: 'modified', path: 'a.json' }]);
      await push(b, bDir, 'after');
    }, 90_000);

    it('Ctrl-C once the snapshot is sent: it waits for the answer, records it, says the Ctrl-C came too late, exit 0', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1' });
      writeFileSync(path.join(bDir, 'a.json'), 'a2');
      const ready = holdRequest((method, url) => method === 'POST' && /\/snapshots(\?|$)/.test(url));
      const res = await interrupt(b, ['push'], bDir, ready, releaseHeld);
      expect(res.sawReady).toBe(true);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stderr).toMatch(/^warning: Ctrl-C came after push had sent its snapshot/m);
      expect(stateLeft(bDir)).toEqual([]);
      expect(await changesOf(b, bDir)).toEqual([]);
      const pulled = await a.run(['pull'], { cwd: aDir });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2');
    }, 90_000);
    it('two Ctrl-C once the snapshot is sent: the first says it waits, the second ends it (exit 130) saying it may have been pushed; pull then push converge', async () => {
      const { aDir, bDir } = await pair({ 'a.json': 'a1' });
      writeFileSync(path.join(bDir, 'a.json'), 'a2');
      const ready = holdRequest((method, url) => method === 'POST' && /\/snapshots(\?|$)/.test(url));
      const answered = proxy.responses.length;
      // held until the command has ended: the second Ctrl-C ends it while the snapshot is in flight
      const res = await interrupt(b, ['push'], bDir, ready, () => {}, { signals: ['SIGINT', 'SIGINT'] });
      releaseHeld();
      expect(res.sawReady).toBe(true);
      expect({ code: res.code, signal: res.signal }, res.stderr).toEqual({ code: 130, signal: null });
      expect(res.stderr).toMatch(/^warning: Ctrl-C came after push had sent its snapshot: it waits for the answer .*; Ctrl-C again/m);
      expect(res.stderr).toMatch(/^error: cancelled after push had sent its snapshot: it may have been pushed; run `insomnia-sync pull`/m);
      expect(stateLeft(bDir)).toEqual([]);
      // the snapshot reaches the server after all: the head moved, the index does not say so
      while (!proxy.responses.slice(answered).some((r) => r.method === 'POST' && r.status < 300)) await new Promise((r) => setTimeout(r, 5));
      const pulled = await b.run(['pull', '--json'], { cwd: bDir });
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(json(pulled.stdout).conflicts).toEqual([]);
      expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('a2');
      expect(await changesOf(b, bDir)).toEqual([]);
      const again = await b.run(['push', '--json'], { cwd: bDir });
      expect(again.code, again.stderr).toBe(0);
      expect(json(again.stdout).upToDate).toBe(true);
      const fromA = await a.run(['pull'], { cwd: aDir });
      expect(fromA.code, fromA.stderr).toBe(0);
      expect(readFileSync(path.join(aDir, 'a.json'), 'utf8')).toBe('a2');
    }, 90_000);
  });
});
