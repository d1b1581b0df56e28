/**
 * A history walk that meets a page without the snapshot it needs next fetches that snapshot by id
 * and lists on from it: snapshots a rollback left behind (between a `push --force` head and the
 * fork point), or pushes that landed between reading the head and the first page, never stop it.
 * And a walk that verified the head descends from the folder's base is recorded: status (or a push
 * with nothing to push) asked again walks nothing, and after new pushes only the new snapshots.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clonedFolder, linkedFolder, loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

let server: StartedServer;
let proxy: RecordingProxy;
/** set by a test: runs when a snapshot listing arrives at the proxy, which forwards it after */
let onList: (() => Promise<void>) | null = null;
let a: Machine;
/** the same account, through the proxy */
let b: Machine;

beforeAll(async () => {
  server = await startServer();
  proxy = await startRecordingProxy(server.url, undefined, async (method, url) => {
    if (method !== 'GET' || !/\/snapshots\?/.test(url) || !onList) return;
    const hook = onList;
    onList = null;
    await hook();
  });
  a = machine(server.url);
  await signupMachine(a, 'walk@example.com');
  b = machine(proxy.url);
  await loginMachine(b, 'walk@example.com');
}, 60_000);
afterAll(async () => {
  onList = null;
  await proxy?.close();
  await server?.stop();
});

