/**
 * Commander's parse errors as our usage errors (exit 2): one line, a hint, and the same JSON shape
 * as every other error with --json. Commander prints nothing itself (see main.ts).
 */
import { looksLikeAccessToken, redactAccessTokens } from '../client/token-text.js';
import { UsageError } from '../client/errors.js';

const HELP_HINT = 'run with --help for usage';
const TOKEN_HINT = 'an access token never goes on the command line: set INSOMNIA_SYNC_TOKEN';
const SECRET_HINT = 'secrets never go on the command line: use --password-stdin or INSOMNIA_SYNC_PASSWORD';

/** A CommanderError's code and message, as the error to report. */
export function usageErrorFrom(err: { code: string; message: string }): UsageError {
  if (err.code === 'commander.help') return new UsageError('missing command', 'run with --help to list the commands');
  const lines = err.message
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  let message = (lines[0] ?? 'bad usage').replace(/^error: /, '');
  // "(Did you mean --message?)" on the next line
  const suggestion = /^\(Did you mean (.+)\?\)$/.exec(lines[1] ?? '')?.[1];
  let hint = suggestion ? `did you mean ${suggestion}? (${HELP_HINT})` : HELP_HINT;
  // an empty value (program.ts) says on its second line what to do instead
  if (err.code === 'commander.emptyValue' && lines[1]) hint = lines[1];
  if (err.code === 'commander.unknownCommand') {
    const name = /'([^']*)'/.exec(message)?.[1] ?? '';
    if (looksLikeAccessToken(name)) return new UsageError(`unknown command '${redactAccessTokens(name)}'`, TOKEN_HINT);
  }
  if (err.code === 'commander.unknownOption') {
    const flag = /'([^']*)'/.exec(message)?.[1] ?? '';
    message = `unknown option '${redactOption(flag)}'`;
    if (/^--?(pass|pw)/i.test(flag)) hint = SECRET_HINT;
  }
  return new UsageError(redactAccessTokens(message), hint);
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
