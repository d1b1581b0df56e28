import type { ClientContext } from '../../client/context.js';
import { createTeam } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { quoted, shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[]): Promise<void> {
  const res = await createTeam(ctx, { name: args[0] as string });
  out.result(res, () => [
    `${out.green('✓')} Created team ${out.bold(shown(res.name))} (${shownField(res.id)}); you are its owner`,
    `  Next: insomnia-sync team invite EMAIL --team ${quoted(res.name)}`,
  ]);
}
