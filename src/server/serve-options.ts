/**
 * The production-hardening flags of `insomnia-sync-server` (TLS, reverse proxy, rate limits,
 * timeouts, shutdown, periodic garbage collection, upload memory) and their translation into AppDeps.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_TIMEOUTS } from './hardening.js';
import { DEFAULT_RATE_LIMITS, RATE_LIMIT_BUCKETS, parseRateLimitRule, type RateLimitBucket, type RateLimitRule, type RateLimitSettings } from './rate-limits.js';
import { DEFAULT_UPLOAD_BUDGET, DEFAULT_UPLOAD_STALL_MS } from './upload-budget.js';
import type { AppDeps } from './app.js';

export interface HardeningOptions {
  tlsCert?: string;
  tlsKey?: string;
  trustProxy?: string | boolean;
  rateLimitPrelogin?: RateLimitRule;
  rateLimitLogin?: RateLimitRule;
  rateLimitVerify?: RateLimitRule;
  rateLimitInvite?: RateLimitRule;
  requestTimeout: number;
  shutdownTimeout: number;
  gcInterval: number;
  gcGrace: number;
  /** MiB */
  uploadMemory: number;
  /** MiB */
  uploadMemoryPerAccount: number;
  /** seconds; 0 = off */
  uploadStallTimeout: number;
}

const FLAG_KEY: Record<RateLimitBucket, keyof HardeningOptions> = {
  prelogin: 'rateLimitPrelogin',
  login: 'rateLimitLogin',
  verify: 'rateLimitVerify',
  invite: 'rateLimitInvite',
};

function ruleOption(value: string): RateLimitRule {
  const rule = parseRateLimitRule(value);
  if (!rule) throw new InvalidArgumentError('expected ACCOUNT,IP (requests per minute, 0 = off), e.g. 10,60');
  return rule;
}

function seconds(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`must be a number between ${min} and ${max}`);
    return n;
  };
}

export function addHardeningOptions(program: Command): Command {
  const d = DEFAULT_RATE_LIMITS.buckets;
  const rate = (b: RateLimitBucket): string => `${d[b].perAccount},${d[b].perIp}`;
  return program
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert')
    .option(
      '--trust-proxy [addresses]',
      'behind a reverse proxy: take client IPs from X-Forwarded-For set by these proxies (comma list of IPs/CIDRs, "loopback"; no value: any)',
    )
    .option('--rate-limit-prelogin <account,ip>', `pre-login requests per minute per account and per IP, 0 = off (default ${rate('prelogin')})`, ruleOption)
    .option('--rate-limit-login <account,ip>', `login, signup, recovery and password-proof attempts per minute (default ${rate('login')})`, ruleOption)
    .option('--rate-limit-verify <account,ip>', `email-verification and invite-code attempts per minute (default ${rate('verify')})`, ruleOption)
    .option('--rate-limit-invite <account,ip>', `invitation requests per minute per inviter and per IP (default ${rate('invite')}; besides, at most 100 invitations an hour per inviter)`, ruleOption)
    .option('--request-timeout <seconds>', 'longest time to receive one request', seconds(1, 86_400), DEFAULT_TIMEOUTS.requestTimeoutMs / 1000)
    .option('--shutdown-timeout <seconds>', 'on SIGTERM, how long in-flight requests may take to finish', seconds(0, 3600), 30)
    .option('--gc-interval <hours>', 'collect unreferenced blobs every this many hours (0 = never)', seconds(0, 24 * 365), 24)
    .option('--gc-grace <hours>', 'never collect blobs of a workspace with uploads in the last this many hours', seconds(0.01, 24 * 365), 1)
    .option('--upload-memory <MiB>', 'request bodies (blob batches, snapshots) held in memory at once; past it, uploads get 503 and Retry-After', mebibytes, DEFAULT_UPLOAD_BUDGET.serverBytes / MiB)
    .option('--upload-memory-per-account <MiB>', "the same for one account's sessions and access tokens together; past it, 429 and Retry-After", mebibytes, DEFAULT_UPLOAD_BUDGET.accountBytes / MiB)
    .option('--upload-stall-timeout <seconds>', 'close the connection of an upload counted in --upload-memory whose body receives nothing for this long, freeing its share (0 = never)', seconds(0, 3600), DEFAULT_UPLOAD_STALL_MS / 1000);
}

const MiB = 1024 * 1024;

function mebibytes(value: string): number {
  const n = Number(value);
  if (!/^\d{1,7}$/.test(value) || n < 1) throw new InvalidArgumentError('must be a whole number of MiB, at least 1');
  return n;
}

export function rateLimitSettings(opts: HardeningOptions): RateLimitSettings {
  const buckets = { ...DEFAULT_RATE_LIMITS.buckets };
  for (const b of RATE_LIMIT_BUCKETS) {
    const rule = opts[FLAG_KEY[b]] as RateLimitRule | undefined;
    if (rule) buckets[b] = rule;
  }
  return { windowMs: DEFAULT_RATE_LIMITS.windowMs, buckets };
}

/** The AppDeps the hardening flags decide; reads the TLS files (errors name the flag, never the key). */
type HardeningDeps = Pick<AppDeps, 'rateLimits' | 'tls' | 'trustProxy' | 'requestTimeoutMs' | 'uploadBudget' | 'uploadStallTimeoutMs'>;

export function hardeningDeps(opts: HardeningOptions): HardeningDeps {
  const out: HardeningDeps = {
    rateLimits: rateLimitSettings(opts),
    requestTimeoutMs: Math.round(opts.requestTimeout * 1000),
    uploadBudget: { serverBytes: opts.uploadMemory * MiB, accountBytes: opts.uploadMemoryPerAccount * MiB },
    uploadStallTimeoutMs: Math.round(opts.uploadStallTimeout * 1000),
  };
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (opts.tlsCert !== undefined && opts.tlsKey !== undefined) {
    out.tls = { cert: readPem(opts.tlsCert, '--tls-cert'), key: readPem(opts.tlsKey, '--tls-key') };
  }
  if (opts.trustProxy === true) out.trustProxy = true;
  else if (typeof opts.trustProxy === 'string') {
    const list = opts.trustProxy.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) throw new Error('--trust-proxy: empty address list');
    out.trustProxy = list;
  }
  return out;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(resolve(file));
  } catch (err) {
    throw new Error(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
