/**
 * Unlocking a workspace's keys: team key (sealed to our X25519 key, one per epoch) → workspace
 * content key (wrapped under the team key of that epoch) → subkeys (docs/crypto.md).
 */
import { fromB64, toB64 } from '../protocol/encoding.js';
import type { TeamInfo, WorkspaceInfo } from '../protocol/types.js';
import { openEnvelope, sealEnvelope } from '../crypto/aead.js';
import { openTeamKeyGrant, OutdatedGrantError, teamKeyHash, UnsignedGrantError } from '../crypto/team-grant.js';
import { deriveWorkspaceSubkeys, type WorkspaceSubkeys } from '../crypto/workspace-keys.js';
import { IntegrityError } from '../crypto/errors.js';
import { constantTimeEqual } from '../crypto/encoding.js';
import type { Primitives } from '../crypto/primitives.js';
import type { Identity } from '../crypto/keys.js';
import { AuthError, IntegrityFailure } from './errors.js';
import type { EpochMark, GrantTrust } from './grant-trust.js';

/** What opening team keys takes: our identity, and whom we take keys from (grant-trust.ts). */
export interface KeyHolder {
  identity: Identity;
  trust: GrantTrust;
}

export interface WorkspaceKeyring {
  workspaceId: string;
  teamId: string;
  /** the newest epoch: what new snapshots and blobs are encrypted under */
  epoch: number;
  byEpoch: Map<number, WorkspaceSubkeys>;
  /** the newest epoch of the team's key we opened (not known to a token) */
  teamEpoch?: number;
  /**
   * When this machine first saw the workspace at its newest key epoch, and its head then
   * (grant-trust.ts EpochMark; set by loadRemote): a later head under an older epoch is refused.
   * Not kept for a token, which keeps no state.
   */
  since?: EpochMark;
}

/**
 * Before writing under `ring.epoch`: a workspace key older than the team's newest means the server
 * withholds the new one (after a removal, the old key is one the removed member holds).
 */
export function requireCurrentKeys(ring: WorkspaceKeyring): void {
  if (ring.teamEpoch !== undefined && ring.epoch < ring.teamEpoch) {
    throw new IntegrityFailure(
      `the server offers this workspace's key only up to epoch ${ring.epoch}, but its team's key is at epoch ${ring.teamEpoch}: what you write would be readable with a replaced key`,
      'nothing was sent; if it persists, the server is withholding the new key',
    );
  }
}

/** A team's keys by epoch, and what each epoch's grant named as the key before it (teamKeyChain). */
export interface TeamKeyChain {
  keys: Map<number, Uint8Array>;
  previousKeyHash: Map<number, Uint8Array | null>;
}

export async function teamKeys(p: Primitives, holder: KeyHolder, team: TeamInfo): Promise<Map<number, Uint8Array>> {
  return (await teamKeyChain(p, holder, team)).keys;
}

/**
 * Opens every grant of the team sealed to us. The newest epoch's key is taken on its granter's
 * standing (grant-trust.ts); each older key must be the one the grant of the epoch after it names
 * (crypto/team-grant.ts), so a key the server made up for an old epoch is refused however it is
 * signed. Keys older than a missing epoch, or of an epoch below 1, cannot be checked and are left out.
 */
