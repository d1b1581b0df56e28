import type { ClientContext } from '../../client/context.js';
import { SyncError, UsageError } from '../../client/errors.js';
import { createRecoveryKey } from '../../client/services/account.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  // The new key replaces the old one on the server and is shown once: --quiet would lose both.
  if (out.quiet && !out.json) throw new UsageError('--quiet would hide the recovery key, which is shown only once', 'drop --quiet, or use --json');
  const res = await createRecoveryKey(ctx);
  const delivered = await out.resultDelivered(res, () => [
    `Your recovery key (shown this once${res.replaced ? '; your earlier one no longer works' : ''}):`,
    '',
    `  ${out.bold(res.recoveryKey)}`,
    '',
    'Write it down or print it and keep it offline. With it, `insomnia-sync account recover --email EMAIL`',
    'sets a new password without losing data. Anyone who has it can take over your account.',
  ]);
  // The key is set on the server and nobody saw it: say so, as a failure (nothing to undo it with:
  // a key nobody holds opens nothing, and a new one replaces it).
  if (!delivered) {
    throw new SyncError(
      'output_lost',
      `the new recovery key could not be written to standard output (its reader had closed it)${res.replaced ? '; your earlier one no longer works either' : ''}`,
      'run `insomnia-sync account recovery-key` again with its output kept',
    );
  }
}
