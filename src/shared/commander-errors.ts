/**
 * Commander's parse errors, read into their parts, for both executables (`insomnia-sync`'s
 * cli/usage.ts and the server's main.ts): commander writes a typo suggestion, and our own
 * errors a fix, on a second line, and echoes an unknown option whole, `=value` included. Each
 * entry point then says it its own way (the client as an error and a hint line, the server as one
 * line). The one module both import: it depends on neither.
 */

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
