/**
 * Which blobs push asks the server about: none when the workspace holds nothing yet (the first push
 * after init sends every blob without a "which are missing" request per batch), and every batch
 * once it holds anything, so a push that stopped before its snapshot resumes by sending only what
 * the server lacks. The real server and CLI, through a proxy that records the requests.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const FILES = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`dir${i % 4}/file${i}.json`, `{"n": ${i}, "pad": "${'x'.repeat(i * 50)}"}\n`]));

describe('push asks which blobs are missing only when the server holds some', () => {
  let server: StartedServer;
  let proxy: RecordingProxy;
  let a: Machine;
  let failSnapshot = false;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startRecordingProxy(server.url, undefined, (method, url) => {
      if (failSnapshot && method === 'POST' && /\/snapshots(\?|$)/.test(url)) return '/v1/no-such-route';
    });
    a = machine(proxy.url);
    await signupMachine(a, 'asks@example.com');
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  /** The requests `run` made, as "METHOD path" without the workspace id. */
  async function requestsOf(run: () => Promise<void>): Promise<string[]> {
    const from = proxy.responses.length;
    await run();
    return proxy.responses.slice(from).map((r) => `${r.method} ${r.url.replace(/\/workspaces\/[^/?]+/, '/workspaces/ID')}`);
  }
  const asks = (reqs: string[]) => reqs.filter((r) => r === 'POST /v1/workspaces/ID/blobs/missing').length;

  it('the first push of a new workspace sends every blob unasked; a clone is identical; the next push asks', async () => {
    const { dir } = await linkedFolder(a, 'FirstPush', FILES, { push: false });
    let pushed = { uploadedBlobs: -1 };
    const first = await requestsOf(async () => {
      const res = await a.run(['push', '--json'], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      pushed = JSON.parse(res.stdout);
    });
    expect(asks(first)).toBe(0);
    expect(first.filter((r) => r === 'PUT /v1/workspaces/ID/blobs').length).toBeGreaterThan(0);
    expect(pushed.uploadedBlobs).toBe(Object.keys(FILES).length);

    const b = machine(server.url);
    const out = path.join(tempDir(), 'clone');
    await loginMachine(b, 'asks@example.com');
    const clone = await b.run(['clone', 'FirstPush', out]);
    expect(clone.code, clone.stderr).toBe(0);
    for (const rel of Object.keys(FILES)) expect(readFileSync(path.join(out, rel), 'utf8')).toBe(FILES[rel]);

    writeFileSync(path.join(dir, 'dir1/file1.json'), '{"n": 1, "edited": true}\n');
    const second = await requestsOf(async () => {
      const res = await a.run(['push', '--json'], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ uploadedBlobs: 1 });
    });
    expect(asks(second)).toBeGreaterThan(0);
  }, 60_000);

  it('a first push that stopped before its snapshot: the next one asks and sends nothing again', async () => {
    const { dir } = await linkedFolder(a, 'Resumed', FILES, { push: false });
    failSnapshot = true;
    const stopped = await a.run(['push'], { cwd: dir });
    failSnapshot = false;
    expect(stopped.code).not.toBe(0);
    const again = await requestsOf(async () => {
      const res = await a.run(['push', '--json'], { cwd: dir });
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ uploadedBlobs: 0 });
    });
    expect(asks(again)).toBeGreaterThan(0);
    expect(again).not.toContain('PUT /v1/workspaces/ID/blobs');
  }, 60_000);
});
