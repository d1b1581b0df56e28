/**
 * Memory bounds seen from the wire: `verify` asks for blobs in requests of a bounded number of
 * bytes (it holds each answer whole), not 512 blobs at a time (512 MiB for a big file).
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFY_BATCH_BYTES } from '../../src/client/services/history.js';
import { FRAME_HEADER_BYTES } from '../../src/protocol/blob-frames.js';
import { loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
const BIG_CHUNKS = 20;

let server: StartedServer;
let a: Machine;
let folder: string;
let workspaceId: string;

beforeAll(async () => {
  server = await startServer();
  a = machine(server.url);
  await signupMachine(a, 'bounds@example.com');
  folder = tempDir('isync-bounds-');
  // random bytes: twenty distinct chunks, nothing deduplicated
  writeFileSync(path.join(folder, 'big.bin'), randomBytes(BIG_CHUNKS * MiB - 5));
  for (let i = 0; i < 30; i++) writeFileSync(path.join(folder, `small-${i}.json`), JSON.stringify({ i, pad: randomBytes(2000).toString('hex') }));
  const init = await a.run(['init', '--name', 'bounds', '--json'], { cwd: folder });
  expect(init.code, init.stderr).toBe(0);
  workspaceId = JSON.parse(init.stdout).id;
  const push = await a.run(['push', '-m', 'big', '--json'], { cwd: folder });
  expect(push.code, push.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  if (folder) rmSync(folder, { recursive: true, force: true });
  await server?.cleanup();
});

describe('verify', () => {
  it('checks a big multi-chunk file in fetch requests of at most VERIFY_BATCH_BYTES of blobs', async () => {
    const proxy = await startRecordingProxy(server.url);
    try {
      const b = machine(proxy.url);
      await loginMachine(b, 'bounds@example.com');
      const res = await b.run(['verify', '--workspace', workspaceId, '--json']);
      expect(res.code, res.stderr).toBe(0);
      const out = JSON.parse(res.stdout);
      expect(out.blobs).toBe(BIG_CHUNKS + 30);
      expect(out.bytes).toBeGreaterThan(BIG_CHUNKS * MiB);

      const fetches = proxy.responses.filter((r) => r.method === 'POST' && r.url.endsWith('/blobs/fetch'));
      expect(fetches.every((r) => r.status === 200)).toBe(true);
      // each answer: at most the batch of plaintext, plus each frame's header and envelope (40 bytes)
      const largest = Math.max(...fetches.map((r) => r.bytes));
      expect(largest).toBeLessThanOrEqual(VERIFY_BATCH_BYTES + 64 * (FRAME_HEADER_BYTES + 40));
      expect(fetches.reduce((n, r) => n + r.bytes, 0)).toBeGreaterThan(BIG_CHUNKS * MiB);
      // and so every request asks for no more than a batch of chunks
      const asked = proxy.requests
        .map((r) => r.toString('latin1'))
        .filter((r) => r.startsWith('POST') && r.split('\n')[0]!.endsWith('/blobs/fetch'))
        .map((r) => (JSON.parse(r.slice(r.indexOf('\n', r.indexOf('\n') + 1) + 1)) as { ids: string[] }).ids.length);
      expect(asked.length).toBeGreaterThanOrEqual(Math.ceil((BIG_CHUNKS * MiB) / VERIFY_BATCH_BYTES));
    } finally {
      await proxy.close();
    }
  }, 60_000);
});
