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
  const { head, tail } = aadParts(slot);
  return concatBytes([head, optionalStringField('objectId', slot.objectId), tail]);
}

/**
 * The AAD around the objectId field: head = label ‖ 0x00 ‖ kind ‖ ownerId ‖ workspaceId, tail =
 * epoch. Split so that objectSealer and objectOpener encode them once for thousands of blobs.
 */
function aadParts(slot: Omit<Slot, 'objectId'>): { head: Uint8Array; tail: Uint8Array } {
  if (typeof slot !== 'object' || slot === null) {
    throw new CryptoArgumentError(`slot must be an object, got ${describeType(slot)}`);
  }
  if (!(SLOT_KINDS as readonly string[]).includes(slot.kind)) {
    throw new CryptoArgumentError(`unknown slot kind ${JSON.stringify(slot.kind)}`);
  }
  const head = concatBytes([
    AAD_LABEL,
    Uint8Array.of(0),
    stringField('kind', slot.kind),
    optionalStringField('ownerId', slot.ownerId),
    optionalStringField('workspaceId', slot.workspaceId),
  ]);
  return { head, tail: epochField(slot.epoch) };
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
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

/** encodeAad for `slot` plus this objectId, from the pre-encoded head and tail. */
function aadWithObjectId(head: Uint8Array, tail: Uint8Array, objectId: string): Uint8Array {
  // stringField's checks and encoding for anything but a short ASCII id (blob ids are hex)...
  if (typeof objectId !== 'string' || objectId.length > MAX_SLOT_FIELD_BYTES || !/^[\x00-\x7f]*$/.test(objectId)) {
    return concatBytes([head, stringField('objectId', objectId), tail]);
  }
  // ...which takes one byte per character, written straight into place.
  const out = new Uint8Array(head.length + 5 + objectId.length + tail.length);
  out.set(head, 0);
  let at = head.length;
  out[at] = FIELD_PRESENT;
  new DataView(out.buffer).setUint32(at + 1, objectId.length);
  at += 5;
  for (let i = 0; i < objectId.length; i++) out[at + i] = objectId.charCodeAt(i);
  out.set(tail, at + objectId.length);
  return out;
}

/**
 * sealEnvelope for many objects of one slot family — every blob of a push shares kind,
 * workspace and epoch and differs only in objectId — with the fixed part of the AAD encoded
 * once. The envelopes are byte-for-byte what sealEnvelope makes for the full slot.
 */
export function objectSealer(p: Primitives, key: Uint8Array, slot: Omit<Slot, 'objectId'>): ObjectSealer {
  assertBytes(key, 'key', AEAD_KEY_LENGTH);
  const { head, tail } = aadParts(slot);
  return {
    seal: (objectId, plaintext) => sealWithAad(p, key, plaintext, aadWithObjectId(head, tail, objectId)),
    sealInto(objectId, plaintext, out, offset) {
      assertBytes(plaintext, 'plaintext');
      assertBytes(out, 'out');
      const length = ENVELOPE_OVERHEAD + plaintext.length;
      if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > out.length) {
        throw new CryptoArgumentError('out has no room for the envelope at that offset');
      }
      const aad = aadWithObjectId(head, tail, objectId);
      const nonce = p.randomBytes(AEAD_NONCE_LENGTH);
      assertBytes(nonce, 'random nonce', AEAD_NONCE_LENGTH);
      const aead = p.xchacha20poly1305(key, nonce, aad);
      out[offset] = ENVELOPE_VERSION;
      out.set(nonce, offset + 1);
      if (aead.encryptInto) aead.encryptInto(plaintext, out, offset + ENVELOPE_HEADER_LENGTH);
      else out.set(aead.encrypt(plaintext), offset + ENVELOPE_HEADER_LENGTH);
      return length;
    },
  };
}

export interface ObjectSealer {
  /** sealEnvelope(p, key, plaintext, { ...slot, objectId }) */
  seal(objectId: string, plaintext: Uint8Array): Uint8Array;
  /** The same envelope written into `out` at `offset`; returns its length (plaintext + ENVELOPE_OVERHEAD). */
  sealInto(objectId: string, plaintext: Uint8Array, out: Uint8Array, offset: number): number;
}

/** openEnvelope for many objects of one slot family; see objectSealer. */
export function objectOpener(p: Primitives, key: Uint8Array, slot: Omit<Slot, 'objectId'>): (objectId: string, envelope: Uint8Array) => Uint8Array {
  assertBytes(key, 'key', AEAD_KEY_LENGTH);
  const { head, tail } = aadParts(slot);
  return (objectId, envelope) => openWithAad(p, key, envelope, aadWithObjectId(head, tail, objectId));
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
  return sealWithAad(p, key, plaintext, encodeAad(slot));
}

function sealWithAad(p: Primitives, key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  assertBytes(plaintext, 'plaintext');
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
  return openWithAad(p, key, envelope, encodeAad(slot));
}

function openWithAad(p: Primitives, key: Uint8Array, envelope: Uint8Array, aad: Uint8Array): Uint8Array {
  assertBytes(envelope, 'envelope');
  if (envelope.length < ENVELOPE_OVERHEAD || envelope[0] !== ENVELOPE_VERSION) throw new IntegrityError();
  const nonce = envelope.subarray(1, ENVELOPE_HEADER_LENGTH);
  try {
    return p.xchacha20poly1305(key, nonce, aad).decrypt(envelope.subarray(ENVELOPE_HEADER_LENGTH));
  } catch {
    // Whatever the implementation threw, the caller sees one indistinguishable failure.
    throw new IntegrityError();
  }
}
