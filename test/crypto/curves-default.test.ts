// Runs in its own module graph (vitest isolates test files): nothing here imports a curve
// implementation statically, so the fallback of curves.ts starts out empty.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/encoding.js';
import { CryptoArgumentError } from '../../src/crypto/errors.js';
import { identityFromSecrets, signDetached, verifyDetached } from '../../src/crypto/keys.js';
import { h, loadVectors } from './helpers.js';

interface Ed25519Vector { name: string; secretKey: string; publicKey: string; message: string; signature: string }

describe('curve operations without Primitives use the first curve implementation loaded', () => {
  const [v] = loadVectors<{ vectors: Ed25519Vector[] }>('ed25519.json').vectors;
  it('before any is loaded, they fail with an argument error naming the fix', () => {
    expect(() => identityFromSecrets(new Uint8Array(32), h(v!.secretKey))).toThrow(CryptoArgumentError);
    expect(() => signDetached(h(v!.secretKey), h(v!.message))).toThrow(/pass Primitives/);
  });
  it('after the native module loads, they run on it, and a Primitives without curves falls back to it', async () => {
    const { nodePrimitives } = await import('../../src/native/primitives-node.js');
    const id = identityFromSecrets(new Uint8Array(32), h(v!.secretKey));
    expect(toHex(id.ed25519.publicKey)).toBe(v!.publicKey);
    expect(toHex(signDetached(h(v!.secretKey), h(v!.message)))).toBe(v!.signature);
    const { x25519: _x, ed25519: _e, ...withoutCurves } = nodePrimitives;
    expect(verifyDetached(h(v!.publicKey), h(v!.signature), h(v!.message), withoutCurves)).toBe(true);
  });
});
