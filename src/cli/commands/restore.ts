import type { ClientContext } from '../../client/context.js';
import { ConflictError } from '../../client/errors.js';
import { restore, type RestoreConflict } from '../../client/services/history.js';
import type { Output } from '../output.js';
import { caseProbeFor } from '../../client/local/case-probe.js';
import { capped } from '../capped-lines.js';
import { shown } from '../shown-text.js';
import { warnLeftOut } from '../left-out.js';

export async function run(ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>): Promise<void> {
  let res;
  try {
    res = await restore(ctx, { snapshot: args[0] as string, ...(opts.to ? { to: opts.to as string } : {}), caseProbe: caseProbeFor(process.env) });
  } catch (err) {
    // as pull: each file kept, and where the snapshot's version went, under the error line
    const conflicts = (err as ConflictError).details as { conflicts?: RestoreConflict[] } | undefined;
    if (err instanceof ConflictError && Array.isArray(conflicts?.conflicts)) {
      err.lines = capped(conflicts.conflicts.map((c) => `  ${shown(c.path)}: ${c.conflictPath !== null ? `the snapshot's written to ${shown(c.conflictPath)}` : 'kept (the snapshot deletes it)'}`));
    }
    throw err;
  }
  out.result(res, () => `${out.green('✓')} Restored snapshot ${res.snapshot.slice(0, 12)} into ${shown(res.root)}: ${res.written} file(s) written, ${res.deleted} deleted`);
  warnLeftOut(out, res.leftOut);
}
