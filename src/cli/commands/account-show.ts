import type { ClientContext } from '../../client/context.js';
import { accountShow } from '../../client/services/account.js';
import type { AccountOverview } from '../../client/services/account.js';
import type { Output } from '../output.js';
import { shown, shownField, shownMinute } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const a = await accountShow(ctx);
  out.result(a, () => [
    out.bold('Account'),
    `  email        ${shown(a.user.email)}${a.user.verifiedAt ? ` (verified ${shownMinute(a.user.verifiedAt)})` : ' (not verified)'}`,
    `  name         ${shown(a.user.name)}`,
    `  id           ${shownField(a.user.id)}`,
    `  created      ${shownMinute(a.user.createdAt)}`,
    `  password     ${a.user.passwordChangedAt ? `changed ${shownMinute(a.user.passwordChangedAt)}` : 'never changed'}`,
    `  recovery key ${a.recoveryKey.set ? (a.recoveryKey.createdAt ? `set ${shownMinute(a.recoveryKey.createdAt)}` : 'set') : 'none (run `insomnia-sync account recovery-key`)'}`,
    `  fingerprint  ${a.fingerprint}`,
    `  server       ${a.server}`,
    `  key cost     Argon2id m=${shownField(a.kdf.memoryKiB)} KiB t=${shownField(a.kdf.iterations)} p=${shownField(a.kdf.parallelism)}`,
    '',
    out.bold(`Sessions (${a.sessions.length})`),
    ...a.sessions.map(
      // labels stored before the server checked them may hold escape sequences: show, never obey
      (s) => `  ${shownField(s.id, 12)}  ${shown(s.ip ?? '?')}  ${shown(s.client ?? '?')}  last seen ${shownMinute(s.lastSeenAt)}${s.current ? out.green('  (this machine)') : ''}`,
    ),
    '',
    listHeading(out, a, 'endedSessions', "Ended sessions still stored until the server's cleanup", 'ended sessions'),
    ...a.endedSessions.map(
      (s) =>
        `  ${shownField(s.id, 12)}  ${shown(s.ip ?? '?')}  ${shown(s.client ?? '?')}  created ${shownMinute(s.createdAt)}, ${s.revokedAt ? `revoked ${shownMinute(s.revokedAt)}` : `expired ${shownMinute(s.expiresAt)}`}`,
    ),
    '',
    listHeading(out, a, 'invitations', 'Invitations to your address', 'invitations'),
    ...a.invitations.map((i) => `  ${shown(i.teamName)}  ${shownField(i.role)}, ${i.state === 'accepted' ? (i.acceptedAt ? `accepted ${shownMinute(i.acceptedAt)}` : 'accepted') : i.state === 'open' ? `open until ${shownMinute(i.expiresAt)}` : 'expired or cancelled'}, sent ${shownMinute(i.createdAt)}`),
    '',
    out.bold('Usage'),
    `  ${shownField(a.usage.workspaces)} workspace(s), ${shownField(a.usage.snapshots)} snapshot(s), ${shownField(a.usage.blobs)} blob(s), ${shownField(a.usage.bytes)} bytes of ciphertext`,
    '',
    out.bold(`Teams (${a.teams.length})`),
    ...a.teams.map((t) => `  ${shownField(t.id, 12)}  ${shown(t.name)}  ${shownField(t.role)}${t.personal ? ', personal' : ''}, key epoch ${shownField(t.epoch)}`),
    '',
    out.bold(`Workspaces (${a.workspaces.length})`),
    ...a.workspaces.map(
      (w) => `  ${shownField(w.id, 12)}  ${a.names[w.id] !== undefined ? shown(a.names[w.id]!) : '(no key)'}  ${shownField(w.size)} bytes, ${shownField(w.snapshots)} snapshot(s), ${shownField(w.blobs)} blob(s)`,
    ),
    '',
    out.bold(`Access tokens you created (${a.accessTokens.length})`),
    ...a.accessTokens.map(
      (t) =>
        `  ${shownField(t.id, 12)}  ${shown(t.name)}  ${shownField(t.scope)}, workspace ${shownField(t.workspaceId, 12)}, last used ${t.lastUsedAt ? shownMinute(t.lastUsedAt) : 'never'}${t.revokedAt ? ', revoked' : t.expiresAt ? `, expires ${shownMinute(t.expiresAt)}` : ''}`,
    ),
    '',
    // docs/protocol.md lists what the server stores in plain text
    out.dim('Workspace names, file names and contents, and snapshot messages are stored encrypted: the server cannot read them.'),
    out.dim('Your name and email, team names and access-token names are stored as they are. `account export` writes all of this with your files.'),
  ]);
}

/** A list's heading with its count; a server from before the list does not send it: said so, not "(0)" (protocol §3.22). */
function listHeading(out: Output, a: AccountOverview, key: 'endedSessions' | 'invitations', title: string, what: string): string {
  if (a.unlisted?.includes(key)) return `${out.bold(title)}: ${out.dim(`${what} not listed by this server (older)`)}`;
  return out.bold(`${title} (${a[key].length})`);
}
