/**
 * The SMTP mail path of the real server process against a local SMTP sink (test/helpers/smtp-sink.ts):
 * what a refused, stalled or refusing mail server does to signup, resend, invitations and notices,
 * what the log keeps of it (never an address), where the SMTP password may come from, and that a
 * password is never sent without TLS to a mail server that is not on this machine.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machine, PASSWORD, signupMachine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { sinkCode, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const ADDRESS = /[^\s"'<>@]+@[a-z0-9.-]+\.[a-z]{2,}/i;

function log(server: StartedServer): string {
  return readFileSync(server.logFile, 'utf8');
}

/** signup --json of an address the sink refuses: the JSON document */
async function signupJson(server: StartedServer, email: string, refused: Set<string>): Promise<Record<string, unknown>> {
  refused.add(email);
  const res = await machine(server.url).run(['signup', '--email', email, '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
  expect(res.code, res.stderr).toBe(0);
  expect(res.stderr).toBe('');
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

async function signup(server: StartedServer, email: string) {
  const m = machine(server.url);
  const res = await m.run(['signup', '--email', email, '--name', email.split('@')[0]!, '--password-stdin'], { input: `${PASSWORD}\n` });
  return { m, res };
}

describe('mail refused by the SMTP server', () => {
  let sink: SmtpSink;
  let server: StartedServer;
  const refused = new Set<string>();
  beforeAll(async () => {
    sink = await startSmtpSink({ rejectRcpt: (a) => refused.has(a) });
    server = await startServer({ args: ['--smtp', sink.url] });
  });
  afterAll(async () => {
    await server?.cleanup();
    await sink?.close();
  });

  it('a refused activation mail is logged with its SMTP codes and without the address', async () => {
    refused.add('dave@example.org');
    await signupMachine(machine(server.url), 'dave@example.org');
    await sink.waitFor(() => log(server).includes('activation mail not sent'));
    const text = log(server);
    expect(text).not.toContain('dave@example.org');
    expect(text).not.toMatch(ADDRESS);
    const line = JSON.parse(text.split('\n').find((l) => l.includes('activation mail not sent'))!) as { mail: unknown };
    expect(line.mail).toEqual({ mailer: 'smtp', code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, status: '5.1.1', reason: expect.any(String) });
  });

  it('an invitation the SMTP server refuses fails for that address only, and its address stays out of the log', async () => {
    const alice = machine(server.url);
    await signupMachine(alice, 'alice@example.org');
    expect((await alice.run(['account', 'verify', sinkCode(sink, 'alice@example.org', 'Verification code')])).code).toBe(0);
    expect((await alice.run(['team', 'create', 'Ops'])).code).toBe(0);
    refused.add('carol@example.org');
    const res = await alice.run(['team', 'invite', 'carol@example.org', 'bob@example.org', '--team', 'Ops', '--json']);
    expect(res.code, res.stderr).not.toBe(0);
    const out = JSON.parse(res.stdout) as { invited: { email: string }[]; failed: { email: string; reason: string }[] };
    expect(out.invited.map((i) => i.email)).toEqual(['bob@example.org']);
    expect(out.failed).toEqual([{ email: 'carol@example.org', reason: 'the invitation mail could not be sent' }]);
    await sink.waitFor(() => log(server).includes('invitation mail not sent'));
    expect(log(server)).not.toContain('carol@example.org');
    expect(log(server)).not.toMatch(ADDRESS);
  });

  it('after account deletion, a refused receipt does not leave the erased address in the log', async () => {
    const erin = machine(server.url);
    await signupMachine(erin, 'erin@example.org');
    refused.add('erin@example.org');
    const res = await erin.run(['account', 'delete', '--yes', '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(res.code, res.stderr).toBe(0);
    await sink.waitFor(() => log(server).includes('could not send a notice'));
    expect(log(server)).not.toContain('erin@example.org');
    expect(log(server)).not.toMatch(ADDRESS);
  });

  it('signup says the code was not sent and how to get one; --resend says the mail failed (exit 6) until it goes out', async () => {
    refused.add('fay@example.org');
    const { m, res } = await signup(server, 'fay@example.org');
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('Account created');
    expect(res.stderr).toMatch(/warning: .*activation mail .*not sent/i);
    expect(res.stderr).toContain('account verify --resend');
    const json = await signupJson(server, 'gus@example.org', refused);
    expect(json.activationMailSent).toBe(false);

    const again = await m.run(['account', 'verify', '--resend']);
    expect(again.code, again.stderr).toBe(6);
    expect(again.stdout).not.toMatch(/was sent/);
    expect(again.stderr).toMatch(/could not send the mail/);
    refused.delete('fay@example.org');
    const resent = await m.run(['account', 'verify', '--resend']);
    expect(resent.code, resent.stderr).toBe(0);
    expect(resent.stdout).toContain('A new verification code was sent to fay@example.org');
    const verified = await m.run(['account', 'verify', sinkCode(sink, 'fay@example.org', 'Verification code')]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(log(server)).not.toMatch(ADDRESS);
  });
});
