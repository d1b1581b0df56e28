/**
 * Envelopes: every ciphertext of the format.
 *
 *   envelope = version (1 byte, 0x01) ‖ nonce (24 random bytes) ‖ XChaCha20-Poly1305 ciphertext ‖ tag (16)
 *
 * The associated data names the slot the ciphertext belongs to (see encodeAad), so a server that
 * moves a ciphertext to another slot (another workspace, object, owner, epoch or kind) makes
 * decryption fail instead of silently serving the wrong plaintext.
 */
import { assertBytes, describeType } from './args.js';
import { utf8 } from './encoding.js';
import { CryptoArgumentError, IntegrityError } from './errors.js';
import { ENVELOPE_VERSION, LABELS } from './labels.js';
import { AEAD_KEY_LENGTH, AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, type Primitives } from './primitives-contract.js';

export const SLOT_KINDS = [
  'account-key',
  'x25519-secret',
  'ed25519-secret',
  'team-key',
  'workspace-key',
  'workspace-name',
  'blob',
  'snapshot',
  'recovery',
  'token-key',
] as const;

export type SlotKind = (typeof SLOT_KINDS)[number];

export interface Slot {
  kind: SlotKind;
  ownerId?: string;
  workspaceId?: string;
  objectId?: string;
  epoch?: number;
}

export const ENVELOPE_HEADER_LENGTH = 1 + AEAD_NONCE_LENGTH;
export const ENVELOPE_OVERHEAD = ENVELOPE_HEADER_LENGTH + AEAD_TAG_LENGTH; // 41

/** Longest identifier accepted in a slot field; ids are short, so anything longer is a bug. */
export const MAX_SLOT_FIELD_BYTES = 1024;

const AAD_LABEL = utf8(LABELS.aad);
const FIELD_ABSENT = 0x00;
const FIELD_PRESENT = 0x01;

/**
 * Canonical AAD: label ‖ 0x00 ‖ kind ‖ ownerId ‖ workspaceId ‖ objectId ‖ epoch, where each string
 * field is 0x00 (absent) or 0x01 ‖ u32be byte length ‖ UTF-8 bytes, and epoch is 0x00 (absent) or
 * 0x01 ‖ u32be value. Length prefixes and presence bytes make the encoding injective: no two
 * different slots give the same bytes, whatever characters the ids contain.
 */
export function encodeAad(slot: Slot): Uint8Array {
  if (typeof slot !== 'object' || slot === null) {
    throw new CryptoArgumentError(`slot must be an object, got ${describeType(slot)}`);
  }
  if (!(SLOT_KINDS as readonly string[]).includes(slot.kind)) {
    throw new CryptoArgumentError(`unknown slot kind ${JSON.stringify(slot.kind)}`);
  }
  const parts: Uint8Array[] = [AAD_LABEL, Uint8Array.of(0), stringField('kind', slot.kind)];
  parts.push(optionalStringField('ownerId', slot.ownerId));
  parts.push(optionalStringField('workspaceId', slot.workspaceId));
  parts.push(optionalStringField('objectId', slot.objectId));
  parts.push(epochField(slot.epoch));
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function optionalStringField(name: string, value: string | undefined): Uint8Array {
  return value === undefined ? Uint8Array.of(FIELD_ABSENT) : stringField(name, value);
}

function stringField(name: string, value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new CryptoArgumentError(`slot ${name} must be a string, got ${describeType(value)}`);
  const bytes = utf8(value);
  if (bytes.length > MAX_SLOT_FIELD_BYTES) {
    throw new CryptoArgumentError(`slot ${name} must be at most ${MAX_SLOT_FIELD_BYTES} bytes, got ${bytes.length}`);
  }
  const out = new Uint8Array(5 + bytes.length);
  out[0] = FIELD_PRESENT;
  new DataView(out.buffer).setUint32(1, bytes.length);
  out.set(bytes, 5);
  return out;
}

function epochField(epoch: number | undefined): Uint8Array {
  if (epoch === undefined) return Uint8Array.of(FIELD_ABSENT);
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) {
    throw new CryptoArgumentError(`slot epoch must be an integer 0..2^32-1, got ${String(epoch)}`);
  }
  const out = new Uint8Array(5);
  out[0] = FIELD_PRESENT;
  new DataView(out.buffer).setUint32(1, epoch);
  return out;
}

export function sealEnvelope(p: Primitives, key: Uint8Array, plaintext: Uint8Array, slot: Slot): Uint8Array {
  assertBytes(key, 'key', AEAD_KEY_LENGTH);
  assertBytes(plaintext, 'plaintext');
  const aad = encodeAad(slot);
  const nonce = p.randomBytes(AEAD_NONCE_LENGTH);
  assertBytes(nonce, 'random nonce', AEAD_NONCE_LENGTH);
  const sealed = p.xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
  const out = new Uint8Array(ENVELOPE_HEADER_LENGTH + sealed.length);
  out[0] = ENVELOPE_VERSION;
  out.set(nonce, 1);
  out.set(sealed, ENVELOPE_HEADER_LENGTH);
  return out;
}

/** Throws IntegrityError for every kind of bad envelope; CryptoArgumentError only for caller bugs. */
export function openEnvelope(p: Primitives, key: Uint8Array, envelope: Uint8Array, slot: Slot): Uint8Array {
  assertBytes(key, 'key', AEAD_KEY_LENGTH);
  assertBytes(envelope, 'envelope');
  const aad = encodeAad(slot);
  if (envelope.length < ENVELOPE_OVERHEAD || envelope[0] !== ENVELOPE_VERSION) throw new IntegrityError();
  const nonce = envelope.subarray(1, ENVELOPE_HEADER_LENGTH);
  try {
    return p.xchacha20poly1305(key, nonce, aad).decrypt(envelope.subarray(ENVELOPE_HEADER_LENGTH));
  } catch {
    // Whatever the implementation threw, the caller sees one indistinguishable failure.
    throw new IntegrityError();
  }
}
