/**
 * Binary answers for snapshot listings and fetches (docs/protocol.md §3.17–3.18), sent when the
 * client asks for `application/octet-stream`: repeated
 *
 *   flags (1: bit 0 set when there is a parent) ‖ id (32) ‖ parent (32, zeros when none)
 *   ‖ createdAt (float64 big-endian, ms since the epoch) ‖ length (u32 big-endian) ‖ data
 *
 * A 10,000-file manifest is ~1.7 MB; in JSON it travels as 2.3 MB of base64 that both sides
 * encode, scan and decode, and the client held the answer three times over (bytes, text, parsed
 * strings) before decoding each snapshot. The JSON form stays for other clients.
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
