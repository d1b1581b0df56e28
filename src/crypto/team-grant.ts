/**
 * A team key handed to a member: sealed to their X25519 key, and signed by the member who hands it.
 *
 * A sealed box alone is anonymous: anyone with the recipient's public key can make one, the
 * server included. A server that sealed a team key of its own choosing to every member as a "new
 * epoch" would have read everything pushed afterwards. So the sealed plaintext carries the
 * granter's public keys and an Ed25519 signature over the team, the epoch, the recipient and the
 * key's hash; the recipient checks the signature, then decides whether it trusts the granter
 * (client/grant-trust.ts).
 *
 * Each epoch's grant also names the hash of the key of the epoch before it, under the signature:
 * the keys of a team form a chain back from the newest, so a member who trusts the newest epoch's
 * key trusts every older one without trusting whoever handed those over (client/keyring.ts). A
 * server could otherwise seal a made-up key for an old epoch, with a made-up granter, and write
 * history under it.
 *
 *   plaintext = 0x02 ‖ team key (32) ‖ previous key hash (32; zeros for epoch 1)
 *               ‖ granter X25519 (32) ‖ granter Ed25519 (32) ‖ len ‖ granter user id ‖ signature (64)
 *   signed    = "insomnia-sync/v1/team-key-grant" ‖ 0x00 ‖ field(team id) ‖ epoch (u32 BE)
 *               ‖ field(recipient X25519) ‖ field(SHA-256(team key)) ‖ field(previous key hash)
 *
 * A 32-byte plaintext is a grant from before grants were signed (UnsignedGrantError), format 1
 * one from before the chain (OutdatedGrantError): both refused.
 */
import { assertBytes } from './args.js';
import { concatBytes, fromUtf8, toHex, utf8 } from './encoding.js';
import { hkdfSha256 } from './hkdf.js';
import { IntegrityError } from './errors.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, signDetached, verifyDetached, type Identity } from './keys.js';
import { LABELS } from './labels.js';
import { openSealed, sealToPublicKey } from './seal.js';
import type { Primitives } from './primitives-contract.js';

const GRANT_FORMAT = 2;
const UNCHAINED_GRANT_FORMAT = 1;

/**
 * The id of an account's personal team, derived from its account key: any machine that unlocks the
 * account knows which team is personal (whose keys only its owner may grant) without taking the
 * server's word for it.
 */
export function personalTeamIdOf(accountKey: Uint8Array): string {
  assertBytes(accountKey, 'accountKey', 32);
  return toHex(hkdfSha256(accountKey, undefined, utf8(LABELS.personalTeamId), 16));
}
const TEAM_KEY_LENGTH = 32;
const MAX_USER_ID_BYTES = 255;

export interface Granter {
  userId: string;
  x25519PublicKey: Uint8Array;
  ed25519PublicKey: Uint8Array;
}

export interface OpenedGrant {
  teamKey: Uint8Array;
  /** teamKeyHash of the epoch before's key, as the granter signed it; null for epoch 1 */
  previousKeyHash: Uint8Array | null;
  granter: Granter;
}

/** A grant in a format this version no longer reads: made by an older insomnia-sync. */
export class OutdatedGrantError extends IntegrityError {}
/** A team key sealed without a signature, by an insomnia-sync from before grants were signed. */
export class UnsignedGrantError extends OutdatedGrantError {}

const KEY_HASH_LENGTH = 32;
const NO_PREVIOUS = new Uint8Array(KEY_HASH_LENGTH);

/** What a grant signs for a team key, and what the next epoch's grant names as its previous key. */
export function teamKeyHash(p: Primitives, teamKey: Uint8Array): Uint8Array {
  assertBytes(teamKey, 'teamKey', TEAM_KEY_LENGTH);
  return p.sha256(teamKey);
}

function field(bytes: Uint8Array): Uint8Array {
  if (bytes.length > 0xffff) throw new RangeError('field too long');
  return concatBytes(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes);
}

function signedMessage(p: Primitives, teamId: string, epoch: number, recipientX25519: Uint8Array, teamKey: Uint8Array, previousKeyHash: Uint8Array): Uint8Array {
  const e = new Uint8Array(4);
  new DataView(e.buffer).setUint32(0, epoch);
  return concatBytes(utf8(LABELS.teamKeyGrant), Uint8Array.of(0), field(utf8(teamId)), e, field(recipientX25519), field(teamKeyHash(p, teamKey)), field(previousKeyHash));
}

