/**
 * Binary framing for blob upload and download bodies (docs/protocol.md §4):
 * repeated `id (32 raw bytes) ‖ length (u32 big-endian) ‖ data (length bytes)`.
 * Binary keeps 100 MB pushes from paying base64's 33 % and its CPU.
 */
export const FRAME_HEADER_BYTES = 36;

export interface BlobFrame {
  /** 64 lowercase hex chars */
  id: string;
  data: Uint8Array;
}

export function encodeFrames(frames: readonly BlobFrame[]): Uint8Array {
  let total = 0;
  for (const f of frames) total += FRAME_HEADER_BYTES + f.data.length;
  // every byte is written below, so skip the zero fill; unpooled, so the result owns its buffer from offset 0
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const f of frames) {
    writeFrameHeader(out, at, f.id, f.data.length);
    out.set(f.data, at + FRAME_HEADER_BYTES);
    at += FRAME_HEADER_BYTES + f.data.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, total);
}

/** Writes one frame's header (id, then the length of the data that must follow) at `at`. */
function writeFrameHeader(out: Uint8Array, at: number, id: string, length: number): void {
  const buf = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  writeFrameId(buf, at, id);
  buf.writeUInt32BE(length, at + 32);
}

export class FrameError extends Error {
  readonly code = 'bad_frames';
}

/** What an upload must also satisfy; a fetch answer is checked against the ids asked for instead. */
export interface FrameRules {
  /** shorter data cannot be a sealed blob (LIMITS.minBlobBytes) */
  minFrameBytes?: number;
  /**
   * Every id at most once. Stores keep the first data under an id and ignore later copies, so a
   * second copy is either redundant or a different body one of which is garbage stored for good.
   */
  distinctIds?: boolean;
}

/**
 * Strict decoder: a truncated header or body, a frame over `maxFrameBytes`, or one breaking
 * `rules`, throws FrameError.
 */
export function decodeFrames(body: Uint8Array, maxFrameBytes: number, rules: FrameRules = {}): BlobFrame[] {
  const frames: BlobFrame[] = [];
  const minFrameBytes = rules.minFrameBytes ?? 0;
  const ids = rules.distinctIds ? new Set<string>() : undefined;
  // one Buffer view for the whole body: hex ids and lengths come from it without per-frame views
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const end = buf.length;
  let at = 0;
  while (at < end) {
    if (end - at < FRAME_HEADER_BYTES) throw new FrameError('truncated frame header');
    const len = buf.readUInt32BE(at + 32);
    if (len > maxFrameBytes) throw new FrameError('frame too large');
    if (len < minFrameBytes) throw new FrameError(`frame of ${len} bytes is shorter than any sealed blob (${minFrameBytes})`);
    const start = at + FRAME_HEADER_BYTES;
    if (end - start < len) throw new FrameError('truncated frame body');
    const id = buf.toString('hex', at, at + 32);
    if (ids) {
      if (ids.has(id)) throw new FrameError(`blob ${id.slice(0, 12)}… appears twice in one upload`);
      ids.add(id);
    }
    frames.push({ id, data: body.subarray(start, start + len) });
    at = start + len;
  }
  return frames;
}

const LOWER_HEX_64 = /^[0-9a-f]{64}$/;

/** Writes a 64-hex-char id as 32 raw bytes at `at`; anything but 64 lowercase hex chars throws FrameError. */
function writeFrameId(out: Buffer, at: number, hex: string): void {
  // Buffer's hex decoder also takes upper case and stops silently at a bad pair, hence the pattern
  if (!LOWER_HEX_64.test(hex)) throw new FrameError('blob id must be 64 lowercase hex chars');
  out.write(hex, at, 32, 'hex');
}
