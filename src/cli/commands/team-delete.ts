import type { ClientContext } from '../../client/context.js';
import { deleteTeam } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const r = await deleteTeam(ctx, { team: opts.team as string, yes: Boolean(opts.yes) });
  const n = r.removed;
  out.result(r, () => [
    `${out.green('✓')} Deleted team ${out.bold(shown(r.team))} (${shownField(r.teamId, 12)}) from the server, for every member:`,
    `  ${shownField(n.workspaces)} workspace(s) with ${shownField(n.snapshots)} snapshot(s) and ${shownField(n.blobs)} blob(s)`,
    `  ${shownField(n.memberships)} membership(s) with their team keys, ${shownField(n.accessTokens)} access token(s), ${shownField(n.invitations)} invitation(s)`,
    'Folders linked to its workspaces keep their files; they no longer sync.',
  ]);
}
