import type { ClientContext } from '../../client/context.js';
import { clone } from '../../client/services/pull.js';
import type { Output } from '../output.js';
import { caseProbeFor } from '../../client/local/case-probe.js';
import { shown } from '../shown-text.js';
import { warnLeftOut } from '../left-out.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[]): Promise<void> {
  const [workspace, dir] = args as [string, string | undefined];
  const res = await clone(ctx, { workspace, ...(dir ? { dir } : {}), caseProbe: caseProbeFor(process.env) });
  out.result(res, () => `${out.green('✓')} Cloned ${out.bold(shown(res.name))} into ${res.root}: ${res.written.length} file(s)${res.to ? `, snapshot ${res.to.slice(0, 12)}` : ' (empty workspace)'}`);
  warnLeftOut(out, res.leftOut);
}
