/**
 * Blob upload and download over a real socket: the octet-stream body reader (sized and chunked
 * uploads) and the streamed fetch answer (Content-Length, framing, the size cut, a blob that goes
 * away mid-answer).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrames, type BlobFrame } from '../../src/protocol/blob-frames.js';
import { routePath } from '../../src/protocol/routes.js';
import { LIMITS, type AccountResponse } from '../../src/protocol/types.js';
import { buildApp } from '../../src/server/app.js';
import { BlobChangedError, framedLength, frameStream } from '../../src/server/frame-stream.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let store: Store;
let app: FastifyInstance;
let origin: string;
let token: string;
let wsId: string;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-transfer-'));
  dirs.push(dir);
  store = await openStore(undefined, dir);
  app = buildApp({ store, serverSecret: new Uint8Array(32).fill(3), kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const teamId = hex(16);
  const signup = await app.inject({
    method: 'POST',
    url: '/v1/auth/signup',
    payload: fakeSignupBody({ teamId }),
  });
  token = signup.json<AccountResponse>().session!.token;
  wsId = hex(16);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: { authorization: `Bearer ${token}` },
    payload: { id: wsId, teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } },
  });
  expect(created.statusCode).toBe(200);
});
afterEach(async () => {
  await app.close();
  await store.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request; `chunks` are written one by one, without Content-Length when `chunked`. */
function request(method: string, path: string, type: string, chunks: Uint8Array[], chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': type };
    if (!chunked) headers['content-length'] = String(chunks.reduce((n, c) => n + c.length, 0));
    const req = http.request(`${origin}${path}`, { method, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

const upload = (chunks: Uint8Array[], chunked = false) =>
  request('PUT', routePath('uploadBlobs', { workspaceId: wsId }), 'application/octet-stream', chunks, chunked);
const fetchBlobs = (ids: string[]) =>
  request('POST', routePath('fetchBlobs', { workspaceId: wsId }), 'application/json', [Buffer.from(JSON.stringify({ ids }))]);

function frames(count: number, size: (i: number) => number): BlobFrame[] {
  return Array.from({ length: count }, (_, i) => ({ id: hex(32), data: new Uint8Array(randomBytes(size(i))) }));
}

/** a body cut into pieces that split headers and data at odd places */
function pieces(body: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < body.length; at += size) out.push(body.subarray(at, at + size));
  return out;
}

describe('blob upload body', () => {
  it('takes a body sent in odd-sized pieces, with and without Content-Length', async () => {
    for (const chunked of [false, true]) {
      const batch = frames(40, (i) => LIMITS.minBlobBytes + i * 997);
      const res = await upload(pieces(encodeFrames(batch), 7777), chunked);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toEqual({ stored: 40 });
      const got = await store.getBlobs(wsId, batch.map((f) => f.id), 1 << 30);
      got.forEach((b, i) => expect(Buffer.from(b.data).equals(Buffer.from(batch[i]!.data))).toBe(true));
    }
  });

  it('answers an empty body with nothing stored, and a body over the limit with 413', async () => {
    const empty = await upload([]);
    expect(empty.status).toBe(200);
    expect(JSON.parse(empty.body.toString())).toEqual({ stored: 0 });
    const over = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${origin}${routePath('uploadBlobs', { workspaceId: wsId })}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': String(LIMITS.maxBlobBatchBytes + 1) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(Buffer.alloc(10));
    });
    expect(over).toBe(413);
  });

  it('refuses a frame shorter than any sealed blob, with 400 and nothing of the batch stored', async () => {
    for (const size of [0, 1, LIMITS.minBlobBytes - 1]) {
      const batch = [...frames(2, () => 100), { id: hex(32), data: new Uint8Array(size) }];
      const res = await upload([encodeFrames(batch)]);
      expect(res.status, String(size)).toBe(400);
      expect(JSON.parse(res.body.toString())).toEqual({ error: { code: 'bad_request', message: expect.stringMatching(/^bad blob frames: frame of \d+ bytes is shorter than any sealed blob \(41\)$/) } });
      expect(await store.missingBlobs(wsId, batch.map((f) => f.id))).toEqual(batch.map((f) => f.id));
    }
    const smallest = frames(1, () => LIMITS.minBlobBytes);
    expect(JSON.parse((await upload([encodeFrames(smallest)])).body.toString())).toEqual({ stored: 1 });
  });

  it('refuses a batch that holds one id twice, so garbage can never take the place of the real blob', async () => {
    const [real] = frames(1, () => 200);
    const garbage = { id: real!.id, data: new Uint8Array(randomBytes(200)) };
    for (const batch of [[garbage, real!], [real!, real!]]) {
      const res = await upload([encodeFrames(batch)]);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body.toString()).error.message).toMatch(/^bad blob frames: blob [0-9a-f]{12}… appears twice in one upload$/);
      expect(await store.missingBlobs(wsId, [real!.id])).toEqual([real!.id]);
    }
    expect(JSON.parse((await upload([encodeFrames([real!])])).body.toString())).toEqual({ stored: 1 });
    const [stored] = await store.getBlobs(wsId, [real!.id], 1 << 20);
    expect(Buffer.from(stored!.data).equals(Buffer.from(real!.data))).toBe(true);
  });
});

