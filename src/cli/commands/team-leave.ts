import type { ClientContext } from '../../client/context.js';
import { leaveTeam } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await leaveTeam(ctx, { team: opts.team as string });
  out.result(res, () => [
    `${out.green('✓')} You left ${shown(res.team)}.`,
    ...(res.rotationPending ? ['  Its owners and admins must rotate the team key (`team rotate`) before anyone pushes again.'] : []),
  ]);
}
