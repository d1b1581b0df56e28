/** Storage records → wire types (src/protocol/types.ts). */
import { toB64 } from '../protocol/encoding.js';
import type * as T from '../protocol/types.js';
import type { SnapshotRecord, TeamMembershipRecord, UserRecord, WorkspaceRecord } from '../storage/store.js';

export function accountView(user: UserRecord, teams: TeamMembershipRecord[], session?: T.SessionInfo): T.AccountResponse {
  const out: T.AccountResponse = {
    user: { id: user.id, email: user.email, name: user.name, createdAt: user.createdAt.toISOString() },
    keys: { ...user.keys },
    teams: teams.map((t) => ({
      id: t.id,
      name: t.name,
      personal: t.personal,
      role: t.role,
      epoch: t.epoch,
      sealedKeys: t.sealedKeys.map((k) => ({ epoch: k.epoch, sealedKey: k.sealedKey })),
      ...(t.confirmed === false ? { confirmed: false } : {}),
    })),
  };
  if (session) out.session = session;
  return out;
}

export function workspaceView(w: WorkspaceRecord): T.WorkspaceInfo {
  return {
    id: w.id,
    teamId: w.teamId,
    encryptedName: w.encryptedName,
    head: w.head,
    keys: w.keys.map((k) => ({ epoch: k.epoch, wrappedKey: k.wrappedKey })),
    createdAt: w.createdAt.toISOString(),
    updatedAt: w.updatedAt.toISOString(),
    size: w.size,
  };
}

export function snapshotView(s: SnapshotRecord): T.SnapshotInfo {
  return { id: s.id, parent: s.parent, createdAt: s.createdAt.toISOString(), data: toB64(s.data) };
}
