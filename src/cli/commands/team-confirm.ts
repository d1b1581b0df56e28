import type { ClientContext } from '../../client/context.js';
import { confirm } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await confirm(ctx, {
    team: opts.team as string,
    ...(args[0] ? { email: args[0] as string } : {}),
    all: Boolean(opts.all),
    ...(opts.fingerprint !== undefined ? { fingerprint: opts.fingerprint as string } : {}),
    yes: Boolean(opts.yes),
  });
  if (res.unchecked) {
    out.warn('confirmed without checking fingerprints (--yes): if the server swapped a key, that key can now read the team');
  }
  out.result(res, () => [
    ...res.confirmed.map((m) => `${out.green('✓')} Confirmed ${shown(m.email)} in ${shown(res.team)} (fingerprint ${m.fingerprint})`),
    ...res.recorded.map((m) => `${out.green('✓')} Recorded the fingerprint ${m.fingerprint} of ${shown(m.email)}: key rotations seal to it without asking`),
    ...res.skipped.map((m) => `  skipped ${shown(m.email)}: fingerprint not vouched for`),
    ...(res.confirmed.length === 0 && res.recorded.length === 0 && res.skipped.length === 0 ? ['Nobody is waiting for confirmation.'] : []),
  ]);
}

/** A rotation about to seal the new key to fingerprints nobody checked (--yes) says so first. */
export function warnUnchecked(out: Output, emails: string[]): void {
  out.warn(`sealing the new key to ${emails.map(shown).join(', ')} without checking their fingerprints (--yes): if the server swapped a key, that key can read the team; \`team confirm EMAIL --fingerprint FP\` records a checked one`);
}