export async function teamKeyChain(p: Primitives, holder: KeyHolder, team: TeamInfo): Promise<TeamKeyChain> {
  const keys = new Map<number, Uint8Array>();
  const previousKeyHash = new Map<number, Uint8Array | null>();
  const newest = Math.max(...team.sealedKeys.map((k) => k.epoch));
  let newestGranter = '';
  for (const { epoch, sealedKey } of team.sealedKeys) {
    try {
      const grant = openTeamKeyGrant(p, holder.identity, fromB64(sealedKey), { teamId: team.id, epoch });
      await holder.trust.checkGranter(team, epoch, grant.granter, epoch === newest);
      keys.set(epoch, grant.teamKey);
      previousKeyHash.set(epoch, grant.previousKeyHash);
      if (epoch === newest) newestGranter = grant.granter.userId;
    } catch (err) {
      if (err instanceof UnsignedGrantError) {
        throw new IntegrityFailure(`the key of team ${team.name} (epoch ${epoch}) carries no signature of the member who handed it to you`, 'it was made by an older insomnia-sync, or by the server; do not push to this team');
      }
      if (err instanceof OutdatedGrantError) {
        throw new IntegrityFailure(`the key of team ${team.name} (epoch ${epoch}) was handed over by an older insomnia-sync, in a format this version no longer reads`, 'the team has to be made again with this version');
      }
      if (err instanceof IntegrityError) throw new IntegrityFailure(`the key of team ${team.name} (epoch ${epoch}) does not decrypt`);
      throw err;
    }
  }
  if (keys.size === 0) return { keys, previousKeyHash };
  if (!Number.isInteger(newest) || newest < 1) throw new IntegrityFailure(`the server lists a key of team ${team.name} for epoch ${newest}, which no team has`);
  holder.trust.checkNewestEpoch(team, newest, newestGranter);
  // Only what the walk down from the newest checks is kept: an epoch below 1, or below a gap,
  // is no link of the chain, whoever signed it.
  const chained: TeamKeyChain = { keys: new Map(), previousKeyHash: new Map() };
  for (let epoch = newest; epoch >= 1; epoch--) {
    const key = keys.get(epoch);
    if (key === undefined) break;
    if (epoch < newest && !constantTimeEqual(teamKeyHash(p, key), previousKeyHash.get(epoch + 1)!)) {
      throw new IntegrityFailure(
        `the key of team ${team.name} for epoch ${epoch} is not the one the key of epoch ${epoch + 1} names: the server replaced one of them`,
        'nothing was read or sent under it',
      );
    }
    chained.keys.set(epoch, key);
    chained.previousKeyHash.set(epoch, previousKeyHash.get(epoch)!);
  }
  return chained;
}

export async function unlockWorkspace(p: Primitives, holder: KeyHolder, ws: WorkspaceInfo, teams: TeamInfo[]): Promise<WorkspaceKeyring> {
  holder.trust.checkWorkspaceTeam(ws.id, ws.teamId);
  const team = teams.find((t) => t.id === ws.teamId);
  if (!team) throw new AuthError('you are not a member of the team that owns this workspace', undefined, 'forbidden');
  const tkeys = await teamKeys(p, holder, team);
  const byEpoch = new Map<number, WorkspaceSubkeys>();
  for (const { epoch, wrappedKey } of ws.keys) {
    const teamKey = tkeys.get(epoch);
    if (!teamKey) continue;
    try {
      const key = openEnvelope(p, teamKey, fromB64(wrappedKey), { kind: 'workspace-key', workspaceId: ws.id, epoch });
      byEpoch.set(epoch, deriveWorkspaceSubkeys(key));
    } catch (err) {
      if (err instanceof IntegrityError) throw new IntegrityFailure(`the key of this workspace (epoch ${epoch}) does not decrypt`);
      throw err;
    }
  }
  if (byEpoch.size === 0) {
    throw new AuthError('you hold no key for this workspace yet', 'ask a team owner or admin to confirm you', 'forbidden');
  }
  const epoch = Math.max(...byEpoch.keys());
  return { workspaceId: ws.id, teamId: ws.teamId, epoch, byEpoch, teamEpoch: Math.max(...tkeys.keys()) };
}

export function currentKeys(ring: WorkspaceKeyring): WorkspaceSubkeys {
  return ring.byEpoch.get(ring.epoch)!;
}

export function decryptWorkspaceName(p: Primitives, ring: WorkspaceKeyring, encryptedName: string): string {
  const data = fromB64(encryptedName);
  for (const [epoch, keys] of [...ring.byEpoch].sort((a, b) => b[0] - a[0])) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(
        openEnvelope(p, keys.nameKey, data, { kind: 'workspace-name', workspaceId: ring.workspaceId, epoch }),
      );
    } catch {
      /* try the next epoch */
    }
  }
  throw new IntegrityFailure('the name of this workspace does not decrypt');
}

export function encryptWorkspaceName(p: Primitives, ring: WorkspaceKeyring, name: string): string {
  requireCurrentKeys(ring);
  return toB64(
    sealEnvelope(p, currentKeys(ring).nameKey, new TextEncoder().encode(name), {
      kind: 'workspace-name',
      workspaceId: ring.workspaceId,
      epoch: ring.epoch,
    }),
  );
}
