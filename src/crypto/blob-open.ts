/**
 * Opening a downloaded blob: its envelope under the workspace's blob key (the AAD names the blob,
 * its workspace and epoch), then its plaintext against its keyed id. The envelope alone proves the
 * blob was sealed by a holder of the key; the id check also catches a member who sealed one
 * content under another content's id, which would poison deduplication.
 */
import { objectOpener } from './aead.js';
import type { Primitives } from './primitives-contract.js';
import { blobId, type WorkspaceSubkeys } from './workspace-keys.js';

export type BlobCheckFailure = 'envelope' | 'id';

/** A blob that failed to open (`envelope`) or whose plaintext is not what its id names (`id`). */
export class BlobCheckError extends Error {
  constructor(
    readonly blobId: string,
    readonly failure: BlobCheckFailure,
  ) {
    super(failure === 'envelope' ? `blob ${blobId.slice(0, 12)} failed its integrity check` : `blob ${blobId.slice(0, 12)} does not match its id`);
  }
}

export interface BlobSlot {
  workspaceId: string;
  epoch: number;
}

/** (id, envelope) → plaintext, or BlobCheckError. */
export type BlobOpener = (id: string, envelope: Uint8Array) => Uint8Array;

export function blobOpener(p: Primitives, keys: Pick<WorkspaceSubkeys, 'blobKey' | 'blobIdKey'>, slot: BlobSlot): BlobOpener {
  const open = objectOpener(p, keys.blobKey, { kind: 'blob', workspaceId: slot.workspaceId, epoch: slot.epoch });
  return (id, envelope) => {
    let plain: Uint8Array;
    try {
      plain = open(id, envelope);
    } catch {
      throw new BlobCheckError(id, 'envelope');
    }
    if (blobId(p, keys.blobIdKey, plain) !== id) throw new BlobCheckError(id, 'id');
    return plain;
  };
}
