/**
 * A server that lost its newest snapshots (restored from an older backup): the folder that had
 * synced them is told so, and `push --force` makes its files the head again, sending the blobs
 * the server no longer has, so every other machine can clone the result.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clonedFolder, linkedFolder, tempDir, twoMachines, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

describe('a server rolled back to an older state', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;

  beforeAll(async () => {
    server = await startServer();
    ({ a, b } = await twoMachines(server.url, 'rollback@example.com'));
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('pull says what happened; push --force restores the head with every blob it needs', async () => {
    const { dir, init } = await linkedFolder(a, 'rolled', { 'a.json': '{"a":1}', 'b.json': '{"b":1}' }, { prefix: 'isync-rollback-' });
    const wsId = json(init.stdout).id as string;
    writeFileSync(path.join(dir, 'b.json'), '{"b":"only in the lost snapshot"}');
    expect((await a.run(['push'], { cwd: dir })).code).toBe(0);

    // What a restore from a backup taken between the two pushes leaves: the first snapshot at the
    // head, and neither the second nor the blob only it referenced.
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    try {
      const lost = db.prepare('SELECT head FROM workspaces WHERE id = ?').pluck().get(wsId) as string;
      const parent = db.prepare('SELECT parent FROM snapshots WHERE workspace_id = ? AND id = ?').pluck().get(wsId, lost) as string;
      const onlyLost = db
        .prepare('SELECT blob_id FROM snapshot_blobs WHERE workspace_id = ? AND snapshot_id = ? EXCEPT SELECT blob_id FROM snapshot_blobs WHERE workspace_id = ? AND snapshot_id = ?')
        .pluck()
        .all(wsId, lost, wsId, parent) as Buffer[];
      expect(onlyLost).toHaveLength(1);
      db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(parent, wsId);
      db.prepare('DELETE FROM snapshots WHERE workspace_id = ? AND id = ?').run(wsId, lost);
      db.prepare('DELETE FROM blobs WHERE workspace_id = ? AND id = ?').run(wsId, onlyLost[0]);
    } finally {
      db.close();
    }

    // log, export (and status) in the folder say so too, rather than show the older head as the newest
    const exported = path.join(tempDir('isync-rollback-export-'), 'copy');
    for (const args of [['log'], ['log', '-n', '1'], ['status'], ['export', '--out', exported]]) {
      const res = await a.run(args, { cwd: dir });
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(7);
      expect(res.stderr).toContain('not in the remote history');
    }
    expect(existsSync(exported)).toBe(false);
    const pulled = await a.run(['pull'], { cwd: dir });
    expect(pulled.code).toBe(7);
    expect(pulled.stderr).toContain('not in the remote history');
    expect(pulled.stderr).toContain('push --force');
    const forced = await a.run(['push', '--force', '--json'], { cwd: dir });
    expect(forced.code, forced.stderr).toBe(0);
    expect(json(forced.stdout).snapshot).toMatch(/^[0-9a-f]{64}$/);

    const other = await clonedFolder(b, 'rolled', 'isync-rollback-b-');
    expect(readFileSync(path.join(other, 'b.json'), 'utf8')).toBe('{"b":"only in the lost snapshot"}');
    expect((await b.run(['verify'], { cwd: other })).code).toBe(0);
  }, 90_000);
});
