import type { ClientContext } from '../../client/context.js';
import { deleteAccount } from '../../client/services/account.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const r = await deleteAccount(ctx, { yes: Boolean(opts.yes) });
  const n = r.removed;
  out.result(r, () => [
    `${out.green('✓')} Account ${out.bold(shown(r.email))} deleted at ${shownField(r.deletedAt)}. Receipt:`,
    `  account (email, name, keys, password verifier)`,
    `  ${shownField(n.sessions)} session(s), ${shownField(n.accessTokens)} access token(s), ${shownField(n.recoveryKeys)} recovery key(s)`,
    `  ${shownField(n.memberships)} team membership(s), ${shownField(n.teams)} team(s) no one else belonged to`,
    `  ${shownField(n.workspaces)} workspace(s) with ${shownField(n.snapshots)} snapshot(s) and ${shownField(n.blobs)} blob(s)`,
    `  ${shownField(n.invitations)} invitation(s) to your address, pending or accepted`,
    `  Backups: ${shown(r.backups)}`,
    wipedLine(r.wipedProfiles, ctx.profile),
  ]);
}

/** Which of this config folder's profiles lost the deleted account's keys: this one, and any other logged in to it. */
function wipedLine(profiles: string[], current: string): string {
  const others = profiles.filter((p) => p !== current);
  if (others.length === 0) return 'Local keys and the session on this machine were wiped.';
  return `Local keys and sessions were wiped from ${profiles.length} profiles on this machine: ${[current, ...others].map((p) => shown(p)).join(', ')}.`;
}
