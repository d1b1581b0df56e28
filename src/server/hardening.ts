/**
 * Production defences that are not about one route: security headers on every answer, small body
 * limits on the routes anyone can call, and the timeouts a slow or stuck client runs into.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ROUTES, type RouteName } from '../protocol/routes.js';

/** Routes callable without a session: their bodies are a few hundred bytes, so allow 64 KiB. */
const ANONYMOUS_ROUTES: readonly RouteName[] = ['prelogin', 'signup', 'login', 'recoverStart', 'recoverFinish'];
export const ANONYMOUS_BODY_LIMIT = 64 * 1024;

/**
 * Socket and request limits. `connectionTimeoutMs`: a connection silent for this long before or
 * during a request is closed. `requestTimeoutMs`: one whole request; an upload batch of 64 MiB
 * still fits at about 2 Mbit/s. `keepAliveTimeoutMs`: an idle keep-alive connection between two
 * requests (announced in `Keep-Alive: timeout=130`). It is longer than the upstream keep-alive of
 * the usual reverse proxies (nginx's `keepalive_timeout` 60 s, an AWS load balancer's idle timeout
 * 60 s, Caddy's 2 minutes), so the proxy always drops an idle connection first: were the server
 * first, the proxy could send a request into a connection the server is just closing, which its
 * client sees as a 502. Node's own default is 5 s, fastify's 72 s.
 */
export const DEFAULT_TIMEOUTS = {
  connectionTimeoutMs: 120_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 130_000,
} as const;

/**
 * The API answers JSON and octet streams only, never HTML: nothing may be sniffed, framed, cached
 * by an intermediary or leak a Referer. HSTS only when this process itself speaks TLS (behind a
 * proxy, the proxy sets it).
 */
export function securityHeaders(hsts: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-resource-policy': 'same-origin',
  };
  if (hsts) headers['strict-transport-security'] = 'max-age=31536000';
  return headers;
}

export function installHardening(app: FastifyInstance, opts: { tls: boolean }): void {
  const headers = securityHeaders(opts.tls);
  app.addHook('onSend', async (_request, reply, payload) => {
    void reply.headers(headers);
    return payload;
  });

  const anonymous = new Set<string>(ANONYMOUS_ROUTES.map((name) => `${ROUTES[name].method} ${ROUTES[name].path}`));
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.bodyLimit === undefined && methods.some((m) => anonymous.has(`${m} ${route.url}`))) {
      route.bodyLimit = ANONYMOUS_BODY_LIMIT;
    }
  });
}

/**
 * fastify's `frameworkErrors`: errors the router raises before any route runs (a path that is not
 * valid percent-encoding). Answered in our error shape, without echoing the URL back.
 */
export function frameworkErrors(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message = error.code === 'FST_ERR_BAD_URL' ? 'malformed URL' : 'bad request';
  void reply.code(400).type('application/json; charset=utf-8').send({ error: { code: 'bad_request', message } });
}
