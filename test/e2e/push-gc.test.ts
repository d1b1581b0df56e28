/**
 * A push that pauses between its blob upload and its snapshot for longer than the server's GC
 * grace: garbage collection takes the blobs no snapshot references yet, and the snapshot is then
 * refused. The push says so and what to do (exit 3, a conflict with the server's state, "push
 * again"), not exit 2 as for a usage error; pushing again uploads them. The real server, its `gc`
 * command, and a proxy that holds the snapshot request.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, machine, ROOT, signupMachine, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const SERVER_BIN = path.join(ROOT, 'bin/insomnia-sync-server.js');

describe('push and garbage collection', () => {
  let server: StartedServer;
  let proxy: RecordingProxy;
  let a: Machine;
  let collected = '';
  let holdSnapshot = false;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startRecordingProxy(server.url, undefined, async (method, url) => {
      if (!holdSnapshot || method !== 'POST' || !/\/snapshots(\?|$)/.test(url)) return;
      holdSnapshot = false;
      // paused past a grace of 0.001 h (3.6 s) since the upload, then the operator's GC runs
      await new Promise((r) => setTimeout(r, 4000));
      collected = (await promisify(execFile)(process.execPath, [SERVER_BIN, 'gc', '--data-dir', server.dataDir, '--grace', '0.001'])).stdout;
    });
    a = machine(proxy.url);
    await signupMachine(a, 'gc@example.com');
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('blobs collected while the push paused: exit 3 with "push again", and pushing again succeeds', async () => {
    const { dir } = await linkedFolder(a, 'GcRace', { 'one.txt': 'one\n' });
    writeFileSync(path.join(dir, 'victim.txt'), `gc victim ${Date.now()}\n`);
    holdSnapshot = true;
    const paused = await a.run(['push'], { cwd: dir });
    expect(collected).toMatch(/1 unreferenced blob/);
    expect(paused.code, paused.stderr).toBe(3);
    expect(paused.stderr).toMatch(/missing blobs: 1 referenced blob/);
    expect(paused.stderr).toContain('push` again');
    const again = await a.run(['push', '--json'], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ uploadedBlobs: 1 });
    const status = await a.run(['status', '--json'], { cwd: dir });
    expect(JSON.parse(status.stdout)).toMatchObject({ changes: [] });
  }, 60_000);
});
