/**
 * Request logging: one JSON line per finished request with request id, method, url, status,
 * latency and client IP. Serializers are whitelists, so headers (Authorization), bodies, tokens
 * and keys never reach the log; the redact list is a second guard should a header object slip in.
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

type LoggerOption = boolean | Record<string, unknown> | undefined;

export function loggerOptions(option: LoggerOption): false | Record<string, unknown> {
  if (!option) return false;
  const base = option === true ? {} : option;
  return {
    level: 'info',
    ...base,
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: req.url, ip: req.ip }),
      res: (res: FastifyReply) => ({ statusCode: res.statusCode }),
      ...((base.serializers as Record<string, unknown> | undefined) ?? {}),
    },
    redact: {
      paths: ['headers.authorization', 'req.headers.authorization', 'request.headers.authorization', 'authorization', 'token', 'authKey'],
      censor: '[redacted]',
    },
  };
}

/** Replaces fastify's two lines per request (incoming + completed) with one complete line. */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = { req: request, res: reply, responseTime: Math.round(reply.elapsedTime * 10) / 10 };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
