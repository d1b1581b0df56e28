/**
 * `account recovery-key` over an existing key: the old key stops working the moment the new one is
 * made, so replacing it is confirmed first — on a terminal by a question naming that, without one
 * only with --yes (else exit 2 and nothing changed). The first key needs no confirmation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { CLI, machine, PASSWORD, signupMachine, type Machine } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tty.js';

const EMAIL = 'recovery@example.com';
const json = <T = any>(s: string): T => JSON.parse(s) as T;

describe('account recovery-key over an existing key', () => {
  let server: StartedServer;
  let m: Machine;
  const sessions: TmuxSession[] = [];

  beforeAll(async () => {
    server = await startServer();
    m = machine(server.url);
    await signupMachine(m, EMAIL);
  });
  afterAll(async () => {
    for (const s of sessions) s.kill();
    await server?.stop();
  });

  const recoveryKey = async (): Promise<{ set: boolean; createdAt: string | null }> => json((await m.run(['account', 'show', '--json'])).stdout).recoveryKey;
  const make = (...extra: string[]) => m.run(['account', 'recovery-key', '--password-stdin', '--json', ...extra], { input: `${PASSWORD}\n` });

  it('the first key is made without a question; a second needs --yes without a terminal (exit 2, nothing changed)', async () => {
    const first = await make();
    expect(first.code, first.stderr).toBe(0);
    expect(json(first.stdout)).toMatchObject({ replaced: false });
    const before = await recoveryKey();
    expect(before.set).toBe(true);

    const refused = await m.run(['account', 'recovery-key', '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/^error: Replace your recovery key \(made .+\)\? The old key stops working as soon as the new one is made — no terminal to ask on$/m);
    expect(refused.stderr).toContain('hint: pass --yes to confirm');
    expect(refused.stdout).toBe('');
    expect(await recoveryKey()).toEqual(before);

    const replaced = await make('--yes');
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(json(replaced.stdout)).toMatchObject({ replaced: true });
    expect(json(replaced.stdout).recoveryKey).not.toBe(json(first.stdout).recoveryKey);
    // the old key no longer recovers the account
    const old = await machine(server.url).run(['account', 'recover', '--email', EMAIL, '--password-stdin'], {
      input: `${json(first.stdout).recoveryKey}\nanother password 12\n`,
    });
    expect(old.code).toBe(4);
  });

  it('on a terminal it asks, naming that the old key stops working; no keeps the old key (exit 2), yes replaces it', async () => {
    const before = await recoveryKey();
    const open = (): TmuxSession => {
      const s = new TmuxSession(`${process.execPath} ${CLI} account recovery-key`, { NO_COLOR: '1', INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: server.url }, m.configDir);
      sessions.push(s);
      return s;
    };
    const no = open();
    await no.waitFor(/Replace your recovery key \(made .+\)\? The old key stops working as soon as the new one is made/);
    no.type('n');
    no.enter();
    expect(await no.exitCode()).toBe(2);
    expect(no.screen()).toMatch(/^error: recovery key not replaced; nothing was changed$/m);
    expect(no.screen()).not.toMatch(/Password/);
    expect(await recoveryKey()).toEqual(before);

    const yes = open();
    await yes.waitFor(/Replace your recovery key/);
    yes.type('y');
    yes.enter();
    await yes.waitFor(/Password/);
    yes.type(PASSWORD);
    yes.enter();
    expect(await yes.exitCode()).toBe(0);
    expect(yes.screen()).toContain('your earlier one no longer works');
    expect((await recoveryKey()).createdAt).not.toBe(before.createdAt);
  });
});