describe('blob fetch answer', () => {
  it('streams frames with an exact Content-Length, in request order, unknown ids skipped', async () => {
    const batch = frames(300, (i) => LIMITS.minBlobBytes + (i % 7) * 3000);
    expect((await upload([encodeFrames(batch)])).status).toBe(200);
    const ids = batch.map((f) => f.id).reverse();
    ids.splice(5, 0, hex(32));
    const res = await fetchBlobs(ids);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['transfer-encoding']).toBeUndefined();
    expect(Number(res.headers['content-length'])).toBe(res.body.length);
    const back = decodeFrames(res.body, LIMITS.maxBlobBytes);
    expect(back.map((f) => f.id)).toEqual([...batch].reverse().map((f) => f.id));
    const byId = new Map(batch.map((f) => [f.id, f.data]));
    for (const f of back) expect(Buffer.from(f.data).equals(Buffer.from(byId.get(f.id)!))).toBe(true);
  });

  it('answers unknown ids with an empty body', async () => {
    const res = await fetchBlobs([hex(32), hex(32)]);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe('0');
    expect(res.body.length).toBe(0);
  });

  it('cuts at LIMITS.maxFetchBytes over many read groups; asking again gets the rest', async () => {
    const size = 900_000;
    const batch = frames(Math.ceil(LIMITS.maxFetchBytes / size) + 2, () => size);
    for (let i = 0; i < batch.length; i += 8) expect((await upload([encodeFrames(batch.slice(i, i + 8))])).status).toBe(200);
    const res = await fetchBlobs(batch.map((f) => f.id));
    const back = decodeFrames(res.body, LIMITS.maxBlobBytes);
    expect(back.length).toBe(Math.floor(LIMITS.maxFetchBytes / size));
    expect(back.map((f) => f.id)).toEqual(batch.slice(0, back.length).map((f) => f.id));
    const rest = decodeFrames((await fetchBlobs(batch.slice(back.length).map((f) => f.id))).body, LIMITS.maxBlobBytes);
    expect(rest.map((f) => f.id)).toEqual(batch.slice(back.length).map((f) => f.id));
    expect(Buffer.from(rest.at(-1)!.data).equals(Buffer.from(batch.at(-1)!.data))).toBe(true);
  });

  it('fails the stream, rather than sending wrong frames, when a planned blob is gone', async () => {
    const batch = frames(20, () => 100_000);
    expect((await upload([encodeFrames(batch)])).status).toBe(200);
    const plan = await store.planBlobFetch(wsId, batch.map((f) => f.id), LIMITS.maxFetchBytes);
    expect(framedLength(plan)).toBe(20 * (36 + 100_000));
    const stream = frameStream(store, wsId, plan);
    const first: Buffer = await new Promise((resolve) => stream.once('data', resolve));
    expect(first.length).toBeGreaterThan(0);
    expect(await store.deleteWorkspace(wsId)).toBe(true);
    const failure = await new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.on('end', () => resolve(null));
      stream.resume();
    });
    expect(failure).toBeInstanceOf(BlobChangedError);
  });
});
