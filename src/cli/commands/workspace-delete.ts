import type { ClientContext } from '../../client/context.js';
import { deleteWorkspace } from '../../client/services/workspaces.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[]): Promise<void> {
  const res = await deleteWorkspace(ctx, { workspace: args[0] as string });
  out.result(res, () => `${out.green('✓')} Deleted workspace ${out.bold(shown(res.name))} (${shownField(res.id, 12)}) from the server`);
}
