/**
 * A head that does not pass through the recorded verified head (a fork after the base, the server
 * switching between its branches and leaving the other branch's head out of its pages) costs a
 * walk down to the base, as without the record — not one on to the root of the history and then a
 * second walk to the base. The real server behind a proxy that drops snapshots from list pages.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clonedFolder, linkedFolder, machine, signupMachine, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
let server: StartedServer;
let proxy: RecordingProxy;
let a: Machine;
/** hostile: ids (hex) left out of every listing page */
let hide = new Set<string>();
function drop(body: Buffer): Buffer {
  const out: Buffer[] = [];
  let o = 0;
  while (o < body.length) {
    const len = body.readUInt32BE(o + 73);
    const id = body.subarray(o + 1, o + 33).toString('hex');
    if (!hide.has(id)) out.push(body.subarray(o, o + 77 + len));
    o += 77 + len;
  }
  return Buffer.concat(out);
}
beforeAll(async () => {
  server = await startServer();
  proxy = await startRecordingProxy(server.url, (m, url, body) => (m === 'GET' && /\/snapshots\?/.test(url) && hide.size > 0 ? drop(body) : null));
  a = machine(proxy.url);
  await signupMachine(a, 'fork@example.com');
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});
function cost(from: number): { requests: number; bytes: number } {
  const answers = proxy.responses.slice(from).filter((r) => r.method === 'GET' && /\/snapshots[/?]/.test(r.url));
  return { requests: answers.length, bytes: answers.reduce((n, r) => n + r.bytes, 0) };
}
it('a head on another branch than the recorded one walks to the base, no further', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 300; i++) files[`req/${String(i).padStart(4, '0')}-request.json`] = `{"i":${i}}`;
  const { dir, init } = await linkedFolder(a, 'fork', files, { prefix: 'r14-fork-' });
  const ws = json(init.stdout).id as string;
  const push = async (v: string, force = false): Promise<void> => {
    writeFileSync(path.join(dir, 'a.json'), v);
    const r = await a.run(['push', ...(force ? ['--force'] : []), '-m', v], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  };
  for (let k = 0; k < 40; k++) await push(`h${k}`);
  const bDir = await clonedFolder(a, 'fork'); // base B = h39
  const B = json((await a.run(['log', '-n', '1', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
  const setHead = (head: string): void => {
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    try { db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(head, ws); } finally { db.close(); }
  };
  await push('x1');
  const X = json((await a.run(['log', '-n', '1', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
  setHead(B);
  await push('y1', true); // Y: parent B, a sibling of X
  const Y = json((await a.run(['log', '-n', '1', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
  const status = async (dropRecord: boolean): Promise<{ requests: number; bytes: number }> => {
    if (dropRecord) rmSync(path.join(bDir, '.insomnia-sync', 'verified-head'), { force: true });
    const from = proxy.responses.length;
    const r = await a.run(['status', '--json'], { cwd: bDir });
    expect(r.code, r.stderr).toBe(0);
    return cost(from);
  };
  hide = new Set([Y]);
  setHead(X);
  const withoutRecord = await status(true); // records X
  hide = new Set([X]);
  setHead(Y);
  const recordOnOtherBranch = await status(false); // the record says X, the head is Y
  expect(recordOnOtherBranch.bytes).toBeLessThanOrEqual(withoutRecord.bytes * 1.5);
  expect(recordOnOtherBranch.requests).toBeLessThanOrEqual(withoutRecord.requests + 1);
  // and what it walked is recorded: asked again, nothing is fetched
  expect(await status(false)).toEqual({ requests: 0, bytes: 0 });
}, 300_000);
