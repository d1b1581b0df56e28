/**
 * Notices when the database's schema becomes newer than this build while the server runs: another
 * server (or `migrate`) of a newer release migrated it, as in a rolling upgrade. From then on this
 * server answers every request, /healthz included, 503 `unavailable` and logs one error telling the
 * operator to upgrade it: an older build may misread the new schema, and every authenticated
 * request writes (the session's last use). Garbage collection checks on its own, inside each of
 * its transactions (Store.collectGarbage).
 *
 * The schema is read at most every `maxAgeMs` when requests come, and every `intervalMs` besides,
 * so an idle server notices too. A request that finds the last read too old waits for the next one
 * for up to WAIT_MS: a database that does not answer is the request's own outage to meet, not one
 * to wait out twice. Once newer, it stays so: migrations only go forward (restoring an older backup
 * means restarting the servers anyway).
 */
import { SchemaMismatchError } from '../storage/schema-version.js';
import type { Store } from '../storage/store.js';

/** What requests are told: the reason part of "the server's storage is unavailable (…)". */
export const SCHEMA_NEWER_REASON = 'database schema newer than this server';

export const DEFAULT_SCHEMA_CHECK = { maxAgeMs: 5_000, intervalMs: 60_000 };

/** The longest a request waits for the schema to be read (it goes on when the read takes longer). */
const WAIT_MS = 1_000;

export class SchemaGuard {
  private refusal: string | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private pending: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly opts: { maxAgeMs: number; intervalMs: number; onMismatch: (message: string) => void },
  ) {
    if (opts.intervalMs > 0) {
      this.timer = setInterval(() => void this.check(), opts.intervalMs);
      this.timer.unref();
    }
  }

  /** null while the schema is this build's; else the SchemaMismatchError's message. Reads it again when the last read is older than maxAgeMs. */
  async current(): Promise<string | null> {
    if (this.refusal === null && performance.now() - this.checkedAt >= this.opts.maxAgeMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.check(), new Promise((resolve) => (timer = setTimeout(resolve, WAIT_MS)))]);
      clearTimeout(timer);
    }
    return this.refusal;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): Promise<void> {
    this.pending ??= this.store
      .checkSchema()
      .then(
        () => {},
        (err: unknown) => {
          if (err instanceof SchemaMismatchError && this.refusal === null) {
            this.refusal = err.message;
            this.opts.onMismatch(err.message);
          }
          // any other failure is the database's: requests meet it on their own
        },
      )
      .finally(() => {
        this.checkedAt = performance.now();
        this.pending = null;
      });
    return this.pending;
  }
}
