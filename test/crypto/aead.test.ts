import { describe, expect, it } from 'vitest';
import { encodeAad, ENVELOPE_OVERHEAD, objectOpener, objectSealer, openEnvelope, sealEnvelope, SLOT_KINDS, type Slot } from '../../src/crypto/aead.js';
import { toHex, utf8 } from '../../src/crypto/encoding.js';
import { CryptoArgumentError, IntegrityError } from '../../src/crypto/errors.js';
import { ENVELOPE_VERSION } from '../../src/crypto/labels.js';
import { noblePrimitives, type Primitives } from '../../src/crypto/primitives.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { flipBit, seededBytes } from './helpers.js';

const key = seededBytes(32, 7);
const slot: Slot = { kind: 'blob', ownerId: 'user-1', workspaceId: 'ws-1', objectId: 'obj-1', epoch: 3 };
const plaintext = utf8('secret workspace content');

describe('envelope format', () => {
  it('is version 0x01 ‖ 24-byte nonce ‖ ciphertext ‖ 16-byte tag, 41 bytes of overhead', () => {
    const env = sealEnvelope(noblePrimitives, key, plaintext, slot);
    expect(ENVELOPE_OVERHEAD).toBe(41);
    expect(env.length).toBe(plaintext.length + 41);
    expect(env[0]).toBe(ENVELOPE_VERSION);
    expect(ENVELOPE_VERSION).toBe(1);
    // The nonce and body are the XChaCha20-Poly1305 of the plaintext under encodeAad(slot).
    const nonce = env.subarray(1, 25);
    const direct = noblePrimitives.xchacha20poly1305(key, nonce, encodeAad(slot)).encrypt(plaintext);
    expect(toHex(env.subarray(25))).toBe(toHex(direct));
  });

  it('uses a fresh random nonce every time', () => {
    const a = sealEnvelope(noblePrimitives, key, plaintext, slot);
    const b = sealEnvelope(noblePrimitives, key, plaintext, slot);
    expect(toHex(a.subarray(1, 25))).not.toBe(toHex(b.subarray(1, 25)));
  });

  it('takes its nonce from the injected Primitives', () => {
    const fixed: Primitives = { ...noblePrimitives, randomBytes: (n) => new Uint8Array(n).fill(0xab) };
    const env = sealEnvelope(fixed, key, plaintext, slot);
    expect(toHex(env.subarray(1, 25))).toBe('ab'.repeat(24));
  });

  for (const [name, prims] of [['noble', noblePrimitives], ['node', nodePrimitives]] as const) {
    it(`round-trips through ${name} and across implementations, empty plaintext included`, () => {
      for (const pt of [new Uint8Array(0), plaintext, seededBytes(70000, 9)]) {
        const env = sealEnvelope(prims, key, pt, slot);
        expect(toHex(openEnvelope(noblePrimitives, key, env, slot))).toBe(toHex(pt));
        expect(toHex(openEnvelope(nodePrimitives, key, env, slot))).toBe(toHex(pt));
      }
    });
  }
});

