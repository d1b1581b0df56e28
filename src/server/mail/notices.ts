/**
 * Security notices and receipts (SPEC §1: transactional mail only). Each says what happened, when,
 * from which address and client, and what to do if it was not the user; none carries a secret
 * (no key, token, code or password in any form).
 */
import { printableLine } from '../../protocol/text.js';
import type { MailMessage } from './mailer.js';

export interface RequestFacts {
  at: Date;
  ip: string | null;
  client: string | null;
}

/** The client label is the request's User-Agent, whatever the sender put there: one printable line. */
function origin(f: RequestFacts): string {
  const shown = (value: string | null): string => (value === null ? 'unknown' : printableLine(value).slice(0, 200));
  return [`Time: ${f.at.toISOString()}`, `From address: ${shown(f.ip)}`, `Client: ${shown(f.client)}`].join('\n');
}

const NOT_YOU =
  'If this was not you, someone knows your password (or recovery key) and has access to your data:\n' +
  'sign in, change your password with `insomnia-sync account password` (which also revokes any\n' +
  'recovery key), review your sessions with `insomnia-sync account sessions`, and your access\n' +
  'tokens with `insomnia-sync token list` (revoke with `insomnia-sync token revoke ID`).';

const NEW_RECOVERY_KEY = 'Run `insomnia-sync account recovery-key` for a new one.';

export function passwordChangedNotice(
  to: string,
  facts: RequestFacts,
  revokedSessions: number,
  recoveryKeyRevoked: boolean,
  liveTokens: number,
  callerRenewed = true,
): MailMessage {
  return {
    to,
    subject: 'insomnia-sync: your password was changed',
    text: [
      'The password of your insomnia-sync account was changed.',
      '',
      origin(facts),
      ...(callerRenewed
        ? [
            `Every session was signed out: ${revokedSessions} on other machines, and the one the change was made from,`,
            'which was given a new one in its place: a copy of its old session (a backup of that machine) no longer works.',
          ]
        : [
            // an older client, which cannot take a new session, kept its own
            `Other sessions signed out: ${revokedSessions}. The one the change was made from was kept: log in again there`,
            'to end it and any copy of it (a backup of that machine).',
          ]),
      ...(recoveryKeyRevoked ? [`Your recovery key was revoked with the old password. ${NEW_RECOVERY_KEY}`] : []),
      ...(liveTokens > 0
        ? [
            `Access tokens you created that still work: ${liveTokens}. A password change does not revoke them;`,
            'if someone else knew your old password, revoke any they may have seen (`insomnia-sync token list`,',
            'then `insomnia-sync token revoke ID`).',
          ]
        : []),
      '',
      'Your data was not re-encrypted: only the key that protects your account key changed.',
      '',
      NOT_YOU,
    ].join('\n'),
  };
}

export function recoveredNotice(to: string, facts: RequestFacts, revokedSessions: number, revokedTokens: number): MailMessage {
  return {
    to,
    subject: 'insomnia-sync: your account was recovered with your recovery key',
    text: [
      'Your recovery key was used to set a new password for your insomnia-sync account.',
      'The old password no longer works, and the recovery key is spent: it works once.',
      NEW_RECOVERY_KEY,
      '',
      origin(facts),
      `Sessions signed out: ${revokedSessions}`,
      `Access tokens you created that were revoked: ${revokedTokens}${revokedTokens > 0 ? ' (create new ones with `insomnia-sync token create`)' : ''}`,
      '',
      NOT_YOU,
    ].join('\n'),
  };
}

export function recoveryKeySetNotice(to: string, facts: RequestFacts, replaced: boolean): MailMessage {
  return {
    to,
    subject: 'insomnia-sync: a recovery key was created for your account',
    text: [
      replaced
        ? 'A new recovery key was created for your insomnia-sync account; the previous one no longer works.'
        : 'A recovery key was created for your insomnia-sync account.',
      'Anyone who holds it can set a new password for your account. Keep it offline.',
      '',
      origin(facts),
      '',
      NOT_YOU,
    ].join('\n'),
  };
}

export function deletionReceipt(to: string, facts: RequestFacts, lines: string[], backups: string): MailMessage {
  return {
    to,
    subject: 'insomnia-sync: your account was deleted',
    text: [
      'Your insomnia-sync account was deleted at your request. This cannot be undone.',
      '',
      origin(facts),
      '',
      'Removed:',
      ...lines.map((l) => `  - ${l}`),
      '',
      backups,
      '',
      'This is the last message we send to this address about this account.',
    ].join('\n'),
  };
}
