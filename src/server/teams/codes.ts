/**
 * One-time codes for activation and invitations: 16 characters of Crockford base32 (80 random
 * bits) in groups of four, typed or pasted by a person. The server keeps only a SHA-256 of the
 * normalised code; a code is single-use, expires, and is bound to the address it was sent to.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '../tokens.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const CODE_CHARS = 16;
export const VERIFY_CODE_TTL_MS = 24 * 60 * 60 * 1000;
export const INVITE_CODE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Activation mails one account may have sent, the signup's own included (docs/protocol.md §3.38).
 * Anyone can sign up with an address that is not theirs, so without a cap `account verify --resend`
 * would mail a stranger's address as often as the per-minute rate limit lets it (600 an hour). A
 * code lasts 24 hours: the owner of the address needs the signup's mail and perhaps one or two more
 * when one got lost or the code expired, so 5 an hour and 10 a day are never met by them, and keep
 * what a stranger can send at 10 mails a day. Counted in the database (Store.recordActivationMail),
 * so the caps hold across server restarts and processes, as the invitation cap does.
 */
export const ACTIVATION_MAIL_CAPS = [
  { max: 5, windowMs: 3_600_000, per: 'hour' },
  { max: 10, windowMs: 86_400_000, per: 'day' },
] as const;

export function newCode(): string {
  const bytes = randomBytes(CODE_CHARS);
  let out = '';
  // 256 is a multiple of 32: taking each byte mod 32 is unbiased
  for (let i = 0; i < CODE_CHARS; i++) out += ALPHABET[bytes[i]! % 32];
  return out.match(/.{4}/g)!.join('-');
}

/** Upper case, without separators; the look-alikes O, I, L read as 0, 1, 1 (Crockford). Null when not a code. */
export function normalizeCode(raw: string): string | null {
  const c = raw.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (c.length !== CODE_CHARS || [...c].some((ch) => !ALPHABET.includes(ch))) return null;
  return c;
}

export function codeHash(code: string): Uint8Array {
  const normal = normalizeCode(code);
  if (normal === null) throw new Error('not a code');
  return sha256(normal);
}
