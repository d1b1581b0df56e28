import type { ClientContext } from '../../client/context.js';
import { AuthError } from '../../client/errors.js';
import { recover } from '../../client/services/account.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

/**
 * The server answers a key it does not take as "wrong email or recovery key", the same for every
 * cause so that it tells nothing about the account. Read alone it suggests a typo; a key that was
 * typed right may also have been revoked since, which the user can know and the server must not say.
 */
export const STALE_KEY_HINT =
  'check the email and the key (13 groups of 4 characters); a key also stops working once it was used, ' +
  'when the password was changed after it was made (`account password` revokes it), or when a newer one was made (`account recovery-key`)';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  let res: Awaited<ReturnType<typeof recover>>;
  try {
    res = await recover(ctx, { email: opts.email as string });
  } catch (err) {
    if (err instanceof AuthError && err.code === 'unauthorized' && err.hint === undefined) throw new AuthError(err.message, STALE_KEY_HINT);
    throw err;
  }
  out.result(res, () => [
    `${out.green('✓')} New password set for ${out.bold(shown(res.email))}; you are logged in on this machine.`,
    `  Fingerprint: ${out.bold(res.fingerprint)}`,
    '  Every other session was signed out. Your recovery key is spent: run `insomnia-sync account recovery-key` for a new one.',
    ...(res.revokedTokens
      ? [`  ${shownField(res.revokedTokens)} access token(s) you created were revoked with the old password: create new ones with \`insomnia-sync token create\` and replace the CI secrets.`]
      : []),
  ]);
}
