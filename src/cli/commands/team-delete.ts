import type { ClientContext } from '../../client/context.js';
import { deleteTeam } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const r = await deleteTeam(ctx, { team: opts.team as string, yes: Boolean(opts.yes) });
  const n = r.removed;
  out.result(r, () => [
    `${out.green('✓')} Deleted team ${out.bold(shown(r.team))} (${r.teamId.slice(0, 12)}) from the server, for every member:`,
    `  ${n.workspaces} workspace(s) with ${n.snapshots} snapshot(s) and ${n.blobs} blob(s)`,
    `  ${n.memberships} membership(s) with their team keys, ${n.accessTokens} access token(s), ${n.invitations} invitation(s)`,
    'Folders linked to its workspaces keep their files; they no longer sync.',
  ]);
}
