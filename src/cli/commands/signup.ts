import type { ClientContext } from '../../client/context.js';
import { signup } from '../../client/services/auth.js';
import { commandLine } from '../../client/session.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await signup(ctx, { email: opts.email as string, ...(opts.name ? { name: opts.name as string } : {}) });
  if (res.activationMailSent === false) {
    out.warn('the activation mail with your verification code was not sent (the server could not send it); get one with `insomnia-sync account verify --resend`');
  }
  out.result(res, () => [
    `${out.green('✓')} Account created for ${out.bold(shown(res.email))} on ${res.server}`,
    `  Fingerprint: ${out.bold(res.fingerprint)}`,
    // said here, not first when `team invite` is refused: the code expires after 24 hours
    ...(res.activationMailSent === false
      ? []
      : [
          `A verification code was mailed to ${shown(res.email)}: run \`${commandLine(ctx, 'account verify CODE')}\` within 24 hours`,
          `  (inviting others to a team needs it; \`${commandLine(ctx, 'account verify --resend')}\` mails a new code).`,
        ]),
    '',
    'Your password is the only way to your data: the server cannot reset it or read your files.',
    'Forget it and your data is gone. Keep it in a password manager.',
    'Optional safety net: `insomnia-sync account recovery-key` shows a one-time recovery key that can set a new password.',
  ]);
}
