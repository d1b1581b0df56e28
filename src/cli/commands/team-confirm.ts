import type { ClientContext } from '../../client/context.js';
import { confirm } from '../../client/services/teams.js';
import type { Output } from '../output.js';

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
    ...res.confirmed.map((m) => `${out.green('✓')} Confirmed ${m.email} in ${res.team} (fingerprint ${m.fingerprint})`),
    ...res.skipped.map((m) => `  skipped ${m.email}: fingerprint not vouched for`),
    ...(res.confirmed.length === 0 && res.skipped.length === 0 ? ['Nobody is waiting for confirmation.'] : []),
  ]);
}

/** A rotation that sealed the new key to fingerprints nobody checked (--yes) says so. */
export function warnUnchecked(out: Output, emails: string[]): void {
  if (emails.length === 0) return;
  out.warn(`sealed the new key to ${emails.join(', ')} without checking their fingerprints (--yes): if the server swapped a key, that key can read the team`);
}