describe('envelope tampering → IntegrityError', () => {
  const env = sealEnvelope(noblePrimitives, key, plaintext, slot);

  for (const [name, prims] of [['noble', noblePrimitives], ['node', nodePrimitives]] as const) {
    it(`(${name}) flipping any bit of any byte`, () => {
      for (let i = 0; i < env.length; i++) {
        for (const bit of [0, 7]) {
          expect(() => openEnvelope(prims, key, flipBit(env, i, bit), slot), `byte ${i} bit ${bit}`).toThrow(IntegrityError);
        }
      }
    });
  }

  it('every truncation, and an appended byte', () => {
    for (let len = 0; len < env.length; len++) {
      expect(() => openEnvelope(noblePrimitives, key, env.subarray(0, len), slot), `length ${len}`).toThrow(IntegrityError);
    }
    const longer = new Uint8Array(env.length + 1);
    longer.set(env);
    expect(() => openEnvelope(noblePrimitives, key, longer, slot)).toThrow(IntegrityError);
  });

  it('version byte 2 or 0, even with an otherwise valid body', () => {
    for (const version of [0, 2, 0xff]) {
      const bad = env.slice();
      bad[0] = version;
      expect(() => openEnvelope(noblePrimitives, key, bad, slot)).toThrow(IntegrityError);
    }
  });

  it('the wrong key', () => {
    expect(() => openEnvelope(noblePrimitives, flipBit(key, 0), env, slot)).toThrow(IntegrityError);
    expect(() => openEnvelope(noblePrimitives, seededBytes(32, 8), env, slot)).toThrow(IntegrityError);
  });

  it('a changed slot: each AAD field changed, removed or added', () => {
    const variants: Slot[] = [
      { ...slot, kind: 'snapshot' },
      { ...slot, ownerId: 'user-2' },
      { ...slot, workspaceId: 'ws-2' },
      { ...slot, objectId: 'obj-2' },
      { ...slot, epoch: 4 },
      { ...slot, epoch: 0 },
      { kind: 'blob', workspaceId: 'ws-1', objectId: 'obj-1', epoch: 3 },
      { kind: 'blob', ownerId: 'user-1', objectId: 'obj-1', epoch: 3 },
      { kind: 'blob', ownerId: 'user-1', workspaceId: 'ws-1', epoch: 3 },
      { kind: 'blob', ownerId: 'user-1', workspaceId: 'ws-1', objectId: 'obj-1' },
    ];
    for (const other of variants) {
      expect(() => openEnvelope(noblePrimitives, key, env, other), JSON.stringify(other)).toThrow(IntegrityError);
    }
    const minimal = sealEnvelope(noblePrimitives, key, plaintext, { kind: 'blob' });
    expect(() => openEnvelope(noblePrimitives, key, minimal, { kind: 'blob', ownerId: '' })).toThrow(IntegrityError);
    expect(() => openEnvelope(noblePrimitives, key, minimal, { kind: 'blob', epoch: 0 })).toThrow(IntegrityError);
  });

  it('gives one message for every failure (no oracle)', () => {
    const messages = new Set<string>();
    const collect = (f: () => unknown): void => {
      try {
        f();
      } catch (e) {
        messages.add((e as Error).message);
      }
    };
    collect(() => openEnvelope(noblePrimitives, key, flipBit(env, 30), slot));
    collect(() => openEnvelope(noblePrimitives, key, env.subarray(0, 10), slot));
    collect(() => openEnvelope(noblePrimitives, key, flipBit(env, 0, 1), slot));
    collect(() => openEnvelope(noblePrimitives, key, env, { ...slot, epoch: 9 }));
    collect(() => openEnvelope(nodePrimitives, key, flipBit(env, 30), slot));
    expect(messages.size).toBe(1);
    expect(new IntegrityError().code).toBe('integrity');
  });
});

describe('encodeAad', () => {
  it('is canonical: field order of the object does not matter', () => {
    const reordered: Slot = { epoch: 3, objectId: 'obj-1', workspaceId: 'ws-1', ownerId: 'user-1', kind: 'blob' };
    expect(toHex(encodeAad(reordered))).toBe(toHex(encodeAad(slot)));
  });

  it('is unambiguous: separators or moved characters inside ids give different bytes', () => {
    const seen = new Map<string, string>();
    const slots: Slot[] = [
      { kind: 'blob', ownerId: 'a|b', workspaceId: 'c' },
      { kind: 'blob', ownerId: 'a', workspaceId: 'b|c' },
      { kind: 'blob', ownerId: 'ab', workspaceId: 'c' },
      { kind: 'blob', ownerId: 'a', workspaceId: 'bc' },
      { kind: 'blob', workspaceId: 'abc' },
      { kind: 'blob', objectId: 'abc' },
      { kind: 'blob', ownerId: '' },
      { kind: 'blob' },
      { kind: 'blob', epoch: 0 },
      { kind: 'blob', epoch: 1 },
      { kind: 'blob', ownerId: '\u0000\u0000\u0000\u0001' },
      { kind: 'blob', ownerId: '\u0000', workspaceId: '' },
    ];
    for (const s of slots) {
      const hex = toHex(encodeAad(s));
      expect(seen.get(hex), `${JSON.stringify(s)} collides with ${seen.get(hex)}`).toBeUndefined();
      seen.set(hex, JSON.stringify(s));
    }
  });

  it('starts with the versioned label and encodes fields length-prefixed', () => {
    const aad = encodeAad({ kind: 'team-key', epoch: 258 });
    const label = utf8('insomnia-sync/v1/aad');
    expect(toHex(aad.subarray(0, label.length))).toBe(toHex(label));
    expect(toHex(aad.subarray(label.length))).toBe(
      '00' + '01' + '00000008' + toHex(utf8('team-key')) + '00' + '00' + '00' + '01' + '00000102',
    );
  });

  it('accepts every slot kind and rejects unknown kinds and malformed fields', () => {
    for (const kind of SLOT_KINDS) expect(encodeAad({ kind }).length).toBeGreaterThan(20);
    const bad: unknown[] = [
      { kind: 'nope' },
      { kind: 'blob', epoch: -1 },
      { kind: 'blob', epoch: 1.5 },
      { kind: 'blob', epoch: 2 ** 32 },
      { kind: 'blob', ownerId: 5 },
      { kind: 'blob', workspaceId: 'x'.repeat(1025) },
      { kind: 'blob', objectId: '\ud800' },
      null,
    ];
    for (const s of bad) expect(() => encodeAad(s as Slot), JSON.stringify(s)).toThrow(CryptoArgumentError);
  });
});

