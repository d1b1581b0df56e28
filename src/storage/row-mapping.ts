/**
 * Row mapping both backends share: the SQLite and PostgreSQL schemas use the same column names and
 * differ only in how they store times (milliseconds vs timestamptz), which the caller converts.
 */
import type { FormerAccessTokenRecord, UserRecord } from './store.js';

export type Row = Record<string, unknown>;

/** A bytes column (a Buffer from either driver) as a plain Uint8Array view, no copy. */
export function bytes(value: unknown): Uint8Array {
  const b = value as Buffer;
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function groupBy(rows: Row[], column: string): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const key = String(r[column]);
    const list = out.get(key);
    if (list) list.push(r);
    else out.set(key, [r]);
  }
  return out;
}

export function userFromRow(r: Row, toDate: (value: unknown) => Date): UserRecord {
  return {
    id: String(r.id),
    email: String(r.email),
    name: String(r.name),
    kdf: {
      alg: 'argon2id',
      memoryKiB: Number(r.kdf_memory_kib),
      iterations: Number(r.kdf_iterations),
      parallelism: Number(r.kdf_parallelism),
      salt: String(r.kdf_salt),
    },
    authKeyHash: bytes(r.auth_key_hash),
    keys: {
      wrappedAccountKey: String(r.wrapped_account_key),
      x25519PublicKey: String(r.x25519_public_key),
      ed25519PublicKey: String(r.ed25519_public_key),
      wrappedX25519Secret: String(r.wrapped_x25519_secret),
      wrappedEd25519Secret: String(r.wrapped_ed25519_secret),
    },
    createdAt: toDate(r.created_at),
  };
}

export function formerAccessTokenFromRow(r: Row, toDate: (value: unknown) => Date): FormerAccessTokenRecord {
  return {
    id: String(r.id),
    workspaceId: String(r.workspace_id),
    createdBy: String(r.created_by),
    name: String(r.name),
    scope: r.scope === 'write' ? 'write' : 'read',
    publicKey: String(r.public_key),
    certificate: String(r.certificate),
    revokedAt: toDate(r.revoked_at),
  };
}
