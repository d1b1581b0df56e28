/**
 * A loopback proxy in front of the real server that plays a hostile one: a test sets, at any time,
 * `answer` to answer a request itself (an endless body, a lying Content-Length) or `rewrite` to
 * change an answer the server gave. Everything else is passed on as it is (recording-proxy.ts).
 */
import { startRecordingProxy, type Answerer, type ResponseRewriter } from './recording-proxy.js';

export type { Answerer };
/** A new body for the server's answer, or null to keep it. */
export type Rewriter = ResponseRewriter;

export interface HostileProxy {
  url: string;
  answer: Answerer | null;
  rewrite: Rewriter | null;
  close(): Promise<void>;
}

export async function startHostileProxy(target: string): Promise<HostileProxy> {
  const state: HostileProxy = { url: '', answer: null, rewrite: null, close: async () => {} };
  const proxy = await startRecordingProxy(
    target,
    (method, url, body) => state.rewrite?.(method, url, body) ?? null,
    undefined,
    (req, res, body) => state.answer?.(req, res, body) ?? false,
  );
  state.url = proxy.url;
  state.close = () => proxy.close();
  return state;
}
