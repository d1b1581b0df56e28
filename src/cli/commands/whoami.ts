import type { ClientContext } from '../../client/context.js';
import { whoami } from '../../client/services/auth.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await whoami(ctx);
  out.result(res, () => [
    `${out.bold(shown(res.email))} (${shown(res.name)}) on ${res.server}, profile ${res.profile}`,
    `Fingerprint: ${res.fingerprint}`,
    `Teams: ${res.teams.map((t) => `${shown(t.name)}${t.personal ? ' (personal)' : ''} [${shownField(t.role)}]`).join(', ')}`,
  ]);
}
