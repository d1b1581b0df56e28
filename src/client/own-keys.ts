/**
 * The account's own public keys, as this machine knows them: derived from the secret keys it holds,
 * never taken from the server. Everything that shows the user "your fingerprint" (signup, whoami,
 * account show, team accept) or seals to / checks against "our" keys starts from these, so a server
 * that swapped our public keys in its database cannot get us to read out its own fingerprint.
 *
 * The server's copy still matters: it is what other members seal team keys to. Wherever the server
 * hands it to us (login, signup, recovery, whoami, account show, account export), it is compared
 * with ours.
 */
import { fromB64, toB64 } from '../protocol/encoding.js';
import { fingerprint, identityFromSecrets, type Identity } from '../crypto/keys.js';
import type { Primitives } from '../crypto/primitives.js';
import { IntegrityFailure } from './errors.js';

/** The identity of the secret keys this machine holds; the public halves computed here. */
export function ownIdentity(secrets: { x25519Secret: string; ed25519Secret: string }, p: Primitives): Identity {
  return identityFromSecrets(fromB64(secrets.x25519Secret, 32), fromB64(secrets.ed25519Secret, 32), p);
}

export function ownFingerprint(identity: Identity, p?: Primitives): string {
  return fingerprint(identity.x25519.publicKey, identity.ed25519.publicKey, p);
}

/**
 * Refuses (exit 7) when the public keys the server gives for this account are not the ones of our
 * secret keys: others would seal team keys to whoever holds the server's pair.
 */
export function checkServerCopyOfOwnKeys(identity: Identity, server: { x25519PublicKey: string; ed25519PublicKey: string }, hint?: string): void {
  if (toB64(identity.x25519.publicKey) === server.x25519PublicKey && toB64(identity.ed25519.publicKey) === server.ed25519PublicKey) return;
  throw new IntegrityFailure(
    `the server's copy of your public keys differs from yours (your fingerprint: ${ownFingerprint(identity)}); team keys sealed to it would go to someone else`,
    hint ?? 'do not read out any fingerprint the server shows; contact its operator: the server, or something between you and it, has been tampered with',
  );
}
