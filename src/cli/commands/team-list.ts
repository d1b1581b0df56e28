import type { ClientContext } from '../../client/context.js';
import { listTeams, type TeamListEntry } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const teams = await listTeams(ctx);
  out.result({ teams }, () =>
    teams.map(
      (t) =>
        `${shownField(t.id, 12)}  ${shown(t.name)}${t.personal ? ' (personal)' : ''}  ${shownField(t.role)}  epoch ${shownField(t.epoch)}${t.confirmed ? '' : '  (waiting for confirmation)'}${pendingRotation(out, t)}`,
    ),
  );
}

/** Where owners look first: a team whose writes wait for them to rotate its key. */
function pendingRotation(out: Output, t: TeamListEntry): string {
  if (!t.rotationPending) return '';
  return out.yellow(t.role === 'member' ? '  (key rotation pending: writes wait for an owner or admin)' : `  (key rotation pending: run \`team rotate --team ${shownField(t.id, 12)}\`)`);
}
