/**
 * The server's bound on request bodies in memory (src/server/upload-budget.ts), over a real socket:
 * uploads past an account's share get 429, past the server's 503, both with Retry-After and
 * before their bodies are read; every reservation ends with its request, an aborted one included.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrames } from '../../src/protocol/blob-frames.js';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { routePath } from '../../src/protocol/routes.js';
import type { AccountResponse } from '../../src/protocol/types.js';
import { buildApp } from '../../src/server/app.js';
import { ByteBudget } from '../../src/server/upload-budget.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';

const MiB = 1024 * 1024;
const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

interface Account {
  userId: string;
  token: string;
  wsId: string;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let store: Store;
let app: FastifyInstance;
let origin: string;
let budget: ByteBudget;

async function account(): Promise<Account> {
  const body = fakeSignupBody();
  const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
  const token = signup.json<AccountResponse>().session!.token;
  const wsId = hex(16);
  const created = await app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: { authorization: `Bearer ${token}` },
    payload: { id: wsId, teamId: body.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } },
  });
  expect(created.statusCode).toBe(200);
  return { userId: body.userId, token, wsId };
}

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-budget-'));
  dirs.push(dir);
  store = await openStore(undefined, dir);
  budget = new ByteBudget({ serverBytes: 6 * MiB, accountBytes: 4 * MiB });
  app = buildApp({ store, serverSecret: new Uint8Array(32).fill(5), kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 }, uploadBudget: budget });
  await app.listen({ host: '127.0.0.1', port: 0 });
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await app.close();
  await store.close();
});

/** a valid upload body of `count` frames of `size` bytes each */
function batch(count: number, size: number): Buffer {
  return Buffer.from(encodeFrames(Array.from({ length: count }, () => ({ id: hex(32), data: new Uint8Array(randomBytes(size)) }))));
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * An upload whose headers and first 64 KiB go out at once; the rest only on `finish()`. `answer`
 * settles whenever the server answers, which for a refusal is before the rest is sent.
 */
function heldUpload(who: Account, body: Buffer) {
  const req = http.request(`${origin}${routePath('uploadBlobs', { workspaceId: who.wsId })}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${who.token}`, 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
  });
  answer.catch(() => {});
  req.write(body.subarray(0, 64 * 1024));
  return {
    answer,
    finish: (): Promise<Answer> => {
      req.end(body.subarray(64 * 1024));
      return answer;
    },
    abort: (): void => {
      req.destroy();
    },
  };
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('ByteBudget', () => {
  it('lets a request alone in flight through whatever its size, and counts each release once', () => {
    const b = new ByteBudget({ serverBytes: 10, accountBytes: 5 });
    const big = b.reserve('a', 50);
    expect(typeof big).toBe('function');
    expect(b.reserve('a', 1)).toBe('account');
    expect(b.reserve('b', 1)).toBe('server');
    (big as () => void)();
    (big as () => void)();
    expect(b.inUse()).toBe(0);
    const r1 = b.reserve('a', 3) as () => void;
    const r2 = b.reserve('b', 5) as () => void;
    expect(b.reserve('a', 3)).toBe('account');
    expect(b.reserve('c', 3)).toBe('server');
    expect(typeof b.reserve('c', 2)).toBe('function');
    r1();
    r2();
    expect(b.inUse('a')).toBe(0);
    expect(b.inUse('b')).toBe(0);
    expect(b.inUse()).toBe(2);
  });
});

describe('upload budget', () => {
  it("refuses an upload past its account's share (429) or the server's (503) with Retry-After before reading it, and takes it once the budget frees", async () => {
    const [a, b, c] = [await account(), await account(), await account()];
    const three = batch(3, MiB - 100); // just under 3 MiB
    const a1 = heldUpload(a, three);
    await until(() => budget.inUse(a.userId) === three.length, "a's first upload to be counted");

    const a2 = heldUpload(a, batch(3, MiB - 100));
    const refusedA = await a2.answer; // answered with only 64 KiB of it sent
    a2.abort();
    expect(refusedA.status).toBe(429);
    expect(refusedA.headers['retry-after']).toBe('1');
    expect(JSON.parse(refusedA.body).error.code).toBe('rate_limited');
    // an answer of this protocol (the CLI retries only those), with the usual headers
    expect(refusedA.headers[PROTOCOL_REVISION_HEADER]).toBe(String(PROTOCOL_REVISION));
    expect(refusedA.headers['x-content-type-options']).toBe('nosniff');

    const b1 = heldUpload(b, batch(3, MiB - 100));
    await until(() => budget.inUse(b.userId) > 0, "b's upload to be counted");
    const c1 = heldUpload(c, batch(1, 200 * 1024));
    const refusedC = await c1.answer;
    c1.abort();
    expect(refusedC.status).toBe(503);
    expect(refusedC.headers['retry-after']).toBe('1');
    expect(JSON.parse(refusedC.body).error).toEqual({ code: 'unavailable', message: 'the server is busy receiving other uploads; retry in a moment' });

    expect((await a1.finish()).status).toBe(200);
    await until(() => budget.inUse(a.userId) === 0, "a's upload to be released");
    const again = heldUpload(c, batch(1, 200 * 1024));
    const stored = await again.finish();
    expect(stored.status).toBe(200);
    expect(JSON.parse(stored.body)).toEqual({ stored: 1 });
    expect(JSON.parse((await b1.finish()).body)).toEqual({ stored: 3 });
    await until(() => budget.inUse() === 0, 'every reservation to be released');
  });

  it('releases the reservation of an upload the client abandons mid-body', async () => {
    const a = await account();
    for (let i = 0; i < 3; i++) {
      const upload = heldUpload(a, batch(3, MiB - 100));
      await until(() => budget.inUse(a.userId) > 0, 'the upload to be counted');
      upload.abort();
      await until(() => budget.inUse() === 0, 'the aborted upload to be released');
    }
    const whole = heldUpload(a, batch(4, MiB - 100));
    expect((await whole.finish()).status).toBe(200);
    await until(() => budget.inUse() === 0, 'the upload to be released');
  });

  it('counts neither small bodies nor refused or failed requests', async () => {
    const a = await account();
    const held = heldUpload(a, batch(4, MiB - 100));
    await until(() => budget.inUse(a.userId) > 0, 'the upload to be counted');
    // a small upload, a JSON request and a bad batch all pass the full share
    const small = heldUpload(a, batch(1, 30 * 1024));
    expect((await small.finish()).status).toBe(200);
    const missing = await app.inject({
      method: 'POST',
      url: routePath('missingBlobs', { workspaceId: a.wsId }),
      headers: { authorization: `Bearer ${a.token}` },
      payload: { ids: [hex(32)] },
    });
    expect(missing.statusCode).toBe(200);
    expect((await held.finish()).status).toBe(200);
    const bad = heldUpload(a, Buffer.concat([batch(2, MiB - 100), Buffer.alloc(10)]));
    expect((await bad.finish()).status).toBe(400);
    const unknownWorkspace = heldUpload({ ...a, wsId: hex(16) }, batch(2, MiB - 100));
    expect((await unknownWorkspace.finish()).status).toBe(404);
    await until(() => budget.inUse() === 0, 'every reservation to be released');
  });
});
