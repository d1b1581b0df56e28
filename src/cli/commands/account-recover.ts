import type { ClientContext } from '../../client/context.js';
import { recover } from '../../client/services/account.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await recover(ctx, { email: opts.email as string });
  out.result(res, () => [
    `${out.green('✓')} New password set for ${out.bold(shown(res.email))}; you are logged in on this machine.`,
    `  Fingerprint: ${out.bold(res.fingerprint)}`,
    '  Every other session was signed out. Your recovery key is spent: run `insomnia-sync account recovery-key` for a new one.',
    ...(res.revokedTokens
      ? [`  ${res.revokedTokens} access token(s) you created were revoked with the old password: create new ones with \`insomnia-sync token create\` and replace the CI secrets.`]
      : []),
  ]);
}
