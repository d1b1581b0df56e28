import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { log } from '../../client/services/history.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  let limit: number | undefined;
  if (opts.limit !== undefined) {
    limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit takes a whole number ≥ 1');
  }
  const res = await log(ctx, limit ? { limit } : {});
  out.result(res, () =>
    res.snapshots.length === 0
      ? 'No snapshots yet.'
      : res.snapshots.map(
          (s) => `${out.yellow(s.id.slice(0, 12))} ${s.time.replace('T', ' ').slice(0, 19)} ${s.author.name} <${s.author.email}>  ${s.message} ${out.dim(`(${s.files} files, ${s.bytes} bytes)`)}`,
        ),
  );
}
