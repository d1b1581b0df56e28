import type { ClientContext } from '../../client/context.js';
import { verify } from '../../client/services/history.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await verify(ctx, opts.workspace ? { workspace: opts.workspace as string } : {});
  out.result(res, () => `${out.green('✓')} ${res.snapshots} snapshot(s) and ${res.blobs} blob(s) (${res.bytes} bytes) verified: signatures, chain and contents intact`);
}
