/**
 * The one contract every Store backend must pass. Backend-agnostic: it only uses the Store
 * interface; `open` must return a fresh, empty, migrated store each call.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GC_BATCH_BLOBS, GC_BATCH_BYTES, type NewAccessToken, type NewUser, type Store } from '../../src/storage/store.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');
const sha = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const T0 = new Date('2026-01-01T00:00:00.000Z');
const later = (ms: number): Date => new Date(T0.getTime() + ms);

export function newUser(email = `${hex(4)}@example.com`): NewUser {
  return {
    id: hex(16),
    email,
    name: 'Ada',
    kdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) },
    authKeyHash: new Uint8Array(randomBytes(32)),
    keys: {
      wrappedAccountKey: b64(73),
      x25519PublicKey: b64(32),
      ed25519PublicKey: b64(32),
      wrappedX25519Secret: b64(73),
      wrappedEd25519Secret: b64(73),
    },
    createdAt: T0,
    personalTeam: { id: hex(16), name: 'Personal', sealedTeamKey: b64(80) },
  };
}

function blob(size = 100): { id: string; data: Uint8Array } {
  return { id: hex(32), data: new Uint8Array(randomBytes(size)) };
}

/** An access token of `workspaceId` made by `createdBy`: write scope, never expiring, unless `extra` says otherwise. */
function accessToken(workspaceId: string, createdBy: string, extra: Partial<NewAccessToken> = {}): NewAccessToken {
  return {
    id: hex(16),
    workspaceId,
    createdBy,
    name: 'ci',
    scope: 'write',
    secretHash: new Uint8Array(randomBytes(32)),
    publicKey: b64(32),
    certificate: b64(64),
    keys: [{ epoch: 1, wrappedKey: b64(73) }],
    createdAt: T0,
    expiresAt: null,
    ...extra,
  };
}

