/** A snapshot from a newer version: "upgrade" only when someone this workspace trusts signed it. */
import { describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../src/crypto/aead.js';
import { concatBytes, toBase64Url, toHex, utf8 } from '../../src/crypto/encoding.js';
import { identityFromSecrets, signDetached } from '../../src/crypto/keys.js';
import { LABELS } from '../../src/crypto/labels.js';
import { deriveWorkspaceSubkeys } from '../../src/crypto/workspace-keys.js';
import { nodePrimitives as p } from '../../src/native/primitives-node.js';
import { openVerifiedSnapshot } from '../../src/client/history.js';
import { IntegrityFailure } from '../../src/client/errors.js';
import type { WorkspaceKeyring } from '../../src/client/keyring.js';
import type { MemberPublicKeys } from '../../src/protocol/types.js';
import { NewerFormatError } from '../../src/sync/errors.js';
import { encodeManifest } from '../../src/sync/manifest.js';
import { seededBytes } from '../crypto/helpers.js';

const workspaceId = 'a'.repeat(32);
const userId = 'c'.repeat(32);
const alice = identityFromSecrets(seededBytes(32, 1), seededBytes(32, 2));
const signingKey = toBase64Url(alice.ed25519.publicKey);
const keys = deriveWorkspaceSubkeys(seededBytes(32, 5));
const ring: WorkspaceKeyring = { workspaceId, teamId: 'b'.repeat(32), epoch: 2, byEpoch: new Map([[2, keys]]) };

function signers(over: Partial<MemberPublicKeys> = {}): Map<string, MemberPublicKeys> {
  return new Map([[signingKey, { userId, email: 'a@example.com', name: 'Alice', x25519PublicKey: '', ed25519PublicKey: signingKey, ...over }]]);
}

/** Alice's first snapshot, its manifest's layout number raised to 3 and signed as it is. */
function newerSnapshot() {
  const bytes = encodeManifest({
    version: 1,
    workspaceId,
    parent: null,
    epoch: 2,
    author: { userId, name: 'Alice', email: 'a@example.com', signingKey },
    time: '2026-01-02T03:04:05.678Z',
    message: 'from a newer version',
    files: [],
  });
  bytes[8] = 3;
  const signature = signDetached(alice.ed25519.secretKey, concatBytes(utf8(LABELS.snapshotSignature), p.sha256(bytes)), p);
  const data = sealEnvelope(p, keys.manifestKey, concatBytes(signature, bytes), { kind: 'snapshot', workspaceId, epoch: 2 });
  return { id: toHex(p.sha256(data)), parent: null, createdAt: '2026-01-02T03:04:05.678Z', data };
}

describe('openVerifiedSnapshot and a newer manifest layout', () => {
  const frame = newerSnapshot();

  it('passes the "upgrade" on when a member signed it, with or without its files', () => {
    expect(() => openVerifiedSnapshot({ p, ring, signers: signers() }, frame)).toThrow(NewerFormatError);
    expect(() => openVerifiedSnapshot({ p, ring, signers: signers() }, frame, false)).toThrow(NewerFormatError);
  });

  it('calls it tampering when no trusted member signed it', () => {
    expect(() => openVerifiedSnapshot({ p, ring, signers: new Map() }, frame)).toThrow(IntegrityFailure);
    expect(() => openVerifiedSnapshot({ p, ring, signers: signers({ userId: 'd'.repeat(32) }) }, frame)).toThrow(IntegrityFailure);
    expect(() => openVerifiedSnapshot({ p, ring, signers: signers({ untilEpoch: 1 }) }, frame)).toThrow(/former member/);
  });
});
