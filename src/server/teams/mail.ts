/**
 * The two transactional mails that carry a code (SPEC §1): account activation and team
 * invitation. The code is the only secret in them; a line of its own so scripts and tests can
 * read it (`Verification code: CODE`, `Invite code: CODE`).
 */
import type { MailMessage } from '../mail/mailer.js';

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
      'If you did not sign up, ignore this message: nothing happens without the code.',
    ].join('\n'),
  };
}

export function invitationMail(to: string, code: string, f: { teamName: string; inviter: string; role: string; expiresAt: Date }): MailMessage {
  return {
    to,
    subject: `insomnia-sync: ${f.inviter} invited you to the team ${f.teamName}`.replace(/[\r\n]/g, ' ').slice(0, 200),
    text: [
      `${f.inviter} invited ${to} to the team "${f.teamName}" as ${f.role}.`,
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
