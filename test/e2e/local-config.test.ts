/**
 * The config directory on this machine, against a real server and real CLI processes: a session
 * file (or a folder above it) that other users may read is made private before it is used, with
 * one warning line naming the paths and no secret; one that is another user's is refused (SPEC
 * §3, §4: files 0600, folder 0700).
 */
import { chmodSync, chownSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { loginMachine, machine, signupMachine, type Machine } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const modeOf = (p: string): number => statSync(p).mode & 0o777;
const json = <T = any>(s: string): T => JSON.parse(s) as T;

describe('the config directory', () => {
  let server: StartedServer;
  /** the account's first machine; the tests log in to it again */
  let watcher: Machine;
  const EMAIL = 'local@example.com';

  beforeAll(async () => {
    server = await startServer();
    watcher = machine(server.url);
    await signupMachine(watcher, EMAIL);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const errorLine = (stderr: string): string => stderr.split('\n')[0]!;

  describe('a session file other users can read', () => {
    it('is made private (0600, folders 0700) before use, with one warning line and no secret', async () => {
      const m = machine(server.url);
      await loginMachine(m, EMAIL);
      const sessions = path.join(m.configDir, 'sessions');
      const file = path.join(sessions, 'default.json');
      chmodSync(m.configDir, 0o755);
      chmodSync(sessions, 0o755);
      chmodSync(file, 0o644);
      const res = await m.run(['whoami']);
      expect(res.code, res.stderr).toBe(0);
      const lines = res.stderr.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^warning: .*default\.json \(0644\), .*sessions \(0755\) and .* \(0755\) were readable by other users: made private/);
      const secrets = json(readFileSync(file, 'utf8'));
      for (const secret of [secrets.sessionToken, secrets.accountKey, secrets.x25519Secret, secrets.ed25519Secret]) expect(res.stderr).not.toContain(secret);
      expect([modeOf(m.configDir), modeOf(sessions), modeOf(file)]).toEqual([0o700, 0o700, 0o600]);
      // once private, nothing more is said
      const again = await m.run(['whoami']);
      expect(again.code).toBe(0);
      expect(again.stderr).toBe('');
    });

    it.skipIf(!isRoot)("is refused, unchanged, when it is another user's and cannot be made private", async () => {
      const m = machine(server.url);
      await loginMachine(m, EMAIL);
      const file = path.join(m.configDir, 'sessions', 'default.json');
      chmodSync(file, 0o644);
      chownSync(file, 65534, 65534);
      const res = await m.run(['whoami']);
      expect(res.code).toBe(1);
      expect(errorLine(res.stderr)).toBe(`error: ${file} is readable by other users (mode 0644) and belongs to another user, so it cannot be made private`);
      expect(res.stderr).toContain(`hint: its owner can run \`chmod 600 ${file}\``);
      expect(res.stdout).toBe('');
      expect(modeOf(file)).toBe(0o644);
    });
  });
});
