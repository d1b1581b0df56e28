/**
 * A signup request with random stand-ins for every key and ciphertext, for server tests that need
 * an account but no client crypto (the server cannot tell: it stores what it is given). The ids,
 * salt and keys are random each call: read them back from the returned body. `email` (default a
 * random address), `name` (default 'Ada'), `teamId` (the personal team's id) and `client` (the
 * session label, default none) can be fixed.
 */
import { randomBytes } from 'node:crypto';
import type { SignupRequest } from '../../src/protocol/types.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

export function fakeSignupBody(opts: { email?: string; name?: string; teamId?: string; client?: string } = {}): SignupRequest {
  return {
    userId: hex(16),
    email: opts.email ?? `${hex(4)}@example.com`,
    name: opts.name ?? 'Ada',
    kdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) },
    authKey: b64(32),
    keys: { wrappedAccountKey: b64(73), x25519PublicKey: b64(32), ed25519PublicKey: b64(32), wrappedX25519Secret: b64(73), wrappedEd25519Secret: b64(73) },
    personalTeam: { id: opts.teamId ?? hex(16), sealedTeamKey: b64(80) },
    ...(opts.client === undefined ? {} : { client: opts.client }),
  };
}
