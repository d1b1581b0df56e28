/**
 * Whether the folder's last synced snapshot is behind the remote head is decided by walking the
 * signed parent links from the head, in every command that reads the remote from a linked folder
 * (status, log, export, restore, a push with nothing to send), as pull and verify decide it: a
 * head moved back several snapshots, or onto another branch, or a server lying about the base's
 * own frame, is a rollback (exit 7), never "new snapshots" nor the newest history.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy, type ResponseRewriter } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const ROLLED_BACK = 'your last synced snapshot is not in the remote history';

let server: StartedServer;
let proxy: RecordingProxy;
let a: Machine;
/** what the proxy does to the server's answers, set by each test */
let rewrite: ResponseRewriter | null = null;

beforeAll(async () => {
  server = await startServer();
  proxy = await startRecordingProxy(server.url, (method, url, body) => rewrite?.(method, url, body) ?? null);
  a = machine(proxy.url);
  await signupMachine(a, 'ancestry@example.com');
}, 60_000);
afterAll(async () => {
  rewrite = null;
  await proxy?.close();
  await server?.stop();
});

/** A folder that pushed v1, v2, v3: its base is the third snapshot. */
async function threeSnapshots(name: string): Promise<{ dir: string; ws: string; s1: string; s2: string; s3: string }> {
  const { dir, init } = await linkedFolder(a, name, { 'a.json': 'v1' }, { prefix: 'isync-ancestry-' });
  const ws = json(init.stdout).id as string;
  for (const v of ['v2', 'v3']) {
    writeFileSync(path.join(dir, 'a.json'), v);
    const r = await a.run(['push', '-m', v], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  }
  const [s3, s2, s1] = json((await a.run(['log', '--json'], { cwd: dir })).stdout).snapshots.map((s: { id: string }) => s.id) as string[];
  return { dir, ws, s1: s1!, s2: s2!, s3: s3! };
}

function setHead(ws: string, head: string): void {
  const db = new Database(path.join(server.dataDir, 'sync.db'));
  try {
    db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(head, ws);
  } finally {
    db.close();
  }
}

/** status, log, export, a push with nothing to push, and restore (of the base too) all refuse, as pull and verify do. */
async function expectRolledBack(dir: string, ids: { base: string; head: string }, why: string): Promise<void> {
  /** where export and restore would write: none may be made */
  const outs: string[] = [];
  const out = (what: string): string => {
    outs.push(path.join(tempDir(`isync-ancestry-${what}-`), 'copy'));
    return outs[outs.length - 1]!;
  };
  const wrong: string[] = [];
  for (const args of [
    ['status'],
    ['status', '--json'],
    ['log'],
    ['log', '-n', '1', '--json'],
    ['export', '--out', out('export')],
    ['export', '--snapshot', ids.head.slice(0, 12), '--out', out('export')],
    ['push', '-m', 'nothing changed'],
    ['restore', ids.base.slice(0, 12), '--to', out('restore')],
    ['restore', ids.head.slice(0, 12), '--to', out('restore')],
    ['pull'],
    ['verify'],
  ]) {
    const res = await a.run(args, { cwd: dir });
    if (res.code !== 7 || !res.stderr.includes(ROLLED_BACK) || res.stdout.includes('new snapshots')) wrong.push(`${args.join(' ')}: exit ${res.code}: ${res.stdout}${res.stderr}`);
  }
  expect(wrong, why).toEqual([]);
  expect(outs.filter((o) => existsSync(o))).toEqual([]);
  expect(readFileSync(path.join(dir, 'a.json'), 'utf8')).toBe('v3');
}

describe('the base must be behind the head, by the signed chain', () => {
  it('a head moved back two snapshots is a rollback everywhere; push --force over it leaves a history log and verify walk', async () => {
    const { dir, ws, s1, s3 } = await threeSnapshots('deep');
    setHead(ws, s1);
    await expectRolledBack(dir, { base: s3, head: s1 }, 'two back');
    // the folder's files become the head again; the two snapshots left behind stay listed
    const forced = await a.run(['push', '--force', '--json'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(json(forced.stdout).parent).toBe(s1);
    const log = await a.run(['log', '--json'], { cwd: dir });
    expect(log.code, log.stderr).toBe(0);
    expect(json(log.stdout).snapshots.map((s: { id: string }) => s.id)).toEqual([json(forced.stdout).snapshot, s1]);
    expect((await a.run(['verify'], { cwd: dir })).code).toBe(0);
    const status = await a.run(['status', '--json'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout).remoteMoved).toBe(false);
  }, 180_000);

  it('a head on another branch (a fork from an older snapshot) is a rollback too', async () => {
    const { dir, ws, s1, s3 } = await threeSnapshots('fork');
    setHead(ws, s1);
    const other = path.join(tempDir('isync-ancestry-fork-'), 'f');
    expect((await a.run(['clone', ws, other])).code).toBe(0);
    writeFileSync(path.join(other, 'a.json'), 'fork');
    const forked = await a.run(['push', '-m', 'fork', '--json'], { cwd: other });
    expect(forked.code, forked.stderr).toBe(0);
    const fork = json(forked.stdout).snapshot as string;
    expect(json(forked.stdout).parent).toBe(s1);
    await expectRolledBack(dir, { base: s3, head: fork }, 'fork');
  }, 180_000);

  it("a head moved back one snapshot, with the base's own frame rewritten to show no parent", async () => {
    const { dir, ws, s2, s3 } = await threeSnapshots('parentless');
    setHead(ws, s2);
    rewrite = (method, url, body) => {
      if (method !== 'GET' || !url.includes(`/snapshots/${s3}`) || body.length < 77) return null;
      const forged = Buffer.from(body);
      forged[0] = 0; // no parent
      forged.fill(0, 33, 65);
      return forged;
    };
    try {
      for (const args of [['status'], ['log', '-n', '1'], ['export', '--out', path.join(tempDir('isync-ancestry-export-'), 'copy')], ['push']]) {
        const res = await a.run(args, { cwd: dir });
        expect(res.code, `${args.join(' ')}: ${res.stdout}${res.stderr}`).toBe(7);
        expect(res.stderr).toContain(ROLLED_BACK);
      }
    } finally {
      rewrite = null;
    }
  }, 180_000);

  it('a head that did move on is news: status and a push with nothing to push say so (exit 0), log shows it', async () => {
    const { dir, ws } = await threeSnapshots('ahead');
    const other = path.join(tempDir('isync-ancestry-ahead-'), 'o');
    expect((await a.run(['clone', ws, other])).code).toBe(0);
    for (const v of ['v4', 'v5']) {
      writeFileSync(path.join(other, 'a.json'), v);
      expect((await a.run(['push', '-m', v], { cwd: other })).code).toBe(0);
    }
    const status = await a.run(['status', '--json'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout).remoteMoved).toBe(true);
    const push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    expect(push.stdout).toContain('The remote has new snapshots');
    const log = await a.run(['log', '-n', '1', '--json'], { cwd: dir });
    expect(log.code, log.stderr).toBe(0);
    expect(json(log.stdout).snapshots[0].message).toBe('v5');
    const out = path.join(tempDir('isync-ancestry-export-'), 'copy');
    expect((await a.run(['export', '--out', out], { cwd: dir })).code).toBe(0);
    expect(readFileSync(path.join(out, 'a.json'), 'utf8')).toBe('v5');
  }, 180_000);
});
