/**
 * Logging in again as the same account on the same profile replaces the stored session: the one
 * it replaces is ended on the server, not left live with nothing on this machine able to end it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, PASSWORD, signupMachine, tempDir, type CliResult, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const EMAIL = 'relogin@example.com';

describe('login again as the same account', () => {
  let server: StartedServer;
  let a: Machine;
  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    expect((await signupMachine(a, EMAIL)).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const sessionId = (): string => JSON.parse(readFileSync(path.join(a.configDir, 'sessions', 'default.json'), 'utf8')).sessionId as string;

  it('ends the session it replaces on the server; only the new one is live', async () => {
    const first = sessionId();
    const login = await loginMachine(a, EMAIL);
    expect(login.code, login.stderr).toBe(0);
    const second = sessionId();
    expect(second).not.toBe(first);
    const res = await a.run(['account', 'sessions', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as { sessions: { id: string; current: boolean }[] };
    expect(doc.sessions.map((s) => s.id)).toEqual([second]);
  }, 60_000);

  it('after a sign-out from another machine, the hint is a login command that works: with --email, and the profile (also the one a folder is linked with)', async () => {
    const email = 'relogin-profile@example.com';
    const newPassword = 'a new password 77';
    const work = (args: string[], opts: { input?: string; cwd?: string } = {}): Promise<CliResult> => a.run(['--profile', 'work', ...args], opts);
    expect((await work(['signup', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    const dir = tempDir('isync-relogin-');
    writeFileSync(path.join(dir, 'a.json'), '{}');
    expect((await work(['init', '--name', 'relogin-ws'], { cwd: dir })).code).toBe(0);
    const b = machine(server.url);
    await loginMachine(b, email);
    expect((await b.run(['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n${newPassword}\n` })).code).toBe(0);

    const hinted = (res: CliResult): string => {
      const login = /run `(insomnia-sync [^`]*login[^`]*)`/.exec(res.stderr)?.[1];
      expect(login, res.stderr).toBeDefined();
      return login!;
    };
    const whoami = await work(['whoami']);
    expect(whoami.code).toBe(4);
    expect(hinted(whoami)).toBe(`insomnia-sync --profile work login --email ${email}`);
    expect(whoami.stderr).toContain(`\`insomnia-sync --profile work account recover --email ${email}\``);
    expect(whoami.stderr).toContain('`insomnia-sync --profile work account sessions`');
    // a folder linked with the profile names it too, though this run was given none
    const status = await a.run(['status'], { cwd: dir });
    expect(status.code).toBe(4);
    expect(hinted(status)).toBe(`insomnia-sync --profile work login --email ${email}`);

    // the hinted command, run as it is (the password piped), logs in again
    const [, ...args] = hinted(whoami).split(' ');
    const again = await a.run([...args, '--password-stdin'], { input: `${newPassword}\n` });
    expect(again.code, again.stderr).toBe(0);
    expect((await work(['whoami'])).code).toBe(0);
  }, 60_000);
});
