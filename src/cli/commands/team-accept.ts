import type { ClientContext } from '../../client/context.js';
import { accept } from '../../client/services/teams.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[]): Promise<void> {
  const res = await accept(ctx, { code: args[0] as string });
  out.result(res, () => [
    `${out.green('✓')} You joined ${out.bold(shown(res.teamName))} as ${shownField(res.role)}.`,
    `  An owner or admin must now confirm you. Read them your fingerprint over a channel you trust:`,
    `  ${res.fingerprint}`,
  ]);
}
