/** The Mailer implementations: the .eml outbox and SMTP against a real loopback SMTP server. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { openMailer } from '../../src/server/mail/open.js';
import { OutboxMailer, rfc5322Date } from '../../src/server/mail/outbox.js';
import { MailError, mailFailure } from '../../src/server/mail/mailer.js';
import { SmtpMailer, redactSmtpUrl, smtpTransportOptions } from '../../src/server/mail/smtp.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'isync-mail-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('OutboxMailer', () => {
  it('writes one RFC 5322 file per message, CRLF, mode 0600, UTF-8 subject as an encoded word', async () => {
    const dir = join(tmp(), 'outbox');
    const mailer = new OutboxMailer({ dir, from: 'insomnia-sync <no-reply@sync.example>', now: () => new Date('2026-02-03T04:05:06Z') });
    await mailer.send({ to: 'ada@example.com', subject: 'Grüße: notice', text: 'line one\nline two ✓' });
    await mailer.send({ to: 'bob@example.com', subject: 'second', text: 'x' });
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(2);
    expect(files.every((f) => f.endsWith('.eml'))).toBe(true);
    const first = files.map((f) => readFileSync(join(dir, f), 'utf8')).find((t) => t.includes('ada@example.com'))!;
    expect(statSync(join(dir, files[0]!)).mode & 0o777).toBe(0o600);
    const [head, body] = first.split('\r\n\r\n');
    expect(head).toContain('From: insomnia-sync <no-reply@sync.example>');
    expect(head).toContain('To: ada@example.com');
    expect(head).toContain(`Subject: =?utf-8?B?${Buffer.from('Grüße: notice').toString('base64')}?=`);
    expect(head).toContain('Date: Tue, 03 Feb 2026 04:05:06 +0000');
    expect(head).toMatch(/Message-ID: <[^>]+@sync\.example>/);
    expect(head).toContain('Content-Type: text/plain; charset=utf-8');
    expect(body).toBe('line one\r\nline two ✓\r\n');
    expect(first.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('refuses header injection and more than one recipient', async () => {
    const mailer = new OutboxMailer({ dir: tmp(), from: 'a@b.example' });
    await expect(mailer.send({ to: 'a@example.com', subject: 'x\r\nBcc: evil@example.com', text: '' })).rejects.toThrow(/one line/);
    await expect(mailer.send({ to: 'a@example.com, b@example.com', subject: 'x', text: '' })).rejects.toThrow(/single address/);
  });

  it('forget removes every message to the address (its To: header, any case) and nothing else', async () => {
    const dir = tmp();
    const mailer = new OutboxMailer({ dir, from: 'a@b.example' });
    await mailer.send({ to: 'ada@example.com', subject: 'activation', text: 'Verification code: X' });
    await mailer.send({ to: 'ada@example.com', subject: 'notice', text: 'from 192.0.2.1' });
    // mail to someone else stays, even when it names the address in its body
    await mailer.send({ to: 'bob@example.com', subject: 'invite', text: 'To: ada@example.com\r\ninvited by ada@example.com' });
    // a message still being written is not touched
    writeFileSync(join(dir, 'in-flight.eml.tmp'), 'To: ada@example.com\r\n\r\nx');
    expect(await mailer.forget({ to: 'ADA@example.com' })).toBe(2);
    const left = readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    expect(left).toContain('in-flight.eml.tmp');
    expect(readFileSync(join(dir, left.find((f) => f.endsWith('.eml'))!), 'utf8')).toContain('To: bob@example.com');
    expect(await mailer.forget({ to: 'ada@example.com' })).toBe(0);
    // what comes after (the deletion receipt) is written as usual
    await mailer.send({ to: 'ada@example.com', subject: 'your account was deleted', text: 'receipt' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.eml'))).toHaveLength(2);
  });

  it('forget also removes the messages about a team, or sent by an account, by their file name; `about` stays out of the message', async () => {
    const dir = tmp();
    const mailer = new OutboxMailer({ dir, from: 'a@b.example' });
    const [team1, team2, ada, bob] = ['1', '2', 'a', 'b'].map((c) => c.repeat(32)) as [string, string, string, string];
    await mailer.send({ to: 'carol@example.com', subject: 'invite 1', text: 'x', about: { team: team1, sender: ada } });
    await mailer.send({ to: 'dave@example.com', subject: 'invite 2', text: 'x', about: { team: team2, sender: bob } });
    await mailer.send({ to: 'erin@example.com', subject: 'invite 3', text: 'x', about: { team: team2, sender: ada } });
    await mailer.send({ to: 'frank@example.com', subject: 'no about', text: 'x' });
    // an id of another shape never reaches the file name
    await mailer.send({ to: 'gina@example.com', subject: 'odd', text: 'x', about: { team: '../../etc', sender: 'A'.repeat(32) } });
    const names = readdirSync(dir);
    expect(names.filter((n) => n.includes(`.team-${team1}.from-${ada}.eml`))).toHaveLength(1);
    expect(names.every((n) => /^\d+-[0-9a-f]{12}(\.team-[0-9a-f]{32})?(\.from-[0-9a-f]{32})?\.eml$/.test(n))).toBe(true);
    for (const n of names) expect(readFileSync(join(dir, n), 'utf8')).not.toMatch(/[12ab]{32}/);
    const subjects = (): string[] => readdirSync(dir).map((n) => /^Subject: (.*)$/m.exec(readFileSync(join(dir, n), 'utf8'))![1]!).sort();
    expect(await mailer.forget({ teams: [team2] })).toBe(2);
    expect(subjects()).toEqual(['invite 1', 'no about', 'odd']);
    expect(await mailer.forget({ to: 'nobody@example.com', sender: ada })).toBe(1);
    expect(subjects()).toEqual(['no about', 'odd']);
    expect(await mailer.forget({})).toBe(0);
  });

  it('formats dates as RFC 5322 wants', () => {
    expect(rfc5322Date(new Date('2026-12-31T23:59:58Z'))).toBe('Thu, 31 Dec 2026 23:59:58 +0000');
  });
});

describe('openMailer', () => {
  it('defaults to DATA_DIR/outbox, honours --mail-outbox, picks SMTP for --smtp, refuses both', () => {
    const data = tmp();
    const a = openMailer({ dataDir: data }) as OutboxMailer;
    expect(a.kind).toBe('outbox');
    expect(a.dir).toBe(join(data, 'outbox'));
    const other = join(tmp(), 'elsewhere');
    expect((openMailer({ dataDir: data, mailOutbox: other }) as OutboxMailer).dir).toBe(other);
    expect(openMailer({ dataDir: data, smtp: 'smtp://127.0.0.1:2525' }).kind).toBe('smtp');
    expect(() => openMailer({ dataDir: data, smtp: 'smtp://h', mailOutbox: other })).toThrow(/not both/);
    expect(() => openMailer({ dataDir: data, smtp: 'http://h' })).toThrow(/smtp:\/\//);
    expect(redactSmtpUrl('smtp://user:hunter2@mail.example:587')).toBe('smtp://user:***@mail.example:587');
  });
});

describe('SmtpMailer', () => {
  it('delivers a message to a real SMTP listener on loopback', async () => {
    const received: { from: string; to: string[]; data: string }[] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, session, done) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString('utf8')));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          received.push({ from: from ? from.address : '', to: session.envelope.rcptTo.map((r) => r.address), data });
          done();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.server.address() as AddressInfo).port;
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${port}?ignoreTLS=true`, from: 'insomnia-sync <no-reply@sync.example>' });
    try {
      await mailer.send({ to: 'ada@example.com', subject: 'insomnia-sync: your password was changed', text: 'Time: now\nClient: cli' });
    } finally {
      await mailer.close();
      await new Promise<void>((resolve) => server.close(resolve));
    }
    expect(received).toHaveLength(1);
    expect(received[0]!.from).toBe('no-reply@sync.example');
    expect(received[0]!.to).toEqual(['ada@example.com']);
    expect(received[0]!.data).toContain('Subject: insomnia-sync: your password was changed');
    expect(received[0]!.data).toContain('Client: cli');
  });
});

describe('mailFailure', () => {
  it('keeps the codes of an SMTP rejection and none of its text (which quotes the address)', async () => {
    const sink = await startSmtpSink({ rejectRcpt: () => true });
    const mailer = new SmtpMailer({ url: sink.url, from: 'no-reply@sync.example' });
    let failure: unknown;
    try {
      await mailer.send({ to: 'dave@example.org', subject: 's', text: 't' }).catch((err: unknown) => (failure = err));
    } finally {
      await mailer.close();
      await sink.close();
    }
    expect(String(failure)).toContain('dave@example.org'); // what used to be logged
    const described = mailFailure(mailer, failure);
    expect(described).toEqual({ mailer: 'smtp', code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, status: '5.1.1', reason: 'the mail server refused the sender or the recipient' });
    expect(JSON.stringify(described)).not.toContain('@');
  });

  it('a refused connection, a file-system error and our own MailError: codes and fixed reasons only', async () => {
    const sink = await startSmtpSink();
    const port = sink.port;
    await sink.close();
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'no-reply@sync.example' });
    const refused = await mailer.send({ to: 'dave@example.org', subject: 's', text: 't' }).then(() => null, (err: unknown) => err);
    await mailer.close();
    expect(mailFailure(mailer, refused)).toMatchObject({ mailer: 'smtp', code: 'ESOCKET', cause: 'ECONNREFUSED' });
    const fsError = Object.assign(new Error("ENOSPC: no space left on device, open '/srv/outbox/x.eml.tmp'"), { code: 'ENOSPC', path: '/srv/outbox/x.eml.tmp' });
    expect(mailFailure({ kind: 'outbox' }, fsError)).toEqual({ mailer: 'outbox', code: 'ENOSPC', reason: 'ENOSPC while handing the mail on' });
    expect(mailFailure({ kind: 'outbox' }, new MailError('mail recipient is not a single address'))).toEqual({ mailer: 'outbox', code: 'mail', reason: 'mail recipient is not a single address' });
    expect(mailFailure({ kind: 'smtp' }, 'dave@example.org')).toEqual({ mailer: 'smtp', reason: 'the mail could not be sent' });
  });
});

describe('SMTP transport options', () => {
  it('smtp:// needs STARTTLS unless the host is loopback, the URL says requireTLS=false or ignoreTLS=true, or it is smtps://', () => {
    const req = (url: string): unknown => smtpTransportOptions(url).requireTLS;
    expect(req('smtp://u:p@mail.example:587')).toBe(true);
    expect(req('smtp://192.0.2.7:25')).toBe(true);
    expect(req('smtp://mail.example:587?requireTLS=false')).toBeUndefined();
    expect(req('smtp://mail.example:25?ignoreTLS=true')).toBeUndefined();
    expect(req('smtps://u:p@mail.example:465')).toBeUndefined();
    for (const local of ['smtp://localhost:25', 'smtp://127.0.0.1:25', 'smtp://127.1.2.3:25', 'smtp://[::1]:25']) expect(req(local)).toBeUndefined();
    expect(smtpTransportOptions('smtp://mail.example', 3000)).toMatchObject({ connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 3000 });
  });

  it('a mail server that stalls after DATA is given up on after the timeout', async () => {
    const sink = await startSmtpSink({ mode: 'stall-data' });
    const mailer = new SmtpMailer({ url: sink.url, from: 'no-reply@sync.example', timeoutMs: 500 });
    const started = Date.now();
    try {
      await expect(mailer.send({ to: 'ada@example.com', subject: 's', text: 't' })).rejects.toThrow();
    } finally {
      await mailer.close();
      await sink.close();
    }
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
