/**
 * Rate limits on the routes that guess at secrets (pre-login, login, recovery, email verification,
 * invitations): per client IP and per account, each a fixed window, in memory (one process).
 * A route opts in with one line, `config: rateLimited(bucket, accountOf)`; the check runs as a
 * preHandler, after authentication and body validation, so the account key can come from either.
 */
import rateLimitPlugin from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

type Check = (request: FastifyRequest) => Promise<{ isAllowed: boolean; isExceeded?: boolean; ttlInSeconds?: number }>;

export function installRateLimits(app: FastifyInstance, settings: RateLimitSettings = DEFAULT_RATE_LIMITS): void {
  // global: false — only routes that opt in are limited, through the checks below
  void app.register(rateLimitPlugin, { global: false, cache: 100_000, timeWindow: settings.windowMs });

  let checks: Map<string, Check> | null = null;
  const build = (server: FastifyInstance): Map<string, Check> => {
    const out = new Map<string, Check>();
    for (const bucket of RATE_LIMIT_BUCKETS) {
      const rule = settings.buckets[bucket];
      if (rule.perIp > 0) {
        out.set(`${bucket}:ip`, server.createRateLimit({ max: rule.perIp, timeWindow: settings.windowMs, keyGenerator: (r) => r.ip }));
      }
      if (rule.perAccount > 0) {
        out.set(
          `${bucket}:account`,
          server.createRateLimit({ max: rule.perAccount, timeWindow: settings.windowMs, keyGenerator: (r) => accountKeys.get(r) ?? '' }),
        );
      }
    }
    return out;
  };
  const accountKeys = new WeakMap<FastifyRequest, string>();

  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const limit = request.routeOptions.config.limit;
    if (!limit) return;
    checks ??= build(app);
    await enforce(checks.get(`${limit.bucket}:ip`), request, reply);
    const account = limit.account?.(request);
    if (account) {
      accountKeys.set(request, account);
      await enforce(checks.get(`${limit.bucket}:account`), request, reply);
    }
  });
}

async function enforce(check: Check | undefined, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (!check) return;
  const res = await check(request);
  if (res.isAllowed || !res.isExceeded) return;
  const seconds = Math.max(1, res.ttlInSeconds ?? 1);
  void reply.header('retry-after', String(seconds));
  throw new ApiError('rate_limited', `too many attempts; retry in ${seconds} s`);
}

/** Parses a `--rate-limit-*` flag value `ACCOUNT,IP` (requests per minute; 0 = off). */
export function parseRateLimitRule(value: string): RateLimitRule | null {
  const m = /^(\d{1,7}),(\d{1,7})$/.exec(value.trim());
  if (!m) return null;
  return { perAccount: Number(m[1]), perIp: Number(m[2]) };
}
