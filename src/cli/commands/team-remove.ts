import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { removeMember } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';
import { warnUnchecked } from './team-confirm.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const email = args[0] as string;
  const question = `Remove ${email} from ${opts.team as string} (or withdraw the invitation to them)? If they hold the team key, it is rotated.`;
  if (!(await ctx.prompter.confirm(question))) throw new UsageError('not removed');
  const res = await removeMember(ctx, { team: opts.team as string, email, yes: Boolean(opts.yes), onUnchecked: (emails) => warnUnchecked(out, emails) });
  out.result(res, () => {
    if (res.action === 'invitation_withdrawn') {
      return `${out.green('✓')} Withdrew the invitation to ${shown(res.email)} to join ${shown(res.team)} (${shownField(res.invitation.role)}); its code no longer works, and no key changes (they never joined)`;
    }
    return res.rotated
      ? [
          `${out.green('✓')} Removed ${shown(res.removed)} from ${shown(res.team)}; new key epoch ${shownField(res.epoch)} sealed to ${res.members} member(s), ${res.workspaces} workspace key(s) rotated`,
          '  What they already pulled stays with them; nothing pushed from now on is readable with their keys.',
        ]
      : `${out.green('✓')} Removed ${shown(res.removed)} from ${shown(res.team)}; they were never confirmed and held no key, so the key (epoch ${shownField(res.epoch)}) stays and access tokens keep working`;
  });
}
