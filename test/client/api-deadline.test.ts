/**
 * How long a request may take (ANSWER_DEADLINE): a server that trickles its answer a byte at a
 * time, never idle long enough for the socket's timeout, is cut off (unreachable, exit 6) once the
 * request's time is up; an answer that keeps coming at a useful rate is not, even past the grace.
 * The deadline is made short here through the client's options; its defaults are checked too.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANSWER_DEADLINE, ANSWER_LIMITS, ApiClient } from '../../src/client/api.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { LIMITS } from '../../src/protocol/types.js';

const MiB = 1024 * 1024;
let server: http.Server;
let base: string;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json', [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) });
    if (req.url === '/v1/workspaces') {
      // a byte every 100 ms, for ever: never idle for the socket's 120 s timeout
      res.write('{');
      const t = setInterval(() => res.write(' '), 100);
      timers.add(t);
      res.on('close', () => clearInterval(t));
      return;
    }
    // /v1/me: 256 KiB of JSON in 8 pieces over ~1.4 s, past the grace, at far over the floor
    // (an answer of the protocol's shape: the client checks it, protocol/answer-check.ts)
    const key = 'A'.repeat(43);
    const keys = { wrappedAccountKey: key, x25519PublicKey: key, ed25519PublicKey: key, wrappedX25519Secret: key, wrappedEd25519Secret: key };
    const user = { id: 'a'.repeat(32), email: 'a@example.com', name: 'x'.repeat(256 * 1024), createdAt: '2026-01-02T03:04:05.678Z' };
    const body = Buffer.from(JSON.stringify({ user, keys, teams: [] }));
    let at = 0;
    const step = Math.ceil(body.length / 8);
    const t = setInterval(() => {
      res.write(body.subarray(at, at + step));
      at += step;
      if (at >= body.length) {
        clearInterval(t);
        res.end();
      }
    }, 200);
    timers.add(t);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const t of timers) clearInterval(t);
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

// a listing may hold 64 MiB: at 64 MiB/s it gets one second past the grace
const short = { graceMs: 1000, bytesPerSecond: 64 * MiB };

describe('the deadline of a request', () => {
  it('a server trickling its answer is cut off once the time is up: unreachable, exit 6', async () => {
    const api = new ApiClient({ baseUrl: base, token: 'session', deadline: short });
    const started = Date.now();
    const err = (await api.listWorkspaces().then(
      () => null,
      (e: unknown) => e,
    )) as { code: string; message: string } | null;
    const took = Date.now() - started;
    await api.close();
    expect(err?.code).toBe('unreachable');
    expect(exitCodeFor(err!.code)).toBe(6);
    expect(err!.message).toMatch(/did not finish its answer to GET \/v1\/workspaces within 2 s/);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(10_000);
  }, 20_000);

  it('an answer that keeps coming is read to its end, past the grace', async () => {
    // 200 ms of grace, and 4 s for the most a listing may hold at 16 MiB/s: the answer takes ~1.4 s
    const api = new ApiClient({ baseUrl: base, token: 'session', deadline: { graceMs: 200, bytesPerSecond: 16 * MiB } });
    const me = await api.me();
    await api.close();
    expect(me.user.name).toHaveLength(256 * 1024);
  }, 20_000);

  it('by default, leaves the socket idle timeout its 120 s and a 256 kbit/s link time for any answer', () => {
    expect(ANSWER_DEADLINE.graceMs).toBeGreaterThanOrEqual(120_000);
    expect(ANSWER_DEADLINE.bytesPerSecond).toBeLessThanOrEqual(32 * 1024);
  });
});

describe('route bounds', () => {
  it('are never below what the protocol lets a server send', () => {
    // a fetch answer: up to maxFetchBytes of data, a frame header per id asked
    expect(ANSWER_LIMITS.fetchBlobs).toBeGreaterThanOrEqual(LIMITS.maxFetchBytes + LIMITS.maxIdsPerRequest * 36);
    // a snapshot page: up to maxSnapshotListBytes, or one snapshot as large as an upload body
    expect(ANSWER_LIMITS.listSnapshots).toBeGreaterThanOrEqual(Math.max(LIMITS.maxSnapshotListBytes, LIMITS.maxJsonBodyBytes) + 1000 * 77);
    expect(ANSWER_LIMITS.getSnapshot).toBeGreaterThanOrEqual(LIMITS.maxJsonBodyBytes + 77);
    // `missing` for the most ids a request names
    expect(Buffer.byteLength(JSON.stringify({ missing: Array(LIMITS.maxIdsPerRequest).fill('f'.repeat(64)) }))).toBeLessThanOrEqual(ANSWER_LIMITS.missingBlobs);
    for (const route of ['me', 'listWorkspaces', 'getWorkspace', 'workspaceMembers', 'listTokens', 'accountShow', 'teamMembers'] as const) {
      expect(ANSWER_LIMITS[route]).toBe(LIMITS.maxJsonBodyBytes);
    }
  });
});
