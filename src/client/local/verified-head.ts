/**
 * The last head a verified walk found to descend from the folder's base, kept in
 * `.insomnia-sync/verified-head` (beside the base-epoch record): status, a push with nothing to
 * push and log then walk only the snapshots pushed since, not all those since the last sync, on
 * every call (docs/protocol.md §5.3). A cache written only after a walk checked the chain: a
 * record that cannot be read, or names another base, is ignored and the walk goes to the base.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { atomicWrite, stateDir } from './link.js';

export interface VerifiedHead {
  /** the folder's last synced snapshot */
  base: string;
  /** a head checked to reach `base` by the parents the snapshots sign */
  head: string;
  /** the head's key epoch */
  epoch: number;
  /** snapshots after `base` up to and including `head` */
  ahead: number;
}

function file(root: string): string {
  return path.join(stateDir(root), 'verified-head');
}

export function recordVerifiedHead(root: string, record: VerifiedHead): void {
  try {
    atomicWrite(file(root), JSON.stringify(record) + '\n');
  } catch {
    /* a cache: the next call walks again */
  }
}

/** The record, if there is one for `base`. */
export function recordedVerifiedHead(root: string, base: string): VerifiedHead | null {
  try {
    if (!existsSync(file(root))) return null;
    const r = JSON.parse(readFileSync(file(root), 'utf8')) as VerifiedHead;
    const id = (x: unknown): boolean => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
    if (!id(r.base) || !id(r.head) || !Number.isSafeInteger(r.epoch) || !Number.isSafeInteger(r.ahead) || r.ahead < 1) return null;
    return r.base === base ? r : null;
  } catch {
    return null;
  }
}
