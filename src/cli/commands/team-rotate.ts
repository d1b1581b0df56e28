import type { ClientContext } from '../../client/context.js';
import { rotateTeam } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';
import { warnUnchecked } from './team-confirm.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await rotateTeam(ctx, { team: opts.team as string, yes: Boolean(opts.yes), onUnchecked: (emails) => warnUnchecked(out, emails) });
  out.result(res, () => `${out.green('✓')} Rotated the key of ${shown(res.team)}: epoch ${shownField(res.epoch)}, sealed to ${res.members} member(s), ${res.workspaces} workspace key(s)`);
}
