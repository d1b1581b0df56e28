import type { ClientContext } from '../../client/context.js';
import { restore } from '../../client/services/history.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await restore(ctx, { snapshot: args[0] as string, ...(opts.to ? { to: opts.to as string } : {}) });
  out.result(res, () => `${out.green('✓')} Restored snapshot ${res.snapshot.slice(0, 12)} into ${res.root}: ${res.written} file(s) written, ${res.deleted} deleted`);
}
