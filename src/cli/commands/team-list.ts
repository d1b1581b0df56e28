import type { ClientContext } from '../../client/context.js';
import { listTeams } from '../../client/services/teams.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const teams = await listTeams(ctx);
  out.result({ teams }, () =>
    teams.map(
      (t) =>
        `${t.id.slice(0, 12)}  ${t.name}${t.personal ? ' (personal)' : ''}  ${t.role}  epoch ${t.epoch}${t.confirmed ? '' : '  (waiting for confirmation)'}`,
    ),
  );
}
