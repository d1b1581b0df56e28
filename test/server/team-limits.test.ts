/**
 * What the server holds a team's members to, through app.inject with a real SQLite store and an
 * in-memory Mailer:
 * - while a team's rotation is pending (a confirmed member left), nothing new may be written under
 *   the team key the departed member holds (docs/protocol.md §8): not content, and not a new
 *   workspace (its key would be wrapped under that team key) or a new name (encrypted under a key
 *   derived from it);
 * - invitations, each a mail to an address of the inviter's choosing, are capped per hour.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { beforeEach, describe, expect, it } from 'vitest';
import { inProcessServerPerTest, type MemoryMailer } from '../helpers/server-app.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import type { AccountResponse } from '../../src/protocol/types.js';
import { INVITES_PER_HOUR } from '../../src/server/routes/teams.js';
import type { Store } from '../../src/storage/store.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');



const server = inProcessServerPerTest('insomnia-sync-rotation-', new Uint8Array(32).fill(3));
let store: Store;
let app: FastifyInstance;
let mailer: MemoryMailer;
beforeEach(() => ({ app, store, mailer } = server));

interface Caller {
  userId: string;
  token: string;
}

async function call(who: Caller, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
  return app.inject({ method, url, headers: { authorization: `Bearer ${who.token}` }, ...(payload === undefined ? {} : { payload }) });
}

async function signup(email: string): Promise<Caller> {
  const body = fakeSignupBody({ email, name: email.split('@')[0]! });
  const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
  expect(res.statusCode).toBe(200);
  return { userId: body.userId, token: res.json<AccountResponse>().session!.token };
}

function mailedCode(to: string, kind: 'Verification code' | 'Invite code'): string {
  const mail = mailer.sent.filter((m) => m.to === to).reverse().find((m) => m.text.includes(`${kind}: `));
  const code = mail && new RegExp(`^${kind}: (\\S+)$`, 'm').exec(mail.text)?.[1];
  if (!code) throw new Error(`no ${kind} mailed to ${to}`);
  return code;
}

const newWorkspace = (teamId: string) => ({ id: hex(16), teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } });

describe('writes while a rotation is pending', () => {
  it('refuse creating and renaming a workspace with 409 naming `team rotate`; deleting one stays allowed; a rotation clears it', async () => {
    const owner = await signup('owner@example.com');
    const leaver = await signup('leaver@example.com');
    expect((await call(owner, 'POST', '/v1/account/verify', { code: mailedCode('owner@example.com', 'Verification code') })).statusCode).toBe(204);
    const teamId = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: teamId, name: 'Acme', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    const kept = newWorkspace(teamId);
    const doomed = newWorkspace(teamId);
    for (const ws of [kept, doomed]) expect((await call(owner, 'POST', '/v1/workspaces', ws)).statusCode).toBe(200);
    expect((await call(owner, 'POST', `/v1/teams/${teamId}/invitations`, { emails: ['leaver@example.com'], role: 'member' })).statusCode).toBe(200);
    expect((await call(leaver, 'POST', '/v1/invitations/accept', { code: mailedCode('leaver@example.com', 'Invite code') })).statusCode).toBe(200);
    const confirm = await call(owner, 'POST', `/v1/teams/${teamId}/members/${leaver.userId}/confirm`, { sealedKeys: [{ epoch: 1, sealedKey: b64(80) }] });
    expect(confirm.statusCode).toBe(204);
    const left = await call(leaver, 'POST', `/v1/teams/${teamId}/leave`, {});
    expect(left.json()).toEqual({ rotationPending: true });

    const refusals = [
      await call(owner, 'POST', '/v1/workspaces', newWorkspace(teamId)),
      await call(owner, 'PATCH', `/v1/workspaces/${kept.id}`, { encryptedName: b64(40) }),
    ];
    for (const res of refusals) {
      expect(res.statusCode).toBe(409);
      expect(res.json().error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/team rotate/) });
      expect(res.json().error.head).toBeUndefined();
    }
    const listed = (await call(owner, 'GET', '/v1/workspaces')).json().workspaces as { id: string; teamId: string; encryptedName: string }[];
    expect(listed.filter((w) => w.teamId === teamId).map((w) => [w.id, w.encryptedName]).sort()).toEqual(
      [
        [kept.id, kept.encryptedName],
        [doomed.id, doomed.encryptedName],
      ].sort(),
    );
    // deleting writes nothing under the old key, and leaves one workspace less to rotate
    expect((await call(owner, 'DELETE', `/v1/workspaces/${doomed.id}`)).statusCode).toBe(204);

    const rotated = await call(owner, 'POST', `/v1/teams/${teamId}/rotate`, {
      epoch: 1,
      sealedKeys: [{ userId: owner.userId, sealedKey: b64(80) }],
      workspaceKeys: [{ workspaceId: kept.id, wrappedKey: b64(73) }],
    });
    expect(rotated.json()).toEqual({ epoch: 2 });
    expect((await call(owner, 'POST', '/v1/workspaces', { ...newWorkspace(teamId), key: { epoch: 2, wrappedKey: b64(73) } })).statusCode).toBe(200);
    expect((await call(owner, 'PATCH', `/v1/workspaces/${kept.id}`, { encryptedName: b64(40) })).statusCode).toBe(200);
  });

  it('do not touch a team without a pending rotation; a caller outside the team still gets 404', async () => {
    const owner = await signup('solo@example.com');
    const stranger = await signup('stranger@example.com');
    expect((await call(owner, 'POST', '/v1/account/verify', { code: mailedCode('solo@example.com', 'Verification code') })).statusCode).toBe(204);
    const teamId = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: teamId, name: 'Solo', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    expect((await call(owner, 'POST', '/v1/workspaces', newWorkspace(teamId))).statusCode).toBe(200);
    const res = await call(stranger, 'POST', '/v1/workspaces', newWorkspace(teamId));
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toBe('team not found');
  });
});

describe('a new workspace under an old key epoch', () => {
  it("is refused with 409 once the team's key rotated: its key would be wrapped under a key a removed member may hold", async () => {
    const owner = await signup('rotated@example.com');
    expect((await call(owner, 'POST', '/v1/account/verify', { code: mailedCode('rotated@example.com', 'Verification code') })).statusCode).toBe(204);
    const teamId = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: teamId, name: 'Rotated', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    const kept = newWorkspace(teamId);
    expect((await call(owner, 'POST', '/v1/workspaces', kept)).statusCode).toBe(200);
    const rotated = await call(owner, 'POST', `/v1/teams/${teamId}/rotate`, {
      epoch: 1,
      sealedKeys: [{ userId: owner.userId, sealedKey: b64(80) }],
      workspaceKeys: [{ workspaceId: kept.id, wrappedKey: b64(73) }],
    });
    expect(rotated.json()).toEqual({ epoch: 2 });

    const stale = newWorkspace(teamId);
    const res = await call(owner, 'POST', '/v1/workspaces', stale);
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/rotated \(now epoch 2\).*try again/) });
    expect(res.json().error.head).toBeUndefined();
    expect((await call(owner, 'GET', `/v1/workspaces/${stale.id}`)).statusCode).toBe(404);
    // a newer epoch than the team's stays a bad request; the current one is taken
    expect((await call(owner, 'POST', '/v1/workspaces', { ...newWorkspace(teamId), key: { epoch: 3, wrappedKey: b64(73) } })).statusCode).toBe(400);
    expect((await call(owner, 'POST', '/v1/workspaces', { ...newWorkspace(teamId), key: { epoch: 2, wrappedKey: b64(73) } })).statusCode).toBe(200);
  });
});

describe('invitations an hour', () => {
  it(`are capped at ${INVITES_PER_HOUR} per inviter, over any number of requests and re-invitations; the rest are reported, not mailed`, async () => {
    const owner = await signup('mailer@example.com');
    expect((await call(owner, 'POST', '/v1/account/verify', { code: mailedCode('mailer@example.com', 'Verification code') })).statusCode).toBe(204);
    const teamId = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: teamId, name: 'Spam', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => `to-${from + i}@example.org`);
    const before = mailer.sent.length;

    const first = await call(owner, 'POST', `/v1/teams/${teamId}/invitations`, { emails: batch(0, 60), role: 'member' });
    expect(first.json().invited).toHaveLength(60);
    // the same addresses again: each is another mail, so each counts
    const second = await call(owner, 'POST', `/v1/teams/${teamId}/invitations`, { emails: batch(0, 60), role: 'member' });
    expect(second.statusCode).toBe(200);
    expect(second.json().invited).toHaveLength(INVITES_PER_HOUR - 60);
    expect(second.json().failed).toHaveLength(120 - INVITES_PER_HOUR);
    expect(second.json().failed[0].reason).toMatch(/at most 100 invitations an hour/);
    const third = await call(owner, 'POST', `/v1/teams/${teamId}/invitations`, { emails: ['late@example.org'], role: 'member' });
    expect(third.statusCode).toBe(429);
    expect(third.json().error.code).toBe('rate_limited');
    expect(mailer.sent.length - before).toBe(INVITES_PER_HOUR);
  });

  it('still count once the team they were sent for is deleted (protocol §3.40): deleting and creating a team again sends no more', async () => {
    const owner = await signup('spammer@example.com');
    expect((await call(owner, 'POST', '/v1/account/verify', { code: mailedCode('spammer@example.com', 'Verification code') })).statusCode).toBe(204);
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => `to-${from + i}@example.org`);
    const before = mailer.sent.length;
    const spam1 = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: spam1, name: 'Spam1', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    expect((await call(owner, 'POST', `/v1/teams/${spam1}/invitations`, { emails: batch(0, INVITES_PER_HOUR), role: 'member' })).json().invited).toHaveLength(INVITES_PER_HOUR);
    const deleted = await call(owner, 'DELETE', `/v1/teams/${spam1}`);
    expect(deleted.statusCode).toBe(200);
    expect(deleted.json().removed.invitations).toBe(INVITES_PER_HOUR);

    const spam2 = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: spam2, name: 'Spam2', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    const again = await call(owner, 'POST', `/v1/teams/${spam2}/invitations`, { emails: batch(INVITES_PER_HOUR, 10), role: 'member' });
    expect(again.statusCode).toBe(429);
    expect(again.json().error.code).toBe('rate_limited');
    expect(mailer.sent.length - before).toBe(INVITES_PER_HOUR);
    expect(await store.countInvitationsBy(owner.userId, new Date(Date.now() - 3_600_000))).toBe(INVITES_PER_HOUR);
  });

  it('to a team deleted while the request runs: 404 "team not found", not a 500, and nothing more mailed', async () => {
    const owner = await signup('racer@example.com');
    expect((await call(owner, 'POST', '/v1/account/verify', { code: mailedCode('racer@example.com', 'Verification code') })).statusCode).toBe(204);
    const teamId = hex(16);
    expect((await call(owner, 'POST', '/v1/teams', { id: teamId, name: 'Racing', sealedTeamKey: b64(80) })).statusCode).toBe(200);
    // the team goes between the first invitation (stored and mailed) and the second
    const createInvitation = store.createInvitation.bind(store);
    let calls = 0;
    store.createInvitation = async (...args) => {
      if (++calls === 2) expect((await store.deleteTeam(teamId, owner.userId, new Date(Date.now() - 3_600_000))).ok).toBe(true);
      return createInvitation(...args);
    };
    const before = mailer.sent.length;
    const res = await call(owner, 'POST', `/v1/teams/${teamId}/invitations`, { emails: ['first@example.org', 'second@example.org', 'third@example.org'], role: 'member' });
    expect(calls).toBe(2);
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'not_found', message: 'team not found' });
    expect(res.json().error.stack).toBeUndefined();
    expect(mailer.sent.slice(before).map((m) => m.to)).toEqual(['first@example.org']);
  });
});
