import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/crypto/encoding.js';
import { IntegrityError } from '../../src/crypto/errors.js';
import { generateIdentity } from '../../src/crypto/keys.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { openSealed, sealToPublicKey } from '../../src/crypto/seal.js';
import { openTeamKeyGrant, sealTeamKeyGrant, UnsignedGrantError } from '../../src/crypto/team-grant.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { flipBit, seededBytes } from './helpers.js';

const p = noblePrimitives;
const owner = generateIdentity(p);
const bob = generateIdentity(p);
const server = generateIdentity(p);
const teamKey = seededBytes(32, 7);
const slot = { teamId: 'team-1', epoch: 3 };
const aad = { kind: 'team-key' as const, ownerId: 'team-1', epoch: 3 };

describe('team key grants', () => {
  it('the recipient gets the key and the granter who signed it, with either implementation', () => {
    const sealed = sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot);
    for (const impl of [p, nodePrimitives]) {
      const grant = openTeamKeyGrant(impl, bob, sealed, slot);
      expect(toHex(grant.teamKey)).toBe(toHex(teamKey));
      expect(grant.granter.userId).toBe('owner-id');
      expect(toHex(grant.granter.ed25519PublicKey)).toBe(toHex(owner.ed25519.publicKey));
      expect(toHex(grant.granter.x25519PublicKey)).toBe(toHex(owner.x25519.publicKey));
    }
  });

  it('a grant opens only for its team, epoch and recipient', () => {
    const sealed = sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot);
    expect(() => openTeamKeyGrant(p, bob, sealed, { teamId: 'team-2', epoch: 3 })).toThrow(IntegrityError);
    expect(() => openTeamKeyGrant(p, bob, sealed, { teamId: 'team-1', epoch: 4 })).toThrow(IntegrityError);
    expect(() => openTeamKeyGrant(p, owner, sealed, slot)).toThrow(IntegrityError);
  });

  it('flipping any byte → IntegrityError', () => {
    const sealed = sealTeamKeyGrant(p, { userId: 'o', identity: owner }, bob.x25519.publicKey, teamKey, slot);
    for (let i = 0; i < sealed.length; i++) {
      expect(() => openTeamKeyGrant(p, bob, flipBit(sealed, i, i % 8), slot), `byte ${i}`).toThrow(IntegrityError);
    }
  });

  it('a bare sealed key, as anyone holding the public key can make, is refused as unsigned', () => {
    const bare = sealToPublicKey(p, bob.x25519.publicKey, teamKey, aad);
    expect(() => openTeamKeyGrant(p, bob, bare, slot)).toThrow(UnsignedGrantError);
  });

  it('a signature over another key, epoch or recipient does not carry over', () => {
    // The server re-seals the owner's plaintext for epoch 3 with another team key in it.
    const genuine = openSealed(p, bob.x25519.secretKey, sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot), aad);
    const forged = concatBytes(genuine.subarray(0, 1), seededBytes(32, 8), genuine.subarray(33));
    expect(() => openTeamKeyGrant(p, bob, sealToPublicKey(p, bob.x25519.publicKey, forged, aad), slot)).toThrow(IntegrityError);
    // A grant for bob replayed to carol: the signature names bob's key.
    const carol = generateIdentity(p);
    const forCarol = sealToPublicKey(p, carol.x25519.publicKey, genuine, aad);
    expect(() => openTeamKeyGrant(p, carol, forCarol, slot)).toThrow(IntegrityError);
  });

  it('a grant signed with keys other than the ones it names does not verify', () => {
    const genuine = openSealed(p, bob.x25519.secretKey, sealTeamKeyGrant(p, { userId: 'owner-id', identity: server }, bob.x25519.publicKey, teamKey, slot), aad);
    // the server's signature, with the owner's public keys written in
    const claimed = concatBytes(genuine.subarray(0, 33), owner.x25519.publicKey, owner.ed25519.publicKey, genuine.subarray(97));
    expect(() => openTeamKeyGrant(p, bob, sealToPublicKey(p, bob.x25519.publicKey, claimed, aad), slot)).toThrow(IntegrityError);
  });
});
