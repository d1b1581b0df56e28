/**
 * What the account lifecycle tells people, end to end on SQLite (the real server, the real CLI):
 * the cap on activation mails to an address the sender may not control (and the honest text of
 * that mail), the 401 that says how a session ended (signed out elsewhere, account deleted), the
 * recovery hint for a key a password change revoked, and the outbox keeping nothing that names a
 * deleted account or the invitations of a deleted team.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runServerCommand, startServer, type StartedServer } from '../helpers/server-process.js';
import { PASSWORD, loginMachine, machine, signupMachine, tempDir, type CliResult, type Machine, type RunOptions } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';

const json = <T = any>(s: string): T => JSON.parse(s) as T;
const NEW_PASSWORD = 'a second passphrase 22';

async function must(m: Machine, args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const res = await m.run(args, opts);
  if (res.code !== 0) throw new Error(`${args.join(' ')} → ${res.code}: ${res.stderr}`);
  return res;
}

const serverCli = runServerCommand;

function outboxTo(dataDir: string, to: string): string[] {
  const dir = path.join(dataDir, 'outbox');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .filter((t) => t.includes(`\r\nTo: ${to}\r\n`));
}

/** Every file under `dir` (database, WAL, outbox, logs) whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (statSync(p).isFile() && readFileSync(p).includes(Buffer.from(needle))) out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

describe('account lifecycle signals, end to end', () => {
  let server: StartedServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('activation mails: at most 5 an hour per account, the signup counted, also after a restart; over it exit 6 with when', async () => {
    const email = 'not-mine@example.com';
    const m = machine(server.url);
    await signupMachine(m, email);
    const mail = outboxTo(server.dataDir, email)[0]!;
    // the mail says what an unconfirmed signup means for the owner of the address
    expect(mail).not.toContain('nothing happens without the code');
    expect(mail).toMatch(/the address stays taken by that unconfirmed account/);
    expect(mail).toMatch(/contact its operator/);
    for (let i = 0; i < 4; i++) await must(m, ['account', 'verify', '--resend']);
    const refused = await m.run(['account', 'verify', '--resend']);
    expect(refused.code, refused.stderr).toBe(6);
    expect(refused.stderr).toMatch(/^error: 5 activation mails were sent to your address in the last hour, the most allowed per hour; the next can be sent after \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
    expect(refused.stderr).toMatch(/wait (\d+ minutes|\d+ seconds) and try again/);
    const asJson = await m.run(['account', 'verify', '--resend', '--json']);
    expect(asJson.code).toBe(6);
    expect(json(asJson.stderr).error.code).toBe('rate_limited');
    expect(outboxTo(server.dataDir, email)).toHaveLength(5);

    // counted in the database: a restart does not reset it
    await server.stop();
    server = await startServer({ dataDir: server.dataDir });
    const again = await machine(server.url);
    await loginMachine(again, email);
    expect((await again.run(['account', 'verify', '--resend'])).code).toBe(6);
    expect(outboxTo(server.dataDir, email)).toHaveLength(5);
    // the last code mailed still works
    await must(again, ['account', 'verify', mailedCode(server.dataDir, email, 'Verification code')]);
  });

  it('admin delete-unverified frees an address an unconfirmed signup took; a confirmed account is refused and kept', async () => {
    const address = 'taken@example.com';
    const squatter = machine(server.url);
    await signupMachine(squatter, address);
    const owner = machine(server.url);
    const blocked = await owner.run(['signup', '--email', address, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(blocked.code, blocked.stderr).toBe(3);
    expect(outboxTo(server.dataDir, address)).toHaveLength(1);

    const freed = serverCli(['admin', 'delete-unverified', ` ${address.toUpperCase()} `, '--data-dir', server.dataDir]);
    expect(freed.code, freed.stderr).toBe(0);
    expect(freed.stdout).toMatch(/^deleted the unconfirmed account of taken@example\.com \(signed up \d{4}-.*; 1 waiting mail\(s\) removed from the outbox\. The address is free to sign up with again\.\n$/);
    expect(outboxTo(server.dataDir, address)).toHaveLength(0);
    expect((await squatter.run(['whoami'])).code).toBe(4);

    await signupMachine(owner, address);
    await must(owner, ['account', 'verify', mailedCode(server.dataDir, address, 'Verification code')]);
    const refused = serverCli(['admin', 'delete-unverified', address, '--data-dir', server.dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^insomnia-sync-server: taken@example\.com was confirmed on \d{4}-[^ ]+: only an account whose address was never confirmed is deleted here/);
    expect((await owner.run(['whoami'])).code).toBe(0);
    const unknown = serverCli(['admin', 'delete-unverified', 'nobody@example.com', '--data-dir', server.dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('insomnia-sync-server: no account uses nobody@example.com\n');
  });

  it('admin delete-unverified --mail-outbox DIR removes the waiting mails from DIR (a server started with --mail-outbox DIR)', async () => {
    const address = 'elsewhere@example.com';
    await signupMachine(machine(server.url), address);
    const [mail] = readdirSync(path.join(server.dataDir, 'outbox')).filter((f) => readFileSync(path.join(server.dataDir, 'outbox', f), 'utf8').includes(`\r\nTo: ${address}\r\n`));
    const other = tempDir('isync-outbox-');
    renameSync(path.join(server.dataDir, 'outbox', mail!), path.join(other, mail!));

    const freed = serverCli(['admin', 'delete-unverified', address, '--mail-outbox', other, '--data-dir', server.dataDir]);
    expect(freed.code, freed.stderr).toBe(0);
    expect(freed.stdout).toContain('; 1 waiting mail(s) removed from the outbox.');
    expect(readdirSync(other)).toEqual([]);
  });

  it('a revoked session, and one a password change signed out, say so with a hint; an unknown token does not', async () => {
    const email = 'two-machines@example.com';
    const a = machine(server.url);
    const b = machine(server.url);
    await signupMachine(a, email);
    await loginMachine(b, email);
    const bId = json(readFileSync(path.join(b.configDir, 'sessions', 'default.json'), 'utf8')).sessionId as string;
    await must(a, ['account', 'sessions', '--revoke', bId]);
    const revoked = await b.run(['whoami']);
    expect(revoked.code).toBe(4);
    expect(revoked.stderr).toMatch(/^error: this session was signed out on \d{4}-\d\d-\d\d \d\d:\d\d UTC \(by `logout`, a password change, an account recovery, or `account sessions --revoke` from another session\)\n/);
    expect(revoked.stderr).toMatch(/If you did not sign this machine out, someone else may know your password/);
    const asJson = json((await b.run(['whoami', '--json'])).stderr);
    expect(asJson.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/^this session was signed out on /) });

    // a password change on A: B's next push (a folder command) is told the same
    await loginMachine(b, email);
    const dir = tempDir('isync-ws-');
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}');
    await must(b, ['init', '--name', 'Mine'], { cwd: dir });
    await must(a, ['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n${NEW_PASSWORD}\n` });
    writeFileSync(path.join(dir, 'b.json'), '{"b":2}');
    const push = await b.run(['push', '-m', 'after'], { cwd: dir });
    expect(push.code).toBe(4);
    expect(push.stderr).toMatch(/^error: this session was signed out on .* UTC \(by `logout`, a password change/);
    expect(push.stderr).toMatch(/account recover/);

    // a token the server never issued gets the plain answer
    const file = path.join(b.configDir, 'sessions', 'default.json');
    writeFileSync(file, JSON.stringify({ ...json(readFileSync(file, 'utf8')), sessionToken: 'A'.repeat(43) }), { mode: 0o600 });
    const unknown = await b.run(['whoami']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/^error: not signed in or session expired\nhint: run `insomnia-sync login --email two-machines@example\.com`\n$/);
  });

  it('`account recover` with a key a password change revoked: the hint says a password change revokes keys', async () => {
    const email = 'recover-stale@example.com';
    const a = machine(server.url);
    await signupMachine(a, email);
    const key = json((await must(a, ['account', 'recovery-key', '--password-stdin', '--json'], { input: `${PASSWORD}\n` })).stdout).recoveryKey as string;
    await must(a, ['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n${NEW_PASSWORD}\n` });
    const res = await machine(server.url).run(['account', 'recover', '--email', email, '--password-stdin'], { input: `${key}\n${'yet another one 9'}\n` });
    expect(res.code).toBe(4);
    expect(res.stderr).toMatch(/wrong email or recovery key/);
    expect(res.stderr).toMatch(/when the password was changed after it was made \(`account password` revokes it\)/);
  });

  it('account delete: a machine still signed in is told the account was deleted; the data dir names the address only in the receipt', async () => {
    const alice = 'alice-deletes@example.com';
    const [a, b, bob] = [machine(server.url), machine(server.url), machine(server.url)];
    await signupMachine(a, alice);
    await loginMachine(b, alice);
    await signupMachine(bob, 'bob-stays@example.com');
    for (const [m, email] of [[a, alice], [bob, 'bob-stays@example.com']] as const) {
      await must(m, ['account', 'verify', mailedCode(server.dataDir, email, 'Verification code')]);
    }
    // a team only alice is in (it goes with the account), with an invitation she sent
    await must(a, ['team', 'create', 'Solo']);
    await must(a, ['team', 'invite', 'carol@example.com', '--team', 'Solo']);
    // a team bob stays in, with an open invitation alice sent
    await must(a, ['team', 'create', 'Shared']);
    await must(a, ['team', 'invite', 'bob-stays@example.com', '--team', 'Shared']);
    await must(bob, ['team', 'accept', mailedCode(server.dataDir, 'bob-stays@example.com', 'Invite code')]);
    await must(a, ['team', 'confirm', 'bob-stays@example.com', '--team', 'Shared', '--yes']);
    await must(a, ['team', 'invite', 'dave@example.com', '--team', 'Shared']);
    await must(a, ['team', 'role', 'bob-stays@example.com', 'owner', '--team', 'Shared']);
    expect(filesContaining(server.dataDir, alice).filter((f) => f.startsWith('outbox')).length).toBeGreaterThanOrEqual(4);

    await must(a, ['account', 'delete', '--yes', '--password-stdin'], { input: `${PASSWORD}\n` });

    const gone = await b.run(['whoami']);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^error: the account of this session was deleted on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n/);
    expect(gone.stderr).toMatch(/`insomnia-sync logout` removes its keys from this machine/);
    expect((await b.run(['logout'])).code).toBe(0);

    // the invitation alice sent in the team that stays is withdrawn with its mail
    const members = json((await must(bob, ['team', 'members', '--team', 'Shared', '--json'])).stdout);
    expect(members.invitations).toEqual([]);
    expect(outboxTo(server.dataDir, 'carol@example.com')).toEqual([]);
    expect(outboxTo(server.dataDir, 'dave@example.com')).toEqual([]);
    // only the receipt names the address (sync.db and its WAL included; the log never does)
    const naming = filesContaining(server.dataDir, alice);
    expect(naming).toHaveLength(1);
    expect(naming[0]).toMatch(/^outbox\/.*\.eml$/);
    expect(readFileSync(path.join(server.dataDir, naming[0]!), 'utf8')).toMatch(/^Subject: insomnia-sync: your account was deleted\r$/m);
  });

  it('team delete removes the invitation mails of the team still waiting, and no other', async () => {
    const owner = machine(server.url);
    const email = 'team-owner@example.com';
    await signupMachine(owner, email);
    await must(owner, ['account', 'verify', mailedCode(server.dataDir, email, 'Verification code')]);
    await must(owner, ['team', 'create', 'Doomed']);
    await must(owner, ['team', 'create', 'Lasting']);
    await must(owner, ['team', 'invite', 'erin@example.com', 'frank@example.com', '--team', 'Doomed']);
    await must(owner, ['team', 'invite', 'erin@example.com', '--team', 'Lasting']);
    expect(outboxTo(server.dataDir, 'erin@example.com')).toHaveLength(2);
    expect(outboxTo(server.dataDir, 'frank@example.com')).toHaveLength(1);
    await must(owner, ['team', 'delete', '--team', 'Doomed', '--yes']);
    expect(outboxTo(server.dataDir, 'frank@example.com')).toEqual([]);
    const left = outboxTo(server.dataDir, 'erin@example.com');
    expect(left).toHaveLength(1);
    expect(left[0]).toContain('"Lasting"');
  });
});
