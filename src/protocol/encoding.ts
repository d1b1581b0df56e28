/** Strict base64url (unpadded) for binary values in JSON bodies. */
export function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

export class EncodingError extends Error {
  readonly code = 'bad_encoding';
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function fromB64(text: string, expectedLength?: number): Uint8Array {
  if (typeof text !== 'string' || !B64URL.test(text) || text.length % 4 === 1) {
    throw new EncodingError('not base64url');
  }
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (expectedLength !== undefined && bytes.length !== expectedLength) {
    throw new EncodingError(`expected ${expectedLength} bytes, got ${bytes.length}`);
  }
  return bytes;
}
