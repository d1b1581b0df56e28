/**
 * Snapshots on the wire in binary, for `application/octet-stream` (docs/protocol.md §3.16–3.18).
 * Listings and fetches answer with repeated
 *
 *   flags (1: bit 0 set when there is a parent) ‖ id (32) ‖ parent (32, zeros when none)
 *   ‖ createdAt (float64 big-endian, ms since the epoch) ‖ length (u32 big-endian) ‖ data
 *
 * A 10,000-file manifest is ~1.0 MB; in JSON it travels as 1.4 MB of base64 that both sides
 * encode, scan and decode, and the client held the answer three times over (bytes, text, parsed
 * strings) before decoding each snapshot. The JSON forms stay for other clients.
 */
export const SNAPSHOT_FRAME_HEADER_BYTES = 1 + 32 + 32 + 8 + 4;
export const SNAPSHOT_FRAMES_TYPE = 'application/octet-stream';

export interface SnapshotFrame {
  /** 64 lowercase hex */
  id: string;
  parent: string | null;
  /** ISO 8601, as the JSON form gives it */
  createdAt: string;
  /** the snapshot's envelope */
  data: Uint8Array;
}

export class SnapshotFrameError extends Error {
  readonly code = 'bad_frames';
}

const HAS_PARENT = 1;
const LOWER_HEX_64 = /^[0-9a-f]{64}$/;

export function encodeSnapshotFrames(records: readonly { id: string; parent: string | null; createdAt: Date; data: Uint8Array }[]): Buffer {
  let total = 0;
  for (const r of records) total += SNAPSHOT_FRAME_HEADER_BYTES + r.data.length;
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const r of records) {
    if (!LOWER_HEX_64.test(r.id) || (r.parent !== null && !LOWER_HEX_64.test(r.parent))) throw new SnapshotFrameError('snapshot ids must be 64 lowercase hex chars');
    out[at] = r.parent === null ? 0 : HAS_PARENT;
    out.write(r.id, at + 1, 32, 'hex');
    if (r.parent === null) out.fill(0, at + 33, at + 65);
    else out.write(r.parent, at + 33, 32, 'hex');
    out.writeDoubleBE(r.createdAt.getTime(), at + 65);
    out.writeUInt32BE(r.data.length, at + 73);
    out.set(r.data, at + SNAPSHOT_FRAME_HEADER_BYTES);
    at += SNAPSHOT_FRAME_HEADER_BYTES + r.data.length;
  }
  return out;
}

/** Strict decoder: a truncated frame, unknown flags or a time that is not a valid date throw SnapshotFrameError. */
export function decodeSnapshotFrames(body: Uint8Array): SnapshotFrame[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const frames: SnapshotFrame[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < SNAPSHOT_FRAME_HEADER_BYTES) throw new SnapshotFrameError('truncated snapshot frame header');
    const flags = buf[at]!;
    if (flags !== 0 && flags !== HAS_PARENT) throw new SnapshotFrameError('unknown snapshot frame flags');
    const ms = buf.readDoubleBE(at + 65);
    if (!Number.isFinite(ms) || !Number.isFinite(new Date(ms).getTime())) throw new SnapshotFrameError('snapshot frame time is not a date');
    const length = buf.readUInt32BE(at + 73);
    const start = at + SNAPSHOT_FRAME_HEADER_BYTES;
    if (buf.length - start < length) throw new SnapshotFrameError('truncated snapshot frame body');
    frames.push({
      id: buf.toString('hex', at + 1, at + 33),
      parent: flags === HAS_PARENT ? buf.toString('hex', at + 33, at + 65) : null,
      createdAt: new Date(ms).toISOString(),
      data: body.subarray(start, start + length),
    });
    at = start + length;
  }
  return frames;
}

/**
 * The binary body of a snapshot creation (docs/protocol.md §3.16), for `application/octet-stream`:
 *
 *   id (32) ‖ flags (1: bit 0 set when there is a parent) ‖ parent (32, zeros when none)
 *   ‖ count (u32 big-endian) ‖ count blob ids (32 each) ‖ data (the envelope, the rest)
 */
export interface SnapshotUpload {
  id: string;
  parent: string | null;
  blobIds: string[];
  data: Uint8Array;
}

const UPLOAD_HEAD_BYTES = 32 + 1 + 32 + 4;

/** The body as a header and the envelope itself, to be sent one after the other without a copy. */
export function encodeSnapshotUpload(u: SnapshotUpload): [Buffer, Uint8Array] {
  if (!LOWER_HEX_64.test(u.id) || (u.parent !== null && !LOWER_HEX_64.test(u.parent)) || !u.blobIds.every((b) => LOWER_HEX_64.test(b))) {
    throw new SnapshotFrameError('snapshot and blob ids must be 64 lowercase hex chars');
  }
  const head = Buffer.alloc(UPLOAD_HEAD_BYTES + 32 * u.blobIds.length);
  head.write(u.id, 0, 32, 'hex');
  if (u.parent !== null) {
    head[32] = HAS_PARENT;
    head.write(u.parent, 33, 32, 'hex');
  }
  head.writeUInt32BE(u.blobIds.length, 65);
  u.blobIds.forEach((b, i) => head.write(b, UPLOAD_HEAD_BYTES + 32 * i, 32, 'hex'));
  return [head, u.data];
}

/** Strict decoder: a short body, unknown flags, a parent or count that does not fit, or no data throw SnapshotFrameError. */
export function decodeSnapshotUpload(body: Uint8Array): SnapshotUpload {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (buf.length < UPLOAD_HEAD_BYTES) throw new SnapshotFrameError('truncated snapshot header');
  const flags = buf[32]!;
  if (flags !== 0 && flags !== HAS_PARENT) throw new SnapshotFrameError('unknown snapshot flags');
  if (flags === 0 && buf.subarray(33, 65).some((b) => b !== 0)) throw new SnapshotFrameError('a snapshot without parent must have a zero parent field');
  const count = buf.readUInt32BE(65);
  const dataAt = UPLOAD_HEAD_BYTES + 32 * count;
  if (dataAt >= buf.length) throw new SnapshotFrameError('snapshot body ends before its data');
  const blobIds = new Array<string>(count);
  for (let i = 0; i < count; i++) blobIds[i] = buf.toString('hex', UPLOAD_HEAD_BYTES + 32 * i, UPLOAD_HEAD_BYTES + 32 * (i + 1));
  return {
    id: buf.toString('hex', 0, 32),
    parent: flags === HAS_PARENT ? buf.toString('hex', 33, 65) : null,
    blobIds,
    data: body.subarray(dataAt),
  };
}
