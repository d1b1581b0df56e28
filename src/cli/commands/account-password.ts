import type { ClientContext } from '../../client/context.js';
import { changePassword } from '../../client/services/account.js';
import { commandLine } from '../../client/session.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await changePassword(ctx);
  const live = res.liveTokens ?? [];
  out.result({ changed: true, ...res }, () => [
    `${out.green('✓')} Password changed. Your data was not re-encrypted: only your account key was re-wrapped.`,
    `  ${shownField(res.revokedSessions)} other session(s) signed out; log in there again with the new password.`,
    res.sessionRenewed
      ? '  This machine has a new session: a copy of its old one (from a backup of this config folder, say) no longer works.'
      : `  This machine kept its session (the server is older): run \`${commandLine(ctx, 'login --email EMAIL')}\` to replace it and end any copy of it.`,
    ...(res.recoveryKeyRevoked ? ['  Your recovery key was revoked with the old password; run `insomnia-sync account recovery-key` for a new one.'] : []),
    ...(live.length > 0
      ? [
          `  ${live.length} access token(s) you created still work: a password change does not revoke them.`,
          ...live.map((t) => `    ${shownField(t.id, 12)}  ${shown(t.name)}  ${t.scope === 'write' ? 'read-write' : 'read-only'}  workspace ${shownField(t.workspaceId, 12)}`),
          '  If someone else knew your old password, revoke any they may have seen: `insomnia-sync token revoke ID` (names in `insomnia-sync token list`).',
        ]
      : []),
  ]);
}