async function push(m: Machine, dir: string, content: string): Promise<void> {
  writeFileSync(path.join(dir, 'a.json'), content);
  const r = await m.run(['push', '-m', content], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
}

/** bytes of snapshot data the server sent through the proxy since `from` (listings and by id) */
function snapshotBytes(from: number): { requests: number; bytes: number } {
  const answers = proxy.responses.slice(from).filter((r) => r.method === 'GET' && /\/snapshots[/?]/.test(r.url));
  return { requests: answers.length, bytes: answers.reduce((n, r) => n + r.bytes, 0) };
}

describe('a walk fetches the snapshot a page lacks by id', () => {
  it('push --force after a rollback that left 20 snapshots behind: log, verify, restore, export --snapshot and an older pull walk it', async () => {
    const { dir, init } = await linkedFolder(a, 'forced', { 'a.json': 'v0' }, { prefix: 'isync-walk-' });
    const ws = json(init.stdout).id as string;
    const early = await clonedFolder(a, 'forced');
    const first = json((await a.run(['log', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
    for (let i = 1; i <= 20; i++) await push(a, dir, `v${i}`);
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    try {
      db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(first, ws);
    } finally {
      db.close();
    }
    const forced = await a.run(['push', '--force', '--json'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    const wrong: string[] = [];
    for (const [args, cwd] of [
      [['log', '--json'], dir],
      [['verify'], dir],
      [['restore', first.slice(0, 12), '--to', path.join(tempDir('isync-walk-restore-'), 'r')], dir],
      [['export', '--snapshot', first.slice(0, 12), '--out', path.join(tempDir('isync-walk-export-'), 'e')], dir],
      [['status', '--json'], early],
      [['pull', '--json'], early],
    ] as const) {
      const r = await a.run([...args], { cwd });
      if (r.code !== 0) wrong.push(`${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    }
    expect(wrong).toEqual([]);
    const log = json((await a.run(['log', '--json'], { cwd: dir })).stdout).snapshots.map((s: { id: string }) => s.id);
    expect(log).toEqual([json(forced.stdout).snapshot, first]);
  }, 300_000);

  it.each(['pull', 'status', 'log'])('%s: four pushes land while the first page is on its way', async (cmd) => {
    const { dir } = await linkedFolder(a, `race-${cmd}`, { 'a.json': 'v1' }, { prefix: 'isync-walk-' });
    const bDir = await clonedFolder(b, `race-${cmd}`);
    await push(a, dir, 'v2');
    onList = async () => {
      for (const v of ['v3', 'v4', 'v5', 'v6']) await push(a, dir, v);
    };
    const r = await b.run([cmd, '--json'], { cwd: bDir });
    expect(onList).toBeNull();
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);
});

describe('the verified head is recorded', () => {
  it('status twice behind the head reads the snapshots once; after one more push, only the new one', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 300; i++) files[`req/${String(i).padStart(4, '0')}-request.json`] = `{"i":${i}}`;
    const { dir } = await linkedFolder(a, 'cost', files, { prefix: 'isync-walk-' });
    const bDir = await clonedFolder(b, 'cost');
    for (let k = 0; k < 10; k++) await push(a, dir, `p${k}`);
    const cost = async (args: string[]): Promise<{ requests: number; bytes: number }> => {
      const from = proxy.responses.length;
      const r = await b.run([...args, '--json'], { cwd: bDir });
      expect(r.code, r.stderr).toBe(0);
      return snapshotBytes(from);
    };
    const firstStatus = await cost(['status']);
    expect(firstStatus.requests).toBeGreaterThan(0);
    expect(await cost(['status'])).toEqual({ requests: 0, bytes: 0 });
    expect(await cost(['push'])).toEqual({ requests: 0, bytes: 0 });
    const log = await cost(['log', '-n', '1']);
    expect(log.bytes).toBeLessThan(firstStatus.bytes / 2);
    await push(a, dir, 'p10');
    const afterPush = await cost(['status']);
    expect(afterPush.requests).toBeGreaterThan(0);
    expect(afterPush.bytes).toBeLessThan(firstStatus.bytes / 2);
    expect(await cost(['status'])).toEqual({ requests: 0, bytes: 0 });
    // a pull from there does not take the record: it checks every snapshot since the base with the
    // signers trusted now (record-trust.test.ts), so it walks them all again
    const from = proxy.responses.length;
    const pulled = await b.run(['pull', '--json'], { cwd: bDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(json(pulled.stdout).snapshots).toBe(11);
    expect(snapshotBytes(from).requests).toBeGreaterThan(1);
    expect(readFileSync(path.join(bDir, 'a.json'), 'utf8')).toBe('p10');
  }, 300_000);

  it('a recorded head proves nothing about a head moved back: before the base is still a rollback', async () => {
    const { dir, init } = await linkedFolder(a, 'recorded-back', { 'a.json': 'v1' }, { prefix: 'isync-walk-' });
    const ws = json(init.stdout).id as string;
    await push(a, dir, 'v2');
    const bDir = await clonedFolder(b, 'recorded-back');
    for (const v of ['v3', 'v4', 'v5']) await push(a, dir, v);
    const [s5, s4, , s2, s1] = json((await a.run(['log', '--json'], { cwd: dir })).stdout).snapshots.map((s: { id: string }) => s.id) as string[];
    const setHead = (head: string): void => {
      const db = new Database(path.join(server.dataDir, 'sync.db'));
      try {
        db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(head, ws);
      } finally {
        db.close();
      }
    };
    const status = async (): Promise<{ code: number; stderr: string; moved?: boolean }> => {
      const r = await b.run(['status', '--json'], { cwd: bDir });
      return { code: r.code, stderr: r.stderr, ...(r.code === 0 ? { moved: json(r.stdout).remoteMoved as boolean } : {}) };
    };
    expect(await status()).toMatchObject({ code: 0, moved: true }); // records s5 over the base s2
    setHead(s4!); // between the base and the recorded head: still after the base
    expect(await status()).toMatchObject({ code: 0, moved: true });
    setHead(s1!); // before the base
    for (const args of [['status'], ['log', '-n', '1'], ['push'], ['pull']]) {
      const r = await b.run(args, { cwd: bDir });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(7);
      expect(r.stderr).toContain('your last synced snapshot is not in the remote history');
    }
    setHead(s5!);
    expect(await status()).toMatchObject({ code: 0, moved: true });
    expect(s2).toBeDefined();
  }, 180_000);
});
