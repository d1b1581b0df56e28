/**
 * teamKeyChain keeps only the keys its walk down from the newest epoch checks: each older key must
 * hash to what the next epoch's grant names. Keys the server adds outside that walk (an epoch
 * below 1, one below a gap) are dropped, however they are signed.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../src/crypto/aead.js';
import { generateIdentity, type Identity } from '../../src/crypto/keys.js';
import { noblePrimitives as p } from '../../src/crypto/primitives.js';
import { sealTeamKeyGrant, teamKeyHash } from '../../src/crypto/team-grant.js';
import { generateKey } from '../../src/crypto/workspace-keys.js';
import { grantTrust } from '../../src/client/grant-trust.js';
import { teamKeyChain, unlockWorkspace } from '../../src/client/keyring.js';
import { IntegrityFailure } from '../../src/client/errors.js';
import { toB64 } from '../../src/protocol/encoding.js';
import type { TeamInfo, TeamMemberInfo, WorkspaceInfo } from '../../src/protocol/types.js';

const me = generateIdentity(p);
const owner = generateIdentity(p);
const stranger = generateIdentity(p);
const teamId = 'a'.repeat(32);
const k1 = generateKey(p);
const k2 = generateKey(p);

function grant(who: Identity, userId: string, key: Uint8Array, epoch: number, previousKeyHash: Uint8Array | null): string {
  return toB64(sealTeamKeyGrant(p, { userId, identity: who }, me.x25519.publicKey, key, { teamId, epoch, previousKeyHash }));
}

function team(extra: { epoch: number; sealedKey: string }[]): TeamInfo {
  return {
    id: teamId,
    name: 'Acme',
    personal: false,
    role: 'member',
    epoch: 2,
    sealedKeys: [{ epoch: 1, sealedKey: grant(owner, 'owner', k1, 1, null) }, { epoch: 2, sealedKey: grant(owner, 'owner', k2, 2, teamKeyHash(p, k1)) }, ...extra],
  } as TeamInfo;
}

function holder() {
  const members = [
    { userId: 'owner', email: 'o@example.com', name: 'O', role: 'owner', status: 'confirmed', x25519PublicKey: toB64(owner.x25519.publicKey), ed25519PublicKey: toB64(owner.ed25519.publicKey) },
  ] as TeamMemberInfo[];
  const trust = grantTrust({
    configDir: mkdtempSync(path.join(os.tmpdir(), 'isync-chain-')),
    server: 'http://sync.example.test',
    userId: 'me',
    identity: me,
    accountKey: new Uint8Array(32).fill(1),
    membersOf: async () => members,
  } as Parameters<typeof grantTrust>[0]);
  return { identity: me, trust };
}

describe('teamKeyChain', () => {
  it('keeps the chained epochs and their previous-key hashes', async () => {
    const chain = await teamKeyChain(p, holder(), team([]));
    expect([...chain.keys.keys()].sort()).toEqual([1, 2]);
    expect(chain.previousKeyHash.get(1)).toBeNull();
    expect(chain.previousKeyHash.get(2)).toEqual(teamKeyHash(p, k1));
  });

  it('drops a key for epoch 0 the server made up (any granter, any previous hash): no workspace key opens under it', async () => {
    const k0 = generateKey(p);
    const t = team([{ epoch: 0, sealedKey: grant(stranger, 'former', k0, 0, new Uint8Array(32).fill(7)) }]);
    const chain = await teamKeyChain(p, holder(), t);
    expect([...chain.keys.keys()].sort()).toEqual([1, 2]);
    const wsId = 'b'.repeat(32);
    const wrap = (key: Uint8Array, epoch: number) => ({ epoch, wrappedKey: toB64(sealEnvelope(p, key, generateKey(p), { kind: 'workspace-key', workspaceId: wsId, epoch })) });
    const ws = { id: wsId, teamId, keys: [wrap(k0, 0), wrap(k1, 1), wrap(k2, 2)] } as WorkspaceInfo;
    const ring = await unlockWorkspace(p, holder(), ws, [t]);
    expect([...ring.byEpoch.keys()].sort()).toEqual([1, 2]);
  });

  it('refuses a replaced older key, and a newest epoch below 1', async () => {
    const forged = { ...team([]), sealedKeys: [{ epoch: 1, sealedKey: grant(stranger, 'former', generateKey(p), 1, null) }, team([]).sealedKeys[1]!] } as TeamInfo;
    await expect(teamKeyChain(p, holder(), forged)).rejects.toThrow(IntegrityFailure);
    const onlyZero = { ...team([]), sealedKeys: [{ epoch: 0, sealedKey: grant(owner, 'owner', generateKey(p), 0, new Uint8Array(32).fill(7)) }] } as TeamInfo;
    await expect(teamKeyChain(p, holder(), onlyZero)).rejects.toThrow(IntegrityFailure);
  });
});
