/**
 * The two transactional mails that carry a code (SPEC §1): account activation and team
 * invitation. The code is the only secret in them; a line of its own so scripts and tests can
 * read it (`Verification code: CODE`, `Invite code: CODE`).
 */
import { printableLine } from '../../protocol/text.js';
import type { MailMessage } from '../mail/mailer.js';
import { ACTIVATION_MAIL_CAPS } from './codes.js';

export function activationMail(to: string, code: string, expiresAt: Date): MailMessage {
  return {
    to,
    subject: 'insomnia-sync: confirm your email address',
    text: [
      'Welcome to insomnia-sync. To confirm that this address is yours, run:',
      '',
      `  insomnia-sync account verify ${code}`,
      '',
      `Verification code: ${code}`,
      `The code works once and expires at ${expiresAt.toISOString()}.`,
      '',
      'If you did not sign up: someone created an account with this address on this insomnia-sync',
      'server without being able to confirm it. Without this code they cannot invite anyone from',
      'it, but the address stays taken by that unconfirmed account: signing up with it yourself is',
      'refused ("an account with this email already exists"). To use this address on this server,',
      'contact its operator. Otherwise you can ignore this message; the server sends at most',
      `${ACTIVATION_MAIL_CAPS[0].max} of these an hour and ${ACTIVATION_MAIL_CAPS[1].max} a day to one account.`,
    ].join('\n'),
  };
}

/**
 * Every value in here but the code and the role comes from people: the team name, the inviter's
 * name and address, the invited address. Each is made one printable line, names are quoted, and
 * no line starts with one, so a name cannot forge an `Invite code:` line, a line of its own or a
 * terminal escape, even one stored before names were restricted (docs/protocol.md §3.3).
 */
export function invitationMail(
  to: string,
  code: string,
  f: { teamName: string; inviterName: string; inviterEmail: string; role: string; expiresAt: Date },
): MailMessage {
  const team = quoted(f.teamName);
  const inviter = oneLine(f.inviterEmail, 254);
  return {
    to,
    subject: `insomnia-sync: ${inviter} invited you to the team ${team}`.slice(0, 200),
    text: [
      `You are invited to the insomnia-sync team ${team} as ${oneLine(f.role, 20)}.`,
      `Invited by: ${inviter} (account name ${quoted(f.inviterName)})`,
      `Invited address: ${oneLine(to, 254)}`,
      '',
      'Sign up (or log in) with this address, then run:',
      '',
      `  insomnia-sync team accept ${code}`,
      '',
      `Invite code: ${code}`,
      `The code works once, only for an account with this address, and expires at ${f.expiresAt.toISOString()}.`,
      '',
      'After you accept, a team owner or admin confirms you by checking your key fingerprint',
      '(`insomnia-sync whoami` shows it); compare it with them over a channel you trust.',
      'If you do not know the sender, ignore this message.',
    ].join('\n'),
  };
}

function oneLine(text: string, max: number): string {
  const line = printableLine(text);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** In double quotes, with quotes and backslashes escaped, so the value cannot seem to end early. */
function quoted(text: string): string {
  return `"${oneLine(text, 200).replace(/["\\]/g, '\\$&')}"`;
}
