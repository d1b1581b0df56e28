/** Session tokens, auth-key hashes and the fake prelogin salt. */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** 32 random bytes, base64url: the bearer token handed to the client once. */
export function newSessionToken(): string {
  return randomBytes(32).toString('base64url');
}

export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newSessionId(): string {
  return randomBytes(16).toString('hex');
}

export function sha256(bytes: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Constant-time equality of two 32-byte hashes; false on length mismatch. */
export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Salt answered for an unknown email: stable per email and server, shaped like a real one
 * (16 bytes, base64url), so prelogin does not reveal which accounts exist.
 */
export function fakeSalt(serverSecret: Uint8Array, normalizedEmail: string): string {
  const mac = createHmac('sha256', serverSecret).update(`fake-salt|${normalizedEmail}`).digest();
  return mac.subarray(0, 16).toString('base64url');
}
