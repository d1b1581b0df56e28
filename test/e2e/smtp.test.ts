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
});
