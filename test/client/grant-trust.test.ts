/**
 * Whom a team key is taken from (client/grant-trust.ts), with the server's member list given by
 * hand: what a server can and cannot make this machine accept.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { grantTrust } from '../../src/client/grant-trust.js';
import { requireHeadAfterMark } from '../../src/client/history.js';
import { IntegrityFailure } from '../../src/client/errors.js';
import { generateIdentity, type Identity } from '../../src/crypto/keys.js';
import { noblePrimitives as p } from '../../src/crypto/primitives.js';
import { personalTeamIdOf } from '../../src/crypto/team-grant.js';
import { toB64 } from '../../src/protocol/encoding.js';
import type { TeamInfo, TeamMemberInfo } from '../../src/protocol/types.js';

const SERVER = 'http://127.0.0.1:1';
const me = { userId: 'me', identity: generateIdentity(p), accountKey: new Uint8Array(32).fill(7) };
const team: TeamInfo = { id: 'a'.repeat(32), name: 'Acme', personal: false, role: 'owner', epoch: 2, sealedKeys: [] } as unknown as TeamInfo;

function person(userId: string, role: TeamMemberInfo['role'] = 'admin'): { userId: string; identity: Identity; member: TeamMemberInfo } {
  const identity = generateIdentity(p);
  const member = {
    userId,
    email: `${userId}@example.com`,
    name: userId,
    role,
    status: 'confirmed',
    joinedAt: '',
    x25519PublicKey: toB64(identity.x25519.publicKey),
    ed25519PublicKey: toB64(identity.ed25519.publicKey),
  } as TeamMemberInfo;
  return { userId, identity, member };
}

const granter = (x: { userId: string; identity: Identity }) => ({ userId: x.userId, x25519PublicKey: x.identity.x25519.publicKey, ed25519PublicKey: x.identity.ed25519.publicKey });

function setup(members: TeamMemberInfo[]) {
  let asked = 0;
  const trust = grantTrust({
    configDir: mkdtempSync(path.join(tmpdir(), 'isync-trust-')),
    server: SERVER,
    ...me,
    membersOf: async () => {
      asked++;
      return members;
    },
  });
  return { trust, asked: () => asked };
}

describe('whom a team key is taken from', () => {
  it('the newest epoch from an owner or admin the server lists with those keys: taken once, then not asked again', async () => {
    const carol = person('carol');
    const { trust, asked } = setup([carol.member]);
    await trust.checkGranter(team, 2, granter(carol), true);
    trust.checkNewestEpoch(team, 2, 'carol');
    await trust.checkGranter(team, 2, granter(carol), true);
    expect(asked()).toBe(1);
  });

  it('refuses a granter not listed, listed as a plain member, or listed with other keys', async () => {
    const ghost = person('ghost');
    const plain = person('plain', 'member');
    const swapped = person('swapped');
    const { trust } = setup([plain.member, { ...swapped.member, ed25519PublicKey: toB64(generateIdentity(p).ed25519.publicKey) }]);
    for (const g of [ghost, plain, swapped]) {
      await expect(trust.checkGranter(team, 2, granter(g), true), g.userId).rejects.toThrow(/not an owner or admin/);
    }
    // an older epoch only reads history
    await trust.checkGranter(team, 1, granter(ghost), false);
  });

  it('once this machine vouched for someone in the team, only those it vouched for, even after all of them are gone', async () => {
    const bob = person('bob');
    const dave = person('dave');
    const { trust } = setup([bob.member, dave.member]);
    trust.vouch(team.id, ['bob']);
    await trust.checkGranter(team, 2, granter(bob), true);
    const refused = trust.checkGranter(team, 2, granter(dave), true);
    await expect(refused).rejects.toThrow(IntegrityFailure);
    await expect(refused).rejects.toThrow(/whose fingerprint this machine has not checked for this team/);
    trust.unvouch(team.id, 'bob');
    await expect(trust.checkGranter(team, 2, granter(bob), true)).rejects.toThrow(/has not checked/);
    await expect(trust.checkGranter(team, 2, granter(dave), true)).rejects.toThrow(/has not checked/);
  });

  it('a rotation keeps vouched only its recipients: a member who left cannot hand out the next key', async () => {
    const carol = person('carol');
    const bob = person('bob');
    const { trust } = setup([carol.member, bob.member]);
    trust.vouch(team.id, ['bob', 'carol']);
    trust.retainVouched(team.id, ['me', 'bob']);
    await expect(trust.checkGranter(team, 3, granter(carol), true)).rejects.toThrow(/has not checked/);
    await trust.checkGranter(team, 3, granter(bob), true);
  });

  it('the personal team, known by the id the account key gives it, takes keys from no one else, whatever the flag says', async () => {
    const carol = person('carol');
    const { trust } = setup([carol.member]);
    const personal = { ...team, id: personalTeamIdOf(me.accountKey), personal: false };
    await expect(trust.checkGranter(personal, 2, granter(carol), true)).rejects.toThrow(/personal team/);
    await trust.checkGranter(personal, 2, granter(me), true);
  });

  it('a recorded granter with other keys is refused; epochs never go back', async () => {
    const carol = person('carol');
    const { trust } = setup([carol.member]);
    await trust.checkGranter(team, 2, granter(carol), true);
    trust.checkNewestEpoch(team, 2, 'carol');
    const impostor = { ...granter(person('x')), userId: 'carol' };
    await expect(trust.checkGranter(team, 1, impostor, false)).rejects.toThrow(/do not match the fingerprint/);
    expect(() => trust.checkNewestEpoch(team, 1, 'carol')).toThrow(/rolled the team's keys back/);
  });

  it('a team this machine created is strict from the start; a workspace stays in the team it was first seen in', async () => {
    const carol = person('carol');
    const { trust } = setup([carol.member]);
    trust.createdTeam(team.id);
    await expect(trust.checkGranter(team, 2, granter(carol), true)).rejects.toThrow(/has not checked/);
    trust.checkWorkspaceTeam('w1', team.id);
    trust.checkWorkspaceTeam('w1', team.id);
    expect(() => trust.checkWorkspaceTeam('w1', 'b'.repeat(32))).toThrow(/this machine saw it in team/);
  });

  it("a workspace's epoch mark: the head when its newest epoch was first seen, kept until a newer one (or this machine's rotation)", () => {
    const { trust } = setup([]);
    expect(trust.markEpoch('w1', 1, null)).toEqual({ epoch: 1, head: null });
    // the same epoch seen later with a newer head: the first sight stands
    expect(trust.markEpoch('w1', 1, 'h1')).toEqual({ epoch: 1, head: null });
    expect(trust.markEpoch('w1', 2, 'h2')).toEqual({ epoch: 2, head: 'h2' });
    expect(trust.markEpoch('w1', 1, 'h3')).toEqual({ epoch: 2, head: 'h2' });
    // a rotation made here reads the heads after it: they replace a mark of the same epoch, not of a newer one
    expect(trust.markEpoch('w1', 2, 'h4', true)).toEqual({ epoch: 2, head: 'h4' });
    expect(trust.markEpoch('w1', 1, 'h5', true)).toEqual({ epoch: 2, head: 'h4' });
    // kept in the config dir, per workspace
    expect(trust.markEpoch('w2', 3, 'x')).toEqual({ epoch: 3, head: 'x' });
    expect(trust.markEpoch('w1', 2, 'h6')).toEqual({ epoch: 2, head: 'h4' });
  });

  it('a head other than the marked one, under an older epoch than the mark, is refused; the marked head and newer epochs pass', () => {
    const ring = { since: { epoch: 2, head: 'h' } };
    expect(() => requireHeadAfterMark(ring, { id: 'h', epoch: 1 })).not.toThrow();
    expect(() => requireHeadAfterMark(ring, { id: 'n', epoch: 2 })).not.toThrow();
    expect(() => requireHeadAfterMark(ring, { id: 'n', epoch: 3 })).not.toThrow();
    expect(() => requireHeadAfterMark({}, { id: 'n', epoch: 1 })).not.toThrow();
    expect(() => requireHeadAfterMark(ring, { id: 'n', epoch: 1 })).toThrow(IntegrityFailure);
    expect(() => requireHeadAfterMark({ since: { epoch: 2, head: null } }, { id: 'n', epoch: 1 })).toThrow(/saw the workspace at epoch 2/);
  });
});
