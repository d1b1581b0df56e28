import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { log } from '../../client/services/history.js';
import type { Output } from '../output.js';

/** The largest --limit taken: a C int's, as git's -n (no history comes near it). */
export const MAX_LOG_LIMIT = 2_147_483_647;

/** --limit as typed: digits only (not 1e2, 1.5, 0x10 or +3), from 1 to MAX_LOG_LIMIT. */
export function parseLimit(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_LOG_LIMIT)) throw new UsageError(`--limit takes a whole number from 1 to ${MAX_LOG_LIMIT}, not ${text}`);
  return n;
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const limit = opts.limit !== undefined ? parseLimit(opts.limit as string) : undefined;
  const res = await log(ctx, limit ? { limit } : {});
  out.result(res, () =>
    res.snapshots.length === 0
      ? 'No snapshots yet.'
      : res.snapshots.map(
          (s) =>
            `${out.yellow(s.id.slice(0, 12))} ${s.time.replace('T', ' ').slice(0, 19)} ${s.author.name} <${s.author.email}>  ${s.message} ` +
            out.dim(`(${count(s.files, 'file', 'files')}, ${count(s.bytes, 'byte', 'bytes')})`),
        ),
  );
}
