/**
 * The account name goes into mails other people receive (invitations), so it is one line of
 * printable characters; the CLI refuses anything else as a usage error (exit 2) before it asks for
 * a password or talks to the server.
 */
import { describe, expect, it } from 'vitest';
import type { ClientContext } from '../../src/client/context.js';
import { signup } from '../../src/client/services/auth.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { isPrintableLine, printableLine } from '../../src/protocol/text.js';

const UNPRINTABLE = [
  'IT Support\nInvite code: AAAA-BBBB-CCCC-DDDD',
  'carriage\rreturn',
  'bell\u0007',
  'escape \u001b[2J',
  'delete\u007f',
  'c1 \u0085 next line',
  'line\u2028separator',
  'right-to-left \u202eoverride',
  'isolate \u2066x\u2069',
];

/** A context whose every way out fails loudly: the name must be refused before any of them. */
function offlineContext(): ClientContext {
  const never = (what: string) => () => {
    throw new Error(`signup reached ${what}`);
  };
  return {
    cwd: '/',
    profile: 'default',
    serverOverride: 'http://127.0.0.1:9',
    configDir: '/nonexistent',
    loadConfig: never('the config'),
    secrets: {} as ClientContext['secrets'],
    prompter: { password: never('the password prompt'), confirm: never('a confirmation'), text: never('a prompt') },
    progress: { start() {}, update() {}, stop() {} },
    primitives: {} as ClientContext['primitives'],
    api: never('the network'),
    clientLabel: 'test',
  };
}

describe('account names', () => {
  it.each(UNPRINTABLE)('signup refuses %j with exit 2 before the password prompt or the network', async (name) => {
    const err = (await signup(offlineContext(), { email: 'ada@example.com', name }).then(
      () => new Error('signup went through'),
      (e: unknown) => e,
    )) as { code?: string; message: string };
    expect(err.message).toMatch(/one line of printable characters/);
    expect(exitCodeFor(err.code ?? '')).toBe(2);
  });

  it('allows any printable text, accents, scripts and emoji included', () => {
    for (const ok of ['Ada Lovelace', 'Zoë Ünal-Øster', 'محمد', '李小龍', 'Ada 🚀', '', 'tab-free "quotes" <and> & co.']) expect(isPrintableLine(ok)).toBe(true);
    for (const bad of UNPRINTABLE) expect(isPrintableLine(bad)).toBe(false);
  });

  it('printableLine keeps printable text and replaces the rest, one for one', () => {
    expect(printableLine('Ada Lovelace')).toBe('Ada Lovelace');
    expect(printableLine('a\nb\u202ec\u0007')).toBe('a\ufffdb\ufffdc\ufffd');
  });

});
