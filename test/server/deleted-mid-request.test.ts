/**
 * A request whose account is deleted while it runs — after its session was checked, before a store
 * call finds the account (or its personal team, or its place in a team) gone — is answered as the
 * next request with that session is: 401 with `sessionEnded: account_deleted` and the time
 * (docs/protocol.md §2), never 404 "account not found", 403 "removed from the team", 409 or a bare
 * 401, so that the client says the account was deleted rather than "log in again".
 *
 * The deletion is put between the session check and one store call by a store that runs it just
 * before that call (every call, the deletion's too, is the real store's), on SQLite and PostgreSQL;
 * on PostgreSQL also by a held row, the request and the deletion running at once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountResponse, CreateTokenRequest } from '../../src/protocol/types.js';
import { buildApp } from '../../src/server/app.js';
import type { RateLimitSettings } from '../../src/server/rate-limits.js';
import { openStore } from '../../src/storage/open.js';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { newUser } from '../storage/store-contract.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();
const KDF = { memoryKiB: 65536, iterations: 3, parallelism: 1 };
const ROOMY = { perAccount: 10_000, perIp: 10_000 };
const NO_LIMITS: RateLimitSettings = { windowMs: 60_000, buckets: { prelogin: ROOMY, login: ROOMY, verify: ROOMY, invite: ROOMY } };
const DELETED = /^the account of this session was deleted on \d{4}-\d\d-\d\d \d\d:\d\d UTC$/;

/** The real store, and a way to run something (the deletion) right before its next call of one method. */
function interposing(inner: Store): { store: Store; before(method: keyof Store, run: () => Promise<void>): void; pending(): string | null } {
  let armed: { method: string; run: () => Promise<void> } | null = null;
  const store = new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const call = () => (value as (...a: unknown[]) => unknown).apply(target, args);
        if (armed?.method !== prop) return call();
        const { run } = armed;
        armed = null;
        return run().then(call);
      };
    },
  });
  return {
    store,
    before(method, run) {
      armed = { method, run };
    },
    pending: () => armed?.method ?? null,
  };
}

interface Account {
  userId: string;
  email: string;
  token: string;
  authKey: string;
  personalTeamId: string;
}

type Backend = { name: string; open: () => Promise<Store>; close?: () => Promise<void> };

let pgDb: TestDatabase | undefined;
const dirs: string[] = [];
afterAll(async () => {
  await pgDb?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const backends: Backend[] = [
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-gone-'));
      dirs.push(dir);
      return openStore(undefined, dir);
    },
  },
  {
    name: 'postgres',
    open: async () => {
      pgDb ??= await createTestDatabase();
      return openPostgresStore(await pgDb.freshSchema());
    },
  },
];

