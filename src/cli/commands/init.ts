import type { ClientContext } from '../../client/context.js';
import { init } from '../../client/services/workspaces.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await init(ctx, { ...(opts.name ? { name: opts.name as string } : {}), ...(opts.team ? { team: opts.team as string } : {}) });
  if (res.sameName.length > 0) {
    const others = res.sameName.map((w) => `${shownField(w.id, 12)} in team ${shown(w.team)}`).join(', ');
    const them = res.sameName.length > 1 ? `${res.sameName.length} other workspaces are` : 'another workspace is';
    out.warn(`${them} already named "${res.name}" (${others}): commands now need the id, not the name; to sync an existing workspace in a new folder, \`insomnia-sync clone\` it instead`);
  }
  out.result(res, () => [
    `${out.green('✓')} Created workspace ${out.bold(shown(res.name))} (${shownField(res.id)}) in team ${shown(res.team)}`,
    `  Linked ${res.root}. Next: insomnia-sync push`,
  ]);
}
