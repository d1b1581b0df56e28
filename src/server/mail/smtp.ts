/**
 * Mail through an SMTP server (`--smtp URL` or INSOMNIA_SYNC_SMTP: `smtp://user:pass@host:587`
 * with STARTTLS, `smtps://…:465` with TLS from the start). nodemailer is loaded on the first
 * message only (it costs ~40 ms to import), and only when SMTP is configured.
 *
 * Two defaults differ from nodemailer's, because mail is sent inside the request that asked for it:
 * - `smtp://` to a host that is not this machine requires STARTTLS (nodemailer's `requireTLS`):
 *   without it, a mail server (or anyone on the path) that does not offer STARTTLS gets the
 *   password (AUTH PLAIN), the envelope and the codes in cleartext. `?requireTLS=false` in the
 *   URL (or nodemailer's own `?ignoreTLS=true`) says cleartext is meant; a loopback host (a local
 *   relay) needs neither.
 * - connecting, the greeting and each wait for an answer time out after `timeoutMs` (nodemailer:
 *   2 min, 30 s, 10 min), and one message as a whole is given up after `timeoutMs` too, so a
 *   stalled mail server holds a request (signup, resend, invite, a notice) and a shutdown that
 *   long at most; the route then answers as for any mail that could not be sent.
 * Other nodemailer options can be given as URL parameters (`?tls.rejectUnauthorized=false`…).
 */
import { checkMessage, MailError, type MailMessage, type Mailer } from './mailer.js';

export const DEFAULT_SMTP_TIMEOUT_MS = 10_000;

interface Transport {
  sendMail(message: { from: string; to: string; subject: string; text: string }): Promise<unknown>;
  close(): void;
}

export interface SmtpOptions {
  url: string;
  from: string;
  /** connection, greeting, socket inactivity, and one whole message (default 10 s) */
  timeoutMs?: number;
}

/** Loopback by its literal name: localhost, 127.0.0.0/8, ::1. A name is not resolved for this. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/** The options nodemailer is given: the URL (whose parameters win) over this server's defaults. */
export function smtpTransportOptions(url: string, timeoutMs = DEFAULT_SMTP_TIMEOUT_MS): Record<string, unknown> {
  const u = new URL(url);
  const params = u.searchParams;
  const plainButMeant = params.has('requireTLS') || params.get('ignoreTLS') === 'true' || params.get('secure') === 'true';
  const requireTLS = u.protocol === 'smtp:' && !isLoopbackHost(u.hostname) && !plainButMeant;
  return {
    url,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    dnsTimeout: timeoutMs,
    ...(requireTLS ? { requireTLS: true } : {}),
  };
}

export class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  private transport: Promise<Transport> | null = null;
  private readonly timeoutMs: number;

  constructor(private readonly opts: SmtpOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new MailError('--smtp needs a URL such as smtp://user:password@host:587');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new MailError('--smtp URL must start with smtp:// or smtps://');
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_SMTP_TIMEOUT_MS;
  }

  private open(): Promise<Transport> {
    this.transport ??= import('nodemailer').then(
      (m) => m.default.createTransport(smtpTransportOptions(this.opts.url, this.timeoutMs)) as unknown as Transport,
    );
    return this.transport;
  }

  async send(message: MailMessage): Promise<void> {
    checkMessage(message);
    const transport = await this.open();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MailError('the mail server did not finish in time')), this.timeoutMs);
    });
    const sending = transport.sendMail({ from: this.opts.from, to: message.to, subject: message.subject, text: message.text });
    // given up on: its own timeouts end it later; its outcome is no longer anyone's business
    sending.catch(() => {});
    try {
      await Promise.race([sending, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.transport) (await this.transport).close();
  }
}

/** The URL without its password, for logs and the startup line. */
export function redactSmtpUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
