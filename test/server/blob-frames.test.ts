import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ENVELOPE_OVERHEAD } from '../../src/crypto/aead.js';
import { decodeFrames, encodeFrames, FRAME_HEADER_BYTES, FrameError } from '../../src/protocol/blob-frames.js';
import { LIMITS } from '../../src/protocol/types.js';

const hex = (n: number): string => randomBytes(n).toString('hex');

describe('blob frames', () => {
  it('encodes id bytes, big-endian length and data, back to back', () => {
    const id1 = '00'.repeat(31) + 'ff';
    const id2 = '0123456789abcdef'.repeat(4);
    const out = encodeFrames([
      { id: id1, data: new Uint8Array([1, 2, 3]) },
      { id: id2, data: new Uint8Array(0) },
    ]);
    expect(out).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(out).toString('hex')).toBe(`${id1}00000003010203${id2}00000000`);
  });

  it('round-trips frames of many sizes, and decodes a body that starts inside a larger buffer', () => {
    const frames = [0, 1, 35, 36, 4096, 70_000].map((n) => ({ id: hex(32), data: new Uint8Array(randomBytes(n)) }));
    const body = encodeFrames(frames);
    expect(body.length).toBe(frames.reduce((n, f) => n + FRAME_HEADER_BYTES + f.data.length, 0));
    const padded = new Uint8Array(body.length + 13);
    padded.set(body, 7);
    for (const input of [body, padded.subarray(7, 7 + body.length)]) {
      const back = decodeFrames(input, 1 << 20);
      expect(back.map((f) => f.id)).toEqual(frames.map((f) => f.id));
      back.forEach((f, i) => expect(Buffer.from(f.data).equals(Buffer.from(frames[i]!.data))).toBe(true));
    }
    expect(decodeFrames(new Uint8Array(0), 10)).toEqual([]);
  });

  it('refuses ids that are not 64 lowercase hex chars', () => {
    const good = hex(32);
    for (const id of ['', good.slice(2), `${good}00`, good.toUpperCase(), `${good.slice(0, 62)}zz`, `${good.slice(0, 62)}g0`, ` ${good.slice(1)}`]) {
      expect(() => encodeFrames([{ id: good, data: new Uint8Array(1) }, { id, data: new Uint8Array(1) }])).toThrow(FrameError);
    }
  });

  it('refuses truncated headers and bodies and frames over the limit', () => {
    const body = encodeFrames([{ id: hex(32), data: new Uint8Array(100) }]);
    expect(() => decodeFrames(body.subarray(0, 20), 1000)).toThrow(/truncated frame header/);
    expect(() => decodeFrames(body.subarray(0, body.length - 1), 1000)).toThrow(/truncated frame body/);
    expect(() => decodeFrames(body, 99)).toThrow(/frame too large/);
    expect(decodeFrames(body, 100)).toHaveLength(1);
  });

  it('with upload rules, refuses frames shorter than the minimum and an id seen twice', () => {
    const rules = { minFrameBytes: LIMITS.minBlobBytes, distinctIds: true };
    const id = hex(32);
    expect(() => decodeFrames(encodeFrames([{ id, data: new Uint8Array(0) }]), 1000, rules)).toThrow(/shorter than any sealed blob/);
    expect(() => decodeFrames(encodeFrames([{ id, data: new Uint8Array(40) }]), 1000, rules)).toThrow(FrameError);
    expect(decodeFrames(encodeFrames([{ id, data: new Uint8Array(41) }]), 1000, rules)).toHaveLength(1);
    const twice = encodeFrames([{ id, data: new Uint8Array(50) }, { id: hex(32), data: new Uint8Array(50) }, { id, data: new Uint8Array(60) }]);
    expect(() => decodeFrames(twice, 1000, rules)).toThrow(/appears twice in one upload/);
    // without rules (a fetch answer: the client checks it against the ids it asked for) both pass
    expect(decodeFrames(twice, 1000)).toHaveLength(3);
    expect(decodeFrames(encodeFrames([{ id, data: new Uint8Array(0) }]), 1000)).toHaveLength(1);
  });

  it('takes its minimum from the envelope: an empty chunk seals to exactly LIMITS.minBlobBytes', () => {
    expect(LIMITS.minBlobBytes).toBe(ENVELOPE_OVERHEAD);
  });
});