describe('argument errors are not integrity errors', () => {
  it('wrong key length or type is a CryptoArgumentError naming the problem', () => {
    const env = sealEnvelope(noblePrimitives, key, plaintext, slot);
    expect(() => openEnvelope(noblePrimitives, new Uint8Array(16), env, slot)).toThrow(/key must be 32 bytes, got 16/);
    expect(() => sealEnvelope(noblePrimitives, key, 'text' as unknown as Uint8Array, slot)).toThrow(/plaintext must be a Uint8Array, got string/);
    expect(() => openEnvelope(noblePrimitives, key, [1, 2] as unknown as Uint8Array, slot)).toThrow(CryptoArgumentError);
  });
});

describe('objectSealer / objectOpener (one slot family, many objects)', () => {
  const fixedNonce = (byte: number): Primitives => ({ ...nodePrimitives, randomBytes: (n) => new Uint8Array(n).fill(byte) });
  const family = { kind: 'blob', workspaceId: 'ws-1', epoch: 3 } as const;

  it('seals byte for byte what sealEnvelope seals for the full slot, for ASCII, hex, non-ASCII and empty ids', () => {
    const ids = ['a'.repeat(64), 'obj-1', 'résumé-ü', '', 'x'.repeat(1024)];
    for (const [i, id] of ids.entries()) {
      const p = fixedNonce(i + 1);
      const viaSealer = objectSealer(p, key, family).seal(id, plaintext);
      const viaEnvelope = sealEnvelope(p, key, plaintext, { ...family, objectId: id });
      expect(toHex(viaSealer), id).toBe(toHex(viaEnvelope));
      expect(toHex(objectOpener(noblePrimitives, key, family)(id, viaEnvelope))).toBe(toHex(plaintext));
    }
  });

  it('keeps the slot binding: another object id, epoch or workspace fails to open', () => {
    const env = objectSealer(nodePrimitives, key, family).seal('obj-1', plaintext);
    expect(() => objectOpener(nodePrimitives, key, family)('obj-2', env)).toThrow(IntegrityError);
    expect(() => objectOpener(nodePrimitives, key, { ...family, epoch: 4 })('obj-1', env)).toThrow(IntegrityError);
    expect(() => objectOpener(nodePrimitives, key, { ...family, workspaceId: 'ws-2' })('obj-1', env)).toThrow(IntegrityError);
    expect(() => objectOpener(nodePrimitives, key, family)('obj-1', flipBit(env, env.length - 1))).toThrow(IntegrityError);
  });

  it('refuses an object id over the slot field limit, and a bad slot up front', () => {
    expect(() => objectSealer(nodePrimitives, key, family).seal('x'.repeat(1025), plaintext)).toThrow(CryptoArgumentError);
    expect(() => objectSealer(nodePrimitives, key, { kind: 'nope' } as unknown as Slot)).toThrow(CryptoArgumentError);
    expect(() => objectOpener(nodePrimitives, new Uint8Array(3), family)).toThrow(CryptoArgumentError);
  });

  for (const [name, prims] of [['node (encryptInto)', nodePrimitives], ['noble (encrypt, then copied)', noblePrimitives]] as const) {
    it(`sealInto writes the same envelope at an offset, and nothing around it, through ${name}`, () => {
      const p: Primitives = { ...prims, randomBytes: (n) => new Uint8Array(n).fill(0x5a) };
      for (const pt of [new Uint8Array(0), plaintext, seededBytes(70000, 4)]) {
        const out = new Uint8Array(pt.length + 41 + 20).fill(0xee);
        const n = objectSealer(p, key, family).sealInto('obj-9', pt, out, 7);
        expect(n).toBe(pt.length + 41);
        expect(toHex(out.subarray(7, 7 + n))).toBe(toHex(sealEnvelope(p, key, pt, { ...family, objectId: 'obj-9' })));
        expect([...out.subarray(0, 7), ...out.subarray(7 + n)].every((b) => b === 0xee)).toBe(true);
      }
    });
  }

  it('sealInto refuses an out without room, writing nothing', () => {
    const out = new Uint8Array(plaintext.length + 40).fill(1);
    expect(() => objectSealer(nodePrimitives, key, family).sealInto('o', plaintext, out, 0)).toThrow(CryptoArgumentError);
    expect(() => objectSealer(nodePrimitives, key, family).sealInto('o', plaintext, new Uint8Array(100), -1)).toThrow(CryptoArgumentError);
    expect(out.every((b) => b === 1)).toBe(true);
  });
});
