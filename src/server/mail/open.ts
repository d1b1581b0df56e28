/** Picks the Mailer from the server's flags: --smtp URL, else an outbox folder (default DATA_DIR/outbox). */
import os from 'node:os';
import path from 'node:path';
import { MailError, type Mailer } from './mailer.js';
import { OutboxMailer } from './outbox.js';
import { SmtpMailer } from './smtp.js';

export interface MailOptions {
  dataDir: string;
  mailOutbox?: string;
  smtp?: string;
  mailFrom?: string;
}

export function defaultFrom(): string {
  return `insomnia-sync <no-reply@${os.hostname() || 'localhost'}>`;
}

export function openMailer(opts: MailOptions): Mailer {
  if (opts.smtp && opts.mailOutbox) throw new MailError('give either --mail-outbox or --smtp, not both');
  const from = opts.mailFrom ?? defaultFrom();
  if (opts.smtp) return new SmtpMailer({ url: opts.smtp, from });
  return new OutboxMailer({ dir: path.resolve(opts.mailOutbox ?? path.join(opts.dataDir, 'outbox')), from });
}
