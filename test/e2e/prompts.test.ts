/** Interactive prompts through a real pseudo-terminal (tmux), not a faked prompt library. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { CLI, linkedFolder, linkedMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tty.js';

describe('prompts on a terminal', () => {
  let server: StartedServer;
  const sessions: TmuxSession[] = [];
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    for (const s of sessions) s.kill();
    await server?.stop();
  });

  const open = (args: string, env: Record<string, string>, cwd = tempDir()): TmuxSession => {
    const s = new TmuxSession(`${process.execPath} ${CLI} ${args}`, { NO_COLOR: '1', ...env }, cwd);
    sessions.push(s);
    return s;
  };

  /** the environment that runs the CLI in a terminal as machine `m` */
  const envOf = (m: Machine): Record<string, string> => ({ INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: m.server });

  /** runs the CLI, then says TTY-SANE when the terminal is back in line mode with echo */
  const openChecked = (args: string, env: Record<string, string>): TmuxSession =>
    open(`${args}; s=$?; stty -a | grep -Eq '(^| )icanon( |$)' && stty -a | grep -Eq '(^| )echo( |$)' && echo TTY-SANE; (exit $s)`, env);

  it('Ctrl-C or Ctrl-D at a password prompt cancels: exit 130, one line, terminal sane, no account', async () => {
    const env = { INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-config-'), INSOMNIA_SYNC_SERVER: server.url };
    const c = openChecked('signup --email ctrl-c@example.com', env);
    await c.waitFor(/Choose a password/);
    c.type('half-typ');
    c.keys('C-c');
    expect(await c.exitCode()).toBe(130);
    let screen = c.screen();
    expect(screen).toMatch(/^error: cancelled$/m);
    expect(screen).not.toMatch(/force closed|hint:/);
    expect(screen).toContain('TTY-SANE');

    const d = openChecked('--json signup --email ctrl-d@example.com', env);
    await d.waitFor(/Choose a password/);
    // inside a line Ctrl-D deletes (nothing here): the prompt stays. Shown by keys read after it,
    // not by a pause in which a slow machine might not have read the Ctrl-D yet: Ctrl+T shows the
    // line whole, and a Backspace sent once that is on the screen (after the Ctrl-D's handling)
    // still edits it
    d.type('qzx');
    d.keys('C-d');
    d.keys('C-t');
    await d.waitFor(/qzx/);
    d.keys('BSpace');
    await d.waitFor(/qz(?!x)/);
    expect(d.screen()).not.toMatch(/EXIT=/);
    d.keys('BSpace', 'BSpace', 'C-d');
    expect(await d.exitCode()).toBe(130);
    screen = d.screen();
    expect(screen).toContain('{"error":{"code":"cancelled","message":"cancelled"}}');
    expect(screen).toContain('TTY-SANE');
    for (const email of ['ctrl-c@example.com', 'ctrl-d@example.com']) {
      const login = await machine(server.url).run(['login', '--email', email, '--password-stdin'], { input: 'half-typed\n' });
      expect(login.code).toBe(4);
    }
  });

  it('a password shown with Ctrl+T is erased when the prompt is cancelled, as it is masked on Enter', async () => {
    const env = { INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-config-'), INSOMNIA_SYNC_SERVER: server.url };
    const shown = 'shown-then-cancelled-7q';
    const c = openChecked('login --email shown@example.com', env);
    await c.waitFor(/Password/);
    c.type(shown);
    c.keys('C-t');
    await c.waitFor(new RegExp(shown));
    c.keys('C-c');
    expect(await c.exitCode()).toBe(130);
    // capture-pane reads the scrollback too (-S -200): the password is nowhere
    expect(c.screen()).not.toContain(shown);
    expect(c.screen()).toMatch(/^error: cancelled$/m);
    expect(c.screen()).toContain('TTY-SANE');

    const submitted = 'shown-then-submitted-8r';
    const e = open('login --email shown@example.com', env);
    await e.waitFor(/Password/);
    e.type(submitted);
    e.keys('C-t');
    await e.waitFor(new RegExp(submitted));
    e.enter();
    // no such account: exit 4, and the prompt was drawn again masked
    expect(await e.exitCode()).toBe(4);
    expect(e.screen()).not.toContain(submitted);
  });

  it('CI=true on a terminal says that CI turns prompts off, and how to give the password', async () => {
    const env = { INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-config-'), INSOMNIA_SYNC_SERVER: server.url, CI: 'true' };
    const s = open('login --email ci-terminal@example.com', env);
    expect(await s.exitCode()).toBe(2);
    expect(s.screen()).toMatch(/^error: password: CI=true turns prompts off$/m);
    expect(s.screen()).toMatch(/^hint: pipe it with --password-stdin, or set INSOMNIA_SYNC_PASSWORD; or unset CI to be asked here$/m);
    expect(s.screen()).not.toContain('no terminal');
    // with no terminal at all, it says that
    const piped = await machine(server.url).run(['login', '--email', 'ci-terminal@example.com']);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('error: password: no terminal to ask on');
  });

  it('export --encrypt asks for the passphrase, then to repeat the passphrase (one word for one secret)', async () => {
    const { machine: m, dir } = await linkedMachine(server.url, 'passphrase@example.com', { name: 'Phrase' });
    const s = open(`export --out ${path.join(tempDir(), 'x.tar.gz')} --encrypt`, envOf(m), dir);
    await s.waitFor(/Passphrase/);
    s.type('first passphrase 1');
    s.enter();
    await s.waitFor(/Repeat the passphrase/);
    s.type('other passphrase 2');
    s.enter();
    await s.waitFor(/The two passphrases differ; choose it again\./);
    s.keys('C-c');
    expect(await s.exitCode()).toBe(130);
    expect(s.screen()).not.toMatch(/Repeat the password|passwords differ/);
  });

  it('account password on a terminal re-asks a new password equal to the current one, with no --password-stdin hint', async () => {
    const m = machine(server.url);
    await signupMachine(m, 'same-again@example.com', 'same-password-1');
    const s = open('account password', envOf(m));
    await s.waitFor(/Current password/);
    s.type('same-password-1');
    s.enter();
    await s.waitFor(/New password/);
    s.type('same-password-1');
    s.enter();
    await s.waitFor(/That is your current password: choose another/);
    expect(s.screen()).not.toMatch(/EXIT=|--password-stdin|Repeat/);
    s.keys('C-c');
    expect(await s.exitCode()).toBe(130);
    // piped, the same entry is refused with a hint about the piped lines
    const piped = await m.run(['account', 'password', '--password-stdin'], { input: 'same-password-1\nsame-password-1\n' });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('error: the new password is the same as the current password; nothing was changed');
    expect(piped.stderr).toContain('hint: give a new one on the second line of standard input');
  });

  it('Ctrl-D at a confirmation and Ctrl-C at the typed-email prompt cancel with exit 130 and change nothing', async () => {
    const { machine: m } = await linkedMachine(server.url, 'cancel-confirm@example.com', { name: 'Still here', push: false });
    const env = envOf(m);
    const del = openChecked(`workspace delete 'Still here'`, env);
    await del.waitFor(/Delete workspace "Still here"/);
    del.keys('C-d');
    expect(await del.exitCode()).toBe(130);
    expect(del.screen()).toMatch(/^error: cancelled$/m);
    expect(del.screen()).toContain('TTY-SANE');
    expect(JSON.parse((await m.run(['workspace', 'list', '--json'])).stdout).workspaces).toHaveLength(1);

    const gone = openChecked('account delete', env);
    await gone.waitFor(/Type your email/);
    gone.keys('C-c');
    expect(await gone.exitCode()).toBe(130);
    expect(gone.screen()).toMatch(/^error: cancelled$/m);
    expect(gone.screen()).toContain('TTY-SANE');
    expect((await m.run(['whoami'])).code).toBe(0);
  });

  it('--password-stdin on a terminal is refused at once (exit 2) instead of echoing the password', async () => {
    const env = { INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-config-'), INSOMNIA_SYNC_SERVER: server.url };
    const s = open('login --email tty-stdin@example.com --password-stdin', env);
    expect(await s.exitCode(10_000)).toBe(2);
    expect(s.screen()).toContain('--password-stdin reads from a pipe; leave it out to be asked on the terminal');
  });

  it('signup asks for the password twice with hidden input; login asks once', async () => {
    const configDir = tempDir('isync-config-');
    const env = { INSOMNIA_SYNC_CONFIG_DIR: configDir, INSOMNIA_SYNC_SERVER: server.url };
    const secret = 'typed-on-a-tty-9d2f';
    const signup = open('signup --email tty@example.com', env);
    await signup.waitFor(/Choose a password/);
    signup.type(secret);
    signup.enter();
    await signup.waitFor(/Repeat the password/);
    signup.type(secret);
    signup.enter();
    expect(await signup.exitCode()).toBe(0);
    const screen = signup.screen();
    expect(screen).toMatch(/Fingerprint: (\d{5} ){7}\d{5}/);
    expect(screen).not.toContain(secret);

    const m = machine(server.url, tempDir('isync-config-'));
    const login = open('login --email tty@example.com', { ...env, INSOMNIA_SYNC_CONFIG_DIR: m.configDir });
    await login.waitFor(/Password/);
    login.type(secret);
    login.enter();
    expect(await login.exitCode()).toBe(0);
    expect(login.screen()).not.toContain(secret);
    expect((await m.run(['whoami', '--json'])).code).toBe(0);
  });

  it('signup re-asks an empty or short first entry at once, and starts over when the repeat differs', async () => {
    const configDir = tempDir('isync-config-');
    const s = open('signup --email reask@example.com', { INSOMNIA_SYNC_CONFIG_DIR: configDir, INSOMNIA_SYNC_SERVER: server.url });
    await s.waitFor(/Choose a password/);
    s.enter();
    await s.waitFor(/Type it, or Ctrl-C to cancel/);
    s.type('short');
    s.enter();
    await s.waitFor(/At least 8 characters/);
    expect(s.screen()).not.toMatch(/Repeat the password/);
    // the short entry stays in the line: the rest is added to it
    s.type('-but-now-long');
    s.enter();
    await s.waitFor(/Repeat the password/);
    s.type('a typo in the repeat');
    s.enter();
    await s.waitFor(/The two passwords differ; choose it again\.[\s\S]*Choose a password/);
    s.type('short-but-now-long');
    s.enter();
    await s.waitFor(/differ[\s\S]*Repeat the password/);
    s.type('short-but-now-long');
    s.enter();
    expect(await s.exitCode()).toBe(0);
    const login = await machine(server.url).run(['login', '--email', 'reask@example.com', '--password-stdin'], { input: 'short-but-now-long\n' });
    expect(login.code, login.stderr).toBe(0);
  });

  it('three mismatched repeats at signup: exit 2 and no account', async () => {
    const configDir = tempDir('isync-config-');
    const s = open('signup --email mismatch@example.com', { INSOMNIA_SYNC_CONFIG_DIR: configDir, INSOMNIA_SYNC_SERVER: server.url });
    for (let round = 1; round <= 3; round++) {
      await s.waitFor(new RegExp(`(Choose a password[\\s\\S]*){${round}}`));
      s.type('first-password-1');
      s.enter();
      await s.waitFor(new RegExp(`(Repeat the password[\\s\\S]*){${round}}`));
      s.type('other-password-2');
      s.enter();
    }
    expect(await s.exitCode()).toBe(2);
    expect(s.screen()).toContain('error: the two passwords differ');
    const m = machine(server.url);
    const login = await m.run(['login', '--email', 'mismatch@example.com', '--password-stdin'], { input: 'first-password-1\n' });
    expect(login.code).toBe(4);
  });

  it('account password checks the current password before asking for the new one', async () => {
    const m = machine(server.url);
    await signupMachine(m, 'change@example.com', 'current-password-1');
    const env = envOf(m);
    const wrong = open('account password', env);
    await wrong.waitFor(/Current password/);
    wrong.type('not-the-password');
    wrong.enter();
    expect(await wrong.exitCode()).toBe(4);
    expect(wrong.screen()).toContain('error: wrong password; nothing was changed');
    expect(wrong.screen()).not.toMatch(/New password/);

    const right = open('account password', env);
    await right.waitFor(/Current password/);
    right.type('current-password-1');
    right.enter();
    await right.waitFor(/New password/);
    right.type('the-new-password-2');
    right.enter();
    await right.waitFor(/Repeat the password/);
    right.type('the-new-password-2');
    right.enter();
    expect(await right.exitCode()).toBe(0);
    const login = await machine(server.url).run(['login', '--email', 'change@example.com', '--password-stdin'], { input: 'the-new-password-2\n' });
    expect(login.code, login.stderr).toBe(0);
  });

  it('workspace delete asks for confirmation; answering no keeps the workspace', async () => {
    const { machine: m } = await linkedMachine(server.url, 'confirm@example.com', { name: 'Keep me', push: false });
    const env = envOf(m);
    const no = open(`workspace delete 'Keep me'`, env);
    await no.waitFor(/Delete workspace "Keep me"/);
    no.type('n');
    no.enter();
    expect(await no.exitCode()).toBe(2);
    expect(JSON.parse((await m.run(['workspace', 'list', '--json'])).stdout).workspaces).toHaveLength(1);
    const yes = open(`workspace delete 'Keep me'`, env);
    await yes.waitFor(/Delete workspace "Keep me"/);
    yes.type('y');
    yes.enter();
    expect(await yes.exitCode()).toBe(0);
    expect(JSON.parse((await m.run(['workspace', 'list', '--json'])).stdout).workspaces).toHaveLength(0);
  });

  it('restore over unpushed changes answered no exits 2, as a declined workspace delete does, and keeps them', async () => {
    const { machine: m, dir } = await linkedMachine(server.url, 'restore-no@example.com', { name: 'Restore me', files: { 'a.json': '{"v":1}' }, message: 'one' });
    const first = JSON.parse((await m.run(['log', '--json'], { cwd: dir })).stdout).snapshots[0].id as string;
    writeFileSync(path.join(dir, 'a.json'), '{"v":2}');
    const s = open(`restore ${first}`, envOf(m), dir);
    await s.waitFor(/Overwrite 1 unpushed change\(s\) to synced files \(a\.json\) with snapshot/);
    s.type('n');
    s.enter();
    expect(await s.exitCode()).toBe(2);
    expect(s.screen()).toContain('error: not restored: you have unpushed changes');
    expect(readFileSync(path.join(dir, 'a.json'), 'utf8')).toBe('{"v":2}');
  });

  it('team confirm --all asks about each fingerprint; only the vouched-for member gets the key', async () => {
    const mailed = (to: string, kind: string): string => {
      const dir = path.join(server.dataDir, 'outbox');
      for (const f of readdirSync(dir).sort().reverse()) {
        const text = readFileSync(path.join(dir, f), 'utf8');
        const m = new RegExp(`^${kind}: (\\S+)\\r?$`, 'm').exec(text);
        if (text.includes(`To: ${to}\r\n`) && m) return m[1]!;
      }
      throw new Error(`no ${kind} for ${to}`);
    };
    const [owner, yes, no] = [machine(server.url), machine(server.url), machine(server.url)];
    for (const [m, email] of [[owner, 'owner@example.com'], [yes, 'vouched@example.com'], [no, 'doubted@example.com']] as const) await signupMachine(m, email);
    expect((await owner.run(['account', 'verify', mailed('owner@example.com', 'Verification code')])).code).toBe(0);
    expect((await owner.run(['team', 'create', 'Crew'])).code).toBe(0);
    expect((await owner.run(['team', 'invite', 'vouched@example.com', 'doubted@example.com', '--team', 'Crew'])).code).toBe(0);
    expect((await yes.run(['team', 'accept', mailed('vouched@example.com', 'Invite code')])).code).toBe(0);
    expect((await no.run(['team', 'accept', mailed('doubted@example.com', 'Invite code')])).code).toBe(0);
    const fingerprintOf = async (m: typeof owner) => JSON.parse((await m.run(['whoami', '--json'])).stdout).fingerprint as string;
    const [fpYes, fpNo] = [await fingerprintOf(yes), await fingerprintOf(no)];

    const s = open('team confirm --all --team Crew', envOf(owner));
    // The members come in the server's order: answer by what the screen shows.
    for (let round = 0; round < 2; round++) {
      const screen = await s.waitFor(round === 0 ? /Does it match/ : /Does it match[\s\S]*Does it match/);
      // tmux wraps long lines: compare without any white space
      const flat = screen.replace(/\s+/g, '');
      const at = flat.lastIndexOf('Fingerprint');
      const last = flat.slice(at, at + 140);
      const asksAboutVouched = last.includes('vouched@example.com');
      expect(last).toContain((asksAboutVouched ? fpYes : fpNo).replace(/\s+/g, ''));
      s.type(asksAboutVouched ? 'y' : 'n');
      s.enter();
    }
    expect(await s.exitCode()).toBe(0);
    const members = JSON.parse((await owner.run(['team', 'members', '--team', 'Crew', '--json'])).stdout).members as { email: string; status: string }[];
    expect(members.find((m) => m.email === 'vouched@example.com')?.status).toBe('confirmed');
    expect(members.find((m) => m.email === 'doubted@example.com')?.status).not.toBe('confirmed');
    // the vouched-for member can now read the team; the other still cannot
    await linkedFolder(owner, 'crew-ws', { 'crew.json': '{}' }, { initArgs: ['--team', 'Crew'] });
    const cloneYes = await yes.run(['clone', 'crew-ws', path.join(tempDir(), 'c')]);
    expect(cloneYes.code, cloneYes.stderr).toBe(0);
    const cloneNo = await no.run(['clone', 'crew-ws', path.join(tempDir(), 'c')]);
    expect(cloneNo.code).not.toBe(0);
  });
});
