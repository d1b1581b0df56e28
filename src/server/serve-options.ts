/**
 * The production-hardening flags of `insomnia-sync-server` (TLS, reverse proxy, rate limits,
 * timeouts, shutdown, periodic garbage collection, upload memory) and their translation into AppDeps.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
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
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (unencrypted; keep it mode 0600)')
    .option(
      '--trust-proxy [addresses]',
      'behind a reverse proxy: take client IPs from X-Forwarded-For set by these proxies (comma list of IPs/CIDRs, "loopback"; no value: any)',
    )
    .option('--rate-limit-prelogin <account,ip>', `pre-login requests per minute per account and per IP, 0 = off (default ${rate('prelogin')})`, ruleOption)
    .option('--rate-limit-login <account,ip>', `login, signup, recovery and password-proof attempts per minute (default ${rate('login')})`, ruleOption)
    .option('--rate-limit-verify <account,ip>', `email-verification and invite-code attempts per minute (default ${rate('verify')})`, ruleOption)
    .option('--rate-limit-invite <account,ip>', `invitation requests per minute per inviter and per IP (default ${rate('invite')}; besides, at most 100 invitations an hour per inviter)`, ruleOption)
    .option('--request-timeout <seconds>', 'longest time to receive one request', seconds(1, 86_400), DEFAULT_TIMEOUTS.requestTimeoutMs / 1000)
    .option('--shutdown-timeout <seconds>', 'on SIGTERM, how long in-flight requests may take to finish; then log how many were cut off and exit 1', seconds(0, 3600), 30)
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

/**
 * The AppDeps the hardening flags decide; reads and checks the TLS files. Errors are one line
 * naming the flag and the file, never the key; `warn` gets each warning line (a key file others
 * can read).
 */
type HardeningDeps = Pick<AppDeps, 'rateLimits' | 'tls' | 'trustProxy' | 'requestTimeoutMs' | 'uploadBudget' | 'uploadStallTimeoutMs'>;

export function hardeningDeps(opts: HardeningOptions, warn: (line: string) => void = () => {}): HardeningDeps {
  const out: HardeningDeps = {
    rateLimits: rateLimitSettings(opts),
    requestTimeoutMs: Math.round(opts.requestTimeout * 1000),
    uploadBudget: { serverBytes: opts.uploadMemory * MiB, accountBytes: opts.uploadMemoryPerAccount * MiB },
    uploadStallTimeoutMs: Math.round(opts.uploadStallTimeout * 1000),
  };
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (opts.tlsCert !== undefined && opts.tlsKey !== undefined) out.tls = readTls(opts.tlsCert, opts.tlsKey, warn);
  if (opts.trustProxy === true) out.trustProxy = true;
  else if (typeof opts.trustProxy === 'string') {
    const list = opts.trustProxy.split(',').map((s) => s.trim()).filter(Boolean);
    if (list.length === 0) throw new Error('--trust-proxy: empty address list');
    out.trustProxy = list;
  }
  return out;
}

const PRIVATE_KEY_PEM = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----/;

/**
 * Reads --tls-cert and --tls-key and checks them before the server is built, so that a mistake
 * (the two swapped, a key of another certificate) is a line naming the flag and the file rather
 * than OpenSSL's "error:0480006C:PEM routines::no start line".
 */
function readTls(certFile: string, keyFile: string, warn: (line: string) => void): { cert: Buffer; key: Buffer } {
  const cert = readPem(certFile, '--tls-cert');
  const key = readPem(keyFile, '--tls-key');
  const swapped = 'are --tls-cert and --tls-key swapped?';
  try {
    new X509Certificate(cert);
  } catch {
    const hint = PRIVATE_KEY_PEM.test(cert.toString('latin1')) ? ` (it holds a private key: ${swapped})` : '';
    throw new Error(`--tls-cert: ${certFile} holds no PEM certificate${hint}`);
  }
  try {
    createPrivateKey(key);
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MISSING_PASSPHRASE') throw new Error(`--tls-key: ${keyFile} is encrypted with a passphrase; give the key without one`);
    const hint = CERTIFICATE_PEM.test(key.toString('latin1')) ? ` (it holds a certificate: ${swapped})` : '';
    throw new Error(`--tls-key: ${keyFile} holds no PEM private key${hint}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    if (/key values mismatch/i.test((err as Error).message)) throw new Error(`--tls-key: ${keyFile} does not match the certificate in ${certFile}`);
    throw new Error(`--tls-cert ${certFile}, --tls-key ${keyFile}: ${(err as Error).message}`);
  }
  const mode = statSync(resolve(keyFile)).mode & 0o777;
  if (mode & 0o044) {
    const who = mode & 0o004 ? 'every user' : 'its group';
    warn(`--tls-key ${keyFile} is readable by ${who} (mode 0${mode.toString(8)}); chmod 600 it, so that only the server's user can read the private key`);
  }
  return { cert, key };
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(resolve(file));
  } catch (err) {
    throw new Error(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}
