/**
 * `admin export-user` writes a history of any length: snapshots page by page (it used to gather
 * every snapshot of a workspace, base64 it and JSON.stringify it at once: "Invalid string length"
 * at ~450 snapshots of 1 MB, with a truncated file left at --out). With --out it writes a temporary
 * file beside it and moves it there only when complete: a failure or an interrupt leaves nothing.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { exportUser, exportUserToFile } from '../../src/server/ops/export-user.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { NewUser, Store } from '../../src/storage/store.js';
import { newUser } from '../storage/store-contract.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-export-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface History {
  store: Store;
  user: NewUser;
  wsId: string;
  /** snapshot ids, newest first */
  snapshots: string[];
  blobs: string[];
  path: string;
}

/** One account with one workspace of `count` snapshots of `size` bytes and `blobCount` blobs. */
async function history(count: number, size: number, blobCount = 5, dir = tempDir()): Promise<History> {
  const path = join(dir, 'sync.db');
  const store = openSqliteStore(path);
  const user = newUser();
  await store.createUser(user);
  const wsId = randomBytes(16).toString('hex');
  await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: new Date(0) });
  const blobs = Array.from({ length: blobCount }, () => ({ id: randomBytes(32).toString('hex'), data: new Uint8Array(randomBytes(64)) }));
  await store.putBlobs(wsId, blobs);
  const snapshots: string[] = [];
  let parent: string | null = null;
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(randomBytes(size));
    const id = createHash('sha256').update(data).digest('hex');
    const r = await store.createSnapshot(wsId, { id, parent, data, blobIds: i === 0 ? blobs.map((b) => b.id) : [], createdAt: new Date(i * 1000) });
    expect(r.ok).toBe(true);
    snapshots.unshift(id);
    parent = id;
  }
  return { store, user, wsId, snapshots, blobs: blobs.map((b) => b.id), path };
}

/** The store, counting snapshots read from it that the export has not yet written. */
function counting(store: Store): { store: Store; held: () => number; peak: () => number; written: (chunk: string) => void; limits: number[] } {
  let fetched = 0;
  let written = 0;
  let peak = 0;
  const limits: number[] = [];
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'listSnapshots') {
        return async (...args: Parameters<Store['listSnapshots']>) => {
          limits.push(args[1].limit);
          const page = await target.listSnapshots(...args);
          fetched += page.length;
          peak = Math.max(peak, fetched - written);
          return page;
        };
      }
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    store: wrapped,
    held: () => fetched - written,
    peak: () => peak,
    // each snapshot is written as {"id":…,"parent":…,…}
    written: (chunk) => {
      written += chunk.split('"parent":').length - 1;
    },
    limits,
  };
}

describe('admin export-user: a long history', () => {
  it('is exported complete and valid while holding at most one page of snapshots at a time', async () => {
    const h = await history(60, 3000);
    const c = counting(h.store);
    const chunks: string[] = [];
    const res = await exportUser(c.store, h.user.email, async (chunk) => {
      c.written(chunk);
      chunks.push(chunk);
    }, new Date(), { snapshotPage: 7, blobGroup: 2 });
    // memory does not grow with the history: never more than one page read and not yet written
    expect(c.peak()).toBeLessThanOrEqual(7);
    expect(c.held()).toBe(0);
    expect(Math.max(...c.limits)).toBe(7);
    // and no piece written holds more than one snapshot (3000 bytes, 4000 in base64)
    expect(Math.max(...chunks.map((x) => x.length))).toBeLessThan(2 * 4000);
    expect(res).toEqual({ workspaces: 1, snapshots: 60, blobs: 5 });

    const doc = JSON.parse(chunks.join('')) as { workspaces: { snapshots: { id: string; parent: string | null; data: string }[]; blobs: { id: string }[] }[] };
    const [ws] = doc.workspaces;
    // the same format as before: the workspace's fields in the same order, snapshots newest first
    expect(Object.keys(ws!)).toEqual(['id', 'teamId', 'encryptedName', 'head', 'keys', 'createdAt', 'updatedAt', 'size', 'snapshots', 'blobs']);
    expect(ws!.snapshots.map((s) => s.id)).toEqual(h.snapshots);
    expect(ws!.snapshots.at(-1)!.parent).toBeNull();
    for (const s of ws!.snapshots) expect(createHash('sha256').update(Buffer.from(s.data, 'base64url')).digest('hex')).toBe(s.id);
    expect(ws!.blobs.map((b) => b.id).sort()).toEqual([...h.blobs].sort());
    await h.store.close();
  });

  it('cuts pages by bytes too: big snapshots are held one or two at a time, whatever the page length', async () => {
    const h = await history(12, 50_000, 0);
    const c = counting(h.store);
    let out = '';
    await exportUser(c.store, h.user.email, async (chunk) => {
      c.written(chunk);
      out += chunk;
    }, new Date(), { snapshotPage: 200, snapshotPageBytes: 120_000 });
    expect(c.peak()).toBeLessThanOrEqual(2);
    expect((JSON.parse(out) as { workspaces: { snapshots: unknown[] }[] }).workspaces[0]!.snapshots).toHaveLength(12);
    await h.store.close();
  });
});

