import type { ClientContext } from '../../client/context.js';
import { teamMembers } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField, shownMinute } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await teamMembers(ctx, { team: opts.team as string });
  out.result(res, () => [
    `${out.bold(shown(res.team.name))}  epoch ${shownField(res.team.epoch)}${res.team.rotationPending ? out.yellow('  (key rotation pending: `team rotate`)') : ''}`,
    ...res.members.map(
      (m) => `  ${shown(m.email)}  ${shownField(m.role)}  ${m.status === 'confirmed' ? 'confirmed' : out.yellow('accepted, not confirmed')}  fingerprint ${m.fingerprint}`,
    ),
    ...res.invitations.map((i) => `  ${shown(i.email)}  ${shownField(i.role)}  ${out.dim(`invited, expires ${shownMinute(i.expiresAt)}`)}`),
  ]);
}
