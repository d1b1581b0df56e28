/**
 * `insomnia-sync-server gc`: one garbage collection of unreferenced blobs (Store.collectGarbage)
 * and of ended sessions and invitations (Store.purgeEnded), and the periodic one the running server does. Safe while the server runs and pushes go on:
 * workspaces with blob traffic within the grace period are skipped.
 */
import type { Store, GarbageReport } from '../../storage/store.js';

export const DEFAULT_GC_GRACE_HOURS = 1;

/** A collection's report: unreferenced blobs, and sessions and invitations that had ended. */
export type GcReport = GarbageReport & { sessions: number; invitations: number };

export async function runGc(store: Store, opts: { graceHours: number; dryRun: boolean; now?: Date }): Promise<GcReport> {
  const now = opts.now ?? new Date();
  const olderThan = new Date(now.getTime() - opts.graceHours * 3_600_000);
  const blobs = await store.collectGarbage({ olderThan, dryRun: opts.dryRun });
  // Invitations of the last hour stay at least that long: the hourly cap on them counts them.
  const ended = new Date(Math.min(olderThan.getTime(), now.getTime() - 3_600_000));
  return { ...blobs, ...(await store.purgeEnded(ended, { dryRun: opts.dryRun })) };
}

export function describeGc(report: GcReport, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${verb} ${plural(report.blobs, 'unreferenced blob')} (${report.bytes} bytes) in ${plural(report.workspaces, 'workspace')}; ${plural(report.sessions, 'ended session')}, ${plural(report.invitations, 'ended invitation')}`;
}

/**
 * Collects every `intervalHours` until stopped; the first run is one interval after the start. A
 * failure is reported and the schedule goes on. The timer never keeps the process alive.
 */
export function scheduleGc(
  store: Store,
  opts: { intervalHours: number; graceHours: number; onResult: (report: GcReport) => void; onError: (err: Error) => void },
): { stop(): void; running(): Promise<void> } {
  let current: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    current = runGc(store, { graceHours: opts.graceHours, dryRun: false }).then(opts.onResult, (err: unknown) => opts.onError(err as Error));
  }, opts.intervalHours * 3_600_000);
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    /** the run in progress, if any: shutdown waits for it before closing the store */
    running: () => current,
  };
}
