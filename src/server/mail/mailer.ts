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
  /**
   * What the message belongs to, for a mailer that keeps messages (the outbox) to find them when
   * that goes (forget): an invitation's team and the account that sent it. Ids (32 hex digits)
   * only; never part of the message itself.
   */
  about?: MailAbout;
}

export interface MailAbout {
  team?: string;
  sender?: string;
}

/** Which kept messages to forget: those to `to` (compared without case), OR sent by `sender`, OR about one of `teams`. */
export interface ForgetMail {
  to?: string;
  sender?: string;
  teams?: readonly string[];
}

export interface Mailer {
  /** `outbox` or `smtp`, for the startup line and logs */
  readonly kind: string;
  send(message: MailMessage): Promise<void>;
  /**
   * Removes the messages this mailer still holds that `match` names (account and team deletion):
   * only a mailer that keeps messages has any (the outbox; SMTP hands each one on at once).
   * Returns how many.
   */
  forget?(match: ForgetMail): Promise<number>;
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

/**
 * What a log may keep of a failed mail (SPEC §8: no personal data in logs): codes, never text. An
 * SMTP server's answer quotes the address it refused (`550 5.1.1 <dave@example.org>: Recipient
 * address rejected`) and nodemailer puts that answer in its error message and the refused
 * addresses beside it; a file-system error names a path. So a failure is described by the mailer,
 * nodemailer's error code (EENVELOPE, ETIMEDOUT, EAUTH…) or the errno code, the SMTP command and
 * reply code, the enhanced status code (RFC 3463, `5.1.1`), and a fixed reason from those. Every
 * route that logs a mail failure logs this, and nothing else of the error.
 */
export interface MailFailure {
  mailer: string;
  reason: string;
  code?: string;
  /** the underlying errno code nodemailer replaced with its own (ECONNREFUSED under ECONNECTION) */
  cause?: string;
  command?: string;
  responseCode?: number;
  status?: string;
}

const REASONS: Record<string, string> = {
  EENVELOPE: 'the mail server refused the sender or the recipient',
  EMESSAGE: 'the mail server refused the message',
  ETIMEDOUT: 'the mail server did not answer in time',
  ECONNECTION: 'could not talk to the mail server',
  ESOCKET: 'the connection to the mail server failed',
  EDNS: 'the mail server name did not resolve',
  EAUTH: 'the mail server refused the credentials',
  ENOAUTH: 'the mail server wants credentials',
  ETLS: 'TLS with the mail server failed',
  EPROTOCOL: 'the mail server answered something unexpected',
  ESTREAM: 'the message could not be streamed',
};

/** A code as it may be logged: letters, digits, `_`, `-`, short. Anything else is dropped. */
function codeOf(value: unknown): string | undefined {
  return typeof value === 'string' && /^[A-Za-z0-9_ -]{1,40}$/.test(value) ? value : undefined;
}

export function mailFailure(mailer: Pick<Mailer, 'kind'>, err: unknown): MailFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as Record<string, unknown>;
  const out: MailFailure = { mailer: mailer.kind, reason: 'the mail could not be sent' };
  // our own MailErrors carry fixed texts (never an address): they are the reason
  if (err instanceof MailError) out.reason = err.message;
  const code = codeOf(e.code);
  if (code) {
    out.code = code;
    if (!(err instanceof MailError)) out.reason = REASONS[code] ?? (/^E[A-Z]+$/.test(code) ? `${code} while handing the mail on` : out.reason);
  }
  const cause = codeOf(e.originalCode);
  if (cause) out.cause = cause;
  const command = codeOf(e.command);
  // `AUTH PLAIN`, `RCPT TO`, `MAIL FROM`, `DATA`, `CONN`, `API`: a verb, not an argument
  if (command && /^[A-Z]+( [A-Z]+)?$/.test(command)) out.command = command;
  if (typeof e.responseCode === 'number' && Number.isInteger(e.responseCode)) out.responseCode = e.responseCode;
  const status = typeof e.response === 'string' ? /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(e.response)?.[1] : undefined;
  if (status) out.status = status;
  return out;
}
