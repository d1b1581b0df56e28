/**
 * A signup request with random stand-ins for every key and ciphertext, for server tests that need
 * an account but no client crypto (the server cannot tell: it stores what it is given).
 */
import { randomBytes } from 'node:crypto';
import type { SignupRequest } from '../../src/protocol/types.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

export function fakeSignupBody(opts: { email?: string; name?: string; teamId?: string } = {}): SignupRequest {
  return {
    userId: hex(16),
    email: opts.email ?? `${hex(4)}@example.com`,
    name: opts.name ?? 'Ada',
    kdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) },
    authKey: b64(32),
    keys: { wrappedAccountKey: b64(73), x25519PublicKey: b64(32), ed25519PublicKey: b64(32), wrappedX25519Secret: b64(73), wrappedEd25519Secret: b64(73) },
    personalTeam: { id: opts.teamId ?? hex(16), sealedTeamKey: b64(80) },
  };
}
