/**
 * The config directory on this machine, against a real server and real CLI processes:
 * - a session file (or a folder above it) that other users may read is made private before it is
 *   used, with one warning line naming the paths and no secret; one that is another user's is
 *   refused (SPEC §3, §4: files 0600, folder 0700);
 * - signup and login check the config folder and config.json before they ask anything of the
 *   server, so a damaged file, a file in the folder's place or a folder that cannot be written
 *   leaves no account or session behind that no machine holds, and the error names the path;
 * - account delete reads config.json before the account is gone;
 * - logout that cannot remove the session file says the server's session ended and names the file.
 * Folders made read-only are met as a user meets them: the CLI runs without root's override of
 * permission bits (withoutReadOverride).
 */
import { chmodSync, chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { loginMachine, machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';

const user = { withoutReadOverride: true };
const isRoot = process.getuid?.() === 0;
const modeOf = (p: string): number => statSync(p).mode & 0o777;
const json = <T = any>(s: string): T => JSON.parse(s) as T;

describe('the config directory', () => {
  let server: StartedServer;
  /** logged in to the account the tests log in to again, to count its sessions */
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

  const liveSessions = async (): Promise<number> => json((await watcher.run(['account', 'sessions', '--json'])).stdout).sessions.length;
  const login = (m: Machine, extra = {}) => m.run(['login', '--email', EMAIL, '--password-stdin'], { input: `${PASSWORD}\n`, ...extra });
  const signup = (m: Machine, email: string, extra = {}) => m.run(['signup', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n`, ...extra });
  /** whether an account exists: its password logs in (exit 0) or not (exit 4) */
  const accountExists = async (email: string): Promise<boolean> => (await machine(server.url).run(['login', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` })).code === 0;
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

    it.skipIf(!isRoot)("is refused, unchanged, when it is another user's and cannot be made private; logout still ends it", async () => {
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
      // logout still ends it: that is the remedy, not a use
      const out = await m.run(['logout']);
      expect(out.code, out.stderr).toBe(0);
      expect(existsSync(file)).toBe(false);
    });
  });

  describe('checked before the server is asked', () => {
    it.each([
      ['not JSON', 'not json\n', /config\.json is not valid JSON$/],
      ['cut short', '', /config\.json ends too early \(cut short\?\): it is not valid JSON$/],
      ['not settings', '{"profiles":[]}', /config\.json does not hold insomnia-sync settings/],
    ])('a config.json that is %s: signup names it (exit 1) and creates no account', async (_what, content, message) => {
      const m = machine(server.url);
      writeFileSync(path.join(m.configDir, 'config.json'), content);
      const email = `damaged-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const res = await signup(m, email);
      expect(res.code, res.stderr).toBe(1);
      expect(errorLine(res.stderr)).toMatch(new RegExp(`^error: ${path.join(m.configDir, 'config.json').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `));
      expect(errorLine(res.stderr)).toMatch(message);
      expect(res.stderr).toMatch(/^hint: fix it, or move it away/m);
      expect(res.stderr).not.toMatch(/Unexpected|SyntaxError|at position/);
      expect(existsSync(path.join(m.configDir, 'sessions', 'default.json'))).toBe(false);
      expect(await accountExists(email)).toBe(false);
    });

    it('a damaged config.json: login names it (exit 1, --json code bad_state) and opens no session', async () => {
      const m = machine(server.url);
      writeFileSync(path.join(m.configDir, 'config.json'), '{"profiles":{');
      const before = await liveSessions();
      const res = await m.run(['login', '--email', EMAIL, '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
      expect(res.code).toBe(1);
      expect(json(res.stderr).error).toMatchObject({ code: 'bad_state', message: `${path.join(m.configDir, 'config.json')} is not valid JSON` });
      expect(await liveSessions()).toBe(before);
    });

    it('a damaged config.json: account delete names it (exit 1) before the account is deleted', async () => {
      const m = machine(server.url);
      const email = 'delete-damaged@example.com';
      await signupMachine(m, email);
      writeFileSync(path.join(m.configDir, 'config.json'), 'not json\n');
      const res = await m.run(['account', 'delete', '--yes', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(res.code).toBe(1);
      expect(errorLine(res.stderr)).toBe(`error: ${path.join(m.configDir, 'config.json')} is not valid JSON`);
      expect(await accountExists(email)).toBe(true);
    });

    it('a file where the config folder goes: login and signup exit 2 naming it, with no session or account made', async () => {
      const where = path.join(tempDir('isync-config-file-'), 'config');
      writeFileSync(where, 'a file, not a folder\n');
      const m = machine(server.url, where);
      const before = await liveSessions();
      const res = await login(m);
      expect(res.code, res.stderr).toBe(2);
      expect(errorLine(res.stderr)).toBe(`error: ${where} is not a folder (a file is in its way)`);
      expect(res.stderr).not.toMatch(/EEXIST|mkdir/);
      expect(await liveSessions()).toBe(before);
      const up = await signup(m, 'in-the-way@example.com');
      expect(up.code).toBe(2);
      expect(await accountExists('in-the-way@example.com')).toBe(false);
    });

    it('a config folder that cannot be written: login and signup exit 1 naming it, with no session or account made', async () => {
      const m = machine(server.url);
      // a config.json already there, so only the session would need a write
      writeFileSync(path.join(m.configDir, 'config.json'), '{"profiles":{}}\n');
      chmodSync(m.configDir, 0o500);
      const before = await liveSessions();
      const res = await login(m, user);
      expect(res.code, res.stderr).toBe(1);
      expect(errorLine(res.stderr)).toBe(`error: cannot write ${m.configDir} (permission denied, EACCES)`);
      expect(res.stderr).toContain('hint: make it writable, or point INSOMNIA_SYNC_CONFIG_DIR at a folder you can write');
      expect(await liveSessions()).toBe(before);
      const up = await signup(m, 'read-only@example.com', user);
      expect(up.code).toBe(1);
      expect(await accountExists('read-only@example.com')).toBe(false);
      // the mode was left as the user set it
      expect(modeOf(m.configDir)).toBe(0o500);
    });
  });

  it('logout that cannot remove the session file says the server session ended and names the file (exit 1)', async () => {
    const m = machine(server.url);
    await loginMachine(m, EMAIL);
    const sessions = path.join(m.configDir, 'sessions');
    const file = path.join(sessions, 'default.json');
    const token = json(readFileSync(file, 'utf8')).sessionToken as string;
    chmodSync(sessions, 0o500);
    const res = await m.run(['logout'], user);
    expect(res.code).toBe(1);
    expect(errorLine(res.stderr)).toBe(`error: the session ended on the server, but ${file} could not be removed (permission denied, EACCES): it still holds your account keys`);
    expect(res.stderr).toContain(`hint: delete it yourself: rm ${file}`);
    expect(res.stderr).not.toMatch(/unlink|EACCES:/);
    // it did end on the server: the file's session is refused
    chmodSync(sessions, 0o700);
    expect(existsSync(file)).toBe(true);
    expect(json(readFileSync(file, 'utf8')).sessionToken).toBe(token);
    expect((await m.run(['whoami'])).code).toBe(4);
  });

  it('a missing config folder is still made (0700) by login, as before', async () => {
    const where = path.join(tempDir('isync-config-new-'), 'a', 'b');
    const m = machine(server.url, where);
    const res = await login(m);
    expect(res.code, res.stderr).toBe(0);
    expect(modeOf(where)).toBe(0o700);
    expect(modeOf(path.join(where, 'sessions', 'default.json'))).toBe(0o600);
  });
});
