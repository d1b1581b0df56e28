/**
 * A linked folder remembers its server as it remembers its profile: two real servers, one machine
 * with a profile on each. In a folder linked (with --profile two) to the second server,
 * INSOMNIA_SYNC_SERVER naming the first does not redirect the folder's commands, an explicit
 * --server naming the first is a usage error (exit 2) naming both, and no message says `logout`,
 * which would wipe the keys the profile holds.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';

describe('the server of a linked folder', () => {
  let one: StartedServer;
  let two: StartedServer;
  let m: Machine;
  let dir: string;

  beforeAll(async () => {
    [one, two] = await Promise.all([startServer(), startServer()]);
    m = machine(one.url);
    await signupMachine(m, 'one@example.com');
    const up = await m.run(['--profile', 'two', '--server', two.url, 'signup', '--email', 'two@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(up.code, up.stderr).toBe(0);
    dir = tempDir('isync-linked-server-');
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}');
    const init = await m.run(['--profile', 'two', '--server', two.url, 'init', '--name', 'on-two'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
  });

  it('wins over INSOMNIA_SYNC_SERVER naming another server: status, push and log go to the linked one', async () => {
    // m's INSOMNIA_SYNC_SERVER is the first server, as a shell or CI job would have it set
    const status = await m.run(['status', '--json'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    const push = await m.run(['push', '-m', 'to two'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);
    const log = await m.run(['log', '--json'], { cwd: dir });
    expect(log.code, log.stderr).toBe(0);
    expect(JSON.parse(log.stdout).snapshots[0].author.email).toBe('two@example.com');
    // nothing of it reached the first server
    const onOne = await m.run(['workspace', 'list', '--json']);
    expect(JSON.parse(onOne.stdout).workspaces).toEqual([]);
  });

  it('refuses a --server naming another server with exit 2, naming both, hinting no logout', async () => {
    for (const args of [['--server', one.url, 'status'], ['--server', one.url, 'push']]) {
      const res = await m.run(args, { cwd: dir });
      expect(res.code, res.stderr).toBe(2);
      expect(res.stderr.split('\n')[0]).toBe(`error: this folder is linked to ${two.url}, not ${one.url}`);
      expect(res.stderr).not.toContain('logout');
    }
    // the same server, given explicitly, is fine
    expect((await m.run(['--server', `${two.url}/`, 'status'], { cwd: dir })).code).toBe(0);
  });
});
