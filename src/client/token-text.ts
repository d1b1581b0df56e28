/**
 * How an access token looks as text (docs/crypto.md §9), apart from the code that decodes one:
 * the CLI's error path needs to recognise and redact tokens without loading any crypto.
 */
export const ACCESS_TOKEN_PREFIX = 'isync_';
const TOKEN_LIKE = /isync_[A-Za-z0-9_-]{8,}/g;

/** Whether an argument is an access token pasted where a name or command was expected. */
export function looksLikeAccessToken(text: string): boolean {
  return text.trim().startsWith(ACCESS_TOKEN_PREFIX);
}

/**
 * `text` with every access token in it cut to its prefix: an error that echoes an argument must
 * not print a token into a terminal or a CI log, where it would be a usable credential.
 */
export function redactAccessTokens(text: string): string {
  return text.replace(TOKEN_LIKE, `${ACCESS_TOKEN_PREFIX}…`);
}
