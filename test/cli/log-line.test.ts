import { describe, expect, it } from 'vitest';
import { logLine } from '../../src/cli/commands/log.js';
import type { LogEntry } from '../../src/client/services/history.js';

const plain = { yellow: (s: string) => s, dim: (s: string) => s };
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function entry(over: Partial<LogEntry> = {}, author: Partial<LogEntry['author']> = {}): LogEntry {
  return {
    id: 'a'.repeat(64),
    parent: null,
    author: { userId: 'b'.repeat(32), name: 'alice', email: 'alice@example.com', ...author },
    time: '2026-12-06T14:09:00.123Z',
    message: 'first sync',
    files: 1,
    bytes: 7,
    ...over,
  };
}

describe('log: one snapshot on one line', () => {
  it('shows ordinary text as it is, with the time in UTC saying so', () => {
    expect(logLine(plain, entry())).toBe('aaaaaaaaaaaa 2026-12-06 14:09:00 UTC alice <alice@example.com>  first sync (1 file, 7 bytes)');
  });

  it('a message cannot forge a second entry, nor overwrite this one: newline, carriage return and escapes are quoted', () => {
    const forged = logLine(plain, entry({ message: 'ok\n0123456789ab 2026-12-06 14:09:00 bob <bob@example.com>  approved' }));
    expect(forged.split('\n')).toHaveLength(1);
    expect(forged).toContain('  "ok\\n0123456789ab 2026-12-06 14:09:00 bob <bob@example.com>  approved" (1 file');
    // older clients could push a carriage return: it is read, and shown escaped
    expect(logLine(plain, entry({ message: 'ok\r0123456789ab bob' }))).toContain('  "ok\\r0123456789ab bob" (');
    for (const message of ['red \u001b[31mtext', 'title\u001b]0;owned\u0007', 'rtl\u202etxt', 'c1\u009b2J', 'tab\there']) {
      expect(logLine(plain, entry({ message })), JSON.stringify(message)).not.toMatch(RAW);
    }
  });

  it("the author's name and email are quoted the same way", () => {
    const line = logLine(plain, entry({}, { name: 'bob\r0123', email: 'e\u001b[2J@example.com' }));
    expect(line).not.toMatch(RAW);
    expect(line).toContain(' "bob\\r0123" <"e\\u001b[2J@example.com">  first sync');
  });
});
