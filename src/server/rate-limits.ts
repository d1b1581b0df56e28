/**
 * Rate limits on the routes that guess at secrets (pre-login, login, recovery, email verification,
 * invitations): per client IP and per account, each a fixed window. The counts live in the store,
 * so every server process on one database shares them: behind a load balancer a guesser gets the
 * limit once, not once per process. A route opts in with one line,
 * `config: rateLimited(bucket, accountOf)`; the check runs as a preHandler, after authentication
 * and body validation, so the account key can come from either.
 */
import { createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../storage/store.js';
import { storageUnavailableReason } from '../storage/unavailable.js';
import { ApiError } from './errors.js';

export const RATE_LIMIT_BUCKETS = ['prelogin', 'login', 'verify', 'invite'] as const;
export type RateLimitBucket = (typeof RATE_LIMIT_BUCKETS)[number];

/** Requests per window; 0 turns that dimension off. */
export interface RateLimitRule {
  perAccount: number;
  perIp: number;
}

export interface RateLimitSettings {
  windowMs: number;
  buckets: Record<RateLimitBucket, RateLimitRule>;
}

/** Production defaults: a person retyping a password never meets them, a guesser soon does. */
export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  windowMs: 60_000,
  buckets: {
    prelogin: { perAccount: 20, perIp: 120 },
    login: { perAccount: 10, perIp: 60 },
    verify: { perAccount: 10, perIp: 30 },
    invite: { perAccount: 20, perIp: 60 },
  },
};

/**
 * What a route of the bucket does when the store cannot count (a full disk, a busy or read-only
 * database: storageUnavailableReason). `refuse`: 503 `unavailable`, the handler not run — where a
 * secret is guessed (passwords, recovery keys, emailed and invite codes) or mail goes out, an
 * attempt that cannot be counted must not be made, or an outage gives a guesser unlimited tries.
 * `answer`: the request goes on uncounted, with a warning in the log — pre-login checks no secret
 * and writes nothing; it answers the same salt to everyone asking about an email (a deterministic
 * fake one for unknown emails), so unlimited asking learns nothing more, and a login that has to
 * start with it keeps working while writes fail. Any other error of the count is thrown either way.
 */
export const WHEN_COUNT_FAILS: Record<RateLimitBucket, 'refuse' | 'answer'> = {
  prelogin: 'answer',
  login: 'refuse',
  verify: 'refuse',
  invite: 'refuse',
};

/** Picks the account a request is about (email, user id, code); null/undefined: IP limit only. */
export type AccountOf = (request: FastifyRequest) => string | null | undefined;

export interface RouteRateLimit {
  bucket: RateLimitBucket;
  account?: AccountOf;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** see rateLimited() */
    limit?: RouteRateLimit;
  }
}

/** A route's `config` that puts it under `bucket`'s limits, e.g. `config: rateLimited('login', bodyEmail)`. */
export function rateLimited(bucket: RateLimitBucket, account?: AccountOf): { limit: RouteRateLimit } {
  return account ? { limit: { bucket, account } } : { limit: { bucket } };
}

/** The normalised `email` field of a JSON body, as an account key. */
export const bodyEmail: AccountOf = (request) => {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : null;
};

export interface RateLimitDeps {
  store: Store;
  serverSecret: Uint8Array;
  now: () => Date;
}

export function installRateLimits(app: FastifyInstance, settings: RateLimitSettings, deps: RateLimitDeps): void {
  const counter = windowCounter(settings.windowMs, deps);
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const limit = request.routeOptions.config.limit;
    if (!limit) return;
    const rule = settings.buckets[limit.bucket];
    try {
      await enforce(counter, rule.perIp, `${limit.bucket}|ip|${request.ip}`, reply);
      const account = limit.account?.(request);
      if (account) await enforce(counter, rule.perAccount, `${limit.bucket}|account|${account}`, reply);
    } catch (err) {
      const reason = err instanceof ApiError ? null : storageUnavailableReason(err);
      if (reason === null || WHEN_COUNT_FAILS[limit.bucket] === 'refuse') throw err;
      // the bucket and the reason only: never the address or the email the count was for
      request.log.warn({ bucket: limit.bucket }, `rate limit not counted (storage unavailable: ${reason}); answered uncounted`);
    }
  });
}

type Count = (subject: string) => Promise<{ count: number; retryAfterSeconds: number }>;

/**
 * Counts attempts per subject, each in a window opened by its first attempt. The store sees an HMAC
 * of the subject under the server secret, not the IP or email; keys whose window is over are
 * dropped at most once a window per process.
 */
function windowCounter(windowMs: number, deps: RateLimitDeps): Count {
  let nextPrune = 0;
  return async (subject) => {
    const now = deps.now();
    if (now.getTime() >= nextPrune) {
      nextPrune = now.getTime() + windowMs;
      await deps.store.pruneAttempts(new Date(now.getTime() - windowMs));
    }
    const key = createHmac('sha256', deps.serverSecret).update(`rate-limit|${subject}`).digest();
    const { count, windowStart } = await deps.store.countAttempt(key, now, windowMs);
    const leftMs = windowStart.getTime() + windowMs - now.getTime();
    return { count, retryAfterSeconds: Math.max(1, Math.ceil(leftMs / 1000)) };
  };
}

/** Every request that reaches the check counts; over `max` in the window is 429. 0: no limit. */
async function enforce(counter: Count, max: number, subject: string, reply: FastifyReply): Promise<void> {
  if (max <= 0) return;
  const { count, retryAfterSeconds } = await counter(subject);
  if (count <= max) return;
  void reply.header('retry-after', String(retryAfterSeconds));
  throw new ApiError('rate_limited', `too many attempts; retry in ${retryAfterSeconds} s`);
}

/** Parses a `--rate-limit-*` flag value `ACCOUNT,IP` (requests per minute; 0 = off). */
export function parseRateLimitRule(value: string): RateLimitRule | null {
  const m = /^(\d{1,7}),(\d{1,7})$/.exec(value.trim());
  if (!m) return null;
  return { perAccount: Number(m[1]), perIp: Number(m[2]) };
}