describe.each(backends)('an account deleted while its request runs ($name)', (backend) => {
  let inner: Store;
  let seam: ReturnType<typeof interposing>;
  let app: FastifyInstance;

  beforeAll(async () => {
    inner = await backend.open();
    seam = interposing(inner);
    app = buildApp({ store: seam.store, serverSecret: new Uint8Array(32).fill(5), kdfDefaults: KDF, rateLimits: NO_LIMITS });
    await app.ready();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await inner?.close();
  });

  async function signup(): Promise<Account> {
    const body = fakeSignupBody();
    const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
    expect(res.statusCode, res.body).toBe(200);
    return { userId: body.userId, email: body.email, token: res.json<AccountResponse>().session!.token, authKey: body.authKey, personalTeamId: body.personalTeam.id };
  }

  const deletion = (a: Account) => async (): Promise<void> => {
    expect(await inner.deleteUser(a.userId, sha256(Buffer.from(a.authKey, 'base64url')))).toMatchObject({ ok: true });
  };

  async function workspaceIn(teamId: string): Promise<string> {
    const id = hex(16);
    expect((await inner.createWorkspace({ id, teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: new Date() })).ok).toBe(true);
    return id;
  }

  /** A team of someone else in which `a` is a confirmed member; its id and a workspace of it. */
  async function sharedTeam(a: Account): Promise<{ teamId: string; wsId: string }> {
    const owner = newUser();
    await inner.createUser(owner);
    const teamId = hex(16);
    expect(await inner.createTeam({ id: teamId, name: 'Shared', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: new Date() })).toEqual({ ok: true });
    const wsId = await workspaceIn(teamId);
    const codeHash = new Uint8Array(randomBytes(32));
    const at = new Date();
    const invitation = { id: hex(16), teamId, email: a.email, role: 'member' as const, codeHash, invitedBy: owner.id, createdAt: at, expiresAt: new Date(at.getTime() + 60_000) };
    expect(await inner.createInvitation(invitation)).toEqual({ ok: true });
    expect((await inner.acceptInvitation(codeHash, a.userId, a.email, at)).ok).toBe(true);
    expect(await inner.confirmMember(teamId, a.userId, [{ epoch: 1, sealedKey: b64(80) }], at)).toEqual({ ok: true });
    return { teamId, wsId };
  }

  /** `a`'s own (non-personal) team, `a`'s address verified, so that `a` may invite. */
  async function invitingTeam(a: Account): Promise<string> {
    const code = new Uint8Array(randomBytes(32));
    expect(await inner.setEmailVerification(a.userId, a.email, code, new Date(Date.now() + 60_000))).toEqual({ ok: true });
    expect(await inner.verifyEmail(a.userId, code, new Date())).toEqual({ ok: true });
    const teamId = hex(16);
    expect(await inner.createTeam({ id: teamId, name: 'Mine', ownerId: a.userId, sealedTeamKey: b64(80), createdAt: new Date() })).toEqual({ ok: true });
    return teamId;
  }

  const proof = (a: Account) => ({ authKey: a.authKey });
  const kdf = { alg: 'argon2id', ...KDF, salt: b64(16) };
  const tokenBody = (): CreateTokenRequest => ({
    id: hex(16),
    name: 'ci',
    scope: 'write',
    secretHash: sha256(randomBytes(32)).toString('base64url'),
    expiresAt: null,
    publicKey: b64(32),
    certificate: b64(64),
    keys: [{ epoch: 1, wrappedKey: b64(73) }],
  });

  // [what, the store call the deletion comes before, the request (after any setup it needs)]
  const cases: [string, keyof Store, (a: Account) => Promise<InjectOptions>][] = [
    ['GET /v1/me', 'getUserById', async () => ({ method: 'GET', url: '/v1/me' })],
    ['GET /v1/account (account show)', 'getUserById', async () => ({ method: 'GET', url: '/v1/account' })],
    ['account password: the proof', 'getUserById', async (a) => ({ method: 'POST', url: '/v1/account/password', payload: { ...proof(a), newKdf: kdf, newAuthKey: b64(32), wrappedAccountKey: b64(73), renewSession: true } })],
    ['account password: the change', 'changeCredentials', async (a) => ({ method: 'POST', url: '/v1/account/password', payload: { ...proof(a), newKdf: kdf, newAuthKey: b64(32), wrappedAccountKey: b64(73), renewSession: true } })],
    ['account recovery-key', 'setRecovery', async (a) => ({ method: 'PUT', url: '/v1/account/recovery', payload: { ...proof(a), recoveryAuthKey: b64(32), wrappedAccountKey: b64(73) } })],
    ['account delete, a second time at once', 'deleteUser', async (a) => ({ method: 'POST', url: '/v1/account/delete', payload: proof(a) })],
    ['account sessions --revoke', 'revokeSessionOfUser', async () => ({ method: 'DELETE', url: `/v1/account/sessions/${hex(16)}` })],
    ['account verify CODE', 'verifyEmail', async () => ({ method: 'POST', url: '/v1/account/verify', payload: { code: 'ABCD-EFGH-JKMN-PQRS' } })],
    ['account verify --resend', 'recordActivationMail', async () => ({ method: 'POST', url: '/v1/account/verify', payload: { resend: true } })],
    ['team create', 'createTeam', async () => ({ method: 'POST', url: '/v1/teams', payload: { id: hex(16), name: 'Late', sealedTeamKey: b64(80) } })],
    ['team invite: the inviter', 'getUserById', async (a) => ({ method: 'POST', url: `/v1/teams/${await invitingTeam(a)}/invitations`, payload: { emails: ['x@example.com'], role: 'member' } })],
    ['team invite: the invitation', 'createInvitation', async (a) => ({ method: 'POST', url: `/v1/teams/${await invitingTeam(a)}/invitations`, payload: { emails: ['x@example.com'], role: 'member' } })],
    ['team accept', 'acceptInvitation', async () => ({ method: 'POST', url: '/v1/invitations/accept', payload: { code: 'ABCD-EFGH-JKMN-PQRS' } })],
    ['team members of a shared team', 'teamAccess', async (a) => ({ method: 'GET', url: `/v1/teams/${(await sharedTeam(a)).teamId}/members` })],
    ['init in the personal team', 'createWorkspace', async (a) => ({ method: 'POST', url: '/v1/workspaces', payload: { id: hex(16), teamId: a.personalTeamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } } })],
    ['a personal workspace', 'teamAccess', async (a) => ({ method: 'GET', url: `/v1/workspaces/${await workspaceIn(a.personalTeamId)}` })],
    ["a shared team's workspace", 'teamAccess', async (a) => ({ method: 'GET', url: `/v1/workspaces/${(await sharedTeam(a)).wsId}` })],
    ['token create', 'createAccessToken', async (a) => ({ method: 'POST', url: `/v1/workspaces/${(await sharedTeam(a)).wsId}/tokens`, payload: tokenBody() })],
  ];

  it.each(cases)('%s (deleted before %s): 401 account_deleted', async (_what, method, request) => {
    const a = await signup();
    const options = await request(a);
    seam.before(method, deletion(a));
    const res = await app.inject({ ...options, headers: { authorization: `Bearer ${a.token}` } });
    expect(seam.pending(), 'the request never made that store call').toBeNull();
    expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', sessionEnded: 'account_deleted', message: expect.stringMatching(DELETED) } } });
    // as the next request with the session
    const next = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${a.token}` } });
    expect(next.json()).toEqual(res.json());
  });

  it('a request that fails for another reason, the account alive, answers as before', async () => {
    const a = await signup();
    const res = await app.inject({ method: 'GET', url: `/v1/workspaces/${hex(16)}`, headers: { authorization: `Bearer ${a.token}` } });
    expect({ status: res.statusCode, body: res.json() }).toEqual({ status: 404, body: { error: { code: 'not_found', message: 'workspace not found' } } });
  });
});

describe('an account deleted while its request runs (PostgreSQL, a held row)', () => {
  it('team create waiting on the account row behind its deletion, both at once: 401 account_deleted', async () => {
    const url = await (pgDb ??= await createTestDatabase()).freshSchema();
    const store = await openPostgresStore(url);
    const app2 = buildApp({ store, serverSecret: new Uint8Array(32).fill(5), kdfDefaults: KDF, rateLimits: NO_LIMITS });
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      const body = fakeSignupBody();
      const signed = await app2.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
      expect(signed.statusCode).toBe(200);
      const token = signed.json<AccountResponse>().session!.token;
      // connections made now: a new one opened while the holder holds the row can be slow to come up
      await Promise.all([1, 2, 3].map(() => store.getUserById(body.userId)));
      const waiting = async (n: number): Promise<void> => {
        for (let i = 0; i < 400; i++) {
          const { rows } = await holder.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
          if (rows[0].n >= n) return;
          await new Promise((r) => setTimeout(r, 10));
        }
        const { rows } = await holder.query('SELECT state, wait_event_type, wait_event, left(query, 80) AS q FROM pg_stat_activity WHERE datname = current_database()');
        throw new Error(`${n} waiting backend(s) expected: ${JSON.stringify(rows)}`);
      };
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [body.userId]);
      // the deletion queues on the account row; the request passes its session check and queues behind it
      const deleted = store.deleteUser(body.userId, sha256(Buffer.from(body.authKey, 'base64url')));
      await waiting(1);
      const answer = app2.inject({ method: 'POST', url: '/v1/teams', headers: { authorization: `Bearer ${token}` }, payload: { id: hex(16), name: 'Late', sealedTeamKey: b64(80) } });
      await Promise.race([waiting(2), answer.then((r) => Promise.reject(new Error(`answered without waiting: ${r.statusCode} ${r.body}`)))]);
      await holder.query('COMMIT');
      expect(await deleted).toMatchObject({ ok: true });
      const res = await answer;
      expect({ status: res.statusCode, body: res.json() }).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', sessionEnded: 'account_deleted', message: expect.stringMatching(DELETED) } } });
    } finally {
      await holder.end();
      await app2.close();
      await store.close();
    }
  });
});