function snapshot(parent: string | null, blobIds: string[] = [], createdAt = T0) {
  const data = new Uint8Array(randomBytes(200));
  return { id: sha(data), parent, data, blobIds, createdAt };
}

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function userWithWorkspace() {
      const user = newUser();
      expect(await store.createUser(user)).toEqual({ ok: true });
      const wsId = hex(16);
      const created = await store.createWorkspace({
        id: wsId,
        teamId: user.personalTeam.id,
        encryptedName: b64(60),
        key: { epoch: 1, wrappedKey: b64(73) },
        createdAt: T0,
      });
      expect(created.ok).toBe(true);
      return { user, wsId };
    }

    it('ping resolves while the database serves, and rejects once the store is closed', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });

    describe('teams (issue 3)', () => {
      const code = (): Uint8Array => new Uint8Array(randomBytes(32));

      /** owner with a shared team, one workspace in it, and `extra` users who accepted (not confirmed) */
      async function sharedTeam(...emails: string[]) {
        const owner = newUser();
        expect(await store.createUser(owner)).toEqual({ ok: true });
        const teamId = hex(16);
        expect(await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: T0 })).toEqual({ ok: true });
        expect(await store.createTeam({ id: teamId, name: 'Again', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: T0 })).toEqual({ ok: false, reason: 'id_taken' });
        const wsId = hex(16);
        expect((await store.createWorkspace({ id: wsId, teamId, encryptedName: b64(60), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: T0 })).ok).toBe(true);
        const others = [];
        for (const email of emails) {
          const u = newUser(email);
          expect(await store.createUser(u)).toEqual({ ok: true });
          const c = code();
          await store.createInvitation({ id: hex(16), teamId, email, role: 'member', codeHash: c, invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
          expect(await store.acceptInvitation(c, u.id, email, later(1))).toEqual({ ok: true, teamId, teamName: 'Acme', role: 'member' });
          others.push(u);
        }
        return { owner, teamId, wsId, others };
      }

      it('creates a team with its owner confirmed and epoch 1 sealed to them; personal teams are confirmed too', async () => {
        const { owner, teamId } = await sharedTeam();
        expect(await store.teamAccess(teamId, owner.id)).toEqual({
          team: { id: teamId, name: 'Acme', personal: false, epoch: 1, rotationPending: false },
          state: 'confirmed',
          role: 'owner',
        });
        const teams = await store.listTeamsOfUser(owner.id);
        // both made at T0: compare without order
        expect(teams.map((t) => [t.personal, t.confirmed !== false, t.sealedKeys.length]).sort()).toEqual([
          [false, true, 1],
          [true, true, 1],
        ]);
        expect((await store.teamAccess(teamId, hex(16))).state).toBe('none');
        expect(await store.teamAccess(hex(16), owner.id)).toEqual({ team: null, state: 'none', role: null });
      });

      it('invitations: bound to their address, single use, expiring; an accepted member reads nothing until confirmed', async () => {
        const { owner, teamId, wsId } = await sharedTeam();
        const bob = newUser('bob@example.com');
        const eve = newUser('eve@example.com');
        await store.createUser(bob);
        await store.createUser(eve);
        const c = code();
        await store.createInvitation({ id: hex(16), teamId, email: 'bob@example.com', role: 'member', codeHash: c, invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
        expect((await store.listInvitations(teamId, later(1))).map((i) => i.email)).toEqual(['bob@example.com']);
        // counted per inviter, from a time on (the hourly cap on invitation mail)
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(1);
        expect(await store.countInvitationsBy(owner.id, later(1))).toBe(0);
        expect(await store.countInvitationsBy(bob.id, T0)).toBe(0);
        // inviting the same address again cancels the old code but still counts (each was a mail),
        // and a limit is checked with the insert
        const again = code();
        const reinvite = { id: hex(16), teamId, email: 'bob@example.com', role: 'member' as const, codeHash: again, invitedBy: owner.id, createdAt: later(1), expiresAt: later(1000) };
        expect(await store.createInvitation(reinvite, { max: 2, since: T0 })).toEqual({ ok: true });
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(2);
        expect(await store.createInvitation({ ...reinvite, id: hex(16), codeHash: code() }, { max: 2, since: T0 })).toEqual({ ok: false, reason: 'limit' });
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(2);
        expect((await store.listInvitations(teamId, later(2))).map((i) => i.email)).toEqual(['bob@example.com']);
        expect(await store.acceptInvitation(c, bob.id, 'bob@example.com', later(2))).toEqual({ ok: false, reason: 'unknown' });
        // ended (cancelled) invitations are purged; the open one stays until it expires
        expect((await store.purgeEnded(later(2))).invitations).toBe(1);
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(1);
        expect(await store.listInvitations(teamId, later(1000))).toEqual([]);
        expect(await store.acceptInvitation(code(), bob.id, 'bob@example.com', later(1))).toEqual({ ok: false, reason: 'unknown' });
        expect(await store.acceptInvitation(again, eve.id, 'eve@example.com', later(1))).toEqual({ ok: false, reason: 'other_address' });
        expect(await store.acceptInvitation(again, bob.id, 'bob@example.com', later(1000))).toEqual({ ok: false, reason: 'expired' });
        expect((await store.acceptInvitation(again, bob.id, 'bob@example.com', later(2))).ok).toBe(true);
        expect(await store.acceptInvitation(again, bob.id, 'bob@example.com', later(3))).toEqual({ ok: false, reason: 'used' });
        expect(await store.listInvitations(teamId, later(2))).toEqual([]);
        expect((await store.getAccountMeta(bob.id))!.verifiedAt).toEqual(later(2));
        // accepted invitations are not ended ones: kept (until the account goes)
        expect((await store.purgeEnded(later(5000))).invitations).toBe(0);

        expect((await store.teamAccess(teamId, bob.id)).state).toBe('accepted');
        expect(await store.getTeamRole(teamId, bob.id)).toBeNull();
        expect((await store.listWorkspacesOfUser(bob.id)).map((w) => w.id)).not.toContain(wsId);
        expect((await store.workspaceUsageOfUser(bob.id)).map((u) => u.workspaceId)).not.toContain(wsId);
        expect((await store.workspaceMembers(wsId)).map((m) => m.userId)).toEqual([owner.id]);
        expect((await store.teamMembers(teamId)).map((m) => [m.userId, m.confirmed])).toEqual([
          [owner.id, true],
          [bob.id, false],
        ]);
        expect((await store.listTeamsOfUser(bob.id)).find((t) => t.id === teamId)!.confirmed).toBe(false);

        expect(await store.confirmMember(teamId, bob.id, [{ epoch: 2, sealedKey: b64(80) }], later(3))).toEqual({ ok: false, reason: 'missing_epoch' });
        expect(await store.confirmMember(teamId, eve.id, [{ epoch: 1, sealedKey: b64(80) }], later(3))).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.confirmMember(teamId, bob.id, [{ epoch: 1, sealedKey: b64(80) }], later(3))).toEqual({ ok: true });
        expect(await store.confirmMember(teamId, bob.id, [{ epoch: 1, sealedKey: b64(80) }], later(3))).toEqual({ ok: false, reason: 'already_confirmed' });
        expect(await store.getTeamRole(teamId, bob.id)).toBe('member');
        expect((await store.listWorkspacesOfUser(bob.id)).map((w) => w.id)).toContain(wsId);
        expect((await store.workspaceUsageOfUser(bob.id)).map((u) => u.workspaceId)).toContain(wsId);
      });

      it('rotation: compare-and-swap on the epoch, exact members and workspaces, removal kept as a former member', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('b@example.com', 'c@example.com');
        const [b, c] = others as [NewUser, NewUser];
        for (const u of [b, c]) expect((await store.confirmMember(teamId, u.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).ok).toBe(true);
        const rotation = (members: string[], expectedEpoch = 1) => ({
          expectedEpoch,
          removeUserId: b.id,
          sealedKeys: members.map((userId) => ({ userId, sealedKey: b64(80) })),
          workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }],
          now: later(5),
        });
        expect(await store.rotateTeam(teamId, rotation([owner.id, c.id], 2))).toEqual({ ok: false, reason: 'stale' });
        expect(await store.rotateTeam(teamId, rotation([owner.id, b.id, c.id]))).toEqual({ ok: false, reason: 'members_changed' });
        expect(await store.rotateTeam(teamId, { ...rotation([owner.id, c.id]), workspaceKeys: [] })).toEqual({ ok: false, reason: 'workspaces_changed' });
        expect(await store.rotateTeam(teamId, { ...rotation([b.id, c.id]), removeUserId: owner.id })).toEqual({ ok: false, reason: 'last_owner' });
        // nothing changed by the refusals
        expect((await store.getTeam(teamId))!.epoch).toBe(1);
        expect((await store.teamAccess(teamId, b.id)).state).toBe('confirmed');

        expect(await store.rotateTeam(teamId, rotation([owner.id, c.id]))).toEqual({ ok: true, epoch: 2 });
        expect(await store.teamAccess(teamId, b.id)).toMatchObject({ state: 'former', role: null });
        expect((await store.getWorkspace(wsId))!.keys.map((k) => k.epoch)).toEqual([1, 2]);
        expect((await store.listTeamsOfUser(c.id)).find((t) => t.id === teamId)!.sealedKeys.map((k) => k.epoch)).toEqual([1, 2]);
        expect((await store.listTeamsOfUser(b.id)).some((t) => t.id === teamId)).toBe(false);
        const members = await store.workspaceMembers(wsId);
        expect(members.find((m) => m.userId === b.id)!.untilEpoch).toBe(1);
        expect(members.find((m) => m.userId === c.id)!.untilEpoch).toBeUndefined();
        // the second of two concurrent rotations loses
        expect(await store.rotateTeam(teamId, { ...rotation([owner.id, c.id]), removeUserId: null })).toEqual({ ok: false, reason: 'stale' });
      });

      it("creates a workspace only under the team's current key epoch, checked in the transaction", async () => {
        const { owner, teamId, wsId } = await sharedTeam();
        const ws = (epoch: number) => ({ id: hex(16), teamId, encryptedName: b64(60), key: { epoch, wrappedKey: b64(73) }, createdAt: later(1) });
        const early = ws(2);
        expect(await store.createWorkspace(early)).toEqual({ ok: false, reason: 'stale_epoch', epoch: 1 });
        expect(await store.getWorkspace(early.id)).toBeNull();
        const rotation = { expectedEpoch: 1, removeUserId: null, sealedKeys: [{ userId: owner.id, sealedKey: b64(80) }], workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }], now: later(2) };
        expect(await store.rotateTeam(teamId, rotation)).toEqual({ ok: true, epoch: 2 });
        // a key wrapped under epoch 1's team key, which a removed member may hold: nothing is written
        const stale = ws(1);
        expect(await store.createWorkspace(stale)).toEqual({ ok: false, reason: 'stale_epoch', epoch: 2 });
        expect(await store.getWorkspace(stale.id)).toBeNull();
        expect((await store.listWorkspacesOfUser(owner.id)).filter((w) => w.teamId === teamId).map((w) => w.id)).toEqual([wsId]);
        const fresh = ws(2);
        const created = await store.createWorkspace(fresh);
        expect(created.ok && created.workspace.keys).toEqual([fresh.key]);
        // an unknown team and a taken id are told as before
        expect(await store.createWorkspace({ ...ws(2), teamId: hex(16) })).toEqual({ ok: false, reason: 'no_team' });
        expect(await store.createWorkspace({ ...ws(2), id: fresh.id })).toEqual({ ok: false, reason: 'id_taken' });
      });

      it("stores a snapshot that names a key epoch only under the team's current one, checked before the head", async () => {
        const { owner, teamId, wsId } = await sharedTeam();
        const s1 = snapshot(null);
        expect(await store.createSnapshot(wsId, { ...s1, epoch: 2 })).toEqual({ ok: false, reason: 'stale_epoch', epoch: 1 });
        expect(await store.createSnapshot(wsId, { ...s1, epoch: 1 })).toEqual({ ok: true, head: s1.id });
        const rotation = { expectedEpoch: 1, removeUserId: null, sealedKeys: [{ userId: owner.id, sealedKey: b64(80) }], workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }], now: later(2) };
        expect(await store.rotateTeam(teamId, rotation)).toEqual({ ok: true, epoch: 2 });
        const s2 = snapshot(s1.id);
        expect(await store.createSnapshot(wsId, { ...s2, epoch: 1 })).toEqual({ ok: false, reason: 'stale_epoch', epoch: 2 });
        // the epoch is checked before the head: a racing push must encrypt again, not just pull
        expect(await store.createSnapshot(wsId, { ...snapshot(hex(32)), epoch: 1 })).toEqual({ ok: false, reason: 'stale_epoch', epoch: 2 });
        expect((await store.getWorkspace(wsId))!.head).toBe(s1.id);
        expect(await store.getSnapshot(wsId, s2.id)).toBeNull();
        expect(await store.createSnapshot(wsId, { ...s2, epoch: 2 })).toEqual({ ok: true, head: s2.id });
        // naming no epoch, as before
        expect((await store.createSnapshot(wsId, snapshot(s2.id))).ok).toBe(true);
        expect(await store.createSnapshot(hex(16), { ...snapshot(null), epoch: 1 })).toEqual({ ok: false, reason: 'no_workspace' });
      });

      it('removing a member never confirmed: no rotation, no former record; a confirmed one is refused', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('u1@example.com', 'u2@example.com');
        const [u1, u2] = others as [NewUser, NewUser];
        expect(await store.confirmMember(teamId, u2.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).toEqual({ ok: true });
        expect(await store.removeUnconfirmedMember(teamId, u1.id)).toEqual({ ok: true });
        expect((await store.teamAccess(teamId, u1.id)).state).toBe('none');
        expect(await store.removeUnconfirmedMember(teamId, u1.id)).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.removeUnconfirmedMember(teamId, hex(16))).toEqual({ ok: false, reason: 'not_member' });
        // one who holds the key goes only with a rotation
        expect(await store.removeUnconfirmedMember(teamId, u2.id)).toEqual({ ok: false, reason: 'confirmed' });
        expect((await store.teamAccess(teamId, u2.id)).state).toBe('confirmed');
        const team = (await store.teamAccess(teamId, owner.id)).team!;
        expect([team.epoch, team.rotationPending]).toEqual([1, false]);
        expect((await store.workspaceMembers(wsId)).map((m) => m.userId).sort()).toEqual([owner.id, u2.id].sort());
      });

      it('withdrawing an invitation: its code answers as unknown, it is listed no more, it still counts; only an open one to that team and address', async () => {
        const { owner, teamId } = await sharedTeam();
        const other = await sharedTeam();
        const heidi = newUser('heidi@example.com');
        await store.createUser(heidi);
        const c = code();
        const kept = code();
        await store.createInvitation({ id: hex(16), teamId, email: 'heidi@example.com', role: 'admin', codeHash: c, invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
        await store.createInvitation({ id: hex(16), teamId, email: 'ivan@example.com', role: 'member', codeHash: code(), invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
        // the same address invited to another team is not touched
        await store.createInvitation({ id: hex(16), teamId: other.teamId, email: 'heidi@example.com', role: 'member', codeHash: kept, invitedBy: other.owner.id, createdAt: T0, expiresAt: later(1000) });

        expect(await store.withdrawInvitation(teamId, 'nobody@example.com', later(1))).toBeNull();
        const withdrawn = await store.withdrawInvitation(teamId, 'heidi@example.com', later(1));
        expect(withdrawn).toMatchObject({ teamId, email: 'heidi@example.com', role: 'admin', invitedBy: owner.id, createdAt: T0 });
        expect(await store.withdrawInvitation(teamId, 'heidi@example.com', later(2))).toBeNull();
        expect((await store.listInvitations(teamId, later(2))).map((i) => i.email)).toEqual(['ivan@example.com']);
        expect(await store.acceptInvitation(c, heidi.id, 'heidi@example.com', later(2))).toEqual({ ok: false, reason: 'unknown' });
        expect((await store.teamAccess(teamId, heidi.id)).state).toBe('none');
        // each invitation was a mail sent: a withdrawn one still counts for the hourly cap until purged
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(2);
        expect((await store.purgeEnded(later(2))).invitations).toBe(1);

        // an expired one is not open, nor is an accepted one
        const late = code();
        await store.createInvitation({ id: hex(16), teamId, email: 'judy@example.com', role: 'member', codeHash: late, invitedBy: owner.id, createdAt: T0, expiresAt: later(10) });
        expect(await store.withdrawInvitation(teamId, 'judy@example.com', later(10))).toBeNull();
        expect((await store.acceptInvitation(kept, heidi.id, 'heidi@example.com', later(3))).ok).toBe(true);
        expect(await store.withdrawInvitation(other.teamId, 'heidi@example.com', later(4))).toBeNull();
        expect((await store.teamAccess(other.teamId, heidi.id)).state).toBe('accepted');
      });

      it('roles: a confirmed owner stays, only owners touch the owner role, only confirmed members become owner', async () => {
        const { owner, teamId, others } = await sharedTeam('r1@example.com', 'r2@example.com');
        const [r1, r2] = others as [NewUser, NewUser];
        const byOwner = { byOwner: true };
        const byAdmin = { byOwner: false };
        expect(await store.setMemberRole(teamId, hex(16), 'admin', byOwner)).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.setMemberRole(hex(16), r1.id, 'admin', byOwner)).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.setMemberRole(teamId, r1.id, 'owner', byOwner)).toEqual({ ok: false, reason: 'unconfirmed_owner' });
        // an accepted member's role can change before confirmation
        expect(await store.setMemberRole(teamId, r1.id, 'admin', byOwner)).toEqual({ ok: true, previous: 'member' });
        expect(await store.confirmMember(teamId, r1.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).toEqual({ ok: true });
        expect(await store.getTeamRole(teamId, r1.id)).toBe('admin');
        expect(await store.setMemberRole(teamId, owner.id, 'admin', byOwner)).toEqual({ ok: false, reason: 'last_owner' });
        expect(await store.setMemberRole(owner.personalTeam.id, owner.id, 'member', byOwner)).toEqual({ ok: false, reason: 'last_owner' });
        expect(await store.setMemberRole(teamId, r1.id, 'owner', byAdmin)).toEqual({ ok: false, reason: 'owner_only' });
        expect(await store.setMemberRole(teamId, owner.id, 'member', byAdmin)).toEqual({ ok: false, reason: 'owner_only' });
        expect(await store.setMemberRole(teamId, r2.id, 'admin', byAdmin)).toEqual({ ok: true, previous: 'member' });
        expect(await store.setMemberRole(teamId, r2.id, 'admin', byAdmin)).toEqual({ ok: true, previous: 'admin' });
        expect(await store.getTeamRole(teamId, owner.id)).toBe('owner');

        expect(await store.setMemberRole(teamId, r1.id, 'owner', byOwner)).toEqual({ ok: true, previous: 'admin' });
        // two owners demoting each other at once: one wins, the team keeps an owner
        const both = await Promise.all([store.setMemberRole(teamId, owner.id, 'member', byOwner), store.setMemberRole(teamId, r1.id, 'member', byOwner)]);
        expect(both.filter((r) => r.ok)).toHaveLength(1);
        expect(both.filter((r) => !r.ok)).toEqual([{ ok: false, reason: 'last_owner' }]);
        const roles = await Promise.all([owner.id, r1.id].map((id) => store.getTeamRole(teamId, id)));
        expect(roles.sort()).toEqual(['member', 'owner']);
      });

      it('leaving: refused for the personal team, the last owner and the last member; a confirmed leaver makes rotation pending', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('d@example.com');
        const d = others[0]!;
        expect(await store.leaveTeam(owner.personalTeam.id, owner.id, later(1))).toEqual({ ok: false, reason: 'personal' });
        expect(await store.leaveTeam(teamId, owner.id, later(1))).toEqual({ ok: false, reason: 'last_owner' });
        expect(await store.leaveTeam(teamId, hex(16), later(1))).toEqual({ ok: false, reason: 'not_member' });
        // an unconfirmed member held no key: nothing to rotate
        expect(await store.leaveTeam(teamId, d.id, later(1))).toEqual({ ok: true, rotationPending: false });
        expect((await store.teamAccess(teamId, d.id)).state).toBe('none');
        expect(await store.leaveTeam(teamId, owner.id, later(1))).toEqual({ ok: false, reason: 'last_member' });

        const e = newUser('e@example.com');
        await store.createUser(e);
        const c = code();
        await store.createInvitation({ id: hex(16), teamId, email: 'e@example.com', role: 'admin', codeHash: c, invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
        await store.acceptInvitation(c, e.id, 'e@example.com', later(2));
        await store.confirmMember(teamId, e.id, [{ epoch: 1, sealedKey: b64(80) }], later(2));
        expect(await store.leaveTeam(teamId, e.id, later(3))).toEqual({ ok: true, rotationPending: true });
        expect((await store.teamAccess(teamId, owner.id)).team!.rotationPending).toBe(true);
        expect((await store.teamAccess(teamId, e.id)).state).toBe('former');
        const done = await store.rotateTeam(teamId, {
          expectedEpoch: 1,
          removeUserId: null,
          sealedKeys: [{ userId: owner.id, sealedKey: b64(80) }],
          workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }],
          now: later(4),
        });
        expect(done).toEqual({ ok: true, epoch: 2 });
        expect((await store.teamAccess(teamId, owner.id)).team!.rotationPending).toBe(false);
      });

      it('team deletion: owners only, never a personal team; the team with everything keyed by it goes, nothing else', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('del-admin@example.com', 'del-member@example.com', 'del-left@example.com', 'del-gone@example.com', 'del-waiting@example.com');
        const [admin, member, leaver, gone, waiting] = others as [NewUser, NewUser, NewUser, NewUser, NewUser];
        for (const u of [admin, member, leaver, gone]) expect((await store.confirmMember(teamId, u.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).ok).toBe(true);
        expect((await store.setMemberRole(teamId, admin.id, 'admin', { byOwner: true })).ok).toBe(true);
        // a second workspace, history in both: blobs, snapshots, tokens (one revoked)
        const ws2 = hex(16);
        expect((await store.createWorkspace({ id: ws2, teamId, encryptedName: b64(60), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: T0 })).ok).toBe(true);
        const shared = blob(300);
        const token = (workspaceId: string, createdBy: string): NewAccessToken => accessToken(workspaceId, createdBy);
        const tokens = [token(wsId, owner.id), token(ws2, member.id), token(wsId, gone.id)];
        for (const [i, ws] of [wsId, ws2].entries()) {
          const x = blob();
          expect(await store.putBlobs(ws, [x, shared])).toEqual({ ok: true, stored: 2 });
          expect((await store.createSnapshot(ws, snapshot(null, [x.id, shared.id]))).ok).toBe(true);
          expect(i === 0 || (await store.createSnapshot(ws, snapshot((await store.getWorkspace(ws))!.head, [shared.id]))).ok).toBe(true);
        }
        for (const t of tokens) expect(await store.createAccessToken(t)).toEqual({ ok: true });
        await store.revokeAccessToken(tokens[0]!.id, later(3));
        // a former member who left, one who deleted the account (kept as a signer with its write
        // token's record), and an open invitation
        expect((await store.leaveTeam(teamId, leaver.id, later(4))).ok).toBe(true);
        expect((await store.deleteUser(gone.id, gone.authKeyHash)).ok).toBe(true);
        expect(await store.workspaceFormerAccessTokens(wsId)).toHaveLength(1);
        const openCode = code();
        await store.createInvitation({ id: hex(16), teamId, email: 'del-later@example.com', role: 'member', codeHash: openCode, invitedBy: owner.id, createdAt: later(5), expiresAt: later(10_000) });
        // another team's workspace holding a blob with the same id and bytes
        const elsewhere = hex(16);
        expect((await store.createWorkspace({ id: elsewhere, teamId: member.personalTeam.id, encryptedName: b64(60), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: T0 })).ok).toBe(true);
        expect(await store.putBlobs(elsewhere, [shared])).toEqual({ ok: true, stored: 1 });
        const elsewhereSnap = snapshot(null, [shared.id]);
        expect((await store.createSnapshot(elsewhere, elsewhereSnap)).ok).toBe(true);
        const elsewhereToken = token(elsewhere, member.id);
        expect(await store.createAccessToken(elsewhereToken)).toEqual({ ok: true });

        // refused, removing nothing: admin, member, accepted-not-confirmed, former, outsider, unknown team, personal team
        expect(await store.deleteTeam(teamId, admin.id, T0)).toEqual({ ok: false, reason: 'not_owner' });
        expect(await store.deleteTeam(teamId, member.id, T0)).toEqual({ ok: false, reason: 'not_owner' });
        for (const u of [waiting.id, leaver.id, hex(16)]) expect(await store.deleteTeam(teamId, u, T0)).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.deleteTeam(hex(16), owner.id, T0)).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.deleteTeam(owner.personalTeam.id, owner.id, T0)).toEqual({ ok: false, reason: 'personal' });
        expect(await store.getTeam(owner.personalTeam.id)).not.toBeNull();
        expect((await store.teamMembers(teamId)).length).toBe(4);
        expect((await store.getWorkspace(wsId))!.head).not.toBeNull();
        expect(await store.workspaceAccessTokens(ws2)).toHaveLength(1);

        const result = await store.deleteTeam(teamId, owner.id, T0);
        expect(result).toEqual({
          ok: true,
          name: 'Acme',
          // owner, admin, member and the one waiting; every invitation but the deleted account's
          removed: { workspaces: 2, snapshots: 3, blobs: 4, memberships: 4, accessTokens: 2, invitations: 5 },
        });

        // the team, its workspaces and everything keyed by either are gone
        expect(await store.getTeam(teamId)).toBeNull();
        for (const u of [owner, admin, member, leaver, waiting]) {
          expect((await store.teamAccess(teamId, u.id)).state).toBe('none');
          expect((await store.listTeamsOfUser(u.id)).some((t) => t.id === teamId)).toBe(false);
          expect((await store.listWorkspacesOfUser(u.id)).some((w) => w.teamId === teamId)).toBe(false);
          expect((await store.listAccessTokensOfUser(u.id)).some((t) => t.workspaceId === wsId || t.workspaceId === ws2)).toBe(false);
          expect((await store.workspaceUsageOfUser(u.id)).some((w) => w.teamId === teamId)).toBe(false);
        }
        expect(await store.teamMembers(teamId)).toEqual([]);
        expect(await store.listInvitations(teamId, later(6))).toEqual([]);
        expect(await store.acceptInvitation(openCode, waiting.id, 'del-later@example.com', later(6))).toEqual({ ok: false, reason: 'unknown' });
        for (const ws of [wsId, ws2]) {
          expect(await store.getWorkspace(ws)).toBeNull();
          expect(await store.listSnapshots(ws, { limit: 10 })).toEqual([]);
          expect(await store.getBlobs(ws, [shared.id], 1 << 20)).toEqual([]);
          expect(await store.listBlobSizes(ws)).toEqual([]);
          expect(await store.workspaceAccessTokens(ws)).toEqual([]);
          expect(await store.workspaceFormerAccessTokens(ws)).toEqual([]);
          expect(await store.workspaceMembers(ws)).toEqual([]);
        }
        for (const t of tokens) expect(await store.getAccessToken(t.id)).toBeNull();
        // the other team's workspace keeps its blob of the same id, its snapshot and token
        expect(await store.getBlobs(elsewhere, [shared.id], 1 << 20)).toEqual([{ id: shared.id, data: shared.data }]);
        expect((await store.getSnapshot(elsewhere, elsewhereSnap.id))!.id).toBe(elsewhereSnap.id);
        expect((await store.getAccessToken(elsewhereToken.id))!.workspaceId).toBe(elsewhere);
        expect(await store.missingBlobs(elsewhere, [shared.id])).toEqual([]);
        // the members' accounts and personal teams stay
        for (const u of [owner, admin, member, waiting]) expect((await store.listTeamsOfUser(u.id)).map((t) => t.personal)).toEqual([true]);
        expect(await store.deleteTeam(teamId, owner.id, T0)).toEqual({ ok: false, reason: 'not_member' });
        // the id is free again
        expect(await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: later(7) })).toEqual({ ok: true });
      });

      it('team deletion: the invitations sent since countedSince keep counting for their inviters (only who and when is kept)', async () => {
        const { owner, teamId, others } = await sharedTeam('cap-admin@example.com');
        const [admin] = others as [NewUser];
        expect((await store.confirmMember(teamId, admin.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).ok).toBe(true);
        expect((await store.setMemberRole(teamId, admin.id, 'admin', { byOwner: true })).ok).toBe(true);
        const invite = (team: string, by: string, at: number) =>
          store.createInvitation({ id: hex(16), teamId: team, email: `${hex(4)}@example.com`, role: 'member', codeHash: code(), invitedBy: by, createdAt: later(at), expiresAt: later(10_000) });
        // the owner: the admin's invitation at T0 (sharedTeam) and three more; the admin: two
        for (const at of [10, 20, 30]) expect(await invite(teamId, owner.id, at)).toEqual({ ok: true });
        for (const at of [25, 26]) expect(await invite(teamId, admin.id, at)).toEqual({ ok: true });
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(4);
        expect(await store.countInvitationsBy(owner.id, later(15))).toBe(2);

        expect((await store.deleteTeam(teamId, owner.id, later(15))).ok).toBe(true);
        expect(await store.listInvitations(teamId, later(40))).toEqual([]);
        // those since countedSince still count, per inviter; older ones are not kept
        expect(await store.countInvitationsBy(owner.id, later(15))).toBe(2);
        expect(await store.countInvitationsBy(owner.id, later(25))).toBe(1);
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(2);
        expect(await store.countInvitationsBy(admin.id, later(15))).toBe(2);
        // and a limit checked with an insert, in another team, sees them
        const next = hex(16);
        expect(await store.createTeam({ id: next, name: 'Next', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: later(40) })).toEqual({ ok: true });
        const limited = { id: hex(16), teamId: next, email: 'cap-1@example.com', role: 'member' as const, codeHash: code(), invitedBy: owner.id, createdAt: later(41), expiresAt: later(10_000) };
        expect(await store.createInvitation(limited, { max: 3, since: later(15) })).toEqual({ ok: true });
        expect(await store.createInvitation({ ...limited, id: hex(16), email: 'cap-2@example.com', codeHash: code() }, { max: 3, since: later(15) })).toEqual({ ok: false, reason: 'limit' });
        expect(await store.countInvitationsBy(owner.id, later(15))).toBe(3);
        // a later deletion drops what no longer counts at its countedSince
        expect((await store.deleteTeam(next, owner.id, later(50))).ok).toBe(true);
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(0);
        // account deletion takes what was kept of its invitations
        const another = hex(16);
        expect(await store.createTeam({ id: another, name: 'Other', ownerId: admin.id, sealedTeamKey: b64(80), createdAt: later(60) })).toEqual({ ok: true });
        expect(await invite(another, admin.id, 61)).toEqual({ ok: true });
        expect((await store.deleteTeam(another, admin.id, later(15))).ok).toBe(true);
        // (its two in the first team were dropped by the second deletion, as older than later(50))
        expect(await store.countInvitationsBy(admin.id, later(15))).toBe(1);
        expect((await store.deleteUser(admin.id, admin.authKeyHash)).ok).toBe(true);
        expect(await store.countInvitationsBy(admin.id, T0)).toBe(0);
      });

      it('invitations to a team deleted meanwhile (or never there) are refused as no_team, and count for nothing', async () => {
        const { owner, teamId } = await sharedTeam();
        const inv = { id: hex(16), teamId, email: 'late@example.com', role: 'member' as const, codeHash: code(), invitedBy: owner.id, createdAt: later(5), expiresAt: later(10_000) };
        expect(await store.createInvitation(inv, { max: 100, since: T0 })).toEqual({ ok: true });
        expect((await store.deleteTeam(teamId, owner.id, T0)).ok).toBe(true);
        expect(await store.createInvitation({ ...inv, id: hex(16), codeHash: code() }, { max: 100, since: T0 })).toEqual({ ok: false, reason: 'no_team' });
        expect(await store.createInvitation({ ...inv, id: hex(16), codeHash: code() })).toEqual({ ok: false, reason: 'no_team' });
        expect(await store.createInvitation({ ...inv, id: hex(16), teamId: hex(16), codeHash: code() })).toEqual({ ok: false, reason: 'no_team' });
        expect(await store.countInvitationsBy(owner.id, T0)).toBe(1);
      });

      it('an account deleted after the checks: its team, invitation, acceptance, activation code and mail record answer no_user, storing nothing', async () => {
        const { owner, teamId } = await sharedTeam();
        const gone = newUser();
        expect(await store.createUser(gone)).toEqual({ ok: true });
        // an admin of the team (invitations are theirs to send) who then deletes the account
        const c = code();
        expect(await store.createInvitation({ id: hex(16), teamId, email: gone.email, role: 'admin', codeHash: c, invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) })).toEqual({ ok: true });
        expect((await store.acceptInvitation(c, gone.id, gone.email, later(1))).ok).toBe(true);
        expect(await store.confirmMember(teamId, gone.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).toEqual({ ok: true });
        expect((await store.deleteUser(gone.id, gone.authKeyHash)).ok).toBe(true);

        const newTeam = hex(16);
        expect(await store.createTeam({ id: newTeam, name: 'Late', ownerId: gone.id, sealedTeamKey: b64(80), createdAt: later(3) })).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.getTeam(newTeam)).toBeNull();
        const inv = { id: hex(16), teamId, email: 'late@example.com', role: 'member' as const, codeHash: code(), invitedBy: gone.id, createdAt: later(3), expiresAt: later(1000) };
        expect(await store.createInvitation(inv, { max: 100, since: T0 })).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.createInvitation({ ...inv, id: hex(16), codeHash: code() })).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.listInvitations(teamId, later(3))).toEqual([]);
        expect(await store.countInvitationsBy(gone.id, T0)).toBe(0);
        expect(await store.setEmailVerification(gone.id, gone.email, code(), later(100))).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.recordActivationMail(gone.id, later(3), [])).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.recordActivationMail(gone.id, later(3), [{ max: 3, since: T0 }])).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.releaseActivationMail(gone.id, later(3))).toBe(false);
        // an invitation to the address, sent after the deletion took those before: not used up by the gone account
        const late = code();
        expect(await store.createInvitation({ id: hex(16), teamId, email: gone.email, role: 'member', codeHash: late, invitedBy: owner.id, createdAt: later(3), expiresAt: later(1000) })).toEqual({ ok: true });
        expect(await store.acceptInvitation(late, gone.id, gone.email, later(4))).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.acceptInvitation(code(), gone.id, gone.email, later(4))).toEqual({ ok: false, reason: 'no_user' });
        expect((await store.teamMembers(teamId)).map((m) => m.userId)).not.toContain(gone.id);
        expect((await store.listInvitations(teamId, later(4))).map((i) => i.email)).toEqual([gone.email]);
        // the owner, still there, is answered as before
        expect(await store.setEmailVerification(owner.id, owner.email, code(), later(100))).toEqual({ ok: true });
        expect(await store.recordActivationMail(owner.id, later(3), [])).toEqual({ ok: true });
      });

      it('a member removed, or a workspace deleted, after the checks: confirmMember answers not_member, rotateTeam workspaces_changed', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('r1@example.com');
        const r1 = others[0]!;
        expect(await store.removeUnconfirmedMember(teamId, r1.id)).toEqual({ ok: true });
        expect(await store.confirmMember(teamId, r1.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).toEqual({ ok: false, reason: 'not_member' });
        expect(await store.deleteWorkspace(wsId)).toBe(true);
        const rotation = { expectedEpoch: 1, removeUserId: null, sealedKeys: [{ userId: owner.id, sealedKey: b64(80) }], workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }], now: later(5) };
        expect(await store.rotateTeam(teamId, rotation)).toEqual({ ok: false, reason: 'workspaces_changed' });
        expect((await store.getTeam(teamId))!.epoch).toBe(1);
      });

      it('email verification: the code of the account, unexpired, once', async () => {
        const u = newUser();
        await store.createUser(u);
        const c = code();
        await store.setEmailVerification(u.id, u.email, c, later(100));
        expect(await store.verifyEmail(u.id, code(), later(1))).toEqual({ ok: false, reason: 'wrong_code' });
        expect(await store.verifyEmail(u.id, c, later(100))).toEqual({ ok: false, reason: 'expired' });
        expect((await store.getAccountMeta(u.id))!.verifiedAt).toBeNull();
        expect(await store.verifyEmail(u.id, c, later(1))).toEqual({ ok: true });
        expect((await store.getAccountMeta(u.id))!.verifiedAt).toEqual(later(1));
        expect(await store.verifyEmail(u.id, c, later(2))).toEqual({ ok: false, reason: 'already_verified' });
      });

      it('activation mails: capped per account over each window, checked and recorded at once; verifying clears them', async () => {
        const u = newUser();
        const v = newUser();
        await store.createUser(u);
        await store.createUser(v);
        const hour = 3_600_000;
        const caps = (at: Date) => [
          { max: 3, since: new Date(at.getTime() - hour) },
          { max: 5, since: new Date(at.getTime() - 24 * hour) },
        ];
        // with no caps (the signup's mail): recorded, never refused
        expect(await store.recordActivationMail(u.id, later(0), [])).toEqual({ ok: true });
        expect(await store.recordActivationMail(u.id, later(10), caps(later(10)))).toEqual({ ok: true });
        expect(await store.recordActivationMail(u.id, later(20), caps(later(20)))).toEqual({ ok: true });
        expect(await store.recordActivationMail(u.id, later(30), caps(later(30)))).toEqual({ ok: false, reason: 'limit', cap: 0, oldest: later(0) });
        // another account has its own count
        expect(await store.recordActivationMail(v.id, later(30), caps(later(30)))).toEqual({ ok: true });
        // an hour after the first, one more fits the hour; then the day's cap is what refuses
        expect(await store.recordActivationMail(u.id, later(hour + 1), caps(later(hour + 1)))).toEqual({ ok: true });
        expect(await store.recordActivationMail(u.id, later(2 * hour), caps(later(2 * hour)))).toEqual({ ok: true });
        expect(await store.recordActivationMail(u.id, later(2 * hour + 10), caps(later(2 * hour + 10)))).toEqual({ ok: false, reason: 'limit', cap: 1, oldest: later(0) });
        // concurrent requests cannot both take the last mail of a window
        const w = newUser();
        await store.createUser(w);
        const racing = await Promise.all([0, 1, 2, 3, 4, 5].map(() => store.recordActivationMail(w.id, later(40), caps(later(40)))));
        expect(racing.filter((r) => r.ok)).toHaveLength(3);
        // a mail not sent is taken back: one record of that instant goes, and the next fits
        expect(await store.releaseActivationMail(w.id, later(40))).toBe(true);
        expect(await store.recordActivationMail(w.id, later(41), caps(later(41)))).toEqual({ ok: true });
        expect(await store.recordActivationMail(w.id, later(42), caps(later(42)))).toMatchObject({ ok: false, cap: 0 });
        expect(await store.releaseActivationMail(w.id, later(43))).toBe(false);
        // a day later it all fits again
        const day = 25 * hour;
        expect(await store.recordActivationMail(u.id, later(day), caps(later(day)))).toEqual({ ok: true });
        // verifying the address forgets the account's mails
        const c = code();
        await store.setEmailVerification(v.id, v.email, c, later(day + 100));
        for (let i = 0; i < 3; i++) await store.recordActivationMail(v.id, later(day + i), caps(later(day + i)));
        expect(await store.recordActivationMail(v.id, later(day + 3), caps(later(day + 3)))).toMatchObject({ ok: false, cap: 0 });
        expect(await store.verifyEmail(v.id, c, later(day + 4))).toEqual({ ok: true });
        expect(await store.recordActivationMail(v.id, later(day + 5), caps(later(day + 5)))).toEqual({ ok: true });
        // and deleting the account does too (no row is left to refer to it)
        expect((await store.deleteUser(u.id, u.authKeyHash)).ok).toBe(true);
      });

      it('account deletion withdraws the open invitations the account sent in teams that stay, and names the teams that went', async () => {
        const { owner, teamId, others } = await sharedTeam('h@example.com');
        const h = others[0]!;
        await store.confirmMember(teamId, h.id, [{ epoch: 1, sealedKey: b64(80) }], later(2));
        expect((await store.setMemberRole(teamId, h.id, 'owner', { byOwner: true })).ok).toBe(true);
        const soon = new Date(Date.now() + 86_400_000);
        const sent = code();
        await store.createInvitation({ id: hex(16), teamId, email: 'i@example.com', role: 'member', codeHash: sent, invitedBy: owner.id, createdAt: new Date(), expiresAt: soon });
        await store.createInvitation({ id: hex(16), teamId, email: 'j@example.com', role: 'member', codeHash: code(), invitedBy: h.id, createdAt: new Date(), expiresAt: soon });
        const solo = hex(16);
        expect(await store.createTeam({ id: solo, name: 'Solo', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: T0 })).toEqual({ ok: true });
        const gone = await store.deleteUser(owner.id, owner.authKeyHash);
        expect(gone.ok && [...gone.teamIds].sort()).toEqual([owner.personalTeam.id, solo].sort());
        expect((await store.listInvitations(teamId, new Date())).map((i) => i.email)).toEqual(['j@example.com']);
        const i = newUser('i@example.com');
        await store.createUser(i);
        expect(await store.acceptInvitation(sent, i.id, 'i@example.com', new Date())).toEqual({ ok: false, reason: 'unknown' });
      });

      it('account deletion removes invitations to the address and leaves shared teams rotation-pending', async () => {
        const { owner, teamId, others } = await sharedTeam('f@example.com');
        const f = others[0]!;
        await store.confirmMember(teamId, f.id, [{ epoch: 1, sealedKey: b64(80) }], later(2));
        const g = newUser('g@example.com');
        await store.createUser(g);
        await store.createInvitation({ id: hex(16), teamId, email: 'g@example.com', role: 'member', codeHash: code(), invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
        const gone = await store.deleteUser(g.id, g.authKeyHash);
        expect(gone.ok && gone.removed.invitations).toBe(1);
        expect(await store.listInvitations(teamId, later(1))).toEqual([]);
        expect((await store.deleteUser(f.id, f.authKeyHash)).ok).toBe(true);
        expect((await store.teamAccess(teamId, owner.id)).team!.rotationPending).toBe(true);
      });
      it('a member who deletes the account stays a former member: id and public keys for old signatures, no email or name', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('m1@example.com', 'm2@example.com');
        const [m1, m2] = others as [NewUser, NewUser];
        for (const u of [m1, m2]) expect((await store.confirmMember(teamId, u.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).ok).toBe(true);
        // m1 is removed first and deletes the account later; m2 deletes it while a member
        const rotated = await store.rotateTeam(teamId, {
          expectedEpoch: 1,
          removeUserId: m1.id,
          sealedKeys: [owner.id, m2.id].map((userId) => ({ userId, sealedKey: b64(80) })),
          workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }],
          now: later(3),
        });
        expect(rotated).toEqual({ ok: true, epoch: 2 });
        expect((await store.deleteUser(m1.id, m1.authKeyHash)).ok).toBe(true);
        expect((await store.deleteUser(m2.id, m2.authKeyHash)).ok).toBe(true);
        expect((await store.teamAccess(teamId, owner.id)).team!.rotationPending).toBe(true);

        const members = await store.workspaceMembers(wsId);
        expect(members[0]).toMatchObject({ userId: owner.id, email: owner.email, role: 'owner' });
        const keysOf = (u: NewUser, untilEpoch: number) => ({
          userId: u.id,
          email: '',
          name: '',
          role: 'member',
          x25519PublicKey: u.keys.x25519PublicKey,
          ed25519PublicKey: u.keys.ed25519PublicKey,
          untilEpoch,
        });
        expect(members.slice(1).sort((a, b) => (a.untilEpoch ?? 0) - (b.untilEpoch ?? 0))).toEqual([keysOf(m1, 1), keysOf(m2, 2)]);
        expect(JSON.stringify(members)).not.toMatch(/m[12]@example\.com/);
        expect((await store.teamAccess(teamId, m2.id)).state).toBe('former');
        // the id keeps naming those signatures: no new account may take it
        expect(await store.createUser({ ...newUser(), id: m2.id })).toEqual({ ok: false, reason: 'id_taken' });
        expect(await store.createUser(newUser('m2@example.com'))).toEqual({ ok: true });
      });

      it("account deletion keeps a signer-only record of the account's write tokens in teams that keep it as a former member", async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('t1@example.com', 't2@example.com');
        const [m1, m2] = others as [NewUser, NewUser];
        for (const u of [m1, m2]) expect((await store.confirmMember(teamId, u.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).ok).toBe(true);
        const token = (createdBy: string, extra: Partial<NewAccessToken> = {}): NewAccessToken => accessToken(wsId, createdBy, extra);
        const write = token(m1.id, { name: 'push from CI' });
        const revoked = token(m1.id, { name: 'old' });
        const read = token(m1.id, { scope: 'read' });
        const removedOnes = token(m2.id, { name: 'before removal' });
        const owners = token(owner.id);
        const personalWs = hex(16);
        await store.createWorkspace({ id: personalWs, teamId: m1.personalTeam.id, encryptedName: b64(60), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: T0 });
        const personal = token(m1.id, { workspaceId: personalWs });
        for (const t of [write, revoked, read, removedOnes, owners, personal]) expect(await store.createAccessToken(t)).toEqual({ ok: true });
        await store.revokeAccessToken(revoked.id, later(5));
        // m2 is removed first (a former member with untilEpoch 1), and deletes the account later
        const rotated = await store.rotateTeam(teamId, {
          expectedEpoch: 1,
          removeUserId: m2.id,
          sealedKeys: [owner.id, m1.id].map((userId) => ({ userId, sealedKey: b64(80) })),
          workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }],
          now: later(6),
        });
        expect(rotated).toEqual({ ok: true, epoch: 2 });
        expect(await store.workspaceFormerAccessTokens(wsId)).toEqual([]);

        const gone = await store.deleteUser(m1.id, m1.authKeyHash);
        expect(gone.ok && gone.removed.accessTokens).toBe(4);
        expect((await store.deleteUser(m2.id, m2.authKeyHash)).ok).toBe(true);

        // the tokens themselves are gone: none can be used, listed or looked up
        expect((await store.workspaceAccessTokens(wsId)).map((t) => t.id)).toEqual([owners.id]);
        for (const t of [write, revoked, read, removedOnes, personal]) expect(await store.getAccessToken(t.id)).toBeNull();
        // what checking their signatures needs stays, for write tokens of the shared team only
        const kept = await store.workspaceFormerAccessTokens(wsId);
        const signer = (t: NewAccessToken) => ({
          id: t.id,
          workspaceId: wsId,
          createdBy: t.createdBy,
          name: t.name,
          scope: 'write',
          publicKey: t.publicKey,
          certificate: t.certificate,
          revokedAt: expect.any(Date),
        });
        expect([...kept].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([write, revoked, removedOnes].sort((a, b) => (a.id < b.id ? -1 : 1)).map(signer));
        expect(kept.find((t) => t.id === revoked.id)!.revokedAt).toEqual(later(5));
        // nothing that uses the token or names its creator
        expect(JSON.stringify(kept)).not.toMatch(/t[12]@example\.com|secret|wrapped/i);
        expect(Object.keys(kept[0]!).sort()).toEqual(['certificate', 'createdBy', 'id', 'name', 'publicKey', 'revokedAt', 'scope', 'workspaceId']);
        // bound to the creators' former-member records, which keep the key their certificates are checked with
        const members = await store.workspaceMembers(wsId);
        expect(members.find((m) => m.userId === m1.id)).toMatchObject({ ed25519PublicKey: m1.keys.ed25519PublicKey, untilEpoch: 2, email: '' });
        expect(members.find((m) => m.userId === m2.id)).toMatchObject({ ed25519PublicKey: m2.keys.ed25519PublicKey, untilEpoch: 1, email: '' });
        // no new token takes a kept one's id; the records go with their workspace
        expect(await store.createAccessToken({ ...token(owner.id), id: write.id })).toEqual({ ok: false, reason: 'id_taken' });
        expect(await store.deleteWorkspace(wsId)).toBe(true);
        expect(await store.workspaceFormerAccessTokens(wsId)).toEqual([]);
      });

      it('a former member invited again keeps the former record while unconfirmed, and after a second removal; confirmed, is listed once', async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('again@example.com');
        const r = others[0]!;
        const rotate = (expectedEpoch: number, removeUserId: string | null, at: number) =>
          store.rotateTeam(teamId, {
            expectedEpoch,
            removeUserId,
            sealedKeys: [{ userId: owner.id, sealedKey: b64(80) }],
            workspaceKeys: [{ workspaceId: wsId, wrappedKey: b64(73) }],
            now: later(at),
          });
        const invite = async (at: number) => {
          const c = code();
          await store.createInvitation({ id: hex(16), teamId, email: r.email, role: 'member', codeHash: c, invitedBy: owner.id, createdAt: later(at), expiresAt: later(at + 1000) });
          expect((await store.acceptInvitation(c, r.id, r.email, later(at + 1))).ok).toBe(true);
        };
        const listed = async () => (await store.workspaceMembers(wsId)).filter((m) => m.userId === r.id);
        expect((await store.confirmMember(teamId, r.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).ok).toBe(true);
        expect((await store.leaveTeam(teamId, r.id, later(3))).ok).toBe(true);
        expect(await rotate(1, null, 4)).toEqual({ ok: true, epoch: 2 });
        const former = { userId: r.id, ed25519PublicKey: r.keys.ed25519PublicKey, untilEpoch: 1 };

        await invite(5);
        expect((await store.teamAccess(teamId, r.id)).state).toBe('accepted');
        expect(await listed()).toEqual([expect.objectContaining(former)]);
        // removed again before anyone confirmed them: they held no new key, the record stays as it was
        expect(await rotate(2, r.id, 10)).toEqual({ ok: true, epoch: 3 });
        expect((await store.teamAccess(teamId, r.id)).state).toBe('former');
        expect(await listed()).toEqual([expect.objectContaining(former)]);

        await invite(11);
        const all = [1, 2, 3].map((epoch) => ({ epoch, sealedKey: b64(80) }));
        expect(await store.confirmMember(teamId, r.id, all, later(13))).toEqual({ ok: true });
        const again = await listed();
        expect(again).toHaveLength(1);
        expect(again[0]!.untilEpoch).toBeUndefined();
      });

      it("an accepted member sees none of the team's access tokens until confirmed", async () => {
        const { owner, teamId, wsId, others } = await sharedTeam('early@example.com');
        const early = others[0]!;
        const tokenId = hex(16);
        const made = await store.createAccessToken(accessToken(wsId, owner.id, { id: tokenId, name: 'deploy', scope: 'read' }));
        expect(made).toEqual({ ok: true });
        expect(await store.listAccessTokensOfUser(early.id)).toEqual([]);
        expect(await store.listAccessTokensOfUser(early.id, wsId)).toEqual([]);
        await store.confirmMember(teamId, early.id, [{ epoch: 1, sealedKey: b64(80) }], later(2));
        expect((await store.listAccessTokensOfUser(early.id)).map((t) => t.id)).toEqual([tokenId]);
      });
    });

    describe('migrations', () => {
      it('reports nothing to apply on an already migrated store', async () => {
        expect(await store.migrate()).toEqual([]);
      });
    });

    describe('rate-limit counts', () => {
      const key = (): Uint8Array => new Uint8Array(randomBytes(32));

      it('counts attempts per key in a window opened by its first attempt, atomically under concurrent calls', async () => {
        const [a, b] = [key(), key()];
        const count = async (k: Uint8Array, at: number) => {
          const r = await store.countAttempt(k, later(at), 60_000);
          return [r.count, r.windowStart.getTime() - T0.getTime()];
        };
        expect(await count(a, 0)).toEqual([1, 0]);
        expect(await count(a, 59_999)).toEqual([2, 0]);
        expect(await count(b, 30_000)).toEqual([1, 30_000]);
        // a's window is over: a new one opens at this attempt; b's is still on
        expect(await count(a, 60_000)).toEqual([1, 60_000]);
        expect(await count(b, 60_000)).toEqual([2, 30_000]);
        const counts = await Promise.all(Array.from({ length: 20 }, () => store.countAttempt(b, later(61_000), 60_000)));
        expect(counts.map((r) => r.count).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 3));
      });

      it('prunes only the keys whose window began before the cut', async () => {
        const [a, b] = [key(), key()];
        await store.countAttempt(a, T0, 60_000);
        await store.countAttempt(a, later(10), 60_000);
        await store.countAttempt(b, later(30_000), 60_000);
        expect(await store.pruneAttempts(T0)).toBe(0);
        expect(await store.pruneAttempts(later(30_000))).toBe(1);
        // a starts over; b keeps its count
        expect((await store.countAttempt(a, later(40_000), 60_000)).count).toBe(1);
        expect((await store.countAttempt(b, later(40_000), 60_000)).count).toBe(2);
      });
    });

    describe('users', () => {
      it('creates a user with a personal team and reads it back by email and id', async () => {
        const user = newUser('ada@example.com');
        expect(await store.createUser(user)).toEqual({ ok: true });
        const byEmail = await store.getUserByEmail('ada@example.com');
        expect(byEmail).not.toBeNull();
        expect(byEmail!.id).toBe(user.id);
        expect(byEmail!.kdf).toEqual(user.kdf);
        expect(byEmail!.keys).toEqual(user.keys);
        expect(Buffer.from(byEmail!.authKeyHash).equals(Buffer.from(user.authKeyHash))).toBe(true);
        expect(byEmail!.createdAt.toISOString()).toBe(T0.toISOString());
        expect((await store.getUserById(user.id))!.email).toBe('ada@example.com');
        expect(await store.getUserByEmail('nobody@example.com')).toBeNull();
        expect(await store.getUserById(hex(16))).toBeNull();

        const teams = await store.listTeamsOfUser(user.id);
        expect(teams).toEqual([
          {
            id: user.personalTeam.id,
            name: 'Personal',
            personal: true,
            epoch: 1,
            role: 'owner',
            sealedKeys: [{ epoch: 1, sealedKey: user.personalTeam.sealedTeamKey }],
          },
        ]);
        expect(await store.getTeamRole(user.personalTeam.id, user.id)).toBe('owner');
        expect(await store.getTeam(user.personalTeam.id)).toEqual({ id: user.personalTeam.id, name: 'Personal', personal: true, epoch: 1 });
      });

      it('refuses a second account with the same email and leaves no partial rows', async () => {
        const first = newUser('same@example.com');
        await store.createUser(first);
        const second = newUser('same@example.com');
        expect(await store.createUser(second)).toEqual({ ok: false, reason: 'email_taken' });
        expect(await store.getUserById(second.id)).toBeNull();
        expect(await store.getTeam(second.personalTeam.id)).toBeNull();
      });

      it('refuses a reused user id or team id', async () => {
        const first = newUser();
        await store.createUser(first);
        expect(await store.createUser({ ...newUser(), id: first.id })).toEqual({ ok: false, reason: 'id_taken' });
        const teamClash = newUser();
        teamClash.personalTeam = { ...teamClash.personalTeam, id: first.personalTeam.id };
        expect(await store.createUser(teamClash)).toEqual({ ok: false, reason: 'id_taken' });
        expect(await store.getUserById(teamClash.id)).toBeNull();
      });
    });

    describe('sessions', () => {
      it('finds a live session by token hash, slides its expiry, and not after it expired', async () => {
        const user = newUser();
        await store.createUser(user);
        const tokenHash = new Uint8Array(randomBytes(32));
        await store.createSession({ id: hex(16), userId: user.id, tokenHash, client: 'cli', ip: '127.0.0.1', createdAt: T0, expiresAt: later(1000) });

        const used = await store.useSession(tokenHash, later(500), later(1500));
        expect(used).not.toBeNull();
        expect(used!.userId).toBe(user.id);
        expect(used!.client).toBe('cli');
        expect(used!.ip).toBe('127.0.0.1');
        expect(used!.lastSeenAt.getTime()).toBe(later(500).getTime());
        expect(used!.expiresAt.getTime()).toBe(later(1500).getTime());
        // still alive at 1200 because the use at 500 moved expiry to 1500
        expect(await store.useSession(tokenHash, later(1200), later(1400))).not.toBeNull();
        expect(await store.useSession(tokenHash, later(1400), later(9999))).toBeNull();
        expect(await store.useSession(new Uint8Array(32), later(0), later(1))).toBeNull();
      });

      it('revokes one session, or all of a user but one', async () => {
        const user = newUser();
        await store.createUser(user);
        const hashes = [0, 1, 2].map(() => new Uint8Array(randomBytes(32)));
        const ids = hashes.map(() => hex(16));
        for (const [i, tokenHash] of hashes.entries()) {
          await store.createSession({ id: ids[i]!, userId: user.id, tokenHash, client: null, ip: null, createdAt: T0, expiresAt: later(10_000) });
        }
        expect(await store.revokeSession(ids[0]!)).toBe(true);
        expect(await store.revokeSession(ids[0]!)).toBe(false);
        expect(await store.useSession(hashes[0]!, later(1), later(10_000))).toBeNull();
        expect(await store.revokeUserSessions(user.id, ids[2])).toBe(1);
        expect(await store.useSession(hashes[1]!, later(1), later(10_000))).toBeNull();
        expect(await store.useSession(hashes[2]!, later(1), later(10_000))).not.toBeNull();
        expect(await store.revokeUserSessions(user.id)).toBe(1);
        expect(await store.useSession(hashes[2]!, later(2), later(10_000))).toBeNull();
      });
    });

    describe('workspaces', () => {
      it('creates, lists, gets, renames and deletes', async () => {
        const { user, wsId } = await userWithWorkspace();
        const ws = await store.getWorkspace(wsId);
        expect(ws).toMatchObject({ id: wsId, teamId: user.personalTeam.id, head: null, size: 0 });
        expect(ws!.keys).toHaveLength(1);
        expect(ws!.keys[0]!.epoch).toBe(1);

        const second = hex(16);
        await store.createWorkspace({ id: second, teamId: user.personalTeam.id, encryptedName: 'bmFtZQ', key: { epoch: 1, wrappedKey: 'a2V5' }, createdAt: later(1) });
        expect((await store.listWorkspacesOfUser(user.id)).map((w) => w.id)).toEqual([wsId, second]);

        const renamed = await store.renameWorkspace(wsId, 'bmV3', later(5));
        expect(renamed!.encryptedName).toBe('bmV3');
        expect(renamed!.updatedAt.getTime()).toBe(later(5).getTime());
        expect(await store.renameWorkspace(hex(16), 'eA', later(5))).toBeNull();

        expect(await store.deleteWorkspace(second)).toBe(true);
        expect(await store.deleteWorkspace(second)).toBe(false);
        expect(await store.getWorkspace(second)).toBeNull();
        expect((await store.listWorkspacesOfUser(user.id)).map((w) => w.id)).toEqual([wsId]);
      });

      it('refuses a duplicate id and an unknown team', async () => {
        const { user, wsId } = await userWithWorkspace();
        const again = await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: T0 });
        expect(again).toEqual({ ok: false, reason: 'id_taken' });
        const noTeam = await store.createWorkspace({ id: hex(16), teamId: hex(16), encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: T0 });
        expect(noTeam).toEqual({ ok: false, reason: 'no_team' });
      });

      it('lists only workspaces of the user’s teams and reports members’ public keys', async () => {
        const a = await userWithWorkspace();
        const b = await userWithWorkspace();
        expect((await store.listWorkspacesOfUser(a.user.id)).map((w) => w.id)).toEqual([a.wsId]);
        expect(await store.getTeamRole(b.user.personalTeam.id, a.user.id)).toBeNull();
        const members = await store.workspaceMembers(a.wsId);
        expect(members).toEqual([
          {
            userId: a.user.id,
            email: a.user.email,
            name: 'Ada',
            role: 'owner',
            x25519PublicKey: a.user.keys.x25519PublicKey,
            ed25519PublicKey: a.user.keys.ed25519PublicKey,
          },
        ]);
        expect(await store.workspaceMembers(hex(16))).toEqual([]);
      });
    });

    describe('blobs', () => {
      it('reports missing ids in request order without duplicates', async () => {
        const { wsId } = await userWithWorkspace();
        const [x, y, z] = [blob(), blob(), blob()];
        await store.putBlobs(wsId, [y!]);
        expect(await store.missingBlobs(wsId, [x!.id, y!.id, z!.id, x!.id])).toEqual([x!.id, z!.id]);
        expect(await store.missingBlobs(wsId, [])).toEqual([]);
      });

      it('stores idempotently and counts only new blobs, in usage too', async () => {
        const { wsId } = await userWithWorkspace();
        const [x, y] = [blob(100), blob(50)];
        expect(await store.putBlobs(wsId, [x!, y!])).toEqual({ ok: true, stored: 2 });
        expect(await store.putBlobs(wsId, [x!, y!])).toEqual({ ok: true, stored: 0 });
        const z = blob(10);
        expect(await store.putBlobs(wsId, [x!, z!])).toEqual({ ok: true, stored: 1 });
        expect((await store.getWorkspace(wsId))!.size).toBe(160);
        // a second put of an id never replaces the first bytes
        expect(await store.putBlobs(wsId, [{ id: x!.id, data: new Uint8Array(5) }])).toEqual({ ok: true, stored: 0 });
        const [got] = await store.getBlobs(wsId, [x!.id], 1 << 20);
        expect(Buffer.from(got!.data).equals(Buffer.from(x!.data))).toBe(true);
      });

      it('keeps blobs per workspace', async () => {
        const a = await userWithWorkspace();
        const b = await userWithWorkspace();
        const x = blob();
        await store.putBlobs(a.wsId, [x]);
        expect(await store.missingBlobs(b.wsId, [x.id])).toEqual([x.id]);
        expect(await store.getBlobs(b.wsId, [x.id], 1 << 20)).toEqual([]);
      });

      it('returns blobs in request order, skips unknown ids, and stops at maxBytes but never returns none', async () => {
        const { wsId } = await userWithWorkspace();
        const blobs = [blob(100), blob(100), blob(100)];
        await store.putBlobs(wsId, blobs);
        const order = [blobs[2]!.id, hex(32), blobs[0]!.id, blobs[1]!.id];
        const all = await store.getBlobs(wsId, order, 1000);
        expect(all.map((b) => b.id)).toEqual([blobs[2]!.id, blobs[0]!.id, blobs[1]!.id]);
        expect(Buffer.from(all[1]!.data).equals(Buffer.from(blobs[0]!.data))).toBe(true);
        expect((await store.getBlobs(wsId, order, 250)).map((b) => b.id)).toEqual([blobs[2]!.id, blobs[0]!.id]);
        expect((await store.getBlobs(wsId, order, 200)).map((b) => b.id)).toEqual([blobs[2]!.id, blobs[0]!.id]);
        expect((await store.getBlobs(wsId, order, 10)).map((b) => b.id)).toEqual([blobs[2]!.id]);
        expect(await store.getBlobs(wsId, [hex(32)], 10)).toEqual([]);
      });

      it('plans a fetch like getBlobs, sizes without data, and reads the planned blobs back', async () => {
        const { wsId } = await userWithWorkspace();
        const blobs = [blob(100), blob(150), blob(100)];
        await store.putBlobs(wsId, blobs);
        const order = [blobs[2]!.id, hex(32), blobs[0]!.id, blobs[1]!.id, blobs[0]!.id];
        for (const max of [10, 200, 250, 1000]) {
          const plan = await store.planBlobFetch(wsId, order, max);
          const got = await store.getBlobs(wsId, order, max);
          expect(plan).toEqual(got.map((b) => ({ id: b.id, size: b.data.length })));
        }
        expect((await store.planBlobFetch(wsId, order, 1000)).map((p) => p.id)).toEqual([blobs[2]!.id, blobs[0]!.id, blobs[1]!.id, blobs[0]!.id]);
        expect(await store.planBlobFetch(wsId, [hex(32), 'not hex'], 1000)).toEqual([]);
        const read = await store.readBlobs(wsId, [blobs[1]!.id, hex(32), blobs[0]!.id]);
        expect(read.map((d) => (d === null ? null : Buffer.from(d).toString('hex')))).toEqual([
          Buffer.from(blobs[1]!.data).toString('hex'),
          null,
          Buffer.from(blobs[0]!.data).toString('hex'),
        ]);
        await store.deleteWorkspace(wsId);
        expect(await store.readBlobs(wsId, [blobs[0]!.id])).toEqual([null]);
      });

      it('answers no_workspace for blobs of a deleted workspace (a deletion after the access check), storing nothing', async () => {
        const { wsId } = await userWithWorkspace();
        expect(await store.deleteWorkspace(wsId)).toBe(true);
        expect(await store.putBlobs(wsId, [blob()])).toEqual({ ok: false, reason: 'no_workspace' });
        expect(await store.putBlobs(hex(16), [blob()])).toEqual({ ok: false, reason: 'no_workspace' });
      });

      it('treats malformed ids as never stored, and refuses to store one, storing nothing of the batch', async () => {
        const { wsId } = await userWithWorkspace();
        const x = blob();
        await store.putBlobs(wsId, [x]);
        const bad = ['', 'zz', x.id.slice(0, 62), `${x.id.slice(0, 62)}zz`, `${x.id}00`];
        expect(await store.missingBlobs(wsId, [...bad, x.id])).toEqual(bad);
        expect(await store.getBlobs(wsId, bad, 1 << 20)).toEqual([]);
        const y = blob();
        for (const id of bad) {
          await expect(store.putBlobs(wsId, [y, { id, data: new Uint8Array(3) }])).rejects.toMatchObject({ code: 'bad_blob_id' });
        }
        expect(await store.missingBlobs(wsId, [y.id])).toEqual([y.id]);
        expect((await store.getWorkspace(wsId))!.size).toBe(x.data.length);
      });

      it('answers 10,000 ids at once, with duplicates, in request order', async () => {
        const { wsId } = await userWithWorkspace();
        const stored = Array.from({ length: 200 }, () => blob(10));
        await store.putBlobs(wsId, stored);
        const absent = Array.from({ length: 9800 }, () => hex(32));
        const ids = absent.flatMap((id, i) => (i % 49 === 0 ? [stored[i / 49]!.id, id] : [id]));
        expect(await store.missingBlobs(wsId, [...ids, absent[0]!, stored[0]!.id])).toEqual(absent);
      });

      it('stores a 4 MB batch of a thousand blobs in one call', async () => {
        const { wsId } = await userWithWorkspace();
        const batch = Array.from({ length: 1000 }, () => blob(4096));
        expect(await store.putBlobs(wsId, batch)).toEqual({ ok: true, stored: 1000 });
        expect(await store.missingBlobs(wsId, batch.map((b) => b.id))).toEqual([]);
        expect((await store.getWorkspace(wsId))!.size).toBe(1000 * 4096);
      });
    });

    describe('snapshots', () => {
      it('moves the head by compare-and-swap and lists newest first', async () => {
        const { wsId } = await userWithWorkspace();
        const x = blob();
        await store.putBlobs(wsId, [x]);
        const s1 = snapshot(null, [x.id, x.id], later(1));
        expect(await store.createSnapshot(wsId, s1)).toEqual({ ok: true, head: s1.id });
        expect((await store.getWorkspace(wsId))!.head).toBe(s1.id);
        const s2 = snapshot(s1.id, [x.id], later(2));
        expect(await store.createSnapshot(wsId, s2)).toEqual({ ok: true, head: s2.id });
        const s3 = snapshot(s2.id, [], later(3));
        await store.createSnapshot(wsId, s3);

        const stale = snapshot(s1.id);
        expect(await store.createSnapshot(wsId, stale)).toEqual({ ok: false, reason: 'conflict', head: s3.id });
        expect(await store.createSnapshot(wsId, snapshot(null))).toEqual({ ok: false, reason: 'conflict', head: s3.id });
        expect(await store.getSnapshot(wsId, stale.id)).toBeNull();

        const list = await store.listSnapshots(wsId, { limit: 10 });
        expect(list.map((s) => s.id)).toEqual([s3.id, s2.id, s1.id]);
        expect((await store.listSnapshots(wsId, { limit: 1 })).map((s) => s.id)).toEqual([s3.id]);
        expect((await store.listSnapshots(wsId, { limit: 10, before: s3.id })).map((s) => s.id)).toEqual([s2.id, s1.id]);
        expect(await store.listSnapshots(wsId, { limit: 10, before: s1.id })).toEqual([]);
        expect(await store.listSnapshots(wsId, { limit: 10, before: hex(32) })).toEqual([]);
        // cut by size (each snapshot's data is 200 bytes), never below one snapshot
        const ids = async (o: { limit: number; before?: string; maxBytes?: number }) => (await store.listSnapshots(wsId, o)).map((s) => s.id);
        expect(await ids({ limit: 10, maxBytes: 400 })).toEqual([s3.id, s2.id]);
        expect(await ids({ limit: 10, maxBytes: 399 })).toEqual([s3.id]);
        expect(await ids({ limit: 10, maxBytes: 1 })).toEqual([s3.id]);
        expect(await ids({ limit: 1, maxBytes: 10_000 })).toEqual([s3.id]);
        expect(await ids({ limit: 10, before: s3.id, maxBytes: 200 })).toEqual([s2.id]);
        expect(await ids({ limit: 10, before: s2.id, maxBytes: 10_000 })).toEqual([s1.id]);
        expect(await ids({ limit: 10, before: s1.id, maxBytes: 10_000 })).toEqual([]);
        const cut = await store.listSnapshots(wsId, { limit: 10, maxBytes: 400 });
        expect(Buffer.from(cut[1]!.data).equals(Buffer.from(s2.data))).toBe(true);

        const got = await store.getSnapshot(wsId, s2.id);
        expect(got!.parent).toBe(s1.id);
        expect(got!.createdAt.getTime()).toBe(later(2).getTime());
        expect(Buffer.from(got!.data).equals(Buffer.from(s2.data))).toBe(true);
        expect(await store.snapshotBlobIds(wsId, s1.id)).toEqual([x.id]);
        expect(await store.snapshotBlobIds(wsId, s3.id)).toEqual([]);
        expect((await store.getWorkspace(wsId))!.size).toBe(100 + 3 * 200);
      });

      it('links every referenced blob once, listed in id order, and names each missing one once, in order', async () => {
        const { wsId } = await userWithWorkspace();
        const blobs = Array.from({ length: 50 }, () => blob(10));
        await store.putBlobs(wsId, blobs);
        const ids = blobs.map((b) => b.id);
        const [a1, a2] = [hex(32), hex(32)];
        const refused = snapshot(null, [a2, ...ids, a1, a2, 'not hex']);
        expect(await store.createSnapshot(wsId, refused)).toEqual({ ok: false, reason: 'missing_blobs', missing: [a2, a1, 'not hex'] });
        const s = snapshot(null, [...ids, ...ids.slice(0, 10)]);
        expect(await store.createSnapshot(wsId, s)).toEqual({ ok: true, head: s.id });
        expect(await store.snapshotBlobIds(wsId, s.id)).toEqual([...ids].sort());
      });

      it('lets exactly one of two racing pushes with the same parent win', async () => {
        const { wsId } = await userWithWorkspace();
        const base = snapshot(null);
        await store.createSnapshot(wsId, base);
        for (let round = 0; round < 5; round++) {
          const head = (await store.getWorkspace(wsId))!.head;
          const a = snapshot(head);
          const b = snapshot(head);
          const results = await Promise.all([store.createSnapshot(wsId, a), store.createSnapshot(wsId, b)]);
          const winners = results.filter((r) => r.ok);
          expect(winners).toHaveLength(1);
          const loser = results.find((r) => !r.ok);
          const newHead = (await store.getWorkspace(wsId))!.head;
          expect(loser).toEqual({ ok: false, reason: 'conflict', head: newHead });
          expect([a.id, b.id]).toContain(newHead);
        }
      });

      it('refuses a snapshot referencing blobs not stored, naming them, and writes nothing', async () => {
        const { wsId } = await userWithWorkspace();
        const x = blob();
        await store.putBlobs(wsId, [x]);
        const absent = hex(32);
        const s = snapshot(null, [x.id, absent]);
        expect(await store.createSnapshot(wsId, s)).toEqual({ ok: false, reason: 'missing_blobs', missing: [absent] });
        expect((await store.getWorkspace(wsId))!.head).toBeNull();
        expect(await store.getSnapshot(wsId, s.id)).toBeNull();
        expect(await store.listSnapshots(wsId, { limit: 10 })).toEqual([]);
      });

      it('reports an existing snapshot id and an unknown workspace', async () => {
        const { wsId } = await userWithWorkspace();
        const s1 = snapshot(null);
        await store.createSnapshot(wsId, s1);
        const s2 = snapshot(s1.id);
        await store.createSnapshot(wsId, s2);
        // same id again on top of the current head: a replay, not a new snapshot
        expect(await store.createSnapshot(wsId, { ...s1, parent: s2.id })).toEqual({ ok: false, reason: 'exists' });
        expect(await store.createSnapshot(hex(16), snapshot(null))).toEqual({ ok: false, reason: 'no_workspace' });
      });

      it('deleting a workspace removes its blobs and snapshots', async () => {
        const { wsId, user } = await userWithWorkspace();
        const x = blob();
        await store.putBlobs(wsId, [x]);
        const s = snapshot(null, [x.id]);
        await store.createSnapshot(wsId, s);
        expect(await store.deleteWorkspace(wsId)).toBe(true);
        expect(await store.getSnapshot(wsId, s.id)).toBeNull();
        expect(await store.snapshotBlobIds(wsId, s.id)).toEqual([]);
        expect(await store.getBlobs(wsId, [x.id], 1 << 20)).toEqual([]);
        expect(await store.listSnapshots(wsId, { limit: 10 })).toEqual([]);
        // the same id can be used again from scratch
        const again = await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' }, createdAt: T0 });
        expect(again.ok).toBe(true);
        expect(await store.missingBlobs(wsId, [x.id])).toEqual([x.id]);
        expect((await store.getWorkspace(wsId))!.size).toBe(0);
      });
    });

    describe('access tokens', () => {
      /** the tokens of these tests expire in a day unless `extra` says otherwise */
      const newToken = (wsId: string, createdBy: string, extra: Partial<NewAccessToken> = {}): NewAccessToken =>
        accessToken(wsId, createdBy, { expiresAt: later(86_400_000), ...extra });

      it('creates a token and reads back every field, with the creator and no last use yet', async () => {
        const { user, wsId } = await userWithWorkspace();
        const t = newToken(wsId, user.id, { scope: 'read', expiresAt: null });
        expect(await store.createAccessToken(t)).toEqual({ ok: true });
        const got = await store.getAccessToken(t.id);
        expect(got).not.toBeNull();
        expect({ ...got!, secretHash: [...got!.secretHash] }).toEqual({
          ...t,
          secretHash: [...t.secretHash],
          creatorEmail: user.email,
          creatorName: user.name,
          lastUsedAt: null,
          revokedAt: null,
        });
        expect(await store.getAccessToken(hex(16))).toBeNull();
      });

      it('refuses a taken id and an unknown workspace, storing nothing', async () => {
        const { user, wsId } = await userWithWorkspace();
        const t = newToken(wsId, user.id);
        await store.createAccessToken(t);
        expect(await store.createAccessToken({ ...t, name: 'other' })).toEqual({ ok: false, reason: 'id_taken' });
        expect((await store.getAccessToken(t.id))!.name).toBe('ci');
        const stray = newToken(hex(16), user.id);
        expect(await store.createAccessToken(stray)).toEqual({ ok: false, reason: 'no_workspace' });
        expect(await store.getAccessToken(stray.id)).toBeNull();
      });

      it('answers no_user for a token or a session of a deleted account (a deletion after the checks), storing nothing', async () => {
        const owner = await userWithWorkspace();
        const { user } = await userWithWorkspace();
        expect((await store.deleteUser(user.id, user.authKeyHash)).ok).toBe(true);
        const t = newToken(owner.wsId, user.id);
        expect(await store.createAccessToken(t)).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.getAccessToken(t.id)).toBeNull();
        const session = { id: hex(16), userId: user.id, tokenHash: new Uint8Array(randomBytes(32)), client: null, ip: null, createdAt: T0, expiresAt: later(1000) };
        expect(await store.createSession(session)).toEqual({ ok: false, reason: 'no_user' });
        expect(await store.useSession(session.tokenHash, T0, later(1000))).toBeNull();
        expect(await store.createSession({ ...session, userId: owner.user.id })).toEqual({ ok: true });
      });

      it('keeps wrapped keys per epoch in ascending order', async () => {
        const { user, wsId } = await userWithWorkspace();
        const keys = [
          { epoch: 3, wrappedKey: b64(73) },
          { epoch: 1, wrappedKey: b64(73) },
        ];
        const t = newToken(wsId, user.id, { keys });
        await store.createAccessToken(t);
        expect((await store.getAccessToken(t.id))!.keys).toEqual([keys[1], keys[0]]);
      });

      it('records the last use', async () => {
        const { user, wsId } = await userWithWorkspace();
        const t = newToken(wsId, user.id);
        await store.createAccessToken(t);
        await store.touchAccessToken(t.id, later(5000));
        expect((await store.getAccessToken(t.id))!.lastUsedAt).toEqual(later(5000));
      });

      it('revokes once: the token stays readable, marked revoked', async () => {
        const { user, wsId } = await userWithWorkspace();
        const t = newToken(wsId, user.id);
        await store.createAccessToken(t);
        expect(await store.revokeAccessToken(t.id, later(1000))).toBe(true);
        expect(await store.revokeAccessToken(t.id, later(2000))).toBe(false);
        expect(await store.revokeAccessToken(hex(16), later(2000))).toBe(false);
        expect((await store.getAccessToken(t.id))!.revokedAt).toEqual(later(1000));
      });

      it("lists a workspace's tokens and a user's tokens through team membership only", async () => {
        const a = await userWithWorkspace();
        const b = await userWithWorkspace();
        const t1 = newToken(a.wsId, a.user.id, { createdAt: T0 });
        const t2 = newToken(a.wsId, a.user.id, { createdAt: later(1) });
        const t3 = newToken(b.wsId, b.user.id);
        for (const t of [t2, t1, t3]) await store.createAccessToken(t);
        await store.revokeAccessToken(t2.id, later(5));
        expect((await store.workspaceAccessTokens(a.wsId)).map((t) => t.id)).toEqual([t1.id, t2.id]);
        expect((await store.listAccessTokensOfUser(a.user.id)).map((t) => t.id)).toEqual([t1.id, t2.id]);
        expect((await store.listAccessTokensOfUser(a.user.id, b.wsId)).map((t) => t.id)).toEqual([]);
        expect((await store.listAccessTokensOfUser(b.user.id, b.wsId)).map((t) => t.id)).toEqual([t3.id]);
      });

      it('deleting the workspace deletes its tokens', async () => {
        const { user, wsId } = await userWithWorkspace();
        const t = newToken(wsId, user.id);
        await store.createAccessToken(t);
        expect(await store.deleteWorkspace(wsId)).toBe(true);
        expect(await store.getAccessToken(t.id)).toBeNull();
        expect(await store.listAccessTokensOfUser(user.id)).toEqual([]);
      });

      it('lists every token a user created, revoked ones and those of a team they left included', async () => {
        const owner = newUser();
        const bob = newUser();
        await store.createUser(owner);
        await store.createUser(bob);
        const teamId = hex(16);
        await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: T0 });
        const wsId = hex(16);
        await store.createWorkspace({ id: wsId, teamId, encryptedName: b64(60), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: T0 });
        const c = new Uint8Array(randomBytes(32));
        await store.createInvitation({ id: hex(16), teamId, email: bob.email, role: 'member', codeHash: c, invitedBy: owner.id, createdAt: T0, expiresAt: later(1000) });
        expect((await store.acceptInvitation(c, bob.id, bob.email, later(1))).ok).toBe(true);
        expect(await store.confirmMember(teamId, bob.id, [{ epoch: 1, sealedKey: b64(80) }], later(2))).toEqual({ ok: true });
        const kept = newToken(wsId, bob.id, { createdAt: later(3) });
        const revoked = newToken(wsId, bob.id, { createdAt: later(4) });
        const owners = newToken(wsId, owner.id, { createdAt: later(5) });
        for (const t of [revoked, owners, kept]) await store.createAccessToken(t);
        await store.revokeAccessToken(revoked.id, later(6));
        expect((await store.listAccessTokensCreatedBy(bob.id)).map((t) => t.id)).toEqual([kept.id, revoked.id]);
        expect((await store.leaveTeam(teamId, bob.id, later(7))).ok).toBe(true);
        // no longer a member, so not among the team's tokens he sees; still his, still stored
        expect(await store.listAccessTokensOfUser(bob.id)).toEqual([]);
        const mine = await store.listAccessTokensCreatedBy(bob.id);
        expect(mine.map((t) => [t.id, t.name, t.revokedAt])).toEqual([
          [kept.id, 'ci', null],
          [revoked.id, 'ci', later(6)],
        ]);
        expect(await store.listAccessTokensCreatedBy(hex(16))).toEqual([]);
      });
    });
    describe('ended sessions', () => {
      const hash = (): Uint8Array => new Uint8Array(randomBytes(32));

      it('says why a token no longer signs in: revoked or expired while stored, its account deleted until it would have expired', async () => {
        const u = newUser();
        await store.createUser(u);
        const now = new Date();
        const day = 86_400_000;
        const [live, revoked, expired, other] = [hash(), hash(), hash(), hash()];
        const ids = [hex(16), hex(16), hex(16), hex(16)] as const;
        await store.createSession({ id: ids[0], userId: u.id, tokenHash: live, client: 'cli', ip: '192.0.2.1', createdAt: now, expiresAt: new Date(now.getTime() + day) });
        await store.createSession({ id: ids[1], userId: u.id, tokenHash: revoked, client: 'cli', ip: '192.0.2.1', createdAt: now, expiresAt: new Date(now.getTime() + day) });
        await store.createSession({ id: ids[2], userId: u.id, tokenHash: expired, client: 'cli', ip: '192.0.2.1', createdAt: T0, expiresAt: later(10) });
        expect(await store.revokeSessionOfUser(u.id, ids[1])).toBe(true);
        expect(await store.endedSession(live, now)).toBeNull();
        expect(await store.endedSession(hash(), now)).toBeNull();
        const r = await store.endedSession(revoked, now);
        expect(r?.reason).toBe('revoked');
        expect(Math.abs(r!.at.getTime() - Date.now())).toBeLessThan(60_000);
        expect(await store.endedSession(expired, now)).toEqual({ reason: 'expired', at: later(10) });

        // a cleanup keeps the revoked session until it expires, without IP or client
        expect((await store.purgeEnded(new Date(now.getTime() + 60_000))).sessions).toBe(1);
        expect((await store.endedSession(revoked, now))?.reason).toBe('revoked');
        expect(await store.endedSession(expired, now)).toBeNull();
        const ended = await store.listEndedSessionsOfUser(u.id, now);
        expect(ended.map((s) => [s.id, s.ip, s.client])).toEqual([[ids[1], null, null]]);
        expect((await store.listSessionsOfUser(u.id, now))[0]).toMatchObject({ id: ids[0], ip: '192.0.2.1', client: 'cli' });

        // the account deleted: its sessions not yet expired are known as such, by hash only
        const v = newUser();
        await store.createUser(v);
        await store.createSession({ id: ids[3], userId: v.id, tokenHash: other, client: null, ip: null, createdAt: now, expiresAt: new Date(now.getTime() + day) });
        expect((await store.deleteUser(u.id, u.authKeyHash)).ok).toBe(true);
        for (const h of [live, revoked]) expect((await store.endedSession(h, now))?.reason).toBe('account_deleted');
        expect(await store.endedSession(other, now)).toBeNull();
        // until they would have expired: then a cleanup forgets them
        expect((await store.purgeEnded(new Date(now.getTime() + 60_000))).sessions).toBe(0);
        expect((await store.purgeEnded(new Date(now.getTime() + 2 * day), { dryRun: true })).sessions).toBe(3);
        expect((await store.endedSession(live, now))?.reason).toBe('account_deleted');
        expect((await store.purgeEnded(new Date(now.getTime() + 2 * day))).sessions).toBe(3);
        expect(await store.endedSession(live, now)).toBeNull();
        expect(await store.endedSession(other, now)).toBeNull();
      });
    });

    describe('account lifecycle', () => {
      const hash = (): Uint8Array => new Uint8Array(randomBytes(32));
      const kdf = () => ({ alg: 'argon2id' as const, memoryKiB: 131072, iterations: 4, parallelism: 1, salt: b64(16) });
      async function session(userId: string, id = hex(16), expiresAt = later(60_000), createdAt = T0) {
        await store.createSession({ id, userId, tokenHash: hash(), client: 'cli/1', ip: '10.0.0.1', createdAt, expiresAt });
        return id;
      }

      it("lists only the user's live sessions, oldest first, and revokes only the user's own", async () => {
        const a = newUser();
        const b = newUser();
        await store.createUser(a);
        await store.createUser(b);
        const s1 = await session(a.id, hex(16), later(60_000), T0);
        const s2 = await session(a.id, hex(16), later(60_000), later(1));
        const expired = await session(a.id, hex(16), later(10), later(2));
        const other = await session(b.id);
        const live = await store.listSessionsOfUser(a.id, later(100));
        expect(live.map((s) => s.id)).toEqual([s1, s2]);
        expect(live[0]).toMatchObject({ userId: a.id, client: 'cli/1', ip: '10.0.0.1' });
        expect(live.map((s) => s.id)).not.toContain(expired);
        expect(await store.revokeSessionOfUser(a.id, other)).toBe(false);
        expect((await store.listSessionsOfUser(b.id, later(100))).map((s) => s.id)).toEqual([other]);
        expect(await store.revokeSessionOfUser(a.id, s1)).toBe(true);
        expect(await store.revokeSessionOfUser(a.id, s1)).toBe(false);
        expect((await store.listSessionsOfUser(a.id, later(100))).map((s) => s.id)).toEqual([s2]);
      });

      it('lists ended sessions still stored (revoked, logged out, expired) with IP and client, apart from the live ones', async () => {
        const a = newUser();
        const b = newUser();
        await store.createUser(a);
        await store.createUser(b);
        const live = await session(a.id, hex(16), later(60_000), T0);
        const expired = await session(a.id, hex(16), later(10), later(1));
        const revoked = await session(a.id, hex(16), later(60_000), later(2));
        await session(b.id, hex(16), later(10), T0);
        expect(await store.revokeSessionOfUser(a.id, revoked)).toBe(true);
        const ended = await store.listEndedSessionsOfUser(a.id, later(100));
        expect(ended.map((s) => s.id)).toEqual([expired, revoked]);
        expect(ended[0]).toMatchObject({ userId: a.id, client: 'cli/1', ip: '10.0.0.1', createdAt: later(1), expiresAt: later(10), revokedAt: null });
        expect(ended[1]!.revokedAt).toBeInstanceOf(Date);
        expect(ended.map((s) => s.id)).not.toContain(live);
        // at its expiry instant a session has ended; before it, it is live
        expect((await store.listEndedSessionsOfUser(a.id, later(10))).map((s) => s.id)).toEqual([expired, revoked]);
        expect((await store.listEndedSessionsOfUser(a.id, later(9))).map((s) => s.id)).toEqual([revoked]);
        // purged ones are gone from the list too
        await store.purgeEnded(new Date(Date.now() + 60_000));
        expect(await store.listEndedSessionsOfUser(a.id, later(100))).toEqual([]);
      });

      it('lists invitations to the address or accepted by the user, in every state, with the team name', async () => {
        const owner = newUser();
        const bob = newUser('bob-inv@example.com');
        await store.createUser(owner);
        await store.createUser(bob);
        const teamId = hex(16);
        const otherTeam = hex(16);
        await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: T0 });
        await store.createTeam({ id: otherTeam, name: 'Beta', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: T0 });
        const invite = (id: string, team: string, email: string, at: number, role: 'admin' | 'member' = 'member') => {
          const codeHash = new Uint8Array(randomBytes(32));
          return { inv: { id, teamId: team, email, role, codeHash, invitedBy: owner.id, createdAt: later(at), expiresAt: later(at + 1000) }, codeHash };
        };
        const cancelled = invite(hex(16), teamId, bob.email, 1);
        const accepted = invite(hex(16), teamId, bob.email, 2, 'admin');
        const open = invite(hex(16), otherTeam, bob.email, 3);
        const others = invite(hex(16), teamId, 'carol@example.com', 4);
        for (const x of [cancelled, accepted, open, others]) expect(await store.createInvitation(x.inv)).toEqual({ ok: true });
        expect((await store.acceptInvitation(accepted.codeHash, bob.id, bob.email, later(5))).ok).toBe(true);
        const listed = await store.listInvitationsToUser(bob.id, bob.email);
        expect(listed.map((i) => [i.id, i.teamName, i.role])).toEqual([
          [cancelled.inv.id, 'Acme', 'member'],
          [accepted.inv.id, 'Acme', 'admin'],
          [open.inv.id, 'Beta', 'member'],
        ]);
        expect(listed[0]).toMatchObject({ teamId, email: bob.email, createdAt: later(1), acceptedAt: null });
        // replaced by the next invitation: it expired when cancelled
        expect(listed[0]!.expiresAt).toEqual(later(2));
        expect(listed[1]!.acceptedAt).toEqual(later(5));
        expect(listed[2]).toMatchObject({ acceptedAt: null, expiresAt: later(1003) });
        expect(await store.listInvitationsToUser(hex(16), 'nobody@example.com')).toEqual([]);
      });

      it("changes credentials only against the current hash, revokes every session, the caller's too, and opens the caller's new one", async () => {
        const user = newUser();
        await store.createUser(user);
        const caller = await session(user.id);
        const other = await session(user.id);
        const opens = { id: hex(16), userId: user.id, tokenHash: hash(), client: 'cli/2', ip: '10.0.0.2', createdAt: later(5), expiresAt: later(60_000) };
        const renewal = { replaces: caller, opens };
        const update = { kdf: kdf(), authKeyHash: hash(), wrappedAccountKey: b64(73), at: later(5) };
        expect(await store.changeCredentials(user.id, hash(), 'password', update, renewal)).toEqual({ ok: false, reason: 'stale' });
        expect((await store.getUserById(user.id))!.keys.wrappedAccountKey).toBe(user.keys.wrappedAccountKey);
        // a stale change ends no session and opens none
        expect((await store.listSessionsOfUser(user.id, later(10))).map((s) => s.id).sort()).toEqual([caller, other].sort());
        expect(await store.changeCredentials(hex(16), user.authKeyHash, 'password', update, renewal)).toEqual({ ok: false, reason: 'no_user' });
        // the caller's session is ended too, but counted apart: revokedSessions are the others
        expect(await store.changeCredentials(user.id, user.authKeyHash, 'password', update, renewal)).toEqual({ ok: true, revokedSessions: 1, recoveryKeyRevoked: false, revokedTokens: 0 });
        const after = (await store.getUserById(user.id))!;
        expect(after.kdf).toEqual(update.kdf);
        expect(Buffer.from(after.authKeyHash).equals(Buffer.from(update.authKeyHash))).toBe(true);
        expect(after.keys.wrappedAccountKey).toBe(update.wrappedAccountKey);
        expect(after.keys.wrappedX25519Secret).toBe(user.keys.wrappedX25519Secret);
        expect((await store.getAccountMeta(user.id))!.passwordChangedAt).toEqual(later(5));
        expect((await store.listSessionsOfUser(user.id, later(10))).map((s) => [s.id, s.client])).toEqual([[opens.id, 'cli/2']]);
        expect(await store.useSession(opens.tokenHash, later(11), later(60_000))).toMatchObject({ id: opens.id, userId: user.id });
        expect((await store.listEndedSessionsOfUser(user.id, later(10))).map((s) => s.id).sort()).toEqual([caller, other].sort());
        // the old hash no longer matches
        expect(await store.changeCredentials(user.id, user.authKeyHash, 'password', update, { replaces: opens.id, opens: { ...opens, id: hex(16), tokenHash: hash() } })).toEqual({
          ok: false,
          reason: 'stale',
        });
        expect((await store.listSessionsOfUser(user.id, later(10))).map((s) => s.id)).toEqual([opens.id]);
      });

      it("with {keeps} (a client from before the renewed session) revokes every session but the caller's, which stays live", async () => {
        const user = newUser();
        await store.createUser(user);
        const caller = await session(user.id);
        const other = await session(user.id);
        const update = { kdf: kdf(), authKeyHash: hash(), wrappedAccountKey: b64(73), at: later(5) };
        expect(await store.changeCredentials(user.id, user.authKeyHash, 'password', update, { keeps: caller })).toEqual({
          ok: true,
          revokedSessions: 1,
          recoveryKeyRevoked: false,
          revokedTokens: 0,
        });
        expect((await store.listSessionsOfUser(user.id, later(10))).map((s) => s.id)).toEqual([caller]);
        expect((await store.listEndedSessionsOfUser(user.id, later(10))).map((s) => s.id)).toEqual([other]);
      });

      it('keeps one recovery record per user; recovery swaps credentials against its hash and revokes all sessions', async () => {
        const user = newUser();
        await store.createUser(user);
        expect(await store.getRecovery(user.id)).toBeNull();
        expect((await store.getAccountMeta(user.id))!).toEqual({ verifiedAt: null, passwordChangedAt: null, recoveryCreatedAt: null });
        expect(await store.setRecovery(hex(16), { authKeyHash: hash(), wrappedAccountKey: b64(73), createdAt: T0 })).toBe(false);
        const first = { authKeyHash: hash(), wrappedAccountKey: b64(73), createdAt: later(1) };
        const second = { authKeyHash: hash(), wrappedAccountKey: b64(73), createdAt: later(2) };
        expect(await store.setRecovery(user.id, first)).toBe(true);
        expect(await store.setRecovery(user.id, second)).toBe(true);
        const got = (await store.getRecovery(user.id))!;
        expect(got.wrappedAccountKey).toBe(second.wrappedAccountKey);
        expect(Buffer.from(got.authKeyHash).equals(Buffer.from(second.authKeyHash))).toBe(true);
        expect(got.createdAt).toEqual(later(2));
        expect((await store.getAccountMeta(user.id))!.recoveryCreatedAt).toEqual(later(2));
        await session(user.id);
        const update = { kdf: kdf(), authKeyHash: hash(), wrappedAccountKey: b64(73), at: later(9) };
        expect(await store.changeCredentials(user.id, first.authKeyHash, 'recovery', update, null)).toEqual({ ok: false, reason: 'stale' });
        // the password hash is not the recovery hash
        expect(await store.changeCredentials(user.id, user.authKeyHash, 'recovery', update, null)).toEqual({ ok: false, reason: 'stale' });
        // the recovering machine's session is opened in the same transaction, after the others ended
        const opens = { id: hex(16), userId: user.id, tokenHash: hash(), client: 'cli/3', ip: null, createdAt: later(9), expiresAt: later(60_000) };
        expect(await store.changeCredentials(user.id, second.authKeyHash, 'recovery', update, { replaces: null, opens })).toEqual({
          ok: true,
          revokedSessions: 1,
          recoveryKeyRevoked: true,
          revokedTokens: 0,
        });
        expect((await store.getUserById(user.id))!.keys.wrappedAccountKey).toBe(update.wrappedAccountKey);
        expect((await store.listSessionsOfUser(user.id, later(10))).map((s) => s.id)).toEqual([opens.id]);
        // the key is spent: its record is gone, so a second recovery with it is stale
        expect(await store.getRecovery(user.id)).toBeNull();
        expect((await store.getAccountMeta(user.id))!.recoveryCreatedAt).toBeNull();
        expect(await store.changeCredentials(user.id, second.authKeyHash, 'recovery', update, null)).toEqual({ ok: false, reason: 'stale' });
      });

      it("a recovery revokes the user's live access tokens in the same transaction; a password change leaves them", async () => {
        const { user, wsId } = await userWithWorkspace();
        const other = newUser();
        await store.createUser(other);
        const token = (extra: Partial<NewAccessToken> = {}): NewAccessToken => accessToken(wsId, user.id, { secretHash: hash(), ...extra });
        const live = token();
        const expired = token({ expiresAt: later(2) });
        const revoked = token();
        const theirs = token({ createdBy: other.id });
        for (const t of [live, expired, revoked, theirs]) expect(await store.createAccessToken(t)).toEqual({ ok: true });
        await store.revokeAccessToken(revoked.id, later(3));
        const update = { kdf: kdf(), authKeyHash: hash(), wrappedAccountKey: b64(73), at: later(5) };
        // a password change: every token as it was
        expect(await store.changeCredentials(user.id, user.authKeyHash, 'password', update, null)).toMatchObject({ ok: true, revokedTokens: 0 });
        expect((await store.getAccessToken(live.id))!.revokedAt).toBeNull();
        const recovery = { authKeyHash: hash(), wrappedAccountKey: b64(73), createdAt: later(6) };
        expect(await store.setRecovery(user.id, recovery)).toBe(true);
        const stale = { ...update, at: later(7) };
        // a stale recovery revokes nothing
        expect(await store.changeCredentials(user.id, hash(), 'recovery', stale, null)).toEqual({ ok: false, reason: 'stale' });
        expect((await store.getAccessToken(live.id))!.revokedAt).toBeNull();
        expect(await store.changeCredentials(user.id, recovery.authKeyHash, 'recovery', stale, null)).toEqual({
          ok: true,
          revokedSessions: 0,
          recoveryKeyRevoked: true,
          revokedTokens: 1,
        });
        expect((await store.getAccessToken(live.id))!.revokedAt).toEqual(later(7));
        // an expired token stays expired, a revoked one keeps its time, another user's is not touched
        expect((await store.getAccessToken(expired.id))!.revokedAt).toBeNull();
        expect((await store.getAccessToken(theirs.id))!.revokedAt).toBeNull();
        expect((await store.getAccessToken(revoked.id))!.revokedAt).toEqual(later(3));
      });

      it('a password change deletes the recovery record in the same transaction; a stale one keeps it', async () => {
        const user = newUser();
        await store.createUser(user);
        const caller = await session(user.id);
        const renewal = { replaces: caller, opens: { id: hex(16), userId: user.id, tokenHash: hash(), client: null, ip: null, createdAt: later(5), expiresAt: later(60_000) } };
        const recovery = { authKeyHash: hash(), wrappedAccountKey: b64(73), createdAt: later(1) };
        expect(await store.setRecovery(user.id, recovery)).toBe(true);
        const update = { kdf: kdf(), authKeyHash: hash(), wrappedAccountKey: b64(73), at: later(5) };
        expect(await store.changeCredentials(user.id, hash(), 'password', update, renewal)).toEqual({ ok: false, reason: 'stale' });
        expect(await store.getRecovery(user.id)).not.toBeNull();
        expect(await store.changeCredentials(user.id, user.authKeyHash, 'password', update, renewal)).toEqual({
          ok: true,
          revokedSessions: 0,
          recoveryKeyRevoked: true,
          revokedTokens: 0,
        });
        expect(await store.getRecovery(user.id)).toBeNull();
        expect((await store.getAccountMeta(user.id))!.recoveryCreatedAt).toBeNull();
        expect(await store.changeCredentials(user.id, recovery.authKeyHash, 'recovery', update, null)).toEqual({ ok: false, reason: 'stale' });
      });

      it('counts usage per workspace and lists stored blobs by id', async () => {
        const { user, wsId } = await userWithWorkspace();
        const blobs = [blob(10), blob(20), blob(30)];
        await store.putBlobs(wsId, blobs);
        const s = snapshot(null, [blobs[0]!.id]);
        expect((await store.createSnapshot(wsId, s)).ok).toBe(true);
        const usage = await store.workspaceUsageOfUser(user.id);
        expect(usage).toEqual([{ workspaceId: wsId, teamId: user.personalTeam.id, snapshots: 1, blobs: 3, bytes: 60 + s.data.length }]);
        expect(await store.listBlobSizes(wsId)).toEqual(
          blobs.map((b) => ({ id: b.id, size: b.data.length })).sort((x, y) => (x.id < y.id ? -1 : 1)),
        );
        expect(await store.listBlobSizes(hex(16))).toEqual([]);
        expect(await store.workspaceUsageOfUser(hex(16))).toEqual([]);
      });

      it('deletes a user with sessions, recovery, personal team, workspaces, blobs and snapshots, and frees the email', async () => {
        const { user, wsId } = await userWithWorkspace();
        const other = await userWithWorkspace();
        await session(user.id);
        await store.setRecovery(user.id, { authKeyHash: hash(), wrappedAccountKey: b64(73), createdAt: T0 });
        const blobs = [blob(), blob()];
        await store.putBlobs(wsId, blobs);
        await store.createSnapshot(wsId, snapshot(null, blobs.map((b) => b.id)));
        expect(await store.deleteUser(user.id, hash())).toEqual({ ok: false, reason: 'stale' });
        expect(await store.getUserById(user.id)).not.toBeNull();
        expect(await store.getWorkspace(wsId)).not.toBeNull();
        expect(await store.deleteUser(hex(16), hash())).toEqual({ ok: false, reason: 'no_user' });

        const res = await store.deleteUser(user.id, user.authKeyHash);
        expect(res).toEqual({
          ok: true,
          removed: { sessions: 1, accessTokens: 0, recoveryKeys: 1, memberships: 1, teams: 1, workspaces: 1, snapshots: 1, blobs: 2, invitations: 0 },
          teamIds: [user.personalTeam.id],
        });
        expect(await store.getUserById(user.id)).toBeNull();
        expect(await store.getUserByEmail(user.email)).toBeNull();
        expect(await store.getRecovery(user.id)).toBeNull();
        expect(await store.getAccountMeta(user.id)).toBeNull();
        expect(await store.getWorkspace(wsId)).toBeNull();
        expect(await store.getTeam(user.personalTeam.id)).toBeNull();
        expect(await store.readBlobs(wsId, blobs.map((b) => b.id))).toEqual([null, null]);
        expect(await store.listSessionsOfUser(user.id, T0)).toEqual([]);
        // other accounts are untouched
        expect(await store.getWorkspace(other.wsId)).not.toBeNull();
        // the same email signs up again as a new account that sees nothing of the old one
        const again = newUser(user.email);
        expect(await store.createUser(again)).toEqual({ ok: true });
        expect(await store.listWorkspacesOfUser(again.id)).toEqual([]);
      });
    });

    describe('garbage collection', () => {
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const soon = () => new Date(Date.now() + 60_000);

      it('deletes only blobs no snapshot references, keeps those of older snapshots, and lowers the size', async () => {
        const { wsId } = await userWithWorkspace();
        const [a, b, c, junk1, junk2] = [blob(100), blob(200), blob(300), blob(400), blob(500)];
        await store.putBlobs(wsId, [a, b, c, junk1, junk2]);
        const s1 = snapshot(null, [a.id, b.id]);
        expect((await store.createSnapshot(wsId, s1)).ok).toBe(true);
        // the child records only its new blob; a and b stay referenced through s1
        const s2 = snapshot(s1.id, [c.id]);
        expect((await store.createSnapshot(wsId, s2)).ok).toBe(true);
        const before = (await store.getWorkspace(wsId))!.size;

        expect(await store.collectGarbage({ olderThan: soon(), dryRun: true })).toEqual({ workspaces: 1, blobs: 2, bytes: 900 });
        expect(await store.missingBlobs(wsId, [junk1.id, junk2.id])).toEqual([]);

        expect(await store.collectGarbage({ olderThan: soon() })).toEqual({ workspaces: 1, blobs: 2, bytes: 900 });
        expect(await store.missingBlobs(wsId, [a.id, b.id, c.id, junk1.id, junk2.id])).toEqual([junk1.id, junk2.id]);
        expect((await store.getWorkspace(wsId))!.size).toBe(before - 900);
        expect(await store.readBlobs(wsId, [a.id, c.id])).toEqual([a.data, c.data]);
        // nothing left to collect; other workspaces untouched
        expect(await store.collectGarbage({ olderThan: soon() })).toEqual({ workspaces: 0, blobs: 0, bytes: 0 });
      });

      it('leaves a workspace alone while blob traffic is newer than olderThan (a push in progress)', async () => {
        const { wsId } = await userWithWorkspace();
        const other = await userWithWorkspace();
        const x = blob(64);
        const y = blob(64);
        await store.putBlobs(wsId, [x]);
        await store.putBlobs(other.wsId, [y]);
        await sleep(15);
        const cutoff = new Date();
        await sleep(15);
        // a second push checks which blobs exist: x is stored, so it will not upload it again
        expect(await store.missingBlobs(wsId, [x.id])).toEqual([]);
        expect(await store.collectGarbage({ olderThan: cutoff })).toEqual({ workspaces: 1, blobs: 1, bytes: 64 });
        expect(await store.readBlobs(wsId, [x.id])).toEqual([x.data]);
        expect(await store.readBlobs(other.wsId, [y.id])).toEqual([null]);
        // the push finishes; x is referenced from now on and survives any later collection
        expect((await store.createSnapshot(wsId, snapshot(null, [x.id]))).ok).toBe(true);
        expect((await store.collectGarbage({ olderThan: soon() })).blobs).toBe(0);
        expect(await store.readBlobs(wsId, [x.id])).toEqual([x.data]);
      });

      it('purges sessions that expired before the cutoff; one logged out or revoked stays until it expires, without IP and client', async () => {
        const { user } = await userWithWorkspace();
        const session = (id: string, expiresAt: Date) => ({ id, userId: user.id, tokenHash: new Uint8Array(randomBytes(32)), client: 'cli', ip: '192.0.2.1', createdAt: T0, expiresAt });
        const tomorrow = new Date(Date.now() + 86_400_000);
        const live = session(hex(16), tomorrow);
        const expired = session(hex(16), later(1000));
        const loggedOut = session(hex(16), tomorrow);
        for (const s of [live, expired, loggedOut]) await store.createSession(s);
        expect(await store.revokeSessionOfUser(user.id, loggedOut.id)).toBe(true);
        const ids = async () => (await store.listSessionsOfUser(user.id, T0)).map((s) => s.id).sort();
        const all = [live.id, expired.id].sort();
        expect(await ids()).toEqual(all);
        // revocation time is now; the expiry is T0 + 1 s: a cutoff before both keeps everything
        const sessions = async (before: Date, dryRun = false) => (await store.purgeEnded(before, { dryRun })).sessions;
        expect(await sessions(later(500))).toBe(0);
        expect(await sessions(new Date(Date.now() + 60_000), true)).toBe(1);
        expect(await ids()).toEqual(all);
        expect((await store.listEndedSessionsOfUser(user.id, T0)).find((s) => s.id === loggedOut.id)).toMatchObject({ ip: '192.0.2.1', client: 'cli' });
        // the expired one goes; the logged-out one stays until it expires, without IP and client (endedSession)
        expect(await sessions(new Date(Date.now() + 60_000))).toBe(1);
        expect((await store.listSessionsOfUser(user.id, T0)).map((s) => s.id)).toEqual([live.id]);
        expect((await store.listEndedSessionsOfUser(user.id, T0)).map((s) => [s.id, s.ip, s.client])).toEqual([[loggedOut.id, null, null]]);
        expect(await sessions(new Date(Date.now() + 60_000))).toBe(0);
        expect(await sessions(new Date(tomorrow.getTime() + 1))).toBe(2);
        expect(await store.listEndedSessionsOfUser(user.id, tomorrow)).toEqual([]);
      });

      it('deletes in bounded batches, yielding between them: more unreferenced blobs than a batch, all of them, counts and size right', async () => {
        const { wsId } = await userWithWorkspace();
        // referenced and unreferenced blobs interleaved by id, more of each than one batch holds
        const kept = Array.from({ length: GC_BATCH_BLOBS + 200 }, () => blob(10));
        const junk = Array.from({ length: 2 * GC_BATCH_BLOBS + 500 }, () => blob(20));
        await store.putBlobs(wsId, [...kept, ...junk]);
        expect((await store.createSnapshot(wsId, snapshot(null, kept.map((b) => b.id)))).ok).toBe(true);
        const before = (await store.getWorkspace(wsId))!.size;
        const expected = { workspaces: 1, blobs: junk.length, bytes: junk.length * 20 };
        let pauses = 0;
        const pause = async () => {
          pauses++;
        };
        expect(await store.collectGarbage({ olderThan: soon(), dryRun: true, pause })).toEqual(expected);
        expect(pauses).toBeGreaterThanOrEqual(3);
        expect((await store.listBlobSizes(wsId)).length).toBe(kept.length + junk.length);
        pauses = 0;
        expect(await store.collectGarbage({ olderThan: soon(), pause })).toEqual(expected);
        // each transaction looks at no more than a batch of blobs, referenced or not
        expect(pauses).toBeGreaterThanOrEqual(Math.ceil((kept.length + junk.length) / GC_BATCH_BLOBS));
        expect((await store.listBlobSizes(wsId)).map((b) => b.id)).toEqual(kept.map((b) => b.id).sort());
        expect((await store.getWorkspace(wsId))!.size).toBe(before - expected.bytes);
        expect(await store.collectGarbage({ olderThan: soon() })).toEqual({ workspaces: 0, blobs: 0, bytes: 0 });
      });

      it('deletes at most a batch of bytes per transaction', async () => {
        const { wsId } = await userWithWorkspace();
        const size = 1024 * 1024;
        const junk = Array.from({ length: Math.floor(GC_BATCH_BYTES / size) + 4 }, () => blob(size));
        for (const b of junk) await store.putBlobs(wsId, [b]);
        let pauses = 0;
        const report = await store.collectGarbage({ olderThan: soon(), pause: async () => void pauses++ });
        expect(report).toEqual({ workspaces: 1, blobs: junk.length, bytes: junk.length * size });
        expect(pauses).toBeGreaterThanOrEqual(2);
        expect(await store.listBlobSizes(wsId)).toEqual([]);
      });

      it('stops collecting a workspace whose blob traffic starts between two batches (a push starting mid-collection), and goes on with the others', async () => {
        const { wsId } = await userWithWorkspace();
        const other = await userWithWorkspace();
        const junk = Array.from({ length: 2 * GC_BATCH_BLOBS + 500 }, () => blob(10));
        const otherJunk = [blob(30), blob(30)];
        await store.putBlobs(wsId, junk);
        await store.putBlobs(other.wsId, otherJunk);
        await sleep(15);
        const cutoff = new Date();
        await sleep(15);
        const sizeBefore = (await store.getWorkspace(wsId))!.size;
        // after the first batch of wsId, a push asks which blobs are stored (stamping the workspace)
        let stamped: string[] | undefined;
        const pause = async () => {
          if (stamped === undefined && (await store.listBlobSizes(wsId)).length < junk.length) {
            stamped = await store.missingBlobs(wsId, junk.map((b) => b.id));
          }
        };
        const report = await store.collectGarbage({ olderThan: cutoff, pause });
        expect(stamped).toBeDefined();
        const left = (await store.listBlobSizes(wsId)).map((b) => b.id);
        // exactly one batch went; what the push was then told is stored stays
        expect(left.length).toBe(junk.length - GC_BATCH_BLOBS);
        expect(left).toEqual(junk.map((b) => b.id).filter((id) => !stamped!.includes(id)).sort());
        expect(report).toEqual({ workspaces: 2, blobs: GC_BATCH_BLOBS + otherJunk.length, bytes: GC_BATCH_BLOBS * 10 + 60 });
        expect((await store.getWorkspace(wsId))!.size).toBe(sizeBefore - GC_BATCH_BLOBS * 10);
        expect(await store.listBlobSizes(other.wsId)).toEqual([]);
      });

      it('makes a snapshot that counts on a collected blob fail as missing_blobs, never dangle', async () => {
        const { wsId } = await userWithWorkspace();
        const x = blob(64);
        await store.putBlobs(wsId, [x]);
        await store.collectGarbage({ olderThan: soon() });
        const res = await store.createSnapshot(wsId, snapshot(null, [x.id]));
        expect(res).toEqual({ ok: false, reason: 'missing_blobs', missing: [x.id] });
        expect((await store.getWorkspace(wsId))!.head).toBeNull();
      });
    });
  });
}
