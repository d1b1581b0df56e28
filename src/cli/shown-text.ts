/**
 * Text from elsewhere — file names from the folder, names and messages from the server or a
 * teammate — made safe to print on a terminal. A control character (a newline, a carriage
 * return, an escape sequence) could otherwise forge output lines or clear the screen, and a
 * bidirectional override could reorder what is read. Such text is shown quoted with C-style
 * escapes, as git quotes unusual path names; ordinary text, non-ASCII letters included, as it is.
 */

// C0 controls, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
// eslint-disable-next-line no-control-regex
const UNSAFE_ALL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069"\\]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

/** `text` as it is when printable; otherwise in double quotes with each unsafe character escaped. */
export function shown(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return `"${text.replace(UNSAFE_ALL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}
