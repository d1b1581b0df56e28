/**
 * The `client` label a login, signup or recovery names its session with (docs/protocol.md §3.3).
 * The account owner reads it on a terminal in `account sessions` and `account show`, so it is one
 * printable line, like a name: an escape sequence or newline there could redraw the screen.
 */
import { isPrintableLine } from '../protocol/text.js';
import { badRequest } from './errors.js';

export function clientLabel(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  if (!isPrintableLine(raw)) throw badRequest('a client label is one line of printable characters');
  return raw;
}
