import type { ClientContext } from '../../client/context.js';
import { whoami } from '../../client/services/auth.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await whoami(ctx);
  out.result(res, () => [
    `${out.bold(res.email)} (${res.name}) on ${res.server}, profile ${res.profile}`,
    `Fingerprint: ${res.fingerprint}`,
    `Teams: ${res.teams.map((t) => `${t.name}${t.personal ? ' (personal)' : ''} [${t.role}]`).join(', ')}`,
  ]);
}
