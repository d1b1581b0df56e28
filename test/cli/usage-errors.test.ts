/**
 * Command-line parsing errors become usage errors (exit 2) of the same shape as every other error,
 * never echo what followed `=` in an unknown option (a password in a CI log), and point a
 * `--password…` guess at the ways a password may be given.
 */
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { usageErrorFrom } from '../../src/cli/usage.js';
import { redactOption } from '../../src/shared/commander-errors.js';

/** Parses argv as the CLI does, with commander silent; the CommanderError it ends with, if any. */
async function parse(args: string[]): Promise<{ error: CommanderError | null; printed: string }> {
  let printed = '';
  const program = buildProgram(async () => {}, { outputError: () => {}, writeErr: (s) => (printed += s), writeOut: (s) => (printed += s) });
  try {
    await program.parseAsync(['node', 'insomnia-sync', ...args]);
    return { error: null, printed };
  } catch (err) {
    if (err instanceof CommanderError) return { error: err, printed };
    throw err;
  }
}

async function usage(args: string[]): Promise<{ code: string; message: string; hint?: string }> {
  const { error } = await parse(args);
  expect(error, args.join(' ')).not.toBeNull();
  return usageErrorFrom(error!);
}

describe('command-line parsing errors', () => {
  it.each([
    [['push', '--bogus'], /unknown option '--bogus'/],
    [['clone'], /missing required argument 'workspace'/],
    [['pull', '--ours', '--theirs'], /cannot be used with/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['login'], /required option '--email <email>' not specified/],
  ])('%j is a one-line usage error (exit 2)', async (args, message) => {
    const err = await usage(args);
    expect(err.code).toBe('usage');
    expect(exitCodeFor(err.code)).toBe(2);
    expect(err.message).toMatch(message);
    expect(err.message).not.toMatch(/^error:|\n/);
    expect(err.hint).toMatch(/--help/);
  });

  it('prints nothing itself when told so: main.ts reports it (as JSON with --json)', async () => {
    const { error, printed } = await parse(['--json', 'push', '--bogus']);
    expect(error?.code).toBe('commander.unknownOption');
    expect(printed).toBe('');
  });

  it('never repeats what follows = in an unknown option', async () => {
    for (const args of [
      ['login', '--email', 'a@example.com', '--password=hunter2'],
      ['--password=hunter2', 'whoami'],
      ['push', '--token=hunter2'],
      ['login', '--email', 'a@example.com', '-phunter2'],
    ]) {
      const err = await usage(args);
      expect(err.message, args.join(' ')).not.toContain('hunter2');
      expect(err.hint ?? '').not.toContain('hunter2');
    }
    expect((await usage(['push', '--token=hunter2'])).message).toBe("unknown option '--token=…'");
  });

  it('points a --password… option at --password-stdin and INSOMNIA_SYNC_PASSWORD', async () => {
    for (const flag of ['--password=hunter2', '--password', '--passwd=x', '--pw=x']) {
      const err = await usage(['login', '--email', 'a@example.com', flag]);
      expect(err.hint, flag).toMatch(/--password-stdin/);
      expect(err.hint, flag).toMatch(/INSOMNIA_SYNC_PASSWORD/);
    }
    expect((await usage(['push', '--bogus'])).hint).not.toMatch(/password/);
  });

  it('keeps commander\'s suggestion as a hint', async () => {
    expect((await usage(['push', '--mesage', 'x'])).hint).toMatch(/did you mean --message\?/);
  });

  it('no command is a usage error; --help and `help` asked for are not', async () => {
    for (const args of [[], ['workspace'], ['team']]) {
      const { error } = await parse(args);
      expect(error?.code, args.join(' ')).toBe('commander.help');
      expect(error?.exitCode).not.toBe(0);
      expect(exitCodeFor(usageErrorFrom(error!).code)).toBe(2);
    }
    for (const args of [['--help'], ['help'], ['workspace', '--help'], ['help', 'workspace']]) {
      const { error } = await parse(args);
      expect(['commander.helpDisplayed', 'commander.help'], args.join(' ')).toContain(error?.code);
      expect(error?.exitCode, args.join(' ')).toBe(0);
    }
  });

  it('the help lists every exit status, 130 included', async () => {
    const { printed } = await parse(['--help']);
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7, 130]) expect(printed).toMatch(new RegExp(`\\b${code} [a-z]`));
  });
});

