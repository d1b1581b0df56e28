/**
 * The server's own periodic garbage collection (scheduleGc) runs on the event loop that serves
 * requests: it must give that loop back between batches, or a collection of many blobs stops the
 * whole server (GET /healthz took 17 s with a million orphans). And shutdown stops a collection in
 * progress instead of waiting for all of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { scheduleGc, type GcReport } from '../../src/server/ops/gc.js';
import { openStore } from '../../src/storage/open.js';
import { GC_BATCH_BLOBS, type Store } from '../../src/storage/store.js';
import { newUser } from '../storage/store-contract.js';

const hex = (n: number): string => randomBytes(n).toString('hex');

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const done of cleanup.reverse()) await done();
  cleanup = [];
});

/** A listening server whose store holds `orphans` tiny blobs no snapshot references. */
async function serverWithOrphans(orphans: number): Promise<{ store: Store; url: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-gc-'));
  const store = await openStore(undefined, dir);
  const user = newUser();
  await store.createUser(user);
  const wsId = hex(16);
  await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'bmFtZQ', key: { epoch: 1, wrappedKey: 'a2V5' }, createdAt: new Date() });
  for (let i = 0; i < orphans; i += 10_000) {
    await store.putBlobs(
      wsId,
      Array.from({ length: Math.min(10_000, orphans - i) }, () => ({ id: hex(32), data: new Uint8Array(randomBytes(40)) })),
    );
  }
  const app: FastifyInstance = buildApp({ store, serverSecret: new Uint8Array(randomBytes(32)) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanup.push(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, url: `http://127.0.0.1:${port}` };
}

/** Runs the periodic collection once, soon, with `started` called as it begins collecting blobs. */
function collectSoon(store: Store, started: () => void): { result: Promise<GcReport>; gc: ReturnType<typeof scheduleGc> } {
  const watched = Object.create(store) as Store;
  watched.collectGarbage = (opts) => {
    started();
    return store.collectGarbage(opts);
  };
  let gc!: ReturnType<typeof scheduleGc>;
  const result = new Promise<GcReport>((resolve, reject) => {
    // every workspace is older than a grace period of ~0: everything unreferenced goes
    gc = scheduleGc(watched, { intervalHours: 0.05 / 3600, graceHours: 1e-9, onResult: resolve, onError: reject });
  });
  cleanup.push(async () => gc.stop());
  return { result, gc };
}

describe('periodic garbage collection in the server', () => {
  it('answers a request sent once the collection has started before the collection ends', async () => {
    const orphans = 30 * GC_BATCH_BLOBS;
    const { store, url } = await serverWithOrphans(orphans);
    const order: string[] = [];
    let health: Promise<Response> | undefined;
    const { result, gc } = collectSoon(store, () => {
      health = fetch(`${url}/healthz`);
      void health.then(() => order.push('healthz answered'));
    });
    const report = await result;
    order.push('collection done');
    gc.stop();
    expect((await health!).status).toBe(200);
    expect(order).toEqual(['healthz answered', 'collection done']);
    expect(report).toMatchObject({ workspaces: 1, blobs: orphans });
  });

  it('stops a collection in progress when stopped (shutdown), reporting what it deleted', async () => {
    const orphans = 30 * GC_BATCH_BLOBS;
    const { store } = await serverWithOrphans(orphans);
    let gcRef: ReturnType<typeof scheduleGc> | undefined;
    const { result, gc } = collectSoon(store, () => setImmediate(() => gcRef!.stop()));
    gcRef = gc;
    const report = await result;
    await gc.running();
    expect(report.blobs).toBeGreaterThan(0);
    expect(report.blobs).toBeLessThan(orphans);
    expect(report.blobs % GC_BATCH_BLOBS).toBe(0);
  });
});
