import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { setMemberRole } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

const ROLES = ['owner', 'admin', 'member'] as const;

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const [email, role] = args as [string, string];
  if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`the role is owner, admin or member, not ${JSON.stringify(role)}`);
  const res = await setMemberRole(ctx, { team: opts.team as string, email, role: role as (typeof ROLES)[number] });
  out.result(res, () => [
    res.previous === res.role
      ? `${shown(res.email)} is already ${shownField(res.role)} of ${out.bold(shown(res.team))}`
      : `${out.green('✓')} ${shown(res.email)} is now ${shownField(res.role)} of ${out.bold(shown(res.team))} (was ${shownField(res.previous)})`,
  ]);
}
