/**
 * Reads an application/octet-stream request body (blob upload batches) into one Buffer. fastify's
 * own `parseAs: 'buffer'` keeps every socket chunk until the end and then concatenates them: two
 * copies of a 4 MB batch alive at once. With a Content-Length (every client sends one) the body is
 * copied into a buffer of that size as it arrives, so each chunk can go as soon as it is copied.
 * Limits and errors are fastify's own, so clients see exactly what they saw before.
 */
import type { IncomingMessage } from 'node:http';
import { errorCodes } from 'fastify';

export type BodyDone = (err: Error | null, body?: Buffer) => void;

export function readBinaryBody(payload: IncomingMessage, contentLengthHeader: string | undefined, limit: number, done: BodyDone): void {
  const declared = contentLengthHeader === undefined ? NaN : Number(contentLengthHeader);
  if (declared > limit) {
    done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    return;
  }
  const sized = Number.isSafeInteger(declared) && declared >= 0;
  const body = sized ? Buffer.allocUnsafe(declared) : null;
  const chunks: Buffer[] = [];
  let received = 0;

  const cleanup = (): void => {
    payload.removeListener('data', onData);
    payload.removeListener('end', onEnd);
    payload.removeListener('error', onEnd);
  };

  function onData(chunk: Buffer): void {
    const at = received;
    received += chunk.length;
    if (received > limit) {
      cleanup();
      done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
      return;
    }
    if (body === null) chunks.push(chunk);
    // past the declared length is a mismatch, reported at the end
    else if (received <= body.length) chunk.copy(body, at);
  }

  function onEnd(err?: Error & { statusCode?: number }): void {
    cleanup();
    if (err != null) {
      if (!(typeof err.statusCode === 'number' && err.statusCode >= 400)) err.statusCode = 400;
      done(err);
      return;
    }
    if (!Number.isNaN(declared) && received !== declared) {
      done(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH());
      return;
    }
    done(null, body ?? Buffer.concat(chunks, received));
  }

  payload.on('data', onData);
  payload.on('end', onEnd);
  payload.on('error', onEnd);
  payload.resume();
}
