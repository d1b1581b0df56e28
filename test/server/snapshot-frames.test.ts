import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSnapshotFrames, decodeSnapshotUpload, encodeSnapshotFrames, encodeSnapshotUpload, SNAPSHOT_FRAME_HEADER_BYTES, SnapshotFrameError } from '../../src/protocol/snapshot-frames.js';

const hex = (n: number): string => randomBytes(n).toString('hex');

describe('snapshot frames', () => {
  const records = [
    { id: hex(32), parent: hex(32), createdAt: new Date('2026-11-29T06:30:30.684Z'), data: new Uint8Array(randomBytes(70_000)) },
    { id: hex(32), parent: null, createdAt: new Date(0), data: new Uint8Array(0) },
  ];

  it('lays out flags, id, parent, time and length before the data', () => {
    const out = encodeSnapshotFrames([{ id: 'ab'.repeat(32), parent: null, createdAt: new Date(1), data: new Uint8Array([9]) }]);
    expect(out.toString('hex')).toBe(`00${'ab'.repeat(32)}${'00'.repeat(32)}3ff0000000000000${'00000001'}09`);
    expect(out.length).toBe(SNAPSHOT_FRAME_HEADER_BYTES + 1);
  });

  it('round-trips, with times as the JSON form gives them, also from inside a larger buffer', () => {
    const body = encodeSnapshotFrames(records);
    const padded = new Uint8Array(body.length + 9);
    padded.set(body, 5);
    for (const input of [new Uint8Array(body), padded.subarray(5, 5 + body.length)]) {
      const back = decodeSnapshotFrames(input);
      expect(back.map(({ id, parent, createdAt }) => ({ id, parent, createdAt }))).toEqual(
        records.map((r) => ({ id: r.id, parent: r.parent, createdAt: r.createdAt.toISOString() })),
      );
      back.forEach((f, i) => expect(Buffer.from(f.data).equals(Buffer.from(records[i]!.data))).toBe(true));
    }
    expect(decodeSnapshotFrames(new Uint8Array(0))).toEqual([]);
  });

  it('refuses a truncated header or body, unknown flags and a time that is no date', () => {
    const body = new Uint8Array(encodeSnapshotFrames(records));
    const bad = (mutate: (b: Uint8Array) => Uint8Array): void => expect(() => decodeSnapshotFrames(mutate(body.slice()))).toThrow(SnapshotFrameError);
    bad((b) => b.subarray(0, SNAPSHOT_FRAME_HEADER_BYTES - 1));
    bad((b) => b.subarray(0, body.length - SNAPSHOT_FRAME_HEADER_BYTES - 1));
    bad((b) => ((b[0] = 2), b));
    bad((b) => (Buffer.from(b.buffer).writeDoubleBE(Number.NaN, 65), b));
    bad((b) => (Buffer.from(b.buffer).writeDoubleBE(1e300, 65), b));
  });

  it('refuses to encode ids that are not 64 lowercase hex', () => {
    expect(() => encodeSnapshotFrames([{ ...records[0]!, id: 'AB'.repeat(32) }])).toThrow(SnapshotFrameError);
    expect(() => encodeSnapshotFrames([{ ...records[0]!, parent: 'x' }])).toThrow(SnapshotFrameError);
  });
});

describe('snapshot upload body', () => {
  const upload = { id: hex(32), parent: hex(32), blobIds: [hex(32), hex(32)], data: new Uint8Array(randomBytes(5000)) };
  const body = (u: typeof upload | (Omit<typeof upload, 'parent'> & { parent: null })): Uint8Array => new Uint8Array(Buffer.concat(encodeSnapshotUpload(u)));

  it('round-trips with and without a parent, and with no blob ids', () => {
    for (const u of [upload, { ...upload, parent: null }, { ...upload, blobIds: [] }]) {
      const back = decodeSnapshotUpload(body(u));
      expect({ ...back, data: Buffer.from(back.data) }).toEqual({ ...u, data: Buffer.from(u.data) });
    }
  });

  it('sends the envelope itself, not a copy', () => {
    expect(encodeSnapshotUpload(upload)[1]).toBe(upload.data);
  });

  it('refuses a short body, unknown flags, a parent field without the flag, a count past the end, no data', () => {
    const good = body(upload);
    const bad = (mutate: (b: Buffer) => Uint8Array): void => expect(() => decodeSnapshotUpload(mutate(Buffer.from(good)))).toThrow(SnapshotFrameError);
    bad((b) => b.subarray(0, 60));
    bad((b) => ((b[32] = 3), b));
    bad((b) => ((b[32] = 0), b));
    bad((b) => (b.writeUInt32BE(1000, 65), b));
    bad((b) => b.subarray(0, 32 + 1 + 32 + 4 + 64));
    expect(() => encodeSnapshotUpload({ ...upload, blobIds: ['X'.repeat(64)] })).toThrow(SnapshotFrameError);
  });
});
