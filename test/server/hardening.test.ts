/**
 * Production hardening through app.inject: security headers on every kind of answer, rate limits
 * per IP and per account, small bodies on anonymous routes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildApp, type AppDeps } from '../../src/server/app.js';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { ANONYMOUS_BODY_LIMIT } from '../../src/server/hardening.js';
import { DEFAULT_RATE_LIMITS, parseRateLimitRule, type RateLimitSettings } from '../../src/server/rate-limits.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let store: Store | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await store?.close();
  app = undefined;
  store = undefined;
});

async function makeApp(extra: Partial<AppDeps> = {}): Promise<FastifyInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-hardening-'));
  dirs.push(dir);
  store = await openStore(undefined, dir);
  app = buildApp({ store, serverSecret: new Uint8Array(32).fill(5), kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 }, ...extra });
  await app.ready();
  return app;
}

function limits(login: { perAccount: number; perIp: number }): RateLimitSettings {
  return { windowMs: 60_000, buckets: { ...DEFAULT_RATE_LIMITS.buckets, prelogin: login, login } };
}

const login = (a: FastifyInstance, email: string, ip = '127.0.0.1') =>
  a.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, authKey: b64(32) }, remoteAddress: ip });

describe('security headers', () => {
  it('with the protocol revision, are on successes, JSON errors, 404s and validation failures; HSTS only with TLS', async () => {
    const a = await makeApp();
    const answers = [
      await a.inject({ method: 'GET', url: '/healthz' }),
      await a.inject({ method: 'GET', url: '/v1/me' }),
      await a.inject({ method: 'GET', url: '/no/such/route' }),
      await a.inject({ method: 'POST', url: '/v1/auth/prelogin', payload: '{not json', headers: { 'content-type': 'application/json' } }),
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 401, 404, 400]);
    for (const res of answers) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['content-security-policy']).toContain("default-src 'none'");
      expect(res.headers['strict-transport-security']).toBeUndefined();
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{16}$/);
      expect(res.headers[PROTOCOL_REVISION_HEADER]).toBe(String(PROTOCOL_REVISION));
    }
  });
});

describe('rate limits', () => {
  it('limits login per account across IPs: 429 rate_limited with Retry-After, other accounts unaffected', async () => {
    const a = await makeApp({ rateLimits: limits({ perAccount: 3, perIp: 1000 }) });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(a, 'ada@example.com', `10.0.0.${i + 1}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await login(a, 'ADA@example.com ', '10.0.0.9');
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/retry in \d+ s/) } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect((await login(a, 'bob@example.com', '10.0.0.1')).statusCode).toBe(401);
  });

  it('limits per IP across accounts, and each IP separately', async () => {
    const a = await makeApp({ rateLimits: limits({ perAccount: 1000, perIp: 4 }) });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(a, `user${i}@example.com`, '192.0.2.7')).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    expect((await login(a, 'user9@example.com', '192.0.2.8')).statusCode).toBe(401);
    // pre-login is its own bucket with its own counters
    const pre = await a.inject({ method: 'POST', url: '/v1/auth/prelogin', payload: { email: 'x@example.com' }, remoteAddress: '192.0.2.7' });
    expect(pre.statusCode).toBe(200);
  });

  it('leaves routes that did not opt in alone', async () => {
    const a = await makeApp({ rateLimits: limits({ perAccount: 1, perIp: 1 }) });
    for (let i = 0; i < 5; i++) expect((await a.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await a.inject({ method: 'GET', url: '/v1/me' })).statusCode).toBe(401);
  });

  it('takes the client IP from X-Forwarded-For only with trustProxy', async () => {
    const forwarded = (a: FastifyInstance, client: string, email: string) =>
      a.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: { email, authKey: b64(32) },
        remoteAddress: '127.0.0.1',
        headers: { 'x-forwarded-for': client },
      });
    let a = await makeApp({ rateLimits: limits({ perAccount: 1000, perIp: 2 }), trustProxy: ['127.0.0.1'] });
    expect((await forwarded(a, '203.0.113.1', 'a@example.com')).statusCode).toBe(401);
    expect((await forwarded(a, '203.0.113.1', 'b@example.com')).statusCode).toBe(401);
    expect((await forwarded(a, '203.0.113.1', 'c@example.com')).statusCode).toBe(429);
    expect((await forwarded(a, '203.0.113.2', 'd@example.com')).statusCode).toBe(401);
    await app!.close();
    await store!.close();
    // without trustProxy a client cannot dodge the limit by inventing X-Forwarded-For
    a = await makeApp({ rateLimits: limits({ perAccount: 1000, perIp: 2 }) });
    expect((await forwarded(a, '203.0.113.1', 'a@example.com')).statusCode).toBe(401);
    expect((await forwarded(a, '203.0.113.2', 'b@example.com')).statusCode).toBe(401);
    expect((await forwarded(a, '203.0.113.3', 'c@example.com')).statusCode).toBe(429);
  });

  it('parses ACCOUNT,IP flag values', () => {
    expect(parseRateLimitRule('10,60')).toEqual({ perAccount: 10, perIp: 60 });
    expect(parseRateLimitRule('0,0')).toEqual({ perAccount: 0, perIp: 0 });
    for (const bad of ['10', '10/60', '-1,5', 'a,b', '10,60,1', '']) expect(parseRateLimitRule(bad)).toBeNull();
  });
});

describe('rate limits when the store cannot count', () => {
  /** The store with every rate-limit write failing as a full disk fails it; reads still work. */
  function countingFails(inner: Store): Store {
    const full = () => Promise.reject(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }));
    return new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === 'countAttempt' || prop === 'pruneAttempts') return full;
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  async function failingApp(): Promise<{ a: FastifyInstance; logs: () => Record<string, unknown>[]; token: string; email: string; authKey: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-hardening-'));
    dirs.push(dir);
    store = await openStore(undefined, dir);
    let written = '';
    const stream = { write: (line: string) => void (written += line) };
    // signed up while counting works, then every count fails
    let counting: Store = store;
    const switching = new Proxy(store, {
      get(_target, prop) {
        const value: unknown = Reflect.get(counting, prop);
        return typeof value === 'function' ? value.bind(counting) : value;
      },
    });
    app = buildApp({ store: switching, serverSecret: new Uint8Array(32).fill(5), kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 }, logger: { stream } });
    await app.ready();
    const body = fakeSignupBody();
    const signup = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
    expect(signup.statusCode, signup.body).toBe(200);
    counting = countingFails(store);
    written = '';
    return {
      a: app,
      logs: () => written.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>),
      token: signup.json<{ session: { token: string } }>().session.token,
      email: body.email,
      authKey: body.authKey,
    };
  }

  it('pre-login answers as usual without counting, and logs a warning naming neither email nor address', async () => {
    const { a, logs, email } = await failingApp();
    const unknown = 'nobody@example.com';
    for (const who of [email, unknown]) {
      const res = await a.inject({ method: 'POST', url: '/v1/auth/prelogin', payload: { email: who }, remoteAddress: '198.51.100.23' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().kdf.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
    const warnings = logs().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(2);
    for (const w of warnings) {
      expect(w).toMatchObject({ msg: 'rate limit not counted (storage unavailable: disk full); answered uncounted', bucket: 'prelogin' });
      const line = JSON.stringify(w);
      for (const secret of [email, unknown, '198.51.100.23']) expect(line).not.toContain(secret);
    }
  });

  it('login, recovery, password proofs, codes and invitations answer 503 unavailable, their handlers not run', async () => {
    const { a, token, email, authKey } = await failingApp();
    const auth = { authorization: `Bearer ${token}` };
    // the right password proofs: a handler that ran would log in, or delete the account
    const refused = [
      await a.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, authKey } }),
      await a.inject({ method: 'POST', url: '/v1/auth/signup', payload: fakeSignupBody() }),
      await a.inject({ method: 'POST', url: '/v1/auth/recover/start', payload: { email, recoveryAuthKey: b64(32) } }),
      await a.inject({ method: 'POST', url: '/v1/account/delete', payload: { authKey }, headers: auth }),
      await a.inject({ method: 'POST', url: '/v1/account/verify', payload: { code: 'ABCD-EFGH' }, headers: auth }),
      await a.inject({ method: 'POST', url: '/v1/invitations/accept', payload: { code: 'ABCD-EFGH' }, headers: auth }),
      await a.inject({ method: 'POST', url: `/v1/teams/${hex(16)}/invitations`, payload: { emails: ['b@example.com'], role: 'member' }, headers: auth }),
    ];
    for (const res of refused) {
      expect(res.statusCode, `${res.raw.req.url}: ${res.body}`).toBe(503);
      expect(res.json()).toEqual({ error: { code: 'unavailable', message: "the server's storage is unavailable (disk full)" } });
    }
    expect((await a.inject({ method: 'GET', url: '/v1/me', headers: auth })).statusCode).toBe(200);
  });
});

describe('body limits', () => {
  it('refuses a big body on an anonymous route with 413, before parsing it', async () => {
    const a = await makeApp();
    const payload = JSON.stringify({ email: `${'a'.repeat(ANONYMOUS_BODY_LIMIT)}@example.com` });
    for (const url of ['/v1/auth/prelogin', '/v1/auth/login', '/v1/auth/signup', '/v1/auth/recover/start']) {
      const res = await a.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/json' } });
      expect(res.statusCode, url).toBe(413);
      expect(res.json().error.code).toBe('too_large');
    }
    // a signed-in route keeps the large limit (snapshots carry big manifests): 401 first, not 413
    const res = await a.inject({ method: 'POST', url: `/v1/workspaces/${hex(16)}/snapshots`, payload, headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(401);
  });
});
