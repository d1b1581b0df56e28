/**
 * Per-workspace key schedule: the random workspace key is never used directly; HKDF derives one
 * subkey per purpose, so no key ever serves two purposes.
 */
import { assertBytes } from './args.js';
import { toHex, utf8 } from './encoding.js';
import { hkdfSha256 } from './hkdf.js';
import { LABELS } from './labels.js';
import type { Primitives } from './primitives-contract.js';

export const KEY_LENGTH = 32;

export interface WorkspaceSubkeys {
  /** HMAC key naming blobs: the id of a blob is a keyed MAC of its plaintext */
  blobIdKey: Uint8Array;
  /** encrypts blob contents */
  blobKey: Uint8Array;
  /** encrypts snapshots (manifests) */
  manifestKey: Uint8Array;
  /** encrypts the workspace's display name */
  nameKey: Uint8Array;
}

export function deriveWorkspaceSubkeys(workspaceKey: Uint8Array): WorkspaceSubkeys {
  assertBytes(workspaceKey, 'workspaceKey', KEY_LENGTH);
  const derive = (label: string): Uint8Array => hkdfSha256(workspaceKey, undefined, utf8(label), KEY_LENGTH);
  return {
    blobIdKey: derive(LABELS.blobId),
    blobKey: derive(LABELS.blobKey),
    manifestKey: derive(LABELS.manifestKey),
    nameKey: derive(LABELS.nameKey),
  };
}

/**
 * HMAC-SHA256(blobIdKey, plaintext) as 64 lowercase hex. Keyed, so identical files dedupe inside a
 * workspace while the server cannot confirm a guess of a file's content by hashing it.
 */
export function blobId(p: Primitives, blobIdKey: Uint8Array, plaintext: Uint8Array): string {
  return toHex(blobIdBytes(p, blobIdKey, plaintext));
}

/** blobId as its 32 raw bytes, as a blob frame carries it. */
export function blobIdBytes(p: Primitives, blobIdKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  assertBytes(blobIdKey, 'blobIdKey', KEY_LENGTH);
  assertBytes(plaintext, 'plaintext');
  return p.hmacSha256(blobIdKey, plaintext);
}

export function generateKey(p: Primitives): Uint8Array {
  const key = p.randomBytes(KEY_LENGTH);
  assertBytes(key, 'random key', KEY_LENGTH);
  return key;
}
