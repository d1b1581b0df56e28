/**
 * The default Mailer: one RFC 5322 message per file (`*.eml`) in a folder (DATA_DIR/outbox), for
 * the operator to hand to any mail system, or to read in tests. Files are written to a temporary
 * name and renamed, so a reader never sees half a message; mode 0600. Messages stay until the
 * operator (or their mail system) removes them, except that deleting an account removes those to
 * its address and the invitations it sent, all but the deletion receipt, which is written after,
 * and deleting a team removes its invitations (forget). What a message belongs to (MailMessage
 * `about`) is in its file name, `TIME-RANDOM.team-ID.from-ID.eml`, not in the message a mail
 * system hands on: forget finds them without reading a body.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkMessage, type ForgetMail, type MailAbout, type MailMessage, type Mailer } from './mailer.js';

export interface OutboxOptions {
  dir: string;
  from: string;
  now?: () => Date;
}

export class OutboxMailer implements Mailer {
  readonly kind = 'outbox';
  private readonly now: () => Date;

  constructor(private readonly opts: OutboxOptions) {
    this.now = opts.now ?? (() => new Date());
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  }

  get dir(): string {
    return this.opts.dir;
  }

  async send(message: MailMessage): Promise<void> {
    checkMessage(message);
    const date = this.now();
    const id = `${date.getTime()}-${randomBytes(6).toString('hex')}`;
    const file = path.join(this.opts.dir, `${id}${aboutPart(message.about)}.eml`);
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, formatMessage(message, { from: this.opts.from, date, messageId: `<${id}@${domainOf(this.opts.from)}>` }), { mode: 0o600 });
    renameSync(tmp, file);
  }

  /**
   * Deletes every message file `match` names: addressed to `match.to` (its To: header, compared
   * without case), or whose file name says it was sent by `match.sender` or is about one of
   * `match.teams`; overwriting it first (best effort: a copy-on-write or journaling file system, or
   * a mail system that already picked it up, may still hold one). Files being written (`.tmp`) are
   * left alone.
   */
  async forget(match: ForgetMail): Promise<number> {
    const wanted = match.to === undefined ? null : `to: ${match.to.toLowerCase()}`;
    const teams = new Set(match.teams ?? []);
    let removed = 0;
    for (const name of readdirSync(this.opts.dir)) {
      if (!name.endsWith('.eml')) continue;
      const file = path.join(this.opts.dir, name);
      const about = aboutOf(name);
      const named = (match.sender !== undefined && about.sender === match.sender) || (about.team !== undefined && teams.has(about.team));
      try {
        const text = readFileSync(file, 'latin1');
        if (!named) {
          if (wanted === null) continue;
          const end = text.indexOf('\r\n\r\n');
          const headers = (end < 0 ? text : text.slice(0, end)).split('\r\n');
          if (!headers.some((h) => h.toLowerCase() === wanted)) continue;
        }
        const fd = openSync(file, 'r+');
        try {
          writeSync(fd, Buffer.alloc(text.length));
        } finally {
          closeSync(fd);
        }
        unlinkSync(file);
        removed++;
      } catch (err) {
        // picked up (moved or deleted) by the mail system meanwhile: nothing left to remove
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}
}

const ABOUT_ID = /^[0-9a-f]{32}$/;

/** `.team-ID.from-ID` for a message's file name; an id of any other shape is left out (it never is one). */
function aboutPart(about: MailAbout | undefined): string {
  let part = '';
  if (about?.team !== undefined && ABOUT_ID.test(about.team)) part += `.team-${about.team}`;
  if (about?.sender !== undefined && ABOUT_ID.test(about.sender)) part += `.from-${about.sender}`;
  return part;
}

function aboutOf(fileName: string): MailAbout {
  const team = /\.team-([0-9a-f]{32})[.]/.exec(fileName)?.[1];
  const sender = /\.from-([0-9a-f]{32})[.]/.exec(fileName)?.[1];
  return { ...(team ? { team } : {}), ...(sender ? { sender } : {}) };
}

function domainOf(from: string): string {
  const m = /@([^>\s]+)>?\s*$/.exec(from);
  return m?.[1] ?? os.hostname();
}

/** RFC 5322 with CRLF line ends; non-ASCII headers as RFC 2047 words; the body UTF-8 (8bit), or base64 if a line is too long. */
export function formatMessage(message: MailMessage, meta: { from: string; date: Date; messageId: string }): string {
  const lines = message.text.split(/\r?\n/);
  // 8bit keeps the outbox readable as it is; RFC 5322 caps a line at 998 octets, beyond that base64
  const plain = lines.every((l) => Buffer.byteLength(l) <= 900 && !l.includes('\r'));
  const body = plain
    ? `${lines.join('\r\n')}\r\n`
    : Buffer.from(message.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64').replace(/.{1,76}/g, '$&\r\n');
  const headers = [
    `From: ${encodeHeader(meta.from)}`,
    `To: ${message.to}`,
    `Subject: ${encodeHeader(message.subject)}`,
    `Date: ${rfc5322Date(meta.date)}`,
    `Message-ID: ${meta.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Transfer-Encoding: ${plain ? '8bit' : 'base64'}`,
    'Auto-Submitted: auto-generated',
  ];
  return `${headers.join('\r\n')}\r\n\r\n${body}`;
}

function encodeHeader(value: string): string {
  // printable ASCII stays as it is; anything else becomes one encoded word
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  return `=?utf-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function rfc5322Date(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}
