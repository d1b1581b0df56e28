import type { ClientContext } from '../../client/context.js';
import { ConflictError } from '../../client/errors.js';
import { pull, type PullResult } from '../../client/services/pull.js';
import type { Output } from '../output.js';
import { caseProbeFor } from '../../client/local/case-probe.js';
import { shown } from '../shown-text.js';
import { capped } from '../capped-lines.js';
import { warnLeftOut } from '../left-out.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const strategy = opts.ours ? 'ours' : opts.theirs ? 'theirs' : 'conflict';
  let res: PullResult;
  try {
    res = await pull(ctx, { strategy, caseProbe: caseProbeFor(process.env) });
  } catch (err) {
    // Conflicts (exit 3) come after the pull applied everything else: what it did goes to stdout as
    // for a clean pull, each conflict under the error (--json: the error's details hold both).
    if (err instanceof ConflictError && isPullResult(err.details)) {
      const pulled = err.details;
      if (!out.json) out.result(pulled, () => summary(out, pulled));
      warnLeftOut(out, pulled.leftOut ?? []);
      err.lines = capped(pulled.conflicts.map((c) => `  ${shown(c.path)}: ${c.conflictPath !== null ? `theirs written to ${shown(c.conflictPath)}` : c.remote === 'deleted' ? 'deleted on the remote, kept here' : "changed here during the pull, kept yours without the remote's mode"}`));
    }
    throw err;
  }
  out.result(res, () => (res.upToDate ? 'Already up to date.' : summary(out, res)));
  warnLeftOut(out, res.leftOut);
}

function summary(out: Output, res: PullResult): string[] {
  const lines = [
    `${out.green('✓')} Pulled ${res.snapshots} snapshot(s) up to ${res.to?.slice(0, 12)}: ${res.written.length} file(s) written, ${res.deleted.length} deleted` +
      (res.modeChanged.length > 0 ? `, ${res.modeChanged.length} kept your content and took the remote's mode` : ''),
  ];
  lines.push(...capped(res.restored.map((p) => `  restored (you had deleted it, the remote changed it): ${shown(p)}`)));
  lines.push(
    ...capped(
      res.overridden.map((o) =>
        o.took === 'ours'
          ? `  ${shown(o.path)}: kept yours over the remote's change (theirs stays in \`log\`/\`restore\`)`
          : `  ${shown(o.path)}: took theirs${o.yoursAt !== undefined ? `, yours kept at ${shown(o.yoursAt)} (a conflict copy, never pushed)` : ''}`,
      ),
    ),
  );
  return lines;
}

function isPullResult(details: unknown): details is PullResult {
  const d = details as Partial<PullResult> | null;
  return typeof d === 'object' && d !== null && Array.isArray(d.conflicts) && Array.isArray(d.written) && Array.isArray(d.restored);
}
