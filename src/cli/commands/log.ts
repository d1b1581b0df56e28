import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { log, type LogEntry } from '../../client/services/history.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

/** The largest --limit taken: a C int's, as git's -n (no history comes near it). */
export const MAX_LOG_LIMIT = 2_147_483_647;

/** --limit as typed: digits only (not 1e2, 1.5, 0x10 or +3), from 1 to MAX_LOG_LIMIT. */
export function parseLimit(text: string): number {
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= MAX_LOG_LIMIT)) throw new UsageError(`--limit takes a whole number from 1 to ${MAX_LOG_LIMIT}, not ${text}`);
  return n;
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/**
 * One snapshot on one line. Message, name and email are whatever the author's client signed: a
 * newline there could forge a second entry, a carriage return or an escape overwrite this one, so
 * each is shown through shown() (quoted and escaped when it holds any). The time is UTC, and says so.
 */
export function logLine(out: Pick<Output, 'yellow' | 'dim'>, s: LogEntry): string {
  const time = `${s.time.replace('T', ' ').slice(0, 19)} UTC`;
  return (
    `${out.yellow(s.id.slice(0, 12))} ${time} ${shown(s.author.name)} <${shown(s.author.email)}>  ${shown(s.message)} ` +
    out.dim(`(${count(s.files, 'file', 'files')}, ${count(s.bytes, 'byte', 'bytes')})`)
  );
}

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const limit = opts.limit !== undefined ? parseLimit(opts.limit as string) : undefined;
  const res = await log(ctx, limit ? { limit } : {});
  out.result(res, () => (res.snapshots.length === 0 ? 'No snapshots yet.' : res.snapshots.map((s) => logLine(out, s))));
}
