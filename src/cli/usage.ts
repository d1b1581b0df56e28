/**
 * Commander's parse errors as our usage errors (exit 2): one line, a hint, and the same JSON shape
 * as every other error with --json. Commander prints nothing itself (see main.ts); the server
 * reads its errors with the same readCommanderError (shared/commander-errors.ts).
 */
import { looksLikeAccessToken, redactAccessTokens } from '../client/token-text.js';
import { UsageError } from '../client/errors.js';
import { readCommanderError } from '../shared/commander-errors.js';

const HELP_HINT = 'run with --help for usage';
const TOKEN_HINT = 'an access token never goes on the command line: set INSOMNIA_SYNC_TOKEN';
const SECRET_HINT = 'secrets never go on the command line: use --password-stdin or INSOMNIA_SYNC_PASSWORD';

/** A CommanderError's code and message, as the error to report. */
export function usageErrorFrom(err: { code: string; message: string }): UsageError {
  if (err.code === 'commander.help') return new UsageError('missing command', 'run with --help to list the commands');
  const { message, suggestion, more, word = '' } = readCommanderError(err);
  let hint = suggestion ? `did you mean ${suggestion}? (${HELP_HINT})` : HELP_HINT;
  // an empty value (program.ts) says on its second line what to do instead
  if (err.code === 'commander.emptyValue' && more) hint = more;
  if (err.code === 'commander.unknownCommand' && looksLikeAccessToken(word)) return new UsageError(`unknown command '${redactAccessTokens(word)}'`, TOKEN_HINT);
  if (err.code === 'commander.unknownOption' && /^--?(pass|pw)/i.test(word)) hint = SECRET_HINT;
  return new UsageError(redactAccessTokens(message), hint);
}
