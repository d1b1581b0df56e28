/**
 * Mail through an SMTP server (`--smtp smtp://user:pass@host:587` or `smtps://…`). nodemailer is
 * loaded on the first message only (it costs ~40 ms to import), and only when --smtp is given.
 */
import { checkMessage, MailError, type MailMessage, type Mailer } from './mailer.js';

interface Transport {
  sendMail(message: { from: string; to: string; subject: string; text: string }): Promise<unknown>;
  close(): void;
}

export class SmtpMailer implements Mailer {
  readonly kind = 'smtp';
  private transport: Promise<Transport> | null = null;

  constructor(private readonly opts: { url: string; from: string }) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new MailError('--smtp needs a URL such as smtp://user:password@host:587');
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new MailError('--smtp URL must start with smtp:// or smtps://');
  }

  private open(): Promise<Transport> {
    this.transport ??= import('nodemailer').then((m) => m.default.createTransport(this.opts.url) as unknown as Transport);
    return this.transport;
  }

  async send(message: MailMessage): Promise<void> {
    checkMessage(message);
    const transport = await this.open();
    await transport.sendMail({ from: this.opts.from, to: message.to, subject: message.subject, text: message.text });
  }

  async close(): Promise<void> {
    if (this.transport) (await this.transport).close();
  }
}

/** The URL without its password, for logs and the startup line. */
export function redactSmtpUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
