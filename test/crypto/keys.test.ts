import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import {
  fingerprint,
  fingerprintsEqual,
  generateIdentity,
  identityFromSecrets,
  normalizeFingerprint,
  signDetached,
  verifyDetached,
} from '../../src/crypto/keys.js';
import { noblePrimitives, type Primitives } from '../../src/crypto/primitives.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { flipBit, seededBytes } from './helpers.js';

describe('identities', () => {
  it('generateIdentity draws both secrets from the injected randomness', () => {
    let n = 0;
    const counting: Primitives = { ...noblePrimitives, randomBytes: (len) => seededBytes(len, ++n) };
    const id = generateIdentity(counting);
    expect(toHex(id.x25519.secretKey)).toBe(toHex(seededBytes(32, 1)));
    expect(toHex(id.ed25519.secretKey)).toBe(toHex(seededBytes(32, 2)));
    const again = identityFromSecrets(seededBytes(32, 1), seededBytes(32, 2));
    expect(toHex(again.x25519.publicKey)).toBe(toHex(id.x25519.publicKey));
    expect(toHex(again.ed25519.publicKey)).toBe(toHex(id.ed25519.publicKey));
  });
  it('checks secret lengths', () => {
    expect(() => identityFromSecrets(new Uint8Array(31), new Uint8Array(32))).toThrow(/x25519Secret must be 32 bytes, got 31/);
    expect(() => identityFromSecrets(new Uint8Array(32), 'x' as unknown as Uint8Array)).toThrow(/ed25519Secret must be a Uint8Array, got string/);
  });
});

describe('fingerprint', () => {
  const x = seededBytes(32, 10);
  const e = seededBytes(32, 11);
  it('is 8 groups of 5 digits and stable for the same keys', () => {
    const fp = fingerprint(x, e);
    expect(fp).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(fingerprint(x, e)).toBe(fp);
  });
  it('pins the format (label, hash, grouping) to a known value', () => {
    // Computed once from the definition in docs/crypto.md; a change here is a format change.
    expect(fingerprint(new Uint8Array(32), new Uint8Array(32))).toBe(KNOWN_ZERO_FINGERPRINT);
    expect(fingerprint(new Uint8Array(32), new Uint8Array(32), nodePrimitives)).toBe(KNOWN_ZERO_FINGERPRINT);
    expect(fingerprint(x, e, nodePrimitives)).toBe(fingerprint(x, e, noblePrimitives));
  });
  it('differs when either key changes by one bit, or the keys are swapped', () => {
    const fp = fingerprint(x, e);
    expect(fingerprint(flipBit(x, 0), e)).not.toBe(fp);
    expect(fingerprint(x, flipBit(e, 31, 7))).not.toBe(fp);
    expect(fingerprint(e, x)).not.toBe(fp);
  });
  it('compares after normalising spaces and dashes', () => {
    const fp = fingerprint(x, e);
    expect(normalizeFingerprint(fp)).toMatch(/^\d{40}$/);
    expect(normalizeFingerprint(fp.replaceAll(' ', '-'))).toBe(normalizeFingerprint(fp));
    expect(fingerprintsEqual(fp, ` ${fp.replaceAll(' ', '')}\n`)).toBe(true);
    expect(fingerprintsEqual(fp, fingerprint(flipBit(x, 0), e))).toBe(false);
    expect(fingerprintsEqual('', '')).toBe(false);
  });
});

describe('signatures', () => {
  const id = identityFromSecrets(seededBytes(32, 20), seededBytes(32, 21));
  const message = utf8('snapshot');
  it('sign then verify; any change fails', () => {
    const sig = signDetached(id.ed25519.secretKey, message);
    expect(sig.length).toBe(64);
    expect(verifyDetached(id.ed25519.publicKey, sig, message)).toBe(true);
    expect(verifyDetached(id.ed25519.publicKey, sig, utf8('snapshoT'))).toBe(false);
    expect(verifyDetached(id.ed25519.publicKey, flipBit(sig, 10), message)).toBe(false);
    expect(verifyDetached(flipBit(id.ed25519.publicKey, 0), sig, message)).toBe(false);
  });
  it('malformed signature or key lengths give false, not an exception', () => {
    const sig = signDetached(id.ed25519.secretKey, message);
    expect(verifyDetached(id.ed25519.publicKey, sig.subarray(0, 63), message)).toBe(false);
    expect(verifyDetached(id.ed25519.publicKey.subarray(0, 31), sig, message)).toBe(false);
    expect(verifyDetached(new Uint8Array(32).fill(0xff), sig, message)).toBe(false);
  });
  it('is strict RFC 8032: a non-canonical S (S + L) that ZIP-215 would accept is rejected', () => {
    const sig = signDetached(id.ed25519.secretKey, message);
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!);
    const bumped = s + L;
    const forged = sig.slice();
    for (let i = 0; i < 32; i++) forged[32 + i] = Number((bumped >> BigInt(8 * i)) & 0xffn);
    expect(bumped < 2n ** 256n).toBe(true);
    expect(verifyDetached(id.ed25519.publicKey, forged, message)).toBe(false);
  });
  it('rejects a small-order public key that ZIP-215 verification accepts', () => {
    // The identity point (encoded as 1) with R = identity and S = 0 "signs" every message under
    // ZIP-215 rules; strict verification must refuse it.
    const identityPoint = new Uint8Array(32);
    identityPoint[0] = 1;
    const sig = new Uint8Array(64);
    sig.set(identityPoint, 0);
    expect(ed25519.verify(sig, message, identityPoint, { zip215: true })).toBe(true);
    expect(verifyDetached(identityPoint, sig, message)).toBe(false);
  });
});

const KNOWN_ZERO_FINGERPRINT = '44053 19953 38530 02279 78568 59937 38785 07978';
