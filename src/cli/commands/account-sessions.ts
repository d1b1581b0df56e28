import type { ClientContext } from '../../client/context.js';
import { listSessions, revokeSession } from '../../client/services/account.js';
import type { Output } from '../output.js';
import { shown, shownField, shownMinute } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  if (typeof opts.revoke === 'string') {
    const res = await revokeSession(ctx, opts.revoke);
    out.result(res, () => `${out.green('✓')} Revoked session ${shownField(res.revoked, 12)}: its next command fails and it must log in again`);
    return;
  }
  const { sessions } = await listSessions(ctx);
  out.result({ sessions }, () =>
    sessions.map(
      (s) =>
        // labels stored before the server checked them may hold escape sequences: show, never obey
        `${shownField(s.id, 12)}  ${shown(s.ip ?? '?').padEnd(15)}  ${shown(s.client ?? '?')}  ${out.dim(`created ${shownMinute(s.createdAt)}, last seen ${shownMinute(s.lastSeenAt)}`)}${s.current ? out.green('  (this machine)') : ''}`,
    ),
  );
}
