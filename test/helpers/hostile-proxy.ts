/**
 * A loopback proxy in front of the real server that plays a hostile one: a test sets, at any time,
 * `answer` to answer a request itself (an endless body, a lying Content-Length) or `rewrite` to
 * change an answer the server gave. Everything else is passed on as it is.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers the request itself and returns true, or returns false to pass it on. */
export type Answerer = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
/** A new body for the server's answer, or null to keep it. */
export type Rewriter = (method: string, url: string, body: Buffer) => Buffer | null;

export interface HostileProxy {
  url: string;
  answer: Answerer | null;
  rewrite: Rewriter | null;
  close(): Promise<void>;
}

export async function startHostileProxy(target: string): Promise<HostileProxy> {
  const upstream = new URL(target);
  const state: HostileProxy = { url: '', answer: null, rewrite: null, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.answer?.(req, res)) return;
      const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const rewrite = state.rewrite;
        if (!rewrite) {
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
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(replaced);
        });
      });
      fwd.on('error', () => res.writeHead(502).end());
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
