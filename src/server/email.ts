import { isPrintableLine } from '../protocol/text.js';
import { LIMITS } from '../protocol/types.js';

/** Emails compare trimmed and lower-cased; null when the shape is not an address. */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim().toLowerCase();
  if (email.length < 3 || email.length > LIMITS.maxEmailChars) return null;
  // addresses go into mails too: controls there could forge lines or redraw a terminal
  if (!/^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(email) || !isPrintableLine(email)) return null;
  return email;
}
