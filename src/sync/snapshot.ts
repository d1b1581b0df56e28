/**
 * Snapshots on the wire: a manifest signed by its author, then encrypted under the workspace's
 * manifest key. The server sees only an opaque envelope and its id (hex SHA-256 of the envelope).
 *
 *   signed message = "insomnia-sync/v1/snapshot-signature" ‖ SHA-256(manifest bytes)
 *   plaintext      = Ed25519 signature (64) ‖ manifest bytes
 *   data           = envelope(manifestKey, plaintext, slot {kind 'snapshot', workspaceId, epoch})
 *
 * The manifest names its workspace, parent and epoch, so the signature covers the chain link too.
 * Deciding whether the signing key belongs to a trusted member is the caller's job.
 */
import { openEnvelope, sealEnvelope, type Slot } from '../crypto/aead.js';
import { assertBytes } from '../crypto/args.js';
import { concatBytes, constantTimeEqual, fromBase64Url, toHex, utf8 } from '../crypto/encoding.js';
import { CryptoArgumentError, IntegrityError } from '../crypto/errors.js';
import { SIGNATURE_LENGTH, signDetached, verifyDetached } from '../crypto/keys.js';
import { LABELS } from '../crypto/labels.js';
import { NewerFormatError } from './errors.js';
import type { Primitives } from '../crypto/primitives-contract.js';
import { decodeManifest, decodeManifestHead, decodeNewerManifestHead, encodeManifest, type ColumnarManifest, type Manifest, type ManifestHead } from './manifest.js';

export interface PackedSnapshot {
  /** 64 lowercase hex: SHA-256 of data */
  id: string;
  data: Uint8Array;
}

export interface SnapshotExpectation {
  id: string;
  workspaceId: string;
  parent: string | null;
  epoch: number;
}

const SIGNATURE_LABEL = utf8(LABELS.snapshotSignature);
const SNAPSHOT_ID_RE = /^[0-9a-f]{64}$/;

function snapshotSlot(workspaceId: string, epoch: number): Slot {
  return { kind: 'snapshot', workspaceId, epoch };
}

function signedMessage(p: Primitives, manifestBytes: Uint8Array): Uint8Array {
  return concatBytes(SIGNATURE_LABEL, p.sha256(manifestBytes));
}

export function packSnapshot(p: Primitives, manifestKey: Uint8Array, signingSecret: Uint8Array, manifest: Manifest | ColumnarManifest): PackedSnapshot {
  assertBytes(manifestKey, 'manifestKey', 32);
  assertBytes(signingSecret, 'signingSecret', 32);
  const manifestBytes = encodeManifest(manifest);
  const message = signedMessage(p, manifestBytes);
  const signature = signDetached(signingSecret, message, p);
  // Catch a manifest that claims someone else's key here, not on every other client's pull.
  if (!verifyDetached(fromBase64Url(manifest.author.signingKey, 32), signature, message, p)) {
    throw new CryptoArgumentError('manifest.author.signingKey is not the public key of signingSecret');
  }
  const data = sealEnvelope(p, manifestKey, concatBytes(signature, manifestBytes), snapshotSlot(manifest.workspaceId, manifest.epoch));
  return { id: toHex(p.sha256(data)), data };
}

/**
 * Any failure — id, decryption, decoding, chain link, signature — is one IntegrityError, but for a
 * manifest layout newer than this version whose chain link and signature check out
 * (NewerFormatError: the caller still checks that its author is trusted).
 */
export function openSnapshot(p: Primitives, manifestKey: Uint8Array, expected: SnapshotExpectation, data: Uint8Array): Manifest {
  return openSigned(p, manifestKey, expected, data, (bytes) => {
    const manifest = decodeManifest(bytes);
    return { manifest, head: manifest };
  }).manifest;
}

/**
 * openSnapshot with every check but the file list's, which is only counted (decodeManifestHead):
 * for the snapshots of a history walk whose files are not used.
 */
export function openSnapshotHead(p: Primitives, manifestKey: Uint8Array, expected: SnapshotExpectation, data: Uint8Array): ManifestHead {
  return openSigned(p, manifestKey, expected, data, (bytes) => {
    const decoded = decodeManifestHead(bytes);
    return { manifest: decoded, head: decoded.manifest };
  }).manifest;
}

function openSigned<T>(
  p: Primitives,
  manifestKey: Uint8Array,
  expected: SnapshotExpectation,
  data: Uint8Array,
  decode: (manifestBytes: Uint8Array) => { manifest: T; head: Omit<Manifest, 'files'> },
): { manifest: T } {
  assertBytes(manifestKey, 'manifestKey', 32);
  assertBytes(data, 'data');
  if (typeof expected.id !== 'string' || !SNAPSHOT_ID_RE.test(expected.id)) throw new IntegrityError();
  if (!constantTimeEqual(utf8(toHex(p.sha256(data))), utf8(expected.id))) throw new IntegrityError();

  const plaintext = openEnvelope(p, manifestKey, data, snapshotSlot(expected.workspaceId, expected.epoch));
  if (plaintext.length <= SIGNATURE_LENGTH) throw new IntegrityError();
  const signature = plaintext.subarray(0, SIGNATURE_LENGTH);
  const manifestBytes = plaintext.subarray(SIGNATURE_LENGTH);

  let decoded: { manifest: T; head: Omit<Manifest, 'files'> };
  let signingKey: Uint8Array;
  try {
    decoded = decode(manifestBytes);
    signingKey = fromBase64Url(decoded.head.author.signingKey, 32);
  } catch (err) {
    if (err instanceof NewerFormatError) throw checkedNewerFormat(p, expected, manifestBytes, signature, err);
    throw new IntegrityError();
  }
  const { head } = decoded;
  if (head.workspaceId !== expected.workspaceId || head.parent !== expected.parent || head.epoch !== expected.epoch) {
    throw new IntegrityError();
  }
  if (!verifyDetached(signingKey, signature, signedMessage(p, manifestBytes), p)) throw new IntegrityError();
  return { manifest: decoded.manifest };
}

/**
 * A newer version's manifest is worth an "upgrade" only when its chain link and signature hold:
 * the envelope opening proves only that a holder of the manifest key wrote it, and holders are
 * not all trusted authors (a former member keeps old epochs' keys).
 */
function checkedNewerFormat(p: Primitives, expected: SnapshotExpectation, manifestBytes: Uint8Array, signature: Uint8Array, err: NewerFormatError): Error {
  const head = decodeNewerManifestHead(manifestBytes);
  if (head === null || head.workspaceId !== expected.workspaceId || head.parent !== expected.parent || head.epoch !== expected.epoch) {
    return new IntegrityError();
  }
  let signingKey: Uint8Array;
  try {
    signingKey = fromBase64Url(head.author.signingKey, 32);
  } catch {
    return new IntegrityError();
  }
  if (!verifyDetached(signingKey, signature, signedMessage(p, manifestBytes), p)) return new IntegrityError();
  err.author = head.author;
  return err;
}
