import { describe, expect, it } from 'vitest';
import { concatBytes, toHex } from '../../src/crypto/encoding.js';
import { IntegrityError } from '../../src/crypto/errors.js';
import { generateIdentity } from '../../src/crypto/keys.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { openSealed, sealToPublicKey } from '../../src/crypto/seal.js';
import { openTeamKeyGrant, OutdatedGrantError, sealTeamKeyGrant, teamKeyHash, UnsignedGrantError } from '../../src/crypto/team-grant.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { flipBit, seededBytes } from './helpers.js';

const p = noblePrimitives;
const owner = generateIdentity(p);
const bob = generateIdentity(p);
const server = generateIdentity(p);
const teamKey = seededBytes(32, 7);
const previousKey = seededBytes(32, 9);
const slot = { teamId: 'team-1', epoch: 3, previousKeyHash: teamKeyHash(p, previousKey) };
const at = { teamId: 'team-1', epoch: 3 };
const aad = { kind: 'team-key' as const, ownerId: 'team-1', epoch: 3 };

describe('team key grants', () => {
  it('the recipient gets the key and the granter who signed it, with either implementation', () => {
    const sealed = sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot);
    for (const impl of [p, nodePrimitives]) {
      const grant = openTeamKeyGrant(impl, bob, sealed, at);
      expect(toHex(grant.teamKey)).toBe(toHex(teamKey));
      expect(grant.granter.userId).toBe('owner-id');
      expect(toHex(grant.granter.ed25519PublicKey)).toBe(toHex(owner.ed25519.publicKey));
      expect(toHex(grant.granter.x25519PublicKey)).toBe(toHex(owner.x25519.publicKey));
      expect(toHex(grant.previousKeyHash!)).toBe(toHex(teamKeyHash(p, previousKey)));
    }
  });

  it('a grant opens only for its team, epoch and recipient', () => {
    const sealed = sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot);
    expect(() => openTeamKeyGrant(p, bob, sealed, { teamId: 'team-2', epoch: 3 })).toThrow(IntegrityError);
    expect(() => openTeamKeyGrant(p, bob, sealed, { teamId: 'team-1', epoch: 4 })).toThrow(IntegrityError);
    expect(() => openTeamKeyGrant(p, owner, sealed, at)).toThrow(IntegrityError);
  });

  it('flipping any byte → IntegrityError', () => {
    const sealed = sealTeamKeyGrant(p, { userId: 'o', identity: owner }, bob.x25519.publicKey, teamKey, slot);
    for (let i = 0; i < sealed.length; i++) {
      expect(() => openTeamKeyGrant(p, bob, flipBit(sealed, i, i % 8), at), `byte ${i}`).toThrow(IntegrityError);
    }
  });

  it('a bare sealed key, as anyone holding the public key can make, is refused as unsigned', () => {
    const bare = sealToPublicKey(p, bob.x25519.publicKey, teamKey, aad);
    expect(() => openTeamKeyGrant(p, bob, bare, at)).toThrow(UnsignedGrantError);
  });

  it('a signature over another key, epoch or recipient does not carry over', () => {
    // The server re-seals the owner's plaintext for epoch 3 with another team key in it.
    const genuine = openSealed(p, bob.x25519.secretKey, sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot), aad);
    const forged = concatBytes(genuine.subarray(0, 1), seededBytes(32, 8), genuine.subarray(33));
    expect(() => openTeamKeyGrant(p, bob, sealToPublicKey(p, bob.x25519.publicKey, forged, aad), at)).toThrow(IntegrityError);
    // A grant for bob replayed to carol: the signature names bob's key.
    const carol = generateIdentity(p);
    const forCarol = sealToPublicKey(p, carol.x25519.publicKey, genuine, aad);
    expect(() => openTeamKeyGrant(p, carol, forCarol, at)).toThrow(IntegrityError);
  });

  it('a grant signed with keys other than the ones it names does not verify', () => {
    const genuine = openSealed(p, bob.x25519.secretKey, sealTeamKeyGrant(p, { userId: 'owner-id', identity: server }, bob.x25519.publicKey, teamKey, slot), aad);
    // the server's signature, with the owner's public keys written in
    const claimed = concatBytes(genuine.subarray(0, 65), owner.x25519.publicKey, owner.ed25519.publicKey, genuine.subarray(129));
    expect(() => openTeamKeyGrant(p, bob, sealToPublicKey(p, bob.x25519.publicKey, claimed, aad), at)).toThrow(IntegrityError);
  });

  it('the previous key hash is signed: another one written in does not verify', () => {
    const genuine = openSealed(p, bob.x25519.secretKey, sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot), aad);
    const rechained = concatBytes(genuine.subarray(0, 33), teamKeyHash(p, seededBytes(32, 10)), genuine.subarray(65));
    expect(() => openTeamKeyGrant(p, bob, sealToPublicKey(p, bob.x25519.publicKey, rechained, aad), at)).toThrow(IntegrityError);
  });

  it('epoch 1 names no previous key, and every later epoch names one', () => {
    const first = { teamId: 'team-1', epoch: 1 };
    const sealed = sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, { ...first, previousKeyHash: null });
    expect(openTeamKeyGrant(p, bob, sealed, first).previousKeyHash).toBeNull();
    expect(() => sealTeamKeyGrant(p, { userId: 'o', identity: owner }, bob.x25519.publicKey, teamKey, { ...first, previousKeyHash: slot.previousKeyHash })).toThrow(RangeError);
    expect(() => sealTeamKeyGrant(p, { userId: 'o', identity: owner }, bob.x25519.publicKey, teamKey, { ...slot, previousKeyHash: null })).toThrow(RangeError);
    // an epoch-3 grant whose previous hash is all zeros, signed as such, still is refused
    const zeros = new Uint8Array(32);
    const genuine = openSealed(p, bob.x25519.secretKey, sealed, { kind: 'team-key', ownerId: 'team-1', epoch: 1 });
    expect(genuine.subarray(33, 65)).toEqual(zeros);
    const asEpoch3 = sealToPublicKey(p, bob.x25519.publicKey, genuine, aad);
    expect(() => openTeamKeyGrant(p, bob, asEpoch3, at)).toThrow(IntegrityError);
  });

  it('a grant of the first signed format, from before the chain, is refused as outdated', () => {
    const genuine = openSealed(p, bob.x25519.secretKey, sealTeamKeyGrant(p, { userId: 'owner-id', identity: owner }, bob.x25519.publicKey, teamKey, slot), aad);
    // format 1 had no previous key hash
    const formatOne = concatBytes(Uint8Array.of(1), genuine.subarray(1, 33), genuine.subarray(65));
    let error: unknown;
    try {
      openTeamKeyGrant(p, bob, sealToPublicKey(p, bob.x25519.publicKey, formatOne, aad), at);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OutdatedGrantError);
    expect(error).not.toBeInstanceOf(UnsignedGrantError);
  });
});
