import type { ClientContext } from '../../client/context.js';
import { renameWorkspace } from '../../client/services/workspaces.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[]): Promise<void> {
  const res = await renameWorkspace(ctx, { workspace: args[0] as string, name: args[1] as string });
  out.result(res, () => `${out.green('✓')} Renamed ${shownField(res.id, 12)} to ${out.bold(shown(res.name))}`);
}
