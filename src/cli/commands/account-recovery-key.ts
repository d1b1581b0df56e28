import type { ClientContext } from '../../client/context.js';
import { createRecoveryKey } from '../../client/services/account.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await createRecoveryKey(ctx);
  out.result(res, () => [
    'Your recovery key (shown this once; any earlier one no longer works):',
    '',
    `  ${out.bold(res.recoveryKey)}`,
    '',
    'Write it down or print it and keep it offline. With it, `insomnia-sync account recover --email EMAIL`',
    'sets a new password without losing data. Anyone who has it can take over your account.',
  ]);
}
