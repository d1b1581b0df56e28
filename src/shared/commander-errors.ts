/**
 * Commander's parse errors, read into their parts, for both executables (`insomnia-sync`'s
 * cli/usage.ts and the server's main.ts): commander writes a typo suggestion, and our own
 * errors a fix, on a second line, and echoes an unknown option whole, `=value` included. Each
 * entry point then says it its own way (the client as an error and a hint line, the server as one
 * line). And what both do alike: refuse an empty value (refuseEmptyValues), and answer `help
 * [COMMAND...]` (addHelpCommand). The one module both import: it depends on neither.
 */
import type { Command, Option } from 'commander';

export interface CommanderProblem {
  /** the first line, without commander's `error: `; an unknown option shown by redactOption */
  message: string;
  /** what commander suggests for a mistyped option or command (`--port`, `vacuum`) */
  suggestion?: string;
  /** the second line, when it is not the suggestion (an empty value's fix, see cli/program.ts) */
  more?: string;
  /** the unknown option or command as typed (unredacted: for the caller's checks, never to show) */
  word?: string;
}

/** A CommanderError's code and message, in parts. */
export function readCommanderError(err: { code: string; message: string }): CommanderProblem {
  const lines = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let message = (lines[0] ?? 'bad usage').replace(/^error: /, '');
  // "(Did you mean --message?)" on the next line
  const suggestion = /^\(Did you mean (.+)\?\)$/.exec(lines[1] ?? '')?.[1];
  const problem: CommanderProblem = { message };
  if (suggestion !== undefined) problem.suggestion = suggestion;
  else if (lines[1] !== undefined) problem.more = lines[1];
  if (err.code === 'commander.unknownOption' || err.code === 'commander.unknownCommand') {
    const word = /'([^']*)'/.exec(message)?.[1] ?? '';
    problem.word = word;
    if (err.code === 'commander.unknownOption') message = `unknown option '${redactOption(word)}'`;
  }
  problem.message = message;
  return problem;
}

/**
 * An unknown option as it may be shown: `--password=hunter2` is a password in a terminal or CI
 * log, so nothing after `=` is; nor what follows a short option's letter (`-phunter2`).
 */
export function redactOption(flag: string): string {
  if (flag.startsWith('--')) {
    const eq = flag.indexOf('=');
    return eq === -1 ? flag : `${flag.slice(0, eq)}=…`;
  }
  if (flag.startsWith('-') && flag.length > 2) return `${flag.slice(0, 2)}…`;
  return flag;
}

/**
 * Refuses an option or argument given an empty or blank value (`--to ""`, `--data-dir ""`): the
 * commands test values for truth or resolve them as paths, so it would be taken for one not given,
 * or for the current folder, and the command would act somewhere nobody named (a `"$DIR"` whose
 * variable is unset). Raised through commander (code `commander.emptyValue`, the fix on a second
 * line) so that each entry point reports it like every parsing error, with its `exitCode`.
 * `allowed`: options whose empty value is documented to mean their default; `required`: options
 * required that commander does not know as such (their fix is a value); `leftOut`: what leaving
 * an option out does, where its --help shows no default (`to log to standard output, the
 * default`), said after "leave out --FLAG" so that a script that passed an unset variable learns
 * how to get what it used to. Variadic arguments are left to their command (`team invite`
 * reports a bad address and goes on).
 */
export function refuseEmptyValues(
  command: Command,
  opts: { exitCode: number; allowed?: (option: Option) => boolean; required?: (option: Option) => boolean; leftOut?: (option: Option) => string | undefined },
): void {
  const blank = (v: unknown): boolean => typeof v === 'string' && v.trim() === '';
  for (let cmd: Command | null = command; cmd; cmd = cmd.parent) {
    for (const option of cmd.options) {
      if (!option.required && !option.optional) continue; // a flag: no value to be empty
      if (opts.allowed?.(option)) continue;
      const key = option.attributeName();
      if (cmd.getOptionValueSource(key) !== 'cli' || !blank(cmd.getOptionValue(key))) continue;
      const leftOut = opts.leftOut?.(option);
      const hint =
        option.mandatory || opts.required?.(option)
          ? 'give it a value'
          : `an empty value does not mean the default: leave out ${option.long ?? option.short}${leftOut ? ` ${leftOut}` : ''}, or give a value`;
      command.error(`option '${option.flags}' is empty\n${hint}`, { code: 'commander.emptyValue', exitCode: opts.exitCode });
    }
  }
  for (const [i, argument] of command.registeredArguments.entries()) {
    if (argument.variadic || !blank(command.processedArgs[i])) continue;
    const hint = argument.required ? 'give it a value' : 'an empty value does not mean the default: leave it out, or give a value';
    command.error(`argument '${argument.name()}' is empty\n${hint}`, { code: 'commander.emptyValue', exitCode: opts.exitCode });
  }
}

/**
 * commander's own "unknown command" error for `word` looked up among the commands of `command`,
 * its suggestion included (the method reads the word from `args` and is not in its typings).
 */
export function unknownCommand(command: Command, word: string): never {
  const own = (command as unknown as { unknownCommand?: () => never }).unknownCommand;
  command.args = [word];
  if (typeof own === 'function') own.call(command);
  command.error(`error: unknown command '${word}'`, { code: 'commander.unknownCommand' });
}

const HELP_COMMANDS = new WeakSet<Command>();

/** Whether `command` is a `help` made by addHelpCommand (a hook may leave it be). */
export function isHelpCommand(command: Command): boolean {
  return HELP_COMMANDS.has(command);
}

/**
 * `help [COMMAND...]` of a program or command group, in place of commander's own, which reads one
 * word (`help admin vacuum` was admin's help) and answered a word that is no command with the
 * whole help (`insomnia-sync team help nosuch`). As git and gh do: the help asked for goes to
 * standard output, exit 0; a word that is no command is the one error of an unknown command, with
 * commander's suggestion (`error: unknown command 'migrat' (did you mean migrate?)`), which each
 * entry point reports as it reports every parse error.
 */
export function addHelpCommand(parent: Command, example: string): void {
  parent.helpCommand(false);
  const help = parent
    .command('help')
    .description('display help for command')
    .argument('[command...]', `a command, e.g. ${example}`)
    .action((words: string[]) => {
      let command = parent;
      for (const word of words) {
        const next = command.commands.find((c) => c.name() === word);
        if (next === undefined) unknownCommand(command, word);
        command = next;
      }
      command.help();
    });
  HELP_COMMANDS.add(help);
}