describe('empty values', () => {
  /** every leaf command's path, with a placeholder for each argument and mandatory option it needs */
  function leaves(cmd: Command, words: string[] = []): { words: string[]; cmd: Command; needs: string[] }[] {
    if (cmd.commands.length === 0) {
      const needs = [
        // an argument with fixed choices (team role's ROLE) gets one of them
        ...cmd.registeredArguments.filter((a) => a.required).map((a) => a.argChoices?.[0] ?? 'x'),
        ...cmd.options.filter((o) => o.mandatory).flatMap((o) => [o.long!, 'x']),
      ];
      return [{ words, cmd, needs }];
    }
    return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => leaves(c, [...words, c.name()]));
  }
  const program = buildProgram(async () => {});
  const cases = leaves(program).flatMap(({ words, cmd, needs }) =>
    cmd.options
      // signup --name: an empty one is documented to mean the email's local part (test/e2e/account.test.ts)
      .filter((o) => (o.required || o.optional) && !(words.join(' ') === 'signup' && o.long === '--name'))
      // an option with fixed choices (--role) refuses an empty value as not one of them: tested below
      .filter((o) => !o.argChoices)
      .flatMap((o) => ['', '  '].map((value) => [[...words, ...needs, o.long ?? o.short!, value].join(' ') + ' ', [...words, ...needs, o.long ?? o.short!, value]] as const)),
  );

  it('the table reaches the options that took an empty value for none given', () => {
    const names = cases.map(([name]) => name);
    for (const flag of ['restore x --to', 'export --out', 'verify --workspace', 'token create --workspace x --workspace', 'init --team', 'account sessions --revoke']) {
      expect(names.some((n) => n.startsWith(flag)), flag).toBe(true);
    }
  });

  it.each(cases)('%j is a usage error (exit 2) naming the option, before the command runs', async (_name, args) => {
    let ran = false;
    const prog = buildProgram(async () => void (ran = true), { outputError: () => {}, writeErr: () => {}, writeOut: () => {} });
    let error: CommanderError | null = null;
    try {
      await prog.parseAsync(['node', 'insomnia-sync', ...args]);
    } catch (err) {
      if (!(err instanceof CommanderError)) throw err;
      error = err;
    }
    expect(ran).toBe(false);
    expect(error?.code).toBe('commander.emptyValue');
    const usage = usageErrorFrom(error!);
    expect(exitCodeFor(usage.code)).toBe(2);
    expect(usage.message).toMatch(/^option '.+' is empty$/);
    expect(usage.hint).toMatch(/give it a value|leave out --/);
  });

  it('an option with fixed choices refuses an empty value as not one of them (exit 2), listing the choices', async () => {
    for (const value of ['', '  ']) {
      const { error } = await parse(['team', 'invite', 'a@example.com', '--team', 'x', '--role', value]);
      expect(error?.code).toBe('commander.invalidArgument');
      expect(exitCodeFor(usageErrorFrom(error!).code)).toBe(2);
      expect(usageErrorFrom(error!).message).toMatch(/Allowed choices are member, admin/);
    }
  });

  it('global options and arguments too; a variadic argument is left to its command', async () => {
    for (const args of [['--server', '', 'whoami'], ['--profile', ' ', 'whoami'], ['clone', 'ws', ''], ['restore', ''], ['workspace', 'rename', 'ws', ' ']]) {
      const { error } = await parse(args);
      expect(error?.code, args.join(' ')).toBe('commander.emptyValue');
      expect(usageErrorFrom(error!).message, args.join(' ')).toMatch(/^(option|argument) '.+' is empty$/);
    }
    const { error } = await parse(['team', 'invite', '', '--team', 't']);
    expect(error).toBeNull();
  });
});

describe('redactOption', () => {
  it.each([
    ['--bogus', '--bogus'],
    ['--password=hunter2', '--password=…'],
    ['--a=b=c', '--a=…'],
    ['-x', '-x'],
    ['-phunter2', '-p…'],
  ])('%s → %s', (flag, shown) => expect(redactOption(flag)).toBe(shown));
});
