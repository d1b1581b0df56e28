/** A loopback HTTP proxy that records every request (line, headers, body) the CLI sends. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  url: string;
  requests: Buffer[];
  /** every answer passed on: the request line and the body's length as forwarded */
  responses: { method: string; url: string; status: number; bytes: number }[];
  close(): Promise<void>;
}

/** `rewrite` may replace a JSON answer, to play a hostile server. */
export type ResponseRewriter = (method: string, url: string, body: Buffer) => Buffer | null;

/**
 * `request` may act before a request is forwarded (change the server's state under it, as a race
 * would) and return the path to forward instead (drop a query parameter, say); a promise holds
 * the request until it settles (a client paused between two requests).
 */
export type RequestHook = (method: string, url: string) => string | void | Promise<string | void>;

/**
 * Answers the request itself (an endless body, a lying Content-Length) and returns true, or returns
 * false to pass it on; `body` is the request's, read whole.
 */
export type Answerer = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => boolean;

export async function startRecordingProxy(target: string, rewrite?: ResponseRewriter, request?: RequestHook, answer?: Answerer): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: Buffer[] = [];
  const responses: RecordingProxy['responses'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const head = `${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n`;
      requests.push(Buffer.concat([Buffer.from(head), body]));
      if (answer?.(req, res, body)) return;
      const forwardPath = (await request?.(req.method ?? '', req.url ?? '')) ?? req.url;
      const fwd = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: forwardPath, headers: req.headers },
        (up) => {
          const answer = { method: req.method ?? '', url: req.url ?? '', status: up.statusCode ?? 502, bytes: 0 };
          if (!rewrite) {
            up.on('data', (c: Buffer) => (answer.bytes += c.length));
            up.on('end', () => responses.push(answer));
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
            return;
          }
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const original = Buffer.concat(parts);
            const replaced = rewrite(req.method ?? '', req.url ?? '', original) ?? original;
            const headers = { ...up.headers, 'content-length': String(replaced.length) };
            delete headers['transfer-encoding'];
            responses.push({ ...answer, bytes: replaced.length });
            res.writeHead(up.statusCode ?? 502, headers);
            res.end(replaced);
          });
        },
      );
      fwd.on('error', () => {
        res.writeHead(502).end();
      });
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    responses,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
