/**
 * Memory bounds seen from the wire: `verify` asks for blobs in requests of a bounded number of
 * bytes (it holds each answer whole), not 512 blobs at a time (512 MiB for a big file); the
 * server's bound on upload bodies in memory (--upload-memory-per-account) is never met by a push
 * alone, and a push that meets it because other uploads of the account hold it waits and goes on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerOf, decodeAccessToken } from '../../src/client/access-token.js';
import { VERIFY_BATCH_BYTES } from '../../src/client/services/history.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { encodeFrames, FRAME_HEADER_BYTES } from '../../src/protocol/blob-frames.js';
import { routePath } from '../../src/protocol/routes.js';
import { loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
const BIG_CHUNKS = 20;

let server: StartedServer;
/** between machine `a` and the server */
let proxy: RecordingProxy;
let a: Machine;
let folder: string;
let workspaceId: string;

const refusals = (p: RecordingProxy) => p.responses.filter((r) => r.status === 429 || r.status === 503);

beforeAll(async () => {
  // 8 MiB of bodies in flight per account: a push has three blob batches of 1–2 MiB at most
  server = await startServer({ args: ['--upload-memory', '16', '--upload-memory-per-account', '8'] });
  proxy = await startRecordingProxy(server.url);
  a = machine(proxy.url);
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
  await proxy?.close();
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

/** Starts an upload of `body` with its headers and first 64 KiB; the rest goes on `finish()`. */
/**
 * A CI job's upload of almost 8 MiB, held open, takes the account's whole share (a token counts
 * for its creator); resolves once a small upload of the same account is refused.
 */
async function takeAccountBudget(token: string): Promise<ReturnType<typeof heldUpload>> {
  const held = heldUpload(token, frames(8, MiB - 200));
  for (let tries = 0; ; tries++) {
    const probe = await heldUpload(token, frames(1, 100 * 1024)).finish();
    if (probe === 429) return held;
    expect(probe).toBe(200);
    expect(tries).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function heldUpload(token: string, body: Buffer) {
  const req = http.request(`${server.url}${routePath('uploadBlobs', { workspaceId })}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
  });
  const status = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, 64 * 1024));
  return { status, finish: () => (req.end(body.subarray(64 * 1024)), status) };
}

const frames = (count: number, size: number): Buffer =>
  Buffer.from(encodeFrames(Array.from({ length: count }, () => ({ id: randomBytes(32).toString('hex'), data: new Uint8Array(randomBytes(size)) }))));

describe('upload memory budget', () => {
  it('a push of a big file never meets the per-account budget alone', () => {
    // beforeAll pushed 20 MiB and 30 files through the proxy
    expect(proxy.responses.filter((r) => r.method === 'PUT' && r.url.endsWith('/blobs')).length).toBeGreaterThanOrEqual(BIG_CHUNKS / 2);
    expect(refusals(proxy)).toEqual([]);
  });

  it("a push that finds its account's budget taken by another upload waits (429, Retry-After) and then succeeds", async () => {
    const created = await a.run(['token', 'create', '--workspace', workspaceId, '--name', 'ci', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = bearerOf(decodeAccessToken(noblePrimitives, JSON.parse(created.stdout).token as string));
    const held = await takeAccountBudget(token);
    writeFileSync(path.join(folder, 'more.bin'), randomBytes(3 * MiB));
    const before = proxy.responses.length;
    const push = a.run(['push', '-m', 'more', '--json'], { cwd: folder });
    const deadline = Date.now() + 20_000;
    while (!proxy.responses.slice(before).some((r) => r.status === 429)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await held.finish()).toBe(200);
    const pushed = await push;
    expect(pushed.code, pushed.stderr).toBe(0);
    const late = proxy.responses.slice(before);
    expect(late.filter((r) => r.status === 429).every((r) => r.method === 'PUT' && r.url.endsWith('/blobs'))).toBe(true);
    expect(late.filter((r) => r.method === 'PUT' && r.url.endsWith('/blobs') && r.status === 200).length).toBeGreaterThanOrEqual(1);
    const verify = await a.run(['verify', '--json'], { cwd: folder });
    expect(verify.code, verify.stderr).toBe(0);
  }, 60_000);

  it('a clone whose blob list is turned away unread while the budget is taken waits and then succeeds', async () => {
    // 1,500 small files: the clone's fetch request names more blob ids than fit in 64 KiB of JSON
    const many = tempDir('isync-bounds-many-');
    mkdirSync(path.join(many, 'd'));
    for (let i = 0; i < 1500; i++) writeFileSync(path.join(many, 'd', `f-${i}.json`), `{"i":${i}}`);
    const init = await a.run(['init', '--name', 'many', '--json'], { cwd: many });
    expect(init.code, init.stderr).toBe(0);
    expect((await a.run(['push', '-m', 'many'], { cwd: many })).code).toBe(0);
    // the held upload goes to the first workspace: the budget is the account's, whatever the workspace
    const created = await a.run(['token', 'create', '--workspace', workspaceId, '--name', 'ci-many', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const token = bearerOf(decodeAccessToken(noblePrimitives, JSON.parse(created.stdout).token as string));
    const held = await takeAccountBudget(token);
    const b = machine(proxy.url);
    await loginMachine(b, 'bounds@example.com');
    const target = path.join(tempDir('isync-bounds-clone-'), 'many');
    const before = proxy.responses.length;
    const clone = b.run(['clone', 'many', target, '--json']);
    const deadline = Date.now() + 20_000;
    while (!proxy.responses.slice(before).some((r) => r.status === 429)) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await held.finish()).toBe(200);
    const cloned = await clone;
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(proxy.responses.slice(before).filter((r) => r.status === 429).every((r) => r.url.endsWith('/blobs/fetch'))).toBe(true);
    expect(readdirSync(path.join(target, 'd'))).toHaveLength(1500);
    rmSync(many, { recursive: true, force: true });
  }, 120_000);
});