describe('admin export-user --out', () => {
  it('writes the whole export to a new file, mode 0600, and nothing else beside it', async () => {
    const h = await history(9, 500);
    const dir = tempDir();
    const out = join(dir, 'export.json');
    const res = await exportUserToFile(h.store, h.user.email, out, { paging: { snapshotPage: 2 } });
    expect(res).toMatchObject({ workspaces: 1, snapshots: 9, blobs: 5, bytes: statSync(out).size });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(out, 'utf8')) as { workspaces: { snapshots: unknown[] }[] }).workspaces[0]!.snapshots).toHaveLength(9);
    expect(readdirSync(dir)).toEqual(['export.json']);
    await h.store.close();
  });

  it('a failure mid-way leaves no file at --out and no temporary file', async () => {
    const h = await history(20, 500);
    const dir = tempDir();
    const out = join(dir, 'export.json');
    let pages = 0;
    let sawPartial = false;
    const failing = new Proxy(h.store, {
      get(target, prop, receiver) {
        if (prop === 'listSnapshots') {
          return async (...args: Parameters<Store['listSnapshots']>) => {
            if (++pages === 3) {
              // two pages are written by now, to the temporary file and not to --out
              sawPartial = readdirSync(dir).some((f) => f.endsWith('.partial') && statSync(join(dir, f)).size > 0);
              expect(existsSync(out)).toBe(false);
              throw new Error('disk read error');
            }
            return target.listSnapshots(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    await expect(exportUserToFile(failing, h.user.email, out, { paging: { snapshotPage: 4 } })).rejects.toThrow('disk read error');
    expect(sawPartial).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    await h.store.close();
  });

  it('never overwrites an existing file, and an unknown email creates none', async () => {
    const h = await history(2, 100);
    const dir = tempDir();
    const out = join(dir, 'export.json');
    writeFileSync(out, 'keep me');
    await expect(exportUserToFile(h.store, h.user.email, out)).rejects.toThrow(/already exists/);
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(readdirSync(dir)).toEqual(['export.json']);
    await expect(exportUserToFile(h.store, 'nobody@example.com', join(dir, 'other.json'))).rejects.toThrow(/no account/);
    expect(readdirSync(dir)).toEqual(['export.json']);
    await h.store.close();
  });

  it('the command interrupted mid-way (SIGTERM) leaves no file at --out', async () => {
    const dataDir = tempDir();
    const h = await history(150, 1024 * 1024, 0, dataDir);
    await h.store.close();
    const dir = tempDir();
    const out = join(dir, 'export.json');
    const child = spawn(process.execPath, [BIN, 'admin', 'export-user', h.user.email, '--out', out, '--data-dir', dataDir], {
      env: { ...process.env, INSOMNIA_SYNC_DB: '' },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | number | null>((ok) => child.on('exit', (code, signal) => ok(signal ?? code)));
    // wait until the export has started writing, then interrupt it
    const started = Date.now();
    while (!readdirSync(dir).some((f) => (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0) > 0)) {
      if (Date.now() - started > 20_000) throw new Error('the export wrote nothing');
      await new Promise((ok) => setTimeout(ok, 5));
    }
    child.kill('SIGTERM');
    const status = await exited;
    // a complete export cannot have been reached: 150 MiB take longer than that
    expect(status).toBe('SIGTERM');
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});
