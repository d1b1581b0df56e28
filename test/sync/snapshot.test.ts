import { describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../src/crypto/aead.js';
import { concatBytes, toBase64Url, toHex, utf8 } from '../../src/crypto/encoding.js';
import { CryptoArgumentError, IntegrityError } from '../../src/crypto/errors.js';
import { identityFromSecrets, signDetached } from '../../src/crypto/keys.js';
import { LABELS } from '../../src/crypto/labels.js';
import { noblePrimitives, type Primitives } from '../../src/crypto/primitives.js';
import { deriveWorkspaceSubkeys } from '../../src/crypto/workspace-keys.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { encodeManifest, type Manifest } from '../../src/sync/manifest.js';
import { encodeJsonManifest } from '../../src/sync/manifest-json.js';
import { NewerFormatError } from '../../src/sync/errors.js';
import { openSnapshot, openSnapshotHead, packSnapshot } from '../../src/sync/snapshot.js';
import { identityKeySignature, IDENTITY_KEY, nobleCofactoredVerify, opensslVerify, torsionShiftedSignature } from '../crypto/ed25519-cases.js';
import { flipBit, seededBytes } from '../crypto/helpers.js';

const p = noblePrimitives;
const alice = identityFromSecrets(seededBytes(32, 1), seededBytes(32, 2));
const mallory = identityFromSecrets(seededBytes(32, 3), seededBytes(32, 4));
const { manifestKey } = deriveWorkspaceSubkeys(seededBytes(32, 5));
const workspaceId = 'a'.repeat(32);
const parent = 'b'.repeat(64);

function manifestBy(signingPublic: Uint8Array, overrides: Partial<Manifest> = {}): Manifest {
  return {
    version: 1,
    workspaceId,
    parent,
    epoch: 2,
    author: { userId: 'c'.repeat(32), name: 'Alice', email: 'alice@example.com', signingKey: toBase64Url(signingPublic) },
    time: '2025-01-02T03:04:05.678Z',
    message: 'add collection',
    files: [{ path: 'collection.json', mode: 0o644, size: 10, chunks: ['d'.repeat(64)] }],
    ...overrides,
  };
}

const manifest = manifestBy(alice.ed25519.publicKey);
const expected = (id: string, over: Partial<{ workspaceId: string; parent: string | null; epoch: number }> = {}) => ({
  id,
  workspaceId,
  parent,
  epoch: 2,
  ...over,
});

/** What a malicious member holding the manifest key could build by hand. */
function forge(m: Manifest, signerSecret: Uint8Array, bytes: Uint8Array = encodeManifest(m)): { id: string; data: Uint8Array } {
  const sig = signDetached(signerSecret, concatBytes(utf8(LABELS.snapshotSignature), p.sha256(bytes)));
  const data = sealEnvelope(p, manifestKey, concatBytes(sig, bytes), { kind: 'snapshot', workspaceId: m.workspaceId, epoch: m.epoch });
  return { id: toHex(p.sha256(data)), data };
}

describe('packSnapshot / openSnapshot', () => {
  it('round-trips, with the id the SHA-256 of the data, across implementations', () => {
    const packed = packSnapshot(p, manifestKey, alice.ed25519.secretKey, manifest);
    expect(packed.id).toMatch(/^[0-9a-f]{64}$/);
    expect(packed.id).toBe(toHex(nodePrimitives.sha256(packed.data)));
    expect(openSnapshot(p, manifestKey, expected(packed.id), packed.data)).toEqual(manifest);
    expect(openSnapshot(nodePrimitives, manifestKey, expected(packed.id), packed.data)).toEqual(manifest);
  });

  it('a first snapshot has parent null', () => {
    const first = manifestBy(alice.ed25519.publicKey, { parent: null });
    const packed = packSnapshot(nodePrimitives, manifestKey, alice.ed25519.secretKey, first);
    expect(openSnapshot(p, manifestKey, expected(packed.id, { parent: null }), packed.data).parent).toBeNull();
    expect(() => openSnapshot(p, manifestKey, expected(packed.id), packed.data)).toThrow(IntegrityError);
  });

  it('hides everything: no path, message, name or email in the data', () => {
    const packed = packSnapshot(p, manifestKey, alice.ed25519.secretKey, manifest);
    const text = Buffer.from(packed.data).toString('latin1');
    for (const secret of ['collection.json', 'add collection', 'Alice', 'alice@example.com', workspaceId]) {
      expect(text.includes(secret)).toBe(false);
    }
  });

  it('refuses to sign a manifest whose signingKey is not the signer', () => {
    expect(() => packSnapshot(p, manifestKey, alice.ed25519.secretKey, manifestBy(mallory.ed25519.publicKey))).toThrow(CryptoArgumentError);
  });

  it("a manifest self-signed by Mallory under Mallory's own key opens: trusting the key is the caller's job", () => {
    const own = forge(manifestBy(mallory.ed25519.publicKey), mallory.ed25519.secretKey);
    const opened = openSnapshot(p, manifestKey, expected(own.id), own.data);
    expect(opened.author.signingKey).toBe(toBase64Url(mallory.ed25519.publicKey));
    expect(opened.author.signingKey).not.toBe(manifest.author.signingKey);
  });
});

describe('manifest layouts', () => {
  it('a snapshot made before layout 2 (canonical JSON) still opens, whole or head only', () => {
    const old = forge(manifest, alice.ed25519.secretKey, encodeJsonManifest(manifest));
    expect(openSnapshot(p, manifestKey, expected(old.id), old.data)).toEqual(manifest);
    expect(openSnapshotHead(p, manifestKey, expected(old.id), old.data).files).toBe(1);
  });

  it('a layout newer than this version, signed and chained right, says so instead of crying tampering', () => {
    const bytes = encodeManifest(manifest);
    const newer = bytes.slice();
    newer[8] = 3;
    const forged = forge(manifest, alice.ed25519.secretKey, newer);
    let err: unknown;
    try {
      openSnapshot(p, manifestKey, expected(forged.id), forged.data);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NewerFormatError);
    // The caller checks that this author is trusted before passing the "upgrade" on.
    expect((err as NewerFormatError).author).toEqual({ userId: manifest.author.userId, signingKey: manifest.author.signingKey });
    expect(() => openSnapshotHead(p, manifestKey, expected(forged.id), forged.data)).toThrow(/layout 3, which a newer insomnia-sync wrote/);
  });

  it('a newer layout with a bad signature, the wrong chain link or no readable head is tampering', () => {
    const newer = encodeManifest(manifest).slice();
    newer[8] = 9;
    const sealed = (plaintext: Uint8Array) => {
      const data = sealEnvelope(p, manifestKey, plaintext, { kind: 'snapshot', workspaceId, epoch: 2 });
      return { id: toHex(p.sha256(data)), data };
    };
    const unsigned = sealed(concatBytes(new Uint8Array(64), newer));
    expect(() => openSnapshot(p, manifestKey, expected(unsigned.id), unsigned.data)).toThrow(IntegrityError);
    const byMallory = forge(manifestBy(alice.ed25519.publicKey), mallory.ed25519.secretKey, newer);
    expect(() => openSnapshot(p, manifestKey, expected(byMallory.id), byMallory.data)).toThrow(IntegrityError);
    const signed = forge(manifest, alice.ed25519.secretKey, newer);
    expect(() => openSnapshot(p, manifestKey, expected(signed.id, { parent: 'e'.repeat(64) }), signed.data)).toThrow(IntegrityError);
    const headless = Buffer.from(newer.subarray(0, 20));
    headless.writeUInt32LE(4, 12);
    const noHead = forge(manifest, alice.ed25519.secretKey, headless);
    expect(() => openSnapshot(p, manifestKey, expected(noHead.id), noHead.data)).toThrow(IntegrityError);
    const older = encodeManifest(manifest).slice();
    older[8] = 1;
    const bad = forge(manifest, alice.ed25519.secretKey, older);
    expect(() => openSnapshot(p, manifestKey, expected(bad.id), bad.data)).toThrow(IntegrityError);
  });
});

describe('openSnapshotHead', () => {
  it('checks like openSnapshot and gives the manifest without files, with their count and bytes', () => {
    const many = manifestBy(alice.ed25519.publicKey, {
      message: 'has ,"files":[ and ,"size":9 in it, "quoted"',
      files: [
        { path: 'a/,"size":7.json', mode: 0o644, size: 120, chunks: ['d'.repeat(64)] },
        { path: 'b.bin', mode: 0o755, size: 3 * 1024 * 1024, chunks: ['e'.repeat(64), 'f'.repeat(64), '1'.repeat(64)] },
        { path: 'empty', mode: 0o644, size: 0, chunks: [] },
      ],
    });
    const packed = packSnapshot(p, manifestKey, alice.ed25519.secretKey, many);
    const head = openSnapshotHead(nodePrimitives, manifestKey, expected(packed.id), packed.data);
    const { files, ...rest } = openSnapshot(nodePrimitives, manifestKey, expected(packed.id), packed.data);
    expect(head.manifest).toEqual(rest);
    expect(head.files).toBe(files.length);
    expect(head.bytes).toBe(files.reduce((n, f) => n + f.size, 0));
    // the same manifest in layout 1 (snapshots made before layout 2)
    const old = forge(many, alice.ed25519.secretKey, encodeJsonManifest(many));
    expect(openSnapshotHead(nodePrimitives, manifestKey, expected(old.id), old.data)).toEqual(head);
  });

  // docs/crypto.md §8: the head is decoded strictly, so `log` and a pull's walk refuse the layout-1
  // bytes that `verify` and `restore` refuse, signed or not.
  it('refuses a signed layout-1 manifest with a repeated "parent" (the last one would win) → IntegrityError', () => {
    const text = Buffer.from(encodeJsonManifest(manifest)).toString('utf8');
    for (const twice of [`"parent":"${'e'.repeat(64)}","parent":"${parent}",`, `"parent":"${parent}","parent":"${parent}",`]) {
      const forged = forge(manifest, alice.ed25519.secretKey, utf8(text.replace(`"parent":"${parent}",`, twice)));
      expect(() => openSnapshot(p, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
      expect(() => openSnapshotHead(p, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
    }
  });

  it('refuses a signed layout-1 manifest whose file list is malformed → IntegrityError', () => {
    const text = Buffer.from(encodeJsonManifest(manifest)).toString('utf8');
    for (const files of [
      `[{"path":"../collection.json","mode":420,"size":10,"chunks":["${'d'.repeat(64)}"]}]`,
      `[{"path":"collection.json","mode":420,"size":10,"chunks":[]}]`,
      `[{"path":"collection.json","mode":420,"size":10,"chunks":["${'d'.repeat(64)}"],"size":10}]`,
      `[{"path":"collection.json","mode":420,"size":10,"chunks":["${'d'.repeat(64)}"]},{"path":"collection.json","mode":420,"size":10,"chunks":["${'d'.repeat(64)}"]}]`,
      '[not json]',
    ]) {
      const bytes = utf8(text.replace(/"files":\[.*\]\}$/, `"files":${files}}`));
      expect(Buffer.from(bytes).toString('utf8')).not.toBe(text);
      const forged = forge(manifest, alice.ed25519.secretKey, bytes);
      expect(() => openSnapshot(p, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
      expect(() => openSnapshotHead(p, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
    }
  });
});

describe.each([
  ['openSnapshot', openSnapshot],
  ['openSnapshotHead', openSnapshotHead],
] as const)('%s refuses', (_name, open) => {
  const packed = packSnapshot(p, manifestKey, alice.ed25519.secretKey, manifest);

  it('wrong id (another valid id, a malformed id, upper case) → IntegrityError', () => {
    const other = packSnapshot(p, manifestKey, alice.ed25519.secretKey, manifest);
    expect(() => open(p, manifestKey, expected(other.id), packed.data)).toThrow(IntegrityError);
    expect(() => open(p, manifestKey, expected(packed.id.slice(1)), packed.data)).toThrow(IntegrityError);
    expect(() => open(p, manifestKey, expected(packed.id.toUpperCase()), packed.data)).toThrow(IntegrityError);
  });

  it('tampered data → IntegrityError, even when the id is recomputed to match', () => {
    for (const i of [0, 1, 30, packed.data.length - 1]) {
      const bad = flipBit(packed.data, i);
      expect(() => open(p, manifestKey, expected(packed.id), bad)).toThrow(IntegrityError);
      expect(() => open(p, manifestKey, expected(toHex(p.sha256(bad))), bad)).toThrow(IntegrityError);
    }
    expect(() => open(p, manifestKey, expected(packed.id), packed.data.subarray(0, 60))).toThrow(IntegrityError);
  });

  it('wrong parent, workspace, epoch or key → IntegrityError', () => {
    expect(() => open(p, manifestKey, expected(packed.id, { parent: 'e'.repeat(64) }), packed.data)).toThrow(IntegrityError);
    expect(() => open(p, manifestKey, expected(packed.id, { parent: null }), packed.data)).toThrow(IntegrityError);
    expect(() => open(p, manifestKey, expected(packed.id, { workspaceId: 'f'.repeat(32) }), packed.data)).toThrow(IntegrityError);
    expect(() => open(p, manifestKey, expected(packed.id, { epoch: 3 }), packed.data)).toThrow(IntegrityError);
    expect(() => open(p, seededBytes(32, 9), expected(packed.id), packed.data)).toThrow(IntegrityError);
  });

  it('a manifest claiming Alice but signed by Mallory → IntegrityError', () => {
    const forged = forge(manifest, mallory.ed25519.secretKey);
    expect(() => open(p, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
  });

  it("Alice's signature moved onto a changed manifest → IntegrityError", () => {
    const changed = manifestBy(alice.ed25519.publicKey, { message: 'innocent' });
    const sig = signDetached(alice.ed25519.secretKey, concatBytes(utf8(LABELS.snapshotSignature), p.sha256(encodeManifest(manifest))));
    const data = sealEnvelope(p, manifestKey, concatBytes(sig, encodeManifest(changed)), { kind: 'snapshot', workspaceId, epoch: 2 });
    expect(() => open(p, manifestKey, expected(toHex(p.sha256(data))), data)).toThrow(IntegrityError);
  });

  it('a signature without the label prefix → IntegrityError', () => {
    const bytes = encodeManifest(manifest);
    const sig = signDetached(alice.ed25519.secretKey, p.sha256(bytes));
    const data = sealEnvelope(p, manifestKey, concatBytes(sig, bytes), { kind: 'snapshot', workspaceId, epoch: 2 });
    expect(() => open(p, manifestKey, expected(toHex(p.sha256(data))), data)).toThrow(IntegrityError);
  });

  it('undecodable plaintext (not a manifest, or only a signature) → IntegrityError', () => {
    for (const plaintext of [concatBytes(new Uint8Array(64), utf8('{"not":"a manifest"}')), new Uint8Array(64), new Uint8Array(10)]) {
      const data = sealEnvelope(p, manifestKey, plaintext, { kind: 'snapshot', workspaceId, epoch: 2 });
      expect(() => open(p, manifestKey, expected(toHex(p.sha256(data))), data)).toThrow(IntegrityError);
    }
  });
});

describe('snapshots through the native curves (nodePrimitives)', () => {
  it('pack gives byte-identical data through either implementation, given the same randomness', () => {
    const fixed = (prims: Primitives): Primitives => ({ ...prims, randomBytes: (n) => new Uint8Array(n).fill(1) });
    const viaNoble = packSnapshot(fixed(noblePrimitives), manifestKey, alice.ed25519.secretKey, manifest);
    const viaNode = packSnapshot(fixed(nodePrimitives), manifestKey, alice.ed25519.secretKey, manifest);
    expect(viaNode.id).toBe(viaNoble.id);
    expect(toHex(viaNode.data)).toBe(toHex(viaNoble.data));
    expect(openSnapshot(nodePrimitives, manifestKey, expected(viaNode.id), viaNode.data)).toEqual(manifest);
  });

  it('refuses to sign for a key that is not the signer through nodePrimitives too', () => {
    expect(() => packSnapshot(nodePrimitives, manifestKey, alice.ed25519.secretKey, manifestBy(mallory.ed25519.publicKey))).toThrow(CryptoArgumentError);
  });

  function sealedWith(m: Manifest, signature: Uint8Array): { id: string; data: Uint8Array } {
    const data = sealEnvelope(p, manifestKey, concatBytes(signature, encodeManifest(m)), { kind: 'snapshot', workspaceId: m.workspaceId, epoch: m.epoch });
    return { id: toHex(p.sha256(data)), data };
  }
  const signedMessageOf = (m: Manifest) => concatBytes(utf8(LABELS.snapshotSignature), p.sha256(encodeManifest(m)));

  it("Alice's signature with R shifted by a small-order point → IntegrityError for both (raw noble would accept)", () => {
    const sig = torsionShiftedSignature(alice.ed25519.secretKey, signedMessageOf(manifest));
    expect(nobleCofactoredVerify(alice.ed25519.publicKey, sig, signedMessageOf(manifest))).toBe(true);
    const forged = sealedWith(manifest, sig);
    for (const prims of [noblePrimitives, nodePrimitives]) {
      expect(() => openSnapshot(prims, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
    }
  });

  it('a manifest "signed" under the identity point as signingKey → IntegrityError for both (raw OpenSSL would accept)', () => {
    const m = manifestBy(IDENTITY_KEY);
    const sig = identityKeySignature();
    expect(opensslVerify(IDENTITY_KEY, sig, signedMessageOf(m))).toBe(true);
    const forged = sealedWith(m, sig);
    for (const prims of [noblePrimitives, nodePrimitives]) {
      expect(() => openSnapshot(prims, manifestKey, expected(forged.id), forged.data)).toThrow(IntegrityError);
    }
  });
});
