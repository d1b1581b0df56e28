/**
 * Text from elsewhere — file names from the folder, names and messages from the server or a
 * teammate — made safe to print on a terminal. A control character (a newline, a carriage
 * return, an escape sequence) could otherwise forge output lines or clear the screen, and a
 * bidirectional override could reorder what is read. Such text is shown quoted with C-style
 * escapes, as git quotes unusual path names; ordinary text, non-ASCII letters included, as it is.
 */
import { UNPRINTABLE_RANGES } from '../protocol/text.js';

// What protocol/text.ts's isPrintableLine refuses in names, and for the same reasons: C0 and C1
// controls, DEL, the Arabic letter mark, LRM/RLM, line and paragraph separators (a newline to
// some terminals), the bidirectional controls, and lone surrogates (with the `u` flag the range
// matches only unpaired halves).
const UNSAFE = new RegExp(`[${UNPRINTABLE_RANGES}]`, 'u');
const UNSAFE_ALL = new RegExp(`[${UNPRINTABLE_RANGES}"\\\\]`, 'gu');

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };
const escaped = (c: string): string => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` as it is when printable; otherwise in double quotes with each unsafe character escaped. */
export function shown(text: string): string {
  return UNSAFE.test(text) ? quoted(text) : text;
}

/** `text` in double quotes, always, escaped as shown() escapes it: for a name quoted even when plain. */
export function quoted(text: string): string {
  return `"${text.replace(UNSAFE_ALL, escaped)}"`;
}

/**
 * A time from the server as listings show it to people: to the minute, in UTC, and saying so
 * (`2026-12-06 19:34 UTC`); anything that is not a time as shownField() shows it. --json keeps the
 * server's ISO 8601 text.
 */
export function shownMinute(iso: unknown): string {
  // only a string is a time here (new Date(null) would be 1970): anything else as shownField has it
  const time = typeof iso === 'string' ? new Date(iso) : null;
  return time === null || Number.isNaN(time.getTime()) ? shownField(iso) : `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

const UNSAFE_IN_LINE = new RegExp(`[${UNPRINTABLE_RANGES}]`, 'gu');
// the same but for newline and tab, which start a line or move right and overwrite nothing
const UNSAFE_IN_LINES = new RegExp(`(?![\\n\\t])[${UNPRINTABLE_RANGES}]`, 'gu');

/**
 * A line of our own that embeds text from elsewhere — an error naming a team, a question naming a
 * workspace, a server's own error message — with each unsafe character escaped where it stands
 * and no quotes added: the line stays one line and drives nothing. For talk on standard error,
 * where the pieces are not known apart; a result line quotes each piece with shown() instead.
 */
export function shownLine(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_IN_LINE, escaped) : text;
}

/** As shownLine, for text of our own made of lines (a result): newlines and tabs kept. */
export function shownLines(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_IN_LINES, escaped) : text;
}

/**
 * A value from a server's answer shown where a line expects an id, a count, a date or a role. The
 * answer is JSON taken as its type unchecked, so a hostile server can put text with a newline where
 * a size or a date belongs and forge a line of output (the output's own net keeps newlines: a
 * result is made of lines). A number or printable text is shown as it is, anything else as shown()
 * quotes it; `maxChars` cuts an id to the prefix the line shows.
 */
export function shownField(value: unknown, maxChars?: number): string {
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  return shown(maxChars === undefined ? text : text.slice(0, maxChars));
}
