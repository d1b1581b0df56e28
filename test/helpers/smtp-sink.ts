/**
 * A tiny SMTP server (RFC 5321, enough of it for nodemailer) on a local port, for tests of the
 * mail path: it keeps every message and every command line it receives, and can be told to
 * misbehave as real mail servers do — refuse recipients with 550, stall, refuse the session.
 * The behaviour is read at each step, so a test can change it between requests of a running
 * insomnia-sync server. No TLS: asked for STARTTLS, it answers 454 (it has no certificate).
 */
import net from 'node:net';

export interface SinkMessage {
  from: string;
  to: string[];
  data: string;
}

export interface SmtpSinkBehaviour {
  /** advertise STARTTLS in the EHLO answer */
  starttls: boolean;
  /** advertise AUTH PLAIN LOGIN (any credentials are accepted) */
  auth: boolean;
  /** recipients answered `550 5.1.1 <ADDRESS>: Recipient address rejected` */
  rejectRcpt: (address: string) => boolean;
  /**
   * 'stall-greeting': accept the connection, never say a word;
   * 'stall-data': greet and take the envelope, then never answer the end of DATA;
   * 'refuse': greet with 554 and hang up.
   */
  mode: 'normal' | 'stall-greeting' | 'stall-data' | 'refuse';
}

export interface SmtpSink {
  host: string;
  port: number;
  /** `smtp://HOST:PORT` */
  url: string;
  /** what it does next: change it at any time */
  behaviour: SmtpSinkBehaviour;
  messages: SinkMessage[];
  /** every command line received, as it arrived (AUTH lines too: what travelled in cleartext) */
  lines: string[];
  /** connections accepted so far */
  connections(): number;
  /** resolves once `check()` holds (polling), rejects after `timeoutMs` */
  waitFor(check: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

const DEFAULTS: SmtpSinkBehaviour = { starttls: false, auth: false, rejectRcpt: () => false, mode: 'normal' };

export async function startSmtpSink(opts: Partial<SmtpSinkBehaviour> & { host?: string } = {}): Promise<SmtpSink> {
  const { host = '127.0.0.1', ...rest } = opts;
  const behaviour: SmtpSinkBehaviour = { ...DEFAULTS, ...rest };
  const messages: SinkMessage[] = [];
  const lines: string[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;

  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (behaviour.mode === 'stall-greeting') return;
    const say = (line: string): void => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };
    if (behaviour.mode === 'refuse') {
      say('554 5.3.2 sink.test no service for you');
      socket.end();
      return;
    }
    say('220 sink.test ESMTP test sink');

    let buffer = '';
    let inData = false;
    let data: string[] = [];
    let from = '';
    let to: string[] = [];
    // a continuation the next line answers (AUTH's 334 steps)
    let pending: ((line: string) => void) | null = null;

    const command = (line: string): void => {
      lines.push(line);
      if (pending) {
        const next = pending;
        pending = null;
        next(line);
        return;
      }
      const verb = line.split(' ', 1)[0]!.toUpperCase();
      const arg = line.slice(verb.length).trim();
      switch (verb) {
        case 'EHLO': {
          const ext = ['8BITMIME', ...(behaviour.starttls ? ['STARTTLS'] : []), ...(behaviour.auth ? ['AUTH PLAIN LOGIN'] : [])];
          const all = ['sink.test greets you', ...ext];
          all.forEach((e, i) => say(`250${i === all.length - 1 ? ' ' : '-'}${e}`));
          return;
        }
        case 'HELO':
          return say('250 sink.test');
        case 'STARTTLS':
          return say('454 4.7.0 TLS not available');
        case 'AUTH': {
          if (!behaviour.auth) return say('502 5.5.1 AUTH not offered');
          const [mech, initial] = arg.split(' ');
          if (mech?.toUpperCase() === 'PLAIN') {
            if (initial) return say('235 2.7.0 accepted');
            pending = () => say('235 2.7.0 accepted');
            return say('334 ');
          }
          if (mech?.toUpperCase() === 'LOGIN') {
            pending = () => {
              pending = () => say('235 2.7.0 accepted');
              say('334 UGFzc3dvcmQ6');
            };
            return say('334 VXNlcm5hbWU6');
          }
          return say('504 5.5.4 unknown mechanism');
        }
        case 'MAIL':
          from = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          to = [];
          return say('250 2.1.0 sender ok');
        case 'RCPT': {
          const address = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          if (behaviour.rejectRcpt(address)) return say(`550 5.1.1 <${address}>: Recipient address rejected: User unknown in virtual mailbox table`);
          to.push(address);
          return say('250 2.1.5 recipient ok');
        }
        case 'DATA':
          if (to.length === 0) return say('503 5.5.1 no valid recipients');
          inData = true;
          data = [];
          return say('354 end data with <CR><LF>.<CR><LF>');
        case 'RSET':
          from = '';
          to = [];
          return say('250 2.0.0 ok');
        case 'NOOP':
          return say('250 2.0.0 ok');
        case 'QUIT':
          say('221 2.0.0 bye');
          socket.end();
          return;
        default:
          return say('500 5.5.2 unknown command');
      }
    };

    socket.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!inData) {
          command(line);
          continue;
        }
        if (line !== '.') {
          data.push(line.startsWith('..') ? line.slice(1) : line);
          continue;
        }
        inData = false;
        if (behaviour.mode === 'stall-data') return;
        messages.push({ from, to, data: data.join('\r\n') });
        say('250 2.0.0 queued');
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `smtp://${shown}:${port}`,
    behaviour,
    messages,
    lines,
    connections: () => connections,
    async waitFor(check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('smtp sink: condition not met in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The code of `kind` in the newest message the sink received for `to`. */
export function sinkCode(sink: SmtpSink, to: string, kind: 'Verification code' | 'Invite code'): string {
  for (const m of [...sink.messages].reverse()) {
    const found = new RegExp(`^${kind}: (\\S+)$`, 'm').exec(m.data);
    if (m.to.includes(to) && found) return found[1]!;
  }
  throw new Error(`no ${kind} mailed to ${to}`);
}
