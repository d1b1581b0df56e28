import { describe, expect, it } from 'vitest';
import { isPrintableLine } from '../../src/protocol/text.js';
import { quoted, shown, shownField, shownLine, shownLines, shownMinute } from '../../src/cli/shown-text.js';

describe('text from elsewhere, shown on a terminal', () => {
  it('leaves printable text as it is, non-ASCII letters, quotes and backslashes included', () => {
    for (const plain of ['envs/prod.json', 'café/naïve ü.json', 'a "quoted" name', 'C:\\path', '日本語', '']) expect(shown(plain)).toBe(plain);
  });

  it('quotes text with control characters, escaping them so no line can be forged or the screen cleared', () => {
    expect(shown('bad\nname')).toBe('"bad\\nname"');
    expect(shown('ok\r0123456789ab bob')).toBe('"ok\\r0123456789ab bob"');
    expect(shown('esc\u001b[2Jx')).toBe('"esc\\u001b[2Jx"');
    expect(shown('tab\there "q" \\')).toBe('"tab\\there \\"q\\" \\\\"');
    expect(shown('del\u007f c1\u009b')).toBe('"del\\u007f c1\\u009b"');
  });

  it('quotes bidirectional overrides, which reorder what is read', () => {
    expect(shown('invoice\u202egnp.json')).toBe('"invoice\\u202egnp.json"');
    expect(shown('a\u2066b')).toBe('"a\\u2066b"');
  });

  it('never leaves a raw control character in its result', () => {
    for (let c = 0; c < 0xa0; c++) {
      const out = shown(`x${String.fromCharCode(c)}y`);
      if (c < 0x20 || (c >= 0x7f && c < 0xa0)) expect(out).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it('quoted() always quotes, escaping as shown() does', () => {
    expect(quoted('ci')).toBe('"ci"');
    expect(quoted('a "b" \\')).toBe('"a \\"b\\" \\\\"');
    expect(quoted('x\ny')).toBe(shown('x\ny'));
  });

  it('shownLine() escapes in place, without quotes: a line of talk naming a team stays one line', () => {
    expect(shownLine('team "Acme" not found')).toBe('team "Acme" not found');
    expect(shownLine('not a member of Acme\u001b[2J\nfake line\u202e')).toBe('not a member of Acme\\u001b[2J\\nfake line\\u202e');
    expect(shownLine('a\tb\rc')).toBe('a\\tb\\rc');
  });

  it('shownLines() keeps newlines and tabs, escapes the rest', () => {
    expect(shownLines('one\ntwo\tcol')).toBe('one\ntwo\tcol');
    expect(shownLines('one\r\u001b]0;t\u0007two')).toBe('one\\r\\u001b]0;t\\u0007two');
    for (let c = 0; c < 0xa0; c++) {
      const ch = String.fromCharCode(c);
      if (ch !== '\n' && ch !== '\t') expect(shownLines(`x${ch}y`)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    }
  });

  it('quotes exactly what the server refuses in a name: every BMP character and lone surrogates agree with isPrintableLine', () => {
    const differ: string[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      const quotedHere = shown(`x${ch}y`) !== `x${ch}y`;
      // a quote and a backslash are printable, and left alone unless quoting happens anyway
      if (quotedHere !== !isPrintableLine(`x${ch}y`)) differ.push(c.toString(16));
    }
    expect(differ).toEqual([]);
    expect(shown('line\u2028sep')).toBe('"line\\u2028sep"');
    expect(shown('rtl\u200fmark')).toBe('"rtl\\u200fmark"');
    // a pair of surrogates is one character (an emoji), printed as it is
    expect(shown('ok \u{1f600}')).toBe('ok \u{1f600}');
  });
  it("shownField() shows a server's id, count, date or role as it is, and anything forged in its place on one line", () => {
    expect(shownField(1234)).toBe('1234');
    expect(shownField('0123456789abcdef0123', 12)).toBe('0123456789ab');
    expect(shownField('2024-05-01T10:00:00.000Z')).toBe('2024-05-01T10:00:00.000Z');
    expect(shownField('1\nfake: verified OK\n')).toBe('"1\\nfake: verified OK\\n"');
    expect(shownField('ab\ncd', 12)).toBe('"ab\\ncd"');
    // not what the type says: shown as JSON, never as a crash
    expect(shownField({ a: '\n' })).toBe('{"a":"\\n"}');
    expect(shownField(null)).toBe('null');
    expect(shownField(undefined)).toBe('undefined');
  });

  it('a time from the server: to the minute, in UTC, saying so; anything else as shown() has it', () => {
    expect(shownMinute('2026-12-06T19:33:36.154Z')).toBe('2026-12-06 19:33 UTC');
    expect(shownMinute('2026-12-06T21:33:36+02:00')).toBe('2026-12-06 19:33 UTC');
    expect(shownMinute('not a time')).toBe('not a time');
    expect(shownMinute('soon\u001b[2J')).toBe('"soon\\u001b[2J"');
    // not what the type says: shown as shownField shows it
    expect(shownMinute({ a: '\n' })).toBe('{"a":"\\n"}');
    expect(shownMinute(null)).toBe('null');
  });
});
