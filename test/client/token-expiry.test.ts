import { describe, expect, it } from 'vitest';
import { checkTokenName, parseExpiry } from '../../src/client/services/tokens.js';
import { UsageError } from '../../src/client/errors.js';

describe('token create flags', () => {
  it.each([
    ['45s', 45_000],
    ['90m', 90 * 60_000],
    ['12h', 12 * 3_600_000],
    ['30d', 30 * 86_400_000],
    ['2w', 14 * 86_400_000],
    [' 7D ', 7 * 86_400_000],
    ['never', null],
  ])('--expires %s', (text, ms) => {
    expect(parseExpiry(text)).toBe(ms);
  });

  it.each(['', '30', 'd', '0d', '-1d', '1.5d', '3 days', '1y', '10000000d'])('rejects --expires %j as a usage error', (text) => {
    expect(() => parseExpiry(text)).toThrow(UsageError);
  });

  it('names: trimmed, 1 to 100 printable characters', () => {
    expect(checkTokenName('  deploy bot ')).toBe('deploy bot');
    for (const bad of ['', '   ', 'a\nb', 'x'.repeat(101), 'tab\there']) expect(() => checkTokenName(bad)).toThrow(UsageError);
  });
});
