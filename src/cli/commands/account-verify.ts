import type { ClientContext } from '../../client/context.js';
import { verifyAccount } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await verifyAccount(ctx, { ...(args[0] ? { code: args[0] as string } : {}), resend: Boolean(opts.resend) });
  out.result(res, () =>
    res.resent ? `A new verification code was sent to ${shown(res.email)}.` : `${out.green('✓')} ${shown(res.email)} is verified.`,
  );
}
