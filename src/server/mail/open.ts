/** Picks the Mailer from the server's flags: --smtp URL (or INSOMNIA_SYNC_SMTP), else an outbox folder (default DATA_DIR/outbox). */
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
  /** seconds: SMTP connection, greeting, answer and whole-message timeout */
  smtpTimeout?: number;
}

export function defaultFrom(): string {
  return `insomnia-sync <no-reply@${os.hostname() || 'localhost'}>`;
}

export function openMailer(opts: MailOptions): Mailer {
  if (opts.smtp && opts.mailOutbox) throw new MailError('give either --mail-outbox or --smtp, not both');
  const from = opts.mailFrom ?? defaultFrom();
  if (opts.smtp) return new SmtpMailer({ url: opts.smtp, from, ...(opts.smtpTimeout !== undefined ? { timeoutMs: Math.round(opts.smtpTimeout * 1000) } : {}) });
  return new OutboxMailer({ dir: path.resolve(opts.mailOutbox ?? path.join(opts.dataDir, 'outbox')), from });
}
