/**
 * Transactional mail (SPEC §1: activation, team invitations, security notices, nothing else).
 * Routes build a message and hand it to the Mailer the server was started with: an outbox folder
 * of RFC 5322 files (the default) or SMTP. A message never carries a password, key or token; the
 * only codes it carries are the single-use, expiring activation and invitation codes it exists to deliver.
 */
export interface MailMessage {
  /** one address */
  to: string;
  subject: string;
  /** plain text, UTF-8 */
  text: string;
}

export interface Mailer {
  /** `outbox` or `smtp`, for the startup line and logs */
  readonly kind: string;
  send(message: MailMessage): Promise<void>;
  /**
   * Removes the messages to `address` this mailer still holds (account deletion): only a mailer
   * that keeps messages has any (the outbox; SMTP hands each one on at once). Returns how many.
   */
  forget?(address: string): Promise<number>;
  close(): Promise<void>;
}

export class MailError extends Error {
  readonly code = 'mail';
}

/** Header values must not carry line breaks: a CR or LF in one would let it add headers. */
export function checkMessage(message: MailMessage): void {
  if (/[\r\n]/.test(message.to) || /[\r\n]/.test(message.subject)) throw new MailError('mail header values must be one line');
  if (!/^[^\s@<>,;]+@[^\s@<>,;]+$/.test(message.to)) throw new MailError('mail recipient is not a single address');
}

/** Drops every message: for tests and tools that build an app without a mail setting. */
export const discardMailer: Mailer = {
  kind: 'discard',
  async send(message) {
    checkMessage(message);
  },
  async close() {},
};
