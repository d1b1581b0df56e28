/** Account-lifecycle routes through app.inject, with a real SQLite store and an in-memory Mailer. */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import type { Mailer } from '../../src/server/mail/mailer.js';
import { inProcessServerPerTest, type MemoryMailer } from '../helpers/server-app.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import type { AccountDataResponse, AccountResponse, DeletionReceipt } from '../../src/protocol/types.js';
import type { Store } from '../../src/storage/store.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');
const SECRET = new Uint8Array(32).fill(9);



const server = inProcessServerPerTest('insomnia-sync-account-api-', SECRET);
let store: Store;
let app: FastifyInstance;
let mailer: MemoryMailer;
beforeEach(() => ({ app, store, mailer } = server));

const kdf = () => ({ alg: 'argon2id' as const, memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) });

async function signup(email?: string) {
  const body = fakeSignupBody({ email, client: 'test-client/1' });
  const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
  expect(res.statusCode).toBe(200);
  // signup mails an activation code (issue 3); these tests count the notices that follow it
  mailer.sent.splice(0, mailer.sent.length, ...mailer.sent.filter((m) => !/confirm your email/.test(m.subject)));
  return { body, token: res.json<AccountResponse>().session!.token };
}

async function login(email: string, authKey: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email, authKey } });
  expect(res.statusCode).toBe(200);
  return res.json<AccountResponse>().session!.token;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

describe('GET /v1/account', () => {
  it('answers the service data with sessions, usage and workspaces, and nothing secret', async () => {
    const a = await signup('show@example.com');
    await login('show@example.com', a.body.authKey);
    const wsId = hex(16);
    await app.inject({
      method: 'POST',
      url: '/v1/workspaces',
      headers: auth(a.token),
      payload: { id: wsId, teamId: a.body.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } },
    });
    const res = await app.inject({ method: 'GET', url: '/v1/account', headers: auth(a.token) });
    expect(res.statusCode).toBe(200);
    const data = res.json<AccountDataResponse>();
    expect(data.user).toMatchObject({ id: a.body.userId, email: 'show@example.com', name: 'Ada', verifiedAt: null, passwordChangedAt: null });
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions.filter((s) => s.current)).toHaveLength(1);
    expect(data.sessions[0]).toMatchObject({ client: 'test-client/1', ip: '127.0.0.1' });
    expect(data.usage).toEqual({ workspaces: 1, snapshots: 0, blobs: 0, bytes: 0 });
    expect(data.workspaces.map((w) => w.id)).toEqual([wsId]);
    expect(data.teams).toEqual([{ id: a.body.personalTeam.id, name: 'Personal', personal: true, role: 'owner', epoch: 1 }]);
    expect(data.recoveryKey).toEqual({ set: false, createdAt: null });
    expect(data.endedSessions).toEqual([]);
    expect(data.invitations).toEqual([]);
    const text = res.body;
    expect(text).not.toContain(a.token);
    expect(text).not.toContain(a.body.keys.wrappedAccountKey);
    expect(text).not.toContain(a.body.personalTeam.sealedTeamKey);
  });

  it('needs a session', async () => {
    expect((await app.inject({ method: 'GET', url: '/v1/account' })).statusCode).toBe(401);
  });

  it('also lists ended sessions still stored and invitations to the address, apart from the live sessions', async () => {
    const a = await signup('held@example.com');
    const other = await login(a.body.email, a.body.authKey);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: auth(other), payload: {} })).statusCode).toBe(204);
    const owner = await signup();
    const teamId = hex(16);
    await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.body.userId, sealedTeamKey: b64(80), createdAt: new Date() });
    const base = { teamId, email: 'held@example.com', invitedBy: owner.body.userId, createdAt: new Date() };
    await store.createInvitation({ ...base, id: hex(16), role: 'admin', codeHash: randomBytes(32), expiresAt: new Date(Date.now() + 60_000) });
    await store.createInvitation({ ...base, id: hex(16), teamId: owner.body.personalTeam.id, role: 'member', codeHash: randomBytes(32), expiresAt: new Date(Date.now() - 1) });
    await store.createInvitation({ ...base, id: hex(16), email: 'someone-else@example.com', role: 'member', codeHash: randomBytes(32), expiresAt: new Date(Date.now() + 60_000) });

    const data = (await app.inject({ method: 'GET', url: '/v1/account', headers: auth(a.token) })).json<AccountDataResponse>();
    expect(data.sessions).toHaveLength(1);
    expect(data.endedSessions).toEqual([
      { id: expect.any(String), client: null, ip: '127.0.0.1', createdAt: expect.any(String), lastSeenAt: expect.any(String), expiresAt: expect.any(String), revokedAt: expect.any(String) },
    ]);
    expect(data.endedSessions![0]!.id).not.toBe(data.sessions[0]!.id);
    expect(data.invitations!.map((i) => [i.teamName, i.role, i.state])).toEqual(
      expect.arrayContaining([
        ['Acme', 'admin', 'open'],
        ['Personal', 'member', 'ended'],
      ]),
    );
    expect(data.invitations).toHaveLength(2);
    // the live list is still only the live ones
    const live = (await app.inject({ method: 'GET', url: '/v1/account/sessions', headers: auth(a.token) })).json<{ sessions: unknown[] }>();
    expect(live.sessions).toHaveLength(1);
  });
});

