/**
 * Names people choose for themselves and others to read (account, team and access-token names,
 * docs/protocol.md §3.3) are one line of printable characters: no C0 or C1 control, DEL, line or
 * paragraph separator, or bidirectional control. Any of those could start a forged line in a mail
 * the server sends, ring a terminal's bell, move its cursor, or reorder what a reader sees.
 * Nor a lone UTF-16 surrogate (JSON's "\ud800"): it has no UTF-8 form, so each database would
 * store its own replacement (SQLite three U+FFFD, PostgreSQL one) and the backends would differ.
 * Under the `u` flag the surrogate range matches only unpaired halves; an emoji's pair is one
 * code point above U+FFFF. The CLI quotes the same characters when it prints text from
 * elsewhere (cli/shown-text.ts): hence the class's inside, exported.
 */
export const UNPRINTABLE_RANGES = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069\\ud800-\\udfff';
const UNPRINTABLE = `[${UNPRINTABLE_RANGES}]`;
const ANY_UNPRINTABLE = new RegExp(UNPRINTABLE, 'u');
const EVERY_UNPRINTABLE = new RegExp(UNPRINTABLE, 'gu');

export function isPrintableLine(text: string): boolean {
  return !ANY_UNPRINTABLE.test(text);
}

/**
 * The text with each character isPrintableLine refuses replaced by U+FFFD: for output that must
 * hold whatever is stored, names from before the rule included.
 */
export function printableLine(text: string): string {
  return text.replace(EVERY_UNPRINTABLE, '\ufffd');
}
