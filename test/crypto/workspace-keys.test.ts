import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { hkdfSha256 } from '../../src/crypto/kdf.js';
import { LABELS } from '../../src/crypto/labels.js';
import { noblePrimitives, type Primitives } from '../../src/crypto/primitives.js';
import { blobId, deriveWorkspaceSubkeys, generateKey } from '../../src/crypto/workspace-keys.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { seededBytes } from './helpers.js';

describe('workspace subkeys', () => {
  const workspaceKey = seededBytes(32, 1);
  it('are four distinct keys, none equal to the workspace key, each HKDF under its own label', () => {
    const keys = deriveWorkspaceSubkeys(workspaceKey);
    const all = [keys.blobIdKey, keys.blobKey, keys.manifestKey, keys.nameKey, workspaceKey].map(toHex);
    expect(new Set(all).size).toBe(5);
    expect(toHex(keys.manifestKey)).toBe(toHex(hkdfSha256(workspaceKey, undefined, utf8(LABELS.manifestKey), 32)));
    expect(toHex(keys.blobIdKey)).toBe(toHex(hkdfSha256(workspaceKey, undefined, utf8(LABELS.blobId), 32)));
  });
  it('are deterministic and depend on the workspace key', () => {
    expect(toHex(deriveWorkspaceSubkeys(workspaceKey).blobKey)).toBe(toHex(deriveWorkspaceSubkeys(workspaceKey).blobKey));
    expect(toHex(deriveWorkspaceSubkeys(seededBytes(32, 2)).blobKey)).not.toBe(toHex(deriveWorkspaceSubkeys(workspaceKey).blobKey));
  });
});

describe('blobId', () => {
  const { blobIdKey } = deriveWorkspaceSubkeys(seededBytes(32, 1));
  it('is 64 lowercase hex, the same for identical content and for both implementations', () => {
    const content = utf8('{"token":"secret"}');
    const id = blobId(noblePrimitives, blobIdKey, content);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(blobId(nodePrimitives, blobIdKey, content)).toBe(id);
    expect(blobId(noblePrimitives, blobIdKey, utf8('{"token":"secreT"}'))).not.toBe(id);
  });
  it('is keyed: another workspace, or a plain SHA-256, gives a different id', () => {
    const content = utf8('same file');
    const other = deriveWorkspaceSubkeys(seededBytes(32, 2)).blobIdKey;
    expect(blobId(noblePrimitives, other, content)).not.toBe(blobId(noblePrimitives, blobIdKey, content));
    expect(blobId(noblePrimitives, blobIdKey, content)).not.toBe(toHex(noblePrimitives.sha256(content)));
  });
});

describe('generateKey', () => {
  it('returns 32 bytes from the injected randomness', () => {
    const fixed: Primitives = { ...noblePrimitives, randomBytes: (n) => new Uint8Array(n).fill(7) };
    expect(toHex(generateKey(fixed))).toBe('07'.repeat(32));
    expect(generateKey(noblePrimitives).length).toBe(32);
  });
  it('refuses a Primitives whose randomBytes returns the wrong length', () => {
    const broken: Primitives = { ...noblePrimitives, randomBytes: () => new Uint8Array(16) };
    expect(() => generateKey(broken)).toThrow(/must be 32 bytes/);
  });
});