describe('client labels', () => {
  it('are one printable line: signup, login and recovery refuse control characters (400) and open no session', async () => {
    const a = await signup('label@example.com');
    for (const client of ['x\u001b[2J', 'two\nlines', 'bell\u0007', 'rtl\u202e']) {
      const res = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.body.email, authKey: a.body.authKey, client } });
      expect(res.statusCode, JSON.stringify(client)).toBe(400);
      expect(res.json().error.message).toMatch(/client label/);
    }
    const fresh = { ...a.body, userId: hex(16), email: 'label2@example.com', personalTeam: { id: hex(16), sealedTeamKey: b64(80) }, client: 'a\rb' };
    expect((await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: fresh })).statusCode).toBe(400);
    expect(await store.getUserByEmail('label2@example.com')).toBeNull();
    const recoveryAuthKey = b64(32);
    await app.inject({ method: 'PUT', url: '/v1/account/recovery', headers: auth(a.token), payload: { authKey: a.body.authKey, recoveryAuthKey, wrappedAccountKey: b64(73) } });
    const finish = await app.inject({
      method: 'POST',
      url: '/v1/auth/recover/finish',
      payload: { email: a.body.email, recoveryAuthKey, newKdf: kdf(), newAuthKey: b64(32), wrappedAccountKey: b64(73), client: 'x\u009b2J' },
    });
    expect(finish.statusCode).toBe(400);
    // nothing changed: the recovery key still works and the password too
    expect(await store.getRecovery(a.body.userId)).not.toBeNull();
    const sessions = (await app.inject({ method: 'GET', url: '/v1/account/sessions', headers: auth(a.token) })).json<{ sessions: unknown[] }>();
    expect(sessions.sessions).toHaveLength(1);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.body.email, authKey: a.body.authKey, client: 'Zoë 🚀 1.0' } })).statusCode).toBe(200);
  });
});