/** Epoch 1 has no previous key; every later epoch names one. */
function previousField(epoch: number, previousKeyHash: Uint8Array | null): Uint8Array {
  if (epoch === 1) {
    if (previousKeyHash !== null) throw new RangeError('epoch 1 has no previous key');
    return NO_PREVIOUS;
  }
  if (previousKeyHash === null) throw new RangeError(`epoch ${epoch} needs the previous key's hash`);
  assertBytes(previousKeyHash, 'previousKeyHash', KEY_HASH_LENGTH);
  return previousKeyHash;
}

/**
 * Seals `teamKey` (team `teamId`, `epoch`) to the recipient, signed by `granter`, naming the hash
 * of the epoch before's key (`previousKeyHash`: teamKeyHash of it; null for epoch 1 only).
 */
export function sealTeamKeyGrant(
  p: Primitives,
  granter: { userId: string; identity: Identity },
  recipientX25519: Uint8Array,
  teamKey: Uint8Array,
  slot: { teamId: string; epoch: number; previousKeyHash: Uint8Array | null },
): Uint8Array {
  assertBytes(teamKey, 'teamKey', TEAM_KEY_LENGTH);
  assertBytes(recipientX25519, 'recipientX25519', PUBLIC_KEY_LENGTH);
  const id = utf8(granter.userId);
  if (id.length === 0 || id.length > MAX_USER_ID_BYTES) throw new RangeError('granter user id must be 1–255 bytes');
  const previous = previousField(slot.epoch, slot.previousKeyHash);
  const signature = signDetached(granter.identity.ed25519.secretKey, signedMessage(p, slot.teamId, slot.epoch, recipientX25519, teamKey, previous), p);
  const plaintext = concatBytes(
    Uint8Array.of(GRANT_FORMAT),
    teamKey,
    previous,
    granter.identity.x25519.publicKey,
    granter.identity.ed25519.publicKey,
    Uint8Array.of(id.length),
    id,
    signature,
  );
  try {
    return sealToPublicKey(p, recipientX25519, plaintext, { kind: 'team-key', ownerId: slot.teamId, epoch: slot.epoch });
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Opens a grant sealed to `recipient` and checks its signature. Throws IntegrityError when it does
 * not decrypt or verify, UnsignedGrantError for an unsigned (old) grant. Whether the granter is
 * someone to trust is the caller's decision.
 */
export function openTeamKeyGrant(p: Primitives, recipient: Identity, sealed: Uint8Array, slot: { teamId: string; epoch: number }): OpenedGrant {
  const plaintext = openSealed(p, recipient.x25519.secretKey, sealed, { kind: 'team-key', ownerId: slot.teamId, epoch: slot.epoch });
  try {
    if (plaintext.length === TEAM_KEY_LENGTH) throw new UnsignedGrantError();
    if (plaintext[0] === UNCHAINED_GRANT_FORMAT) throw new OutdatedGrantError();
    const fixed = 1 + TEAM_KEY_LENGTH + KEY_HASH_LENGTH + 2 * PUBLIC_KEY_LENGTH;
    if (plaintext.length < fixed + 1 + SIGNATURE_LENGTH || plaintext[0] !== GRANT_FORMAT) throw new IntegrityError();
    const idLength = plaintext[fixed]!;
    if (idLength === 0 || plaintext.length !== fixed + 1 + idLength + SIGNATURE_LENGTH) throw new IntegrityError();
    let at = 1;
    const take = (n: number): Uint8Array => plaintext.slice(at, (at += n));
    const teamKey = take(TEAM_KEY_LENGTH);
    const previous = take(KEY_HASH_LENGTH);
    const x25519PublicKey = take(PUBLIC_KEY_LENGTH);
    const ed25519PublicKey = take(PUBLIC_KEY_LENGTH);
    // Epoch 1 names no previous key, and only epoch 1 may name none.
    const noPrevious = previous.every((b) => b === 0);
    if (noPrevious !== (slot.epoch === 1)) {
      teamKey.fill(0);
      throw new IntegrityError();
    }
    let userId: string;
    try {
      userId = fromUtf8(plaintext.subarray(fixed + 1, fixed + 1 + idLength));
    } catch {
      teamKey.fill(0);
      throw new IntegrityError();
    }
    const signature = plaintext.subarray(fixed + 1 + idLength);
    if (!verifyDetached(ed25519PublicKey, signature, signedMessage(p, slot.teamId, slot.epoch, recipient.x25519.publicKey, teamKey, previous), p)) {
      teamKey.fill(0);
      throw new IntegrityError();
    }
    return { teamKey, previousKeyHash: noPrevious ? null : previous, granter: { userId, x25519PublicKey, ed25519PublicKey } };
  } finally {
    plaintext.fill(0);
  }
}
