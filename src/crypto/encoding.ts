/**
 * Strict byte encodings. Decoders reject anything that is not the canonical form, so one value
 * never has two spellings (which would let ids, keys or fingerprints be compared wrongly).
 */
import { assertBytes, assertString } from './args.js';
import { CryptoArgumentError } from './errors.js';

// one string per byte value: half the time of two digit lookups per byte (a blob id per file)
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));
const HEX_RE = /^[0-9a-fA-F]*$/;

/** Lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]!]!;
  return out;
}

/** Accepts upper or lower case; throws on odd length or any non-hex character. */
export function fromHex(hex: string, expectedLength?: number): Uint8Array {
  assertString(hex, 'hex');
  if (hex.length % 2 !== 0) throw new CryptoArgumentError(`hex must have an even length, got ${hex.length}`);
  if (!HEX_RE.test(hex)) throw new CryptoArgumentError('hex contains a non-hex character');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new CryptoArgumentError(`expected ${expectedLength} bytes of hex, got ${out.length}`);
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. Throws on lone surrogates, which would otherwise become U+FFFD silently. */
export function utf8(text: string): Uint8Array {
  assertString(text, 'text');
  const bytes = encoder.encode(text);
  if (decoder.decode(bytes) !== text) throw new CryptoArgumentError('text is not well-formed Unicode (lone surrogate)');
  return bytes;
}

/** Strict UTF-8 decoding: invalid sequences throw instead of becoming U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  try {
    return decoder.decode(bytes);
  } catch {
    throw new CryptoArgumentError('bytes are not valid UTF-8');
  }
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url (the wire format of binary values in JSON). */
export function toBase64Url(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/** Strict unpadded base64url: rejects padding, other alphabets and non-zero trailing bits. */
export function fromBase64Url(text: string, expectedLength?: number): Uint8Array {
  assertString(text, 'base64url');
  if (!B64URL_RE.test(text) || text.length % 4 === 1) throw new CryptoArgumentError('not unpadded base64url');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of text) {
    acc = ((acc << 6) | B64URL.indexOf(ch)) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw new CryptoArgumentError('base64url has non-zero trailing bits');
  if (expectedLength !== undefined && out.length !== expectedLength) {
    throw new CryptoArgumentError(`expected ${expectedLength} bytes of base64url, got ${out.length}`);
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) {
    assertBytes(part, 'part');
    length += part.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Time depends on the lengths only, never on where the first difference is. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
