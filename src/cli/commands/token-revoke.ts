import type { ClientContext } from '../../client/context.js';
import { revokeToken } from '../../client/services/tokens.js';
import type { Output } from '../output.js';
import { quoted, shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[]): Promise<void> {
  const res = await revokeToken(ctx, { id: args[0] as string });
  out.result(res, () => `${out.green('✓')} Revoked token ${out.bold(shownField(res.id, 12))} ${quoted(res.name)} (${shown(res.workspace)}): refused from its next request on`);
}
