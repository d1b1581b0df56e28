import { describe, expect, it } from 'vitest';
import { objectSealer } from '../../src/crypto/aead.js';
import { BlobCheckError, blobOpener } from '../../src/crypto/blob-open.js';
import { utf8 } from '../../src/crypto/encoding.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { blobId, deriveWorkspaceSubkeys } from '../../src/crypto/workspace-keys.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { seededBytes } from './helpers.js';

const keys = deriveWorkspaceSubkeys(seededBytes(32, 1));
const slot = { workspaceId: 'ws-1', epoch: 2 };
const content = utf8('{"_type":"environment","data":{"token":"secret"}}');
const id = blobId(nodePrimitives, keys.blobIdKey, content);
const sealed = objectSealer(nodePrimitives, keys.blobKey, { kind: 'blob', ...slot }).seal(id, content);

function failureOf(fn: () => unknown): BlobCheckError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BlobCheckError) return err;
    throw err;
  }
  throw new Error('expected a BlobCheckError');
}

describe('blobOpener', () => {
  it('gives the plaintext back with either implementation', () => {
    for (const p of [nodePrimitives, noblePrimitives]) {
      expect(Buffer.from(blobOpener(p, keys, slot)(id, sealed)).equals(Buffer.from(content))).toBe(true);
    }
  });

  it('refuses the envelope under another slot: epoch, workspace or blob id in the AAD', () => {
    const otherId = blobId(nodePrimitives, keys.blobIdKey, utf8('other'));
    for (const [s, i] of [
      [{ ...slot, epoch: 3 }, id],
      [{ ...slot, workspaceId: 'ws-2' }, id],
      [slot, otherId],
    ] as const) {
      const err = failureOf(() => blobOpener(nodePrimitives, keys, s)(i, sealed));
      expect(err.failure).toBe('envelope');
      expect(err.blobId).toBe(i);
      expect(err.message).toBe(`blob ${i.slice(0, 12)} failed its integrity check`);
    }
  });

  it('refuses a flipped byte anywhere in the envelope', () => {
    const open = blobOpener(nodePrimitives, keys, slot);
    for (let at = 0; at < sealed.length; at++) {
      const bad = sealed.slice();
      bad[at]! ^= 0x01;
      expect(failureOf(() => open(id, bad)).failure).toBe('envelope');
    }
  });

  it('refuses a well-sealed blob whose content is not what its id names (a poisoned upload)', () => {
    // A member holds the blob key and can seal anything under any id; only the id check sees it.
    const lie = objectSealer(nodePrimitives, keys.blobKey, { kind: 'blob', ...slot }).seal(id, utf8('not the real file'));
    const err = failureOf(() => blobOpener(nodePrimitives, keys, slot)(id, lie));
    expect(err.failure).toBe('id');
    expect(err.message).toBe(`blob ${id.slice(0, 12)} does not match its id`);
  });
});