describe('sessions', () => {
  it('lists and revokes only your own sessions', async () => {
    const a = await signup();
    const b = await signup();
    const second = await login(a.body.email, a.body.authKey);
    const list = (await app.inject({ method: 'GET', url: '/v1/account/sessions', headers: auth(a.token) })).json<{ sessions: { id: string; current: boolean }[] }>();
    const other = list.sessions.find((s) => !s.current)!;
    const bList = (await app.inject({ method: 'GET', url: '/v1/account/sessions', headers: auth(b.token) })).json<{ sessions: { id: string }[] }>();
    expect((await app.inject({ method: 'DELETE', url: `/v1/account/sessions/${bList.sessions[0]!.id}`, headers: auth(a.token) })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(b.token) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/v1/account/sessions/${other.id}`, headers: auth(a.token) })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(second) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(a.token) })).statusCode).toBe(200);
  });
});

describe('POST /v1/account/password', () => {
  it("refuses a wrong proof and changes nothing; a right one swaps credentials, revokes every session (the caller's for a new one) and mails a notice", async () => {
    const a = await signup('pw@example.com');
    const other = await login(a.body.email, a.body.authKey);
    const change = (authKey: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/account/password',
        headers: { ...auth(a.token), 'user-agent': 'agent/9' },
        payload: { authKey, newKdf: kdf(), newAuthKey: newKey, wrappedAccountKey: b64(73), renewSession: true },
      });
    const newKey = b64(32);
    const wrong = await change(b64(32));
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().error.code).toBe('forbidden');
    expect(mailer.sent).toHaveLength(0);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(other) })).statusCode).toBe(200);

    const ok = await change(a.body.authKey);
    expect(ok.statusCode).toBe(200);
    const body = ok.json<{ session: { token: string; id: string; expiresAt: string } }>();
    expect(body).toEqual({ revokedSessions: 1, recoveryKeyRevoked: false, liveTokens: [], session: { token: expect.any(String), id: expect.stringMatching(/^[0-9a-f]{32}$/), expiresAt: expect.any(String) } });
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(other) })).statusCode).toBe(401);
    // the token the change was made with ends too (a copy of it must not outlive the change); the new one works
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(a.token) })).statusCode).toBe(401);
    expect(body.session.token).not.toBe(a.token);
    const sessions = (await app.inject({ method: 'GET', url: '/v1/account/sessions', headers: auth(body.session.token) })).json<{ sessions: { id: string; current: boolean }[] }>();
    expect(sessions.sessions.map((s) => [s.id, s.current])).toEqual([[body.session.id, true]]);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.body.email, authKey: a.body.authKey } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.body.email, authKey: newKey } })).statusCode).toBe(200);
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.to).toBe('pw@example.com');
    expect(mailer.sent[0]!.subject).toMatch(/password was changed/);
    expect(mailer.sent[0]!.text).toContain('agent/9');
    expect(mailer.sent[0]!.text).not.toContain(newKey);
    expect(mailer.sent[0]!.text).not.toContain(a.body.authKey);
  });

  it("without renewSession (a client from before it) keeps the caller's session, revokes the others, answers no session and says so in the notice", async () => {
    const a = await signup('pw-old@example.com');
    const other = await login(a.body.email, a.body.authKey);
    const newKey = b64(32);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/account/password',
      headers: auth(a.token),
      payload: { authKey: a.body.authKey, newKdf: kdf(), newAuthKey: newKey, wrappedAccountKey: b64(73) },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ revokedSessions: 1, recoveryKeyRevoked: false, liveTokens: [] });
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(other) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(a.token) })).statusCode).toBe(200);
    const sessions = (await app.inject({ method: 'GET', url: '/v1/account/sessions', headers: auth(a.token) })).json<{ sessions: { current: boolean }[] }>();
    expect(sessions.sessions.map((s) => s.current)).toEqual([true]);
    expect(mailer.sent).toHaveLength(1);
    expect(mailer.sent[0]!.text).toContain('Other sessions signed out: 1. The one the change was made from was kept');
    // renewSession: false is the same as leaving it out
    const again = await app.inject({
      method: 'POST',
      url: '/v1/account/password',
      headers: auth(a.token),
      payload: { authKey: newKey, newKdf: kdf(), newAuthKey: b64(32), wrappedAccountKey: b64(73), renewSession: false },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().session).toBeUndefined();
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(a.token) })).statusCode).toBe(200);
  });

  it('rejects weak KDF parameters and unknown fields', async () => {
    const a = await signup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/account/password',
      headers: auth(a.token),
      payload: { authKey: a.body.authKey, newKdf: { ...kdf(), memoryKiB: 1024 }, newAuthKey: b64(32), wrappedAccountKey: b64(73) },
    });
    expect(res.statusCode).toBe(400);
    const extra = await app.inject({
      method: 'POST',
      url: '/v1/account/password',
      headers: auth(a.token),
      payload: { authKey: a.body.authKey, newKdf: kdf(), newAuthKey: b64(32), wrappedAccountKey: b64(73), password: 'x' },
    });
    expect(extra.statusCode).toBe(400);
  });
});

describe('recovery', () => {
  it('sets a recovery key with a password proof; recovery hands out the wrapped key and sets a new password', async () => {
    const a = await signup('rec@example.com');
    const recoveryAuthKey = b64(32);
    const wrapped = b64(73);
    const bad = await app.inject({ method: 'PUT', url: '/v1/account/recovery', headers: auth(a.token), payload: { authKey: b64(32), recoveryAuthKey, wrappedAccountKey: wrapped } });
    expect(bad.statusCode).toBe(403);
    const set = await app.inject({ method: 'PUT', url: '/v1/account/recovery', headers: auth(a.token), payload: { authKey: a.body.authKey, recoveryAuthKey, wrappedAccountKey: wrapped } });
    expect(set.statusCode).toBe(200);
    expect(mailer.sent.map((m) => m.subject)).toEqual([expect.stringMatching(/recovery key was created/)]);

    // wrong key, unknown email: the same answer
    const wrong = await app.inject({ method: 'POST', url: '/v1/auth/recover/start', payload: { email: 'rec@example.com', recoveryAuthKey: b64(32) } });
    const unknown = await app.inject({ method: 'POST', url: '/v1/auth/recover/start', payload: { email: 'nobody@example.com', recoveryAuthKey } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());

    const start = await app.inject({ method: 'POST', url: '/v1/auth/recover/start', payload: { email: 'REC@example.com ', recoveryAuthKey } });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ userId: a.body.userId, wrappedAccountKeyByRecovery: wrapped, keys: a.body.keys });

    const newAuthKey = b64(32);
    const finish = await app.inject({
      method: 'POST',
      url: '/v1/auth/recover/finish',
      payload: { email: 'rec@example.com', recoveryAuthKey, newKdf: kdf(), newAuthKey, wrappedAccountKey: b64(73), client: 'recovered/1' },
    });
    expect(finish.statusCode).toBe(200);
    const session = finish.json<AccountResponse>().session!;
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(a.token) })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(session.token) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.body.email, authKey: a.body.authKey } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: a.body.email, authKey: newAuthKey } })).statusCode).toBe(200);
    expect(mailer.sent.at(-1)!.subject).toMatch(/recovered/);
    expect(mailer.sent.at(-1)!.text).toMatch(/recovery key is spent/);
    // spent: the same key recovers nothing a second time
    expect((await app.inject({ method: 'POST', url: '/v1/auth/recover/start', payload: { email: 'rec@example.com', recoveryAuthKey } })).statusCode).toBe(401);
    const account = await app.inject({ method: 'GET', url: '/v1/account', headers: auth(session.token) });
    expect(account.json<AccountDataResponse>().recoveryKey).toEqual({ set: false, createdAt: null });
  });

  it('a password change revokes the recovery key, says so, and mails it', async () => {
    const a = await signup('revoke@example.com');
    const recoveryAuthKey = b64(32);
    const set = await app.inject({ method: 'PUT', url: '/v1/account/recovery', headers: auth(a.token), payload: { authKey: a.body.authKey, recoveryAuthKey, wrappedAccountKey: b64(73) } });
    expect(set.statusCode).toBe(200);
    const change = await app.inject({
      method: 'POST',
      url: '/v1/account/password',
      headers: auth(a.token),
      payload: { authKey: a.body.authKey, newKdf: kdf(), newAuthKey: b64(32), wrappedAccountKey: b64(73), renewSession: true },
    });
    expect(change.json()).toMatchObject({ revokedSessions: 0, recoveryKeyRevoked: true, liveTokens: [] });
    expect(mailer.sent.at(-1)!.text).toMatch(/recovery key was revoked.*account recovery-key/);
    const start = await app.inject({ method: 'POST', url: '/v1/auth/recover/start', payload: { email: 'revoke@example.com', recoveryAuthKey } });
    expect(start.statusCode).toBe(401);
    const account = await app.inject({ method: 'GET', url: '/v1/account', headers: auth(change.json<{ session: { token: string } }>().session.token) });
    expect(account.json<AccountDataResponse>().recoveryKey).toEqual({ set: false, createdAt: null });
  });
});

describe('POST /v1/account/delete', () => {
  it('a wrong password deletes nothing; the right one answers a receipt, mails it, and frees the email', async () => {
    const a = await signup('del@example.com');
    const other = await login(a.body.email, a.body.authKey);
    const wrong = await app.inject({ method: 'POST', url: '/v1/account/delete', headers: auth(a.token), payload: { authKey: b64(32) } });
    expect(wrong.statusCode).toBe(403);
    expect(await store.getUserById(a.body.userId)).not.toBeNull();
    expect((await app.inject({ method: 'POST', url: '/v1/account/delete', payload: { authKey: a.body.authKey } })).statusCode).toBe(401);

    const res = await app.inject({ method: 'POST', url: '/v1/account/delete', headers: auth(a.token), payload: { authKey: a.body.authKey } });
    expect(res.statusCode).toBe(200);
    const receipt = res.json<DeletionReceipt>();
    expect(receipt).toMatchObject({ userId: a.body.userId, email: 'del@example.com', removed: { account: 1, sessions: 2, memberships: 1, teams: 1 } });
    expect(receipt.backups).toMatch(/backup/i);
    expect(await store.getUserByEmail('del@example.com')).toBeNull();
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers: auth(other) })).statusCode).toBe(401);
    expect(mailer.sent.at(-1)).toMatchObject({ to: 'del@example.com', subject: expect.stringMatching(/deleted/) });
    expect(mailer.sent.at(-1)!.text).toMatch(/Removed:/);
    // the same email signs up again as a new account
    const again = await signup('del@example.com');
    expect(again.body.userId).not.toBe(a.body.userId);
  });

  it('a notice that cannot be sent does not undo the deletion', async () => {
    await app.close();
    const failing: Mailer = { kind: 'failing', send: async () => Promise.reject(new Error('smtp down')), close: async () => {} };
    app = buildApp({ store, serverSecret: SECRET, kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 }, mailer: failing });
    await app.ready();
    const a = await signup();
    const res = await app.inject({ method: 'POST', url: '/v1/account/delete', headers: auth(a.token), payload: { authKey: a.body.authKey } });
    expect(res.statusCode).toBe(200);
    expect(await store.getUserById(a.body.userId)).toBeNull();
    await app.close(); // this test's own app; the helper closes the one it made
  });
});
