/** Storage records → wire types (src/protocol/types.ts). */
import { toB64 } from '../protocol/encoding.js';
import type * as T from '../protocol/types.js';
import type {
  AccessTokenRecord,
  EndedSessionRecord,
  SessionRecord,
  InvitationToUserRecord,
  SnapshotRecord,
  TeamMembershipRecord,
  UserRecord,
  WorkspaceRecord,
} from '../storage/store.js';

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
      ...(t.rotationPending === true ? { rotationPending: true } : {}),
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

/** What every listing of a session shows (account, sessions, admin export-user). */
export function sessionFields(s: SessionRecord): Omit<T.SessionView, 'current'> {
  return {
    id: s.id,
    client: s.client,
    ip: s.ip,
    createdAt: s.createdAt.toISOString(),
    lastSeenAt: s.lastSeenAt.toISOString(),
    expiresAt: s.expiresAt.toISOString(),
  };
}

export function sessionView(s: SessionRecord, currentId: string | null): T.SessionView {
  return { ...sessionFields(s), current: s.id === currentId };
}

export function endedSessionView(s: EndedSessionRecord): T.EndedSessionView {
  return { ...sessionFields(s), revokedAt: s.revokedAt?.toISOString() ?? null };
}

export function invitationView(i: InvitationToUserRecord, now: Date): T.InvitationView {
  return {
    id: i.id,
    teamId: i.teamId,
    teamName: i.teamName,
    role: i.role,
    state: i.acceptedAt ? 'accepted' : i.expiresAt > now ? 'open' : 'ended',
    createdAt: i.createdAt.toISOString(),
    expiresAt: i.expiresAt.toISOString(),
    acceptedAt: i.acceptedAt?.toISOString() ?? null,
  };
}

/** An access token as its creator sees it: what the server holds about it, never the secret's hash or keys. */
export function ownAccessTokenView(t: AccessTokenRecord): T.AccountDataResponse['accessTokens'][number] {
  return {
    id: t.id,
    name: t.name,
    scope: t.scope,
    workspaceId: t.workspaceId,
    createdAt: t.createdAt.toISOString(),
    lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
    expiresAt: t.expiresAt?.toISOString() ?? null,
    revokedAt: t.revokedAt?.toISOString() ?? null,
  };
}
