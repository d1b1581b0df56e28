/** Row → record conversions of the PostgreSQL store (pg returns bigint as text, bytea as Buffer). */
import { bytes, groupBy, userFromRow } from '../row-mapping.js';
import type {
  AccessTokenRecord,
  SessionRecord,
  SnapshotRecord,
  TeamRecord,
  TeamRole,
  UserRecord,
  WorkspaceKeyRecord,
  WorkspaceRecord,
} from '../store.js';
import type { Row } from './db.js';


export function date(value: unknown): Date {
  return value instanceof Date ? value : new Date(String(value));
}

export function dateOrNull(value: unknown): Date | null {
  return value === null || value === undefined ? null : date(value);
}

export function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}



export function toSession(r: Row): SessionRecord {
  return {
    id: String(r.id),
    userId: String(r.user_id),
    client: textOrNull(r.client),
    ip: textOrNull(r.ip),
    createdAt: date(r.created_at),
    lastSeenAt: date(r.last_seen_at),
    expiresAt: date(r.expires_at),
  };
}

export function toTeam(r: Row): TeamRecord {
  return { id: String(r.id), name: String(r.name), personal: r.personal === true, epoch: Number(r.epoch) };
}

export function toWorkspaceKey(r: Row): WorkspaceKeyRecord {
  return { epoch: Number(r.epoch), wrappedKey: String(r.wrapped_key) };
}

export function toWorkspace(r: Row, keys: WorkspaceKeyRecord[]): WorkspaceRecord {
  return {
    id: String(r.id),
    teamId: String(r.team_id),
    encryptedName: String(r.encrypted_name),
    head: textOrNull(r.head),
    keys,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
    size: Number(r.size),
  };
}

export function toAccessToken(r: Row, keys: WorkspaceKeyRecord[]): AccessTokenRecord {
  return {
    id: String(r.id),
    workspaceId: String(r.workspace_id),
    createdBy: String(r.created_by),
    creatorEmail: String(r.creator_email),
    creatorName: String(r.creator_name),
    name: String(r.name),
    scope: r.scope === 'write' ? 'write' : 'read',
    secretHash: bytes(r.secret_hash),
    publicKey: String(r.public_key),
    certificate: String(r.certificate),
    keys,
    createdAt: date(r.created_at),
    lastUsedAt: dateOrNull(r.last_used_at),
    expiresAt: dateOrNull(r.expires_at),
    revokedAt: dateOrNull(r.revoked_at),
  };
}

export function toSnapshot(r: Row): SnapshotRecord {
  return { id: String(r.id), parent: textOrNull(r.parent), data: bytes(r.data), createdAt: date(r.created_at) };
}

export function asRole(value: unknown): TeamRole {
  return value === 'owner' || value === 'admin' ? value : 'member';
}

/** The stored form of a blob id: its 32 bytes; null when `hex` is not 64 hex chars (it then matches nothing). */
export function blobKey(hex: string): Buffer | null {
  if (hex.length !== 64) return null;
  const key = Buffer.from(hex, 'hex');
  return key.length === 32 ? key : null;
}

export function toUser(r: Row): UserRecord {
  return userFromRow(r, date);
}

export { bytes, groupBy };
