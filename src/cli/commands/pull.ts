import type { ClientContext } from '../../client/context.js';
import { pull } from '../../client/services/pull.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const strategy = opts.ours ? 'ours' : opts.theirs ? 'theirs' : 'conflict';
  const res = await pull(ctx, { strategy });
  out.result(res, () =>
    res.upToDate
      ? 'Already up to date.'
      : `${out.green('✓')} Pulled ${res.snapshots} snapshot(s) up to ${res.to?.slice(0, 12)}: ${res.written.length} file(s) written, ${res.deleted.length} deleted` +
        (res.modeChanged.length > 0 ? `, ${res.modeChanged.length} kept your content and took the remote's mode` : '') +
        (res.restored.length > 0 ? `; ${res.restored.length} you had deleted came back, changed on the remote (${res.restored.slice(0, 3).join(', ')}${res.restored.length > 3 ? ', …' : ''})` : ''),
  );
}
