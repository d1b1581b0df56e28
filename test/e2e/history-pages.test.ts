/**
 * Long histories: a clone checks the newest snapshot and lists none (it fixes the history behind
 * it by hash); log and verify walk every snapshot across several pages of the listing; a pull
 * that is one snapshot behind asks for a small page, not a long stretch of whole manifests.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const PUSHES = 23; // pages of 4, 16 and 64: the walk crosses two page boundaries

let server: StartedServer;
let a: Machine;
let folder: string;
let workspaceId: string;

beforeAll(async () => {
  server = await startServer();
  a = machine(server.url);
  await signupMachine(a, 'pages@example.com');
  folder = tempDir('isync-pages-');
  mkdirSync(path.join(folder, 'env'));
  writeFileSync(path.join(folder, 'env', 'base.json'), '{"base":true}');
  const init = await a.run(['init', '--name', 'pages', '--json'], { cwd: folder });
  expect(init.code, init.stderr).toBe(0);
  workspaceId = JSON.parse(init.stdout).id;
  for (let i = 0; i < PUSHES; i++) {
    writeFileSync(path.join(folder, 'counter.json'), JSON.stringify({ i }));
    const push = await a.run(['push', '-m', `push ${i}`, '--json'], { cwd: folder });
    expect(push.code, push.stderr).toBe(0);
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('snapshot history in pages', () => {
  it('clone fetches the newest snapshot alone; log and verify walk all the history in growing pages; a pull one behind lists a small page', async () => {
    const proxy = await startRecordingProxy(server.url);
    try {
      const b = machine(proxy.url);
      await loginMachine(b, 'pages@example.com');
      const target = path.join(tempDir('isync-pages-b-'), 'copy');
      const firstLines = (from: number): string[] => proxy.requests.slice(from).map((r) => r.toString('latin1').split('\n')[0]!);
      const listingsOf = (from: number): string[] => firstLines(from).filter((line) => /^GET \S+\/snapshots\?/.test(line));
      const clone = await b.run(['clone', workspaceId, target, '--json'], {});
      expect(clone.code, clone.stderr).toBe(0);
      const head = JSON.parse(clone.stdout).to as string;
      expect(JSON.parse(clone.stdout).snapshots).toBe(1);
      expect(readFileSync(path.join(target, 'counter.json'), 'utf8')).toBe(JSON.stringify({ i: PUSHES - 1 }));
      expect(readFileSync(path.join(target, 'env', 'base.json'), 'utf8')).toBe('{"base":true}');
      expect(listingsOf(0)).toEqual([]);
      expect(firstLines(0).filter((l) => l.includes(`/snapshots/${head}`))).toHaveLength(1);

      let before = proxy.requests.length;
      const log = await b.run(['log', '--json'], { cwd: target });
      expect(log.code, log.stderr).toBe(0);
      const entries = JSON.parse(log.stdout).snapshots as { message: string; files: number; bytes: number }[];
      expect(entries.map((e) => e.message)).toEqual(Array.from({ length: PUSHES }, (_, i) => `push ${PUSHES - 1 - i}`));
      expect(entries[0]).toMatchObject({ files: 2, bytes: JSON.stringify({ i: PUSHES - 1 }).length + '{"base":true}'.length });
      // 23 small snapshots: pages of 4 and 16, then the rest
      expect(listingsOf(before).map((l) => /limit=(\d+)/.exec(l)?.[1])).toEqual(['4', '16', '64']);
      before = proxy.requests.length;
      const limited = await b.run(['log', '--limit', '2', '--json'], { cwd: target });
      expect(JSON.parse(limited.stdout).snapshots).toHaveLength(2);
      // the head is the folder's base, so the walk needs no more than N: a first page of N
      expect(listingsOf(before).map((l) => /limit=(\d+)/.exec(l)?.[1])).toEqual(['2']);
      before = proxy.requests.length;
      const one = await b.run(['log', '-n', '1', '--json'], { cwd: target });
      expect(one.code, one.stderr).toBe(0);
      expect(JSON.parse(one.stdout).snapshots.map((e: { id: string }) => e.id)).toEqual([head]);
      expect(listingsOf(before).map((l) => /limit=(\d+)/.exec(l)?.[1])).toEqual(['1']);
      const verify = await b.run(['verify', '--json'], { cwd: target });
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout).snapshots).toBe(PUSHES);

      writeFileSync(path.join(folder, 'counter.json'), JSON.stringify({ i: 'last' }));
      expect((await a.run(['push', '--json'], { cwd: folder })).code).toBe(0);
      before = proxy.requests.length;
      const pull = await b.run(['pull', '--json'], { cwd: target });
      expect(pull.code, pull.stderr).toBe(0);
      expect(JSON.parse(pull.stdout).snapshots).toBe(1);
      const listings = listingsOf(before);
      expect(listings).toHaveLength(1);
      expect(listings[0]).toContain('limit=4');
      expect(readFileSync(path.join(target, 'counter.json'), 'utf8')).toBe(JSON.stringify({ i: 'last' }));
    } finally {
      await proxy.close();
    }
  }, 120_000);
});
