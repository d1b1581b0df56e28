/**
 * The key epoch of the snapshot a folder was last synced with, kept in `.insomnia-sync/epoch`
 * (beside, not inside, the index: the index format is fixed). Blob ids are keyed by their epoch's
 * blob-id key, and a manifest names one epoch for all its blobs, so after a key rotation push must
 * re-encrypt every file, not just changed ones (docs/protocol.md, notes for maintainers #9).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Primitives } from '../../crypto/primitives.js';
import { openSnapshot } from '../../sync/snapshot.js';
import { NewerFormatError } from '../../sync/errors.js';
import type { ApiClient } from '../api.js';
import type { WorkspaceKeyring } from '../keyring.js';
import { atomicWrite, stateDir } from './link.js';

interface EpochRecord {
  base: string;
  epoch: number;
}

function file(root: string): string {
  return path.join(stateDir(root), 'epoch');
}

export function recordBaseEpoch(root: string, base: string | null, epoch: number): void {
  if (base === null) return;
  atomicWrite(file(root), JSON.stringify({ base, epoch } satisfies EpochRecord) + '\n');
}

function readRecord(root: string): EpochRecord | null {
  if (!existsSync(file(root))) return null;
  try {
    const r = JSON.parse(readFileSync(file(root), 'utf8')) as EpochRecord;
    return typeof r.base === 'string' && Number.isSafeInteger(r.epoch) ? r : null;
  } catch {
    return null;
  }
}

/** The epoch recorded for `base` on this machine, if the record names it. */
export function recordedBaseEpoch(root: string, base: string): number | null {
  const record = readRecord(root);
  return record && record.base === base ? record.epoch : null;
}

/**
 * The epoch of `base`: from the record when it names this base, else by opening the base snapshot
 * with each epoch's key (one request; only when the workspace has more than one epoch). Null when
 * there is no base or no key opens it: the caller then treats every file as changed.
 */
export async function baseEpochOf(
  p: Primitives,
  api: ApiClient,
  ring: WorkspaceKeyring,
  root: string,
  base: string | null,
): Promise<number | null> {
  if (base === null) return null;
  // The record first, even with one epoch at hand: a server that took newer epochs back must not
  // make an older base look current.
  const recorded = recordedBaseEpoch(root, base);
  if (recorded !== null) return recorded;
  if (ring.byEpoch.size === 1) return ring.epoch;
  const info = await api.getSnapshot(ring.workspaceId, base);
  const { data } = info;
  for (const [epoch, keys] of ring.byEpoch) {
    try {
      openSnapshot(p, keys.manifestKey, { id: info.id, workspaceId: ring.workspaceId, parent: info.parent, epoch }, data);
      recordBaseEpoch(root, base, epoch);
      return epoch;
    } catch (err) {
      if (err instanceof NewerFormatError) throw err;
      /* another epoch's key may open it */
    }
  }
  return null;
}
