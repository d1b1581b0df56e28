import type { ClientContext } from '../../client/context.js';
import { init } from '../../client/services/workspaces.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await init(ctx, { ...(opts.name ? { name: opts.name as string } : {}), ...(opts.team ? { team: opts.team as string } : {}) });
  out.result(res, () => [
    `${out.green('✓')} Created workspace ${out.bold(res.name)} (${res.id}) in team ${res.team}`,
    `  Linked ${res.root}. Next: insomnia-sync push`,
  ]);
}
