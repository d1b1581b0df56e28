/**
 * `insomnia-sync-server gc`: one garbage collection of unreferenced blobs (Store.collectGarbage)
 * and of ended sessions and invitations (Store.purgeEnded), and the periodic one the running server does. Safe while the server runs and pushes go on:
 * workspaces with blob traffic within the grace period are skipped. Blobs go in short batches
 * with a turn of the event loop between them, so a server collecting in-process keeps answering.
 */
import type { Store, GarbageReport } from '../../storage/store.js';

export const DEFAULT_GC_GRACE_HOURS = 1;

/** A collection's report: unreferenced blobs, and sessions and invitations that had ended. */
export type GcReport = GarbageReport & { sessions: number; invitations: number };

export async function runGc(
  store: Store,
  opts: { graceHours: number; dryRun: boolean; now?: Date; signal?: AbortSignal; pause?: () => Promise<void> },
): Promise<GcReport> {
  const now = opts.now ?? new Date();
  const olderThan = new Date(now.getTime() - opts.graceHours * 3_600_000);
  // refused before anything on a schema a newer server migrated (each batch checks again)
  await store.checkSchema();
  const blobs = await store.collectGarbage({
    olderThan,
    dryRun: opts.dryRun,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.pause ? { pause: opts.pause } : {}),
  });
  // stopped (shutdown): what was collected so far, nothing more
  if (opts.signal?.aborted) return { ...blobs, sessions: 0, invitations: 0 };
  // Invitations of the last hour stay at least that long: the hourly cap on them counts them.
  const ended = new Date(Math.min(olderThan.getTime(), now.getTime() - 3_600_000));
  return { ...blobs, ...(await store.purgeEnded(ended, { dryRun: opts.dryRun })) };
}

/**
 * Between two batches of a collection run beside a server (`insomnia-sync-server gc`): leaves the
 * database free for as long as the batch held it (up to 100 ms). SQLite hands its write lock to
 * no one in particular: the server's writes poll for it every few milliseconds, and without the
 * gap a collection that takes the lock again at once kept them waiting for up to a second.
 */
export function shareWithServer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    const held = performance.now() - since;
    await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(1, held))));
    since = performance.now();
  };
}

export function describeGc(report: GcReport, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return `${verb} ${plural(report.blobs, 'unreferenced blob')} (${report.bytes} bytes) in ${plural(report.workspaces, 'workspace')}; ${plural(report.sessions, 'ended session')}, ${plural(report.invitations, 'ended invitation')}`;
}

/**
 * Collects every `intervalHours` until stopped; the first run is one interval after the start, and
 * a run still going when the next is due makes that one wait for the next interval. A failure is
 * reported and the schedule goes on. The timer never keeps the process alive. `stop` also ends a
 * run in progress after its current batch (what it did is reported), so shutdown need not wait
 * for a long collection.
 */
export function scheduleGc(
  store: Store,
  opts: { intervalHours: number; graceHours: number; onResult: (report: GcReport) => void; onError: (err: Error) => void },
): { stop(): void; running(): Promise<void> } {
  let current: Promise<void> = Promise.resolve();
  let busy = false;
  const stopped = new AbortController();
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    current = runGc(store, { graceHours: opts.graceHours, dryRun: false, signal: stopped.signal })
      .then(opts.onResult, (err: unknown) => opts.onError(err as Error))
      .finally(() => {
        busy = false;
      });
  }, opts.intervalHours * 3_600_000);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      stopped.abort();
    },
    /** the run in progress, if any: shutdown waits for it before closing the store */
    running: () => current,
  };
}
