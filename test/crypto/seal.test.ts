import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { CryptoArgumentError, IntegrityError } from '../../src/crypto/errors.js';
import { generateIdentity } from '../../src/crypto/keys.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { openSealed, SEAL_OVERHEAD, sealToPublicKey } from '../../src/crypto/seal.js';
import type { Slot } from '../../src/crypto/aead.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { flipBit, seededBytes } from './helpers.js';

const p = noblePrimitives;
const alice = generateIdentity(p);
const bob = generateIdentity(p);
const slot: Slot = { kind: 'team-key', ownerId: 'team-1', objectId: 'member-bob', epoch: 2 };
const teamKey = seededBytes(32, 42);

describe('sealed boxes', () => {
  it('the recipient opens what was sealed to their public key, with either implementation', () => {
    const sealed = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    expect(sealed.length).toBe(32 + 41 + 32);
    expect(SEAL_OVERHEAD).toBe(73);
    expect(toHex(openSealed(p, bob.x25519.secretKey, sealed, slot))).toBe(toHex(teamKey));
    expect(toHex(openSealed(nodePrimitives, bob.x25519.secretKey, sealed, slot))).toBe(toHex(teamKey));
  });

  it('uses a fresh ephemeral key per seal', () => {
    const a = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    const b = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    expect(toHex(a.subarray(0, 32))).not.toBe(toHex(b.subarray(0, 32)));
  });

  it('another key pair cannot open it', () => {
    const sealed = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    expect(() => openSealed(p, alice.x25519.secretKey, sealed, slot)).toThrow(IntegrityError);
  });

  it('flipping any byte → IntegrityError', () => {
    const sealed = sealToPublicKey(p, bob.x25519.publicKey, utf8('k'), slot);
    for (let i = 0; i < sealed.length; i++) {
      expect(() => openSealed(p, bob.x25519.secretKey, flipBit(sealed, i, i % 8), slot), `byte ${i}`).toThrow(IntegrityError);
    }
  });

  it('changing the ephemeral key bit X25519 ignores (top bit of byte 31) still fails: the salt binds the exact bytes', () => {
    const sealed = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    expect(() => openSealed(p, bob.x25519.secretKey, flipBit(sealed, 31, 7), slot)).toThrow(IntegrityError);
  });

  it('truncation and a different slot → IntegrityError', () => {
    const sealed = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    for (const len of [0, 31, 32, 72, 73, sealed.length - 1]) {
      expect(() => openSealed(p, bob.x25519.secretKey, sealed.subarray(0, len), slot)).toThrow(IntegrityError);
    }
    for (const other of [{ ...slot, kind: 'workspace-key' as const }, { ...slot, epoch: 3 }, { ...slot, objectId: 'member-eve' }, { ...slot, ownerId: 'team-2' }]) {
      expect(() => openSealed(p, bob.x25519.secretKey, sealed, other)).toThrow(IntegrityError);
    }
  });

  it('a low-order ephemeral point in the box → IntegrityError; sealing to one → CryptoArgumentError', () => {
    const sealed = sealToPublicKey(p, bob.x25519.publicKey, teamKey, slot);
    const zeroPoint = sealed.slice();
    zeroPoint.fill(0, 0, 32);
    expect(() => openSealed(p, bob.x25519.secretKey, zeroPoint, slot)).toThrow(IntegrityError);
    const onePoint = sealed.slice();
    onePoint.fill(0, 0, 32);
    onePoint[0] = 1;
    expect(() => openSealed(p, bob.x25519.secretKey, onePoint, slot)).toThrow(IntegrityError);
    expect(() => sealToPublicKey(p, new Uint8Array(32), teamKey, slot)).toThrow(CryptoArgumentError);
  });
});
