/**
 * status with the server out of reach: still exit 6, but what can be told from the folder alone
 * is told first (stdout; with --json, in the error's details), as git status needs no remote.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedMachine, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

describe('status with the server out of reach', () => {
  let server: StartedServer;
  let m: Machine;
  let dir: string;

  beforeAll(async () => {
    server = await startServer();
    ({ machine: m, dir } = await linkedMachine(server.url, 'offline@example.com', { name: 'offline', files: { 'a.json': '{"a":1}', 'b.json': '{"b":1}', 'c.json': '{"c":1}' } }));
    await server.stop();
  }, 60_000);
  afterAll(async () => {
    await server?.cleanup();
  });

  it('a clean folder: "No local changes", the remote unknown, exit 6', async () => {
    const res = await m.run(['status'], { cwd: dir });
    expect(res.code, res.stderr).toBe(6);
    expect(res.stdout).toContain('No local changes.');
    expect(res.stdout).toContain("The remote's state is unknown: the server cannot be reached.");
    expect(res.stderr).toMatch(/^error: cannot reach the server/m);
  });

  it("the hint names the folder's own server, not --server or INSOMNIA_SYNC_SERVER, which a linked folder does not use", async () => {
    const res = await m.run(['status'], { cwd: dir });
    expect(res.code, res.stderr).toBe(6);
    expect(res.stderr).toContain(`error: cannot reach the server at ${server.url} (ECONNREFUSED)\n`);
    expect(res.stderr).toContain(`hint: this folder is linked to ${server.url} (.insomnia-sync/link.json): check that that server is running\n`);
    expect(res.stderr).not.toMatch(/--server|INSOMNIA_SYNC_SERVER/);
    // outside the folder, the server does come from --server or INSOMNIA_SYNC_SERVER (or the session)
    const whoami = await m.run(['whoami']);
    expect(whoami.code).toBe(6);
    expect(whoami.stderr).toContain('hint: check --server or INSOMNIA_SYNC_SERVER, and that the server is running');
  });

  it('added, deleted and touched files are listed (touched ones as modified, not compared); --json puts them in the error details', async () => {
    writeFileSync(path.join(dir, 'a.json'), '{"a":2}');
    rmSync(path.join(dir, 'b.json'));
    writeFileSync(path.join(dir, 'new.json'), '{}');
    const res = await m.run(['status'], { cwd: dir });
    expect(res.code, res.stderr).toBe(6);
    expect(res.stdout).toMatch(/3 local change\(s\):\n {2}M a\.json\n {2}D b\.json\n {2}A new\.json/);
    expect(res.stdout).toContain('touched files are listed as modified');
    const asJson = await m.run(['status', '--json'], { cwd: dir });
    expect(asJson.code).toBe(6);
    expect(asJson.stdout).toBe('');
    const err = (JSON.parse(asJson.stderr) as { error: { code: string; details: { compared: boolean; changes: unknown[]; base: string } } }).error;
    expect(err.code).toBe('unreachable');
    expect(err.details.compared).toBe(false);
    expect(err.details.base).toMatch(/^[0-9a-f]{64}$/);
    expect(err.details.changes).toEqual([
      { kind: 'modified', path: 'a.json' },
      { kind: 'deleted', path: 'b.json' },
      { kind: 'added', path: 'new.json' },
    ]);
  });
});
