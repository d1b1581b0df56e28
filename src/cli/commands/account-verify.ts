import type { ClientContext } from '../../client/context.js';
import { verifyAccount } from '../../client/services/teams.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await verifyAccount(ctx, { ...(args[0] ? { code: args[0] as string } : {}), resend: Boolean(opts.resend) });
  out.result(res, () =>
    res.resent ? `A new verification code was sent to ${res.email}.` : `${out.green('✓')} ${res.email} is verified.`,
  );
}
