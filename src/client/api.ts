/**
 * HTTP client for the protocol in src/protocol (docs/protocol.md). One keep-alive agent per server
 * so batched blob transfers reuse a few connections. Maps server errors to SyncError subclasses so
 * services never look at HTTP statuses.
 *
 * Built on node:http rather than undici: undici costs 80–100 ms to load on this class of machine,
 * a third of the budget of a no-op push, and we need nothing it adds over a pooled keep-alive agent.
 */
import http from 'node:http';
import type https from 'node:https';
import { createRequire } from 'node:module';
import { ROUTES, routePath, type RouteName } from '../protocol/routes.js';
import { answerProblem, hasAnswerCheck } from '../protocol/answer-check.js';
import type * as T from '../protocol/types.js';
import { decodeFrames, FRAME_HEADER_BYTES, type BlobFrame } from '../protocol/blob-frames.js';
import {
  decodeSnapshotFrames,
  encodeSnapshotUpload,
  SnapshotFrameError,
  SNAPSHOT_FRAME_HEADER_BYTES,
  SNAPSHOT_FRAMES_TYPE,
  type SnapshotFrame,
  type SnapshotUpload,
} from '../protocol/snapshot-frames.js';
import { LIMITS } from '../protocol/types.js';
import { isErrorCode, SESSION_ENDED, type SessionEnded } from '../protocol/errors.js';
import { BODY_NOT_READ_HEADER, PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../protocol/revision.js';
import {
  AuthError,
  ConflictError,
  IntegrityFailure,
  NotFoundError,
  RateLimitedError,
  SyncError,
  UnreachableError,
  UsageError,
} from './errors.js';
import { linkedTo, networkFailure, type ServerSource } from './network-errors.js';

/** An HTTP answer as the client reads it; `revision` is the server's protocol revision header, if any. */
interface Answer {
  status: number;
  body: Buffer;
  contentType: string;
  revision: string | undefined;
  /** the Retry-After header, if any */
  retryAfter: string | undefined;
  /** the server refused before reading the body: the request had no effect */
  bodyNotRead: boolean;
}

/**
 * Uploads the server may refuse unread while its memory for request bodies is taken (429 or 503
 * with Retry-After, docs/protocol.md §6): sent again after the wait it names, a few times.
 */
const UPLOAD_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>(['uploadBlobs', 'createSnapshot']);
const UPLOAD_RETRIES = 12;
/** a longer Retry-After is not a busy moment but a limit: reported, not waited out */
const MAX_UPLOAD_RETRY_AFTER_S = 10;

const MiB = 1024 * 1024;

/** one snapshot's data: at most the body it was uploaded in (JSON, or binary within the blob batch bound) */
const MAX_SNAPSHOT_DATA_BYTES = Math.max(LIMITS.maxJsonBodyBytes, LIMITS.maxBlobBatchBytes);
/**
 * JSON answers that list what grows with an account or a team (teams with a sealed key per epoch,
 * workspaces with a wrapped key per epoch, members, tokens, sessions): the protocol's bound on a
 * JSON body. A team of 10,000 members (the most a rotation can seal to) lists in ~11 MB.
 */
const LISTING_ANSWER_BYTES = LIMITS.maxJsonBodyBytes;
/**
 * JSON answers of a fixed shape (a receipt, a head, a count, one token): the largest, `missing`,
 * names at most LIMITS.maxIdsPerRequest ids of 64 hex characters (~0.64 MiB).
 */
const FIXED_ANSWER_BYTES = Math.max(MiB, LIMITS.maxIdsPerRequest * (64 + 3) + 64 * 1024);
/** blob frames: cut before LIMITS.maxFetchBytes of data (at least one blob), a header per id asked */
const FETCH_ANSWER_BYTES = LIMITS.maxFetchBytes + LIMITS.maxBlobBytes + LIMITS.maxIdsPerRequest * FRAME_HEADER_BYTES;
/** snapshot frames: cut before LIMITS.maxSnapshotListBytes of data, or a single snapshot over it */
const SNAPSHOT_LIST_ANSWER_BYTES = LIMITS.maxSnapshotListBytes + MAX_SNAPSHOT_DATA_BYTES + LIMITS.maxSnapshotsPerList * SNAPSHOT_FRAME_HEADER_BYTES;

/**
 * The most an answer may hold, per route (docs/protocol.md §6, client side). The client holds an
 * answer whole, so a server that sends more — an endless body, a Content-Length of gigabytes — is
 * cut off there rather than read until memory runs out. Each bound is the most the protocol's own
 * limits let an insomnia-sync server send, never less.
 */
export const ANSWER_LIMITS: Readonly<Record<RouteName, number>> = {
  healthz: FIXED_ANSWER_BYTES,
  prelogin: FIXED_ANSWER_BYTES,
  signup: LISTING_ANSWER_BYTES,
  login: LISTING_ANSWER_BYTES,
  logout: FIXED_ANSWER_BYTES,
  me: LISTING_ANSWER_BYTES,
  listWorkspaces: LISTING_ANSWER_BYTES,
  createWorkspace: LISTING_ANSWER_BYTES,
  getWorkspace: LISTING_ANSWER_BYTES,
  renameWorkspace: LISTING_ANSWER_BYTES,
  deleteWorkspace: FIXED_ANSWER_BYTES,
  workspaceMembers: LISTING_ANSWER_BYTES,
  missingBlobs: FIXED_ANSWER_BYTES,
  uploadBlobs: FIXED_ANSWER_BYTES,
  fetchBlobs: FETCH_ANSWER_BYTES,
  createSnapshot: FIXED_ANSWER_BYTES,
  listSnapshots: SNAPSHOT_LIST_ANSWER_BYTES,
  getSnapshot: SNAPSHOT_FRAME_HEADER_BYTES + MAX_SNAPSHOT_DATA_BYTES,
  createToken: FIXED_ANSWER_BYTES,
  listTokens: LISTING_ANSWER_BYTES,
  revokeToken: FIXED_ANSWER_BYTES,
  accountShow: LISTING_ANSWER_BYTES,
  listSessions: LISTING_ANSWER_BYTES,
  revokeSession: FIXED_ANSWER_BYTES,
  changePassword: LISTING_ANSWER_BYTES,
  setRecoveryKey: FIXED_ANSWER_BYTES,
  deleteAccount: FIXED_ANSWER_BYTES,
  recoverStart: FIXED_ANSWER_BYTES,
  recoverFinish: LISTING_ANSWER_BYTES,
  createTeam: FIXED_ANSWER_BYTES,
  teamMembers: LISTING_ANSWER_BYTES,
  inviteMembers: FIXED_ANSWER_BYTES,
  withdrawInvitation: FIXED_ANSWER_BYTES,
  acceptInvitation: FIXED_ANSWER_BYTES,
  confirmMember: FIXED_ANSWER_BYTES,
  removeMember: FIXED_ANSWER_BYTES,
  rotateTeam: FIXED_ANSWER_BYTES,
  leaveTeam: FIXED_ANSWER_BYTES,
  deleteTeam: FIXED_ANSWER_BYTES,
  setMemberRole: FIXED_ANSWER_BYTES,
  verifyEmail: FIXED_ANSWER_BYTES,
};

/**
 * How long a request may take, from the moment it has a connection: a grace, plus the time its
 * bytes (the body sent and the most its answer may hold) take at a slow link's rate. The socket's
 * idle timeout alone lets a server that trickles a byte a minute hold a command forever; this
 * lets a 256 kbit/s link finish any answer the protocol allows, and a trickling server hold a
 * request for at most that long (~36 min for a listing, ~2.5 min for a fixed-shape answer).
 */
export const ANSWER_DEADLINE = { graceMs: 120_000, bytesPerSecond: 32 * 1024 } as const;

/** Routes whose 401 means the credentials sent were wrong, not that a session ended. */
const CREDENTIAL_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>(['prelogin', 'login', 'recoverStart', 'recoverFinish']);

export interface ApiOptions {
  baseUrl: string;
  token?: string;
  userAgent?: string;
  /** parallel connections for blob transfers */
  connections?: number;
  /** how long a request may take (ANSWER_DEADLINE unless given) */
  deadline?: { graceMs: number; bytesPerSecond: number };
  /** the command's cancellation (ClientContext.cancellation), once it has one: every request that gives no signal of its own is torn down with it */
  signal?: () => AbortSignal | undefined;
}

/**
 * GET /v1/account as the client uses it: `endedSessions` and `invitations`, which servers from
 * before them leave out (docs/protocol.md §3.22), are there, empty for such a server.
 */
export type AccountData = T.AccountDataResponse &
  Required<Pick<T.AccountDataResponse, 'endedSessions' | 'invitations'>> & {
    /** the lists an older server left out (read as empty): present only when it left one out (§3.22) */
    unlisted?: ('endedSessions' | 'invitations')[];
  };

/** A 409 from createSnapshot: someone else moved the head. */
export class HeadMovedError extends ConflictError {
  constructor(readonly head: string | null) {
    super('the remote workspace has new snapshots since your last sync', 'run `insomnia-sync pull`, then push again');
  }
}

/**
 * A server URL checked once, where it is given (--server, INSOMNIA_SYNC_SERVER) and before any
 * client is made from it: a wrong one is a usage error, not a "not logged in" further on.
 */
export function checkServerUrl(raw: string): URL {
  // Without a scheme, `localhost:8787` parses as the scheme "localhost" and `127.0.0.1:8787` not at all.
  if (!raw.includes('://')) {
    const guess = schemeGuess(raw);
    throw new UsageError(`the server URL must start with http:// or https://`, guess ? `did you mean ${guess}?` : undefined);
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`invalid server URL: ${withoutUserinfo(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`server URL must be http(s), not ${url.protocol.slice(0, -1)}`);
  }
  // Node would not send them, and they would end up in links and messages: refused, not dropped.
  if (url.username !== '' || url.password !== '') throw new UsageError('the server URL must not contain a user name or password');
  return url;
}

/** The URL the user most likely meant: plain HTTP only for this machine, as the server's own default. */
function schemeGuess(raw: string): string | null {
  const bare = withoutUserinfo(raw);
  const host = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?([/?#].*)?$/.exec(bare)?.[1];
  if (host === undefined) return null;
  const local = host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return `${local ? 'http' : 'https'}://${bare}`;
}

/** A URL as it may be shown: a password typed into it must not reach a terminal or CI log. */
function withoutUserinfo(raw: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? '';
  const at = raw.lastIndexOf('@');
  return at < scheme.length ? raw : scheme + raw.slice(at + 1);
}

/**
 * A server URL as the client keeps and compares it: origin and path, without a trailing slash,
 * query or fragment. The path stays: a server behind a reverse proxy at `https://host/isync/`
 * serves its routes under `/isync`.
 */
export function serverBaseUrl(url: URL): string {
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/**
 * How long to wait before sending a refused upload again: an insomnia-sync server's 429 or 503
 * with a short Retry-After (in seconds), plus up to half of it again so that clients refused
 * together do not come back together; null for any other answer.
 */
function uploadRetryDelayMs(res: Answer): number | null {
  if ((res.status !== 429 && res.status !== 503) || res.revision === undefined || res.retryAfter === undefined) return null;
  if (!/^\d{1,5}$/.test(res.retryAfter.trim())) return null;
  const seconds = Number(res.retryAfter.trim());
  if (seconds > MAX_UPLOAD_RETRY_AFTER_S) return null;
  const ms = Math.max(seconds * 1000, 100);
  return ms + Math.random() * ms * 0.5;
}

/**
 * How a hint names the commands for this client's session: with its profile (commandLine in
 * session.ts) and its email, which `login` and `account recover` require. Set by requireSession.
 */
export interface SessionHintNames {
  command(command: string): string;
  email: string;
}

const UNNAMED: SessionHintNames = { command: (command) => `insomnia-sync ${command}`, email: 'EMAIL' };

/**
 * What to do about a session the server says has ended: after a sign-out this machine did not ask
 * for, the one thing that matters is whether it was the user (docs/protocol.md §2, `sessionEnded`).
 */
export function sessionEndedHint(ended: SessionEnded | undefined, names: SessionHintNames = UNNAMED): string {
  const login = `run \`${names.command(`login --email ${names.email}`)}\``;
  switch (ended) {
    case 'revoked':
      return (
        `${login}. If you did not sign this machine out, someone else may know your password ` +
        `or recovery key: if the password no longer works, use \`${names.command(`account recover --email ${names.email}`)}\`; then check ` +
        `\`${names.command('account sessions')}\` and \`${names.command('token list')}\``
      );
    case 'account_deleted':
      return `its data is gone from the server; \`${names.command('logout')}\` removes its keys from this machine, \`${names.command('signup --email EMAIL')}\` makes a new account`;
    default:
      return login;
  }
}

/**
 * What to tell someone refused with 429: the wait the server named (Retry-After, seconds), or,
 * when the request was already sent again after such waits (an upload while the account's share
 * of upload memory was taken), that — a wait of its Retry-After would change nothing.
 */
export function rateLimitHint(retryAfter: string | undefined, sent: { tries: number; waitedMs: number }): string {
  if (sent.tries > 1) {
    return `still refused after ${sent.tries} tries over ${Math.max(1, Math.round(sent.waitedMs / 1000))} s: try again once the account's other uploads have finished`;
  }
  const seconds = retryAfter !== undefined && /^\d{1,9}$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : null;
  if (seconds === null) return 'wait a minute and try again';
  if (seconds <= 1) return 'wait a second and try again';
  if (seconds < 120) return `wait ${seconds} seconds and try again`;
  return `wait ${Math.ceil(seconds / 60)} minutes and try again`;
}

/** `bytes` in MiB, one decimal at most, for messages */
function mib(bytes: number): string {
  return `${Math.round((bytes / MiB) * 10) / 10} MiB`;
}

export class ApiClient {
  private readonly agent: http.Agent;
  private readonly transport: typeof http | typeof https;
  /** origin and path prefix (serverBaseUrl) */
  private readonly base: string;
  /** the path prefix every route goes under ('' for a server at the root) */
  private readonly prefix: string;
  private readonly url: URL;
  /** requests not yet handed to the operating system whole (see flushed) */
  private readonly unsent = new Set<Promise<void>>();
  token: string | undefined;
  /** where the server URL came from, for hints: a linked folder's is its link's (services/open-linked.ts) */
  serverSource: ServerSource = {};
  /** the profile and email of the session this client acts for, for the hint when it has ended */
  sessionNames: SessionHintNames | undefined;

  constructor(private readonly options: ApiOptions) {
    const url = checkServerUrl(options.baseUrl);
    this.base = serverBaseUrl(url);
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.url = url;
    this.token = options.token;
    // node:https, and node:tls under it, only for an https server: ~5 ms of every other run.
    this.transport = url.protocol === 'https:' ? (createRequire(import.meta.url)('node:https') as typeof https) : http;
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets: options.connections ?? 4 });
  }

  get serverUrl(): string {
    return this.base;
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }

  /**
   * Resolves once every request made so far is written to its socket (or has failed). A request
   * goes out only when the event loop runs, so awaiting this before long synchronous work (a
   * folder scan, an index encoding) lets the server answer meanwhile instead of after it.
   */
  async flushed(): Promise<void> {
    await Promise.all(this.unsent);
  }

  private async send(
    name: RouteName,
    opts: { params?: Record<string, string>; json?: unknown; raw?: Uint8Array[]; query?: Record<string, string>; accept?: string; signal?: AbortSignal | undefined } = {},
  ): Promise<Answer> {
    const signal = opts.signal ?? this.options.signal?.();
    const route = ROUTES[name];
    let path = `${this.prefix}${routePath(name, opts.params)}`;
    if (opts.query) {
      const qs = new URLSearchParams(opts.query).toString();
      if (qs) path += `?${qs}`;
    }
    const headers: Record<string, string> = {
      'user-agent': this.options.userAgent ?? 'insomnia-sync',
      accept: opts.accept ?? 'application/json, application/octet-stream',
    };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Uint8Array[] | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    } else if (opts.raw) {
      headers['content-type'] = 'application/octet-stream';
      body = opts.raw;
    }
    let res: Answer;
    let attempt = 0;
    let waitedMs = 0;
    for (; ; attempt++) {
      signal?.throwIfAborted();
      try {
        res = await this.roundTrip(name, path, headers, body, signal);
      } catch (err) {
        // cancelled (Ctrl-C): the request was torn down on purpose, the server is not at fault
        if (signal?.aborted) throw signal.reason;
        // an answer over its route's bound, or too slow: said as such, not as "cannot reach"
        if (err instanceof SyncError) throw err;
        throw networkFailure(err, this.base, this.serverSource);
      }
      // any request the server turned away unread (its upload memory was in use) may go again
      const wait = attempt < UPLOAD_RETRIES && (UPLOAD_ROUTES.has(name) || res.bodyNotRead) ? uploadRetryDelayMs(res) : null;
      if (wait === null) break;
      await pause(wait, signal);
      waitedMs += wait;
    }
    if (res.revision !== undefined && res.revision !== String(PROTOCOL_REVISION)) throw this.revisionMismatch(res.revision);
    if (res.status >= 400) throw this.toError(res, name, { tries: attempt + 1, waitedMs });
    return res;
  }

  private roundTrip(
    name: RouteName,
    path: string,
    headers: Record<string, string>,
    body: string | Uint8Array[] | undefined,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const method = ROUTES[name].method;
    const maxBytes = ANSWER_LIMITS[name];
    return new Promise((resolve, reject) => {
      let sentBytes = 0;
      if (body !== undefined) {
        sentBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.reduce((n, part) => n + part.byteLength, 0);
        headers['content-length'] = String(sentBytes);
      }
      let deadline: NodeJS.Timeout | undefined;
      // the socket goes with the request: an answer cut off must not be read on by the next one
      const fail = (err: SyncError): void => {
        clearTimeout(deadline);
        req.destroy();
        reject(err);
      };
      const req = this.transport.request(
        {
          protocol: this.url.protocol,
          // an IPv6 literal comes bracketed in a URL ([::1]), and bare to the socket
          hostname: this.url.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.url.port,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: 120_000,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          res.on('error', reject);
          const revision = res.headers[PROTOCOL_REVISION_HEADER];
          const tooLarge = (): SyncError => this.answerTooLarge(name, maxBytes, typeof revision === 'string');
          // Refused before a byte of it is held: a Content-Length over the route's bound.
          const announced = Number(res.headers['content-length']);
          if (Number.isSafeInteger(announced) && announced > maxBytes) return fail(tooLarge());
          // One buffer of the announced size (node's parser holds the body to it): no list of
          // chunks to concatenate afterwards.
          const whole = Number.isSafeInteger(announced) && announced >= 0 ? Buffer.allocUnsafe(announced) : null;
          const chunks: Buffer[] = [];
          let filled = 0;
          res.on('data', (c: Buffer) => {
            // a body without a length (chunked) is counted as it comes
            if (filled + c.length > maxBytes) return fail(tooLarge());
            if (whole) c.copy(whole, filled);
            else chunks.push(c);
            filled += c.length;
          });
          res.on('end', () => {
            clearTimeout(deadline);
            const body = whole ? whole.subarray(0, filled) : Buffer.concat(chunks);
            resolve({
              status: res.statusCode ?? 0,
              body,
              contentType: String(res.headers['content-type'] ?? ''),
              revision: typeof revision === 'string' ? revision.slice(0, 20) : undefined,
              retryAfter: res.headers['retry-after'],
              bodyNotRead: res.headers[BODY_NOT_READ_HEADER] === '1',
            });
          });
        },
      );
      const sent = new Promise<void>((resolve) => {
        req.once('finish', resolve);
        req.once('close', resolve);
      });
      this.unsent.add(sent);
      void sent.then(() => this.unsent.delete(sent));
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      // From the moment it has a connection (not while it waits in the agent's queue behind others).
      req.once('socket', () => {
        const { graceMs, bytesPerSecond } = this.options.deadline ?? ANSWER_DEADLINE;
        const ms = graceMs + Math.ceil(((sentBytes + maxBytes) / bytesPerSecond) * 1000);
        deadline = setTimeout(() => fail(this.answerTooSlow(name, ms)), ms);
        // never what keeps the process alive: a request in flight holds its socket
        deadline.unref();
      });
      req.once('close', () => clearTimeout(deadline));
      if (Array.isArray(body)) {
        // Blob frames go out as they are, piece by piece: no 4 MiB concatenation per batch.
        req.cork();
        for (const part of body) req.write(part);
        req.uncork();
        req.end();
      } else req.end(body);
    });
  }

  /**
   * What to check when the server URL may be wrong: --server and INSOMNIA_SYNC_SERVER, except in a
   * linked folder, whose link names the server (both are refused or ignored there).
   */
  private checkServer(): string {
    return this.serverSource.linked
      ? 'check the URL this folder is linked to (.insomnia-sync/link.json), or clone the workspace again with the right --server'
      : 'check --server or INSOMNIA_SYNC_SERVER';
  }

  /** `named`: the answer names a sync protocol revision (else the server URL may be wrong) */
  private answerTooLarge(name: RouteName, maxBytes: number, named: boolean): SyncError {
    const route = ROUTES[name];
    return new SyncError(
      'bad_response',
      `the server at ${this.base} sent an answer over ${mib(maxBytes)} to ${route.method} ${route.path}, more than any insomnia-sync server sends: refused`,
      named ? 'the server is broken or not what it claims: tell its operator' : `the server at ${this.base} names no sync protocol: ${this.checkServer()}`,
    );
  }

  private answerTooSlow(name: RouteName, ms: number): SyncError {
    const route = ROUTES[name];
    return new UnreachableError(
      `the server at ${this.base} did not finish its answer to ${route.method} ${route.path} within ${Math.round(ms / 1000)} s`,
      'the network or the server is too slow: try again later',
    );
  }

  private revisionMismatch(revision: string): SyncError {
    const theirs = Number(revision);
    const newer = Number.isSafeInteger(theirs) && theirs > PROTOCOL_REVISION;
    return new SyncError(
      'protocol_mismatch',
      `the server at ${this.base} speaks sync protocol ${revision.replace(/[^\x21-\x7e]/g, '?')}, this insomnia-sync ${PROTOCOL_REVISION}`,
      newer ? 'upgrade insomnia-sync to the server\'s version' : 'upgrade the server to this version of insomnia-sync',
    );
  }

  /**
   * For an answer this client cannot use: a server that names no protocol revision predates the
   * header (or is not insomnia-sync), which explains most such answers. One that names this
   * revision may be another version of it whose answer this client does not read (a field it
   * needs that an older server leaves out, docs/protocol.md §1.1), or broken: its operator can
   * tell (an answer over its bound, answerTooLarge, is more than any version sends).
   */
  private unusable(res: Answer, message: string): SyncError {
    return new SyncError(
      'bad_response',
      message,
      res.revision === undefined
        ? `the server at ${this.base} names no sync protocol: upgrade it to this version of insomnia-sync, or ${this.checkServer()}`
        : 'the server may be older or newer than this insomnia-sync, or broken: tell its operator',
    );
  }

  /**
   * An insomnia-sync server that has no such route: with a path in the server URL, most likely a
   * path the server does not strip (exit 1, like the other answers from a server this client
   * cannot use); without one, a server older than a route this client added.
   */
  private unknownRoute(route: RouteName): SyncError {
    if (this.prefix) {
      return new SyncError(
        'unknown_route',
        `the insomnia-sync server at ${this.url.origin} has no routes under ${this.prefix}: the path in the server URL is wrong`,
        `${this.checkServer()}: the server got ${this.prefix}/v1/… as it was sent, so try ${this.url.origin} (or strip the path in the reverse proxy)`,
      );
    }
    return new SyncError(
      'unknown_route',
      `the server at ${this.base} has no route ${ROUTES[route].method} ${ROUTES[route].path}`,
      `it may be older than this insomnia-sync: upgrade the server, or ${this.checkServer()}`,
    );
  }

  /** `tries`: how often the request went out (more than once: refused unread, sent again, see send) */
  private toError(res: Answer, route: RouteName, sent: { tries: number; waitedMs: number } = { tries: 1, waitedMs: 0 }): SyncError {
    const { status, body, contentType } = res;
    let code: string | undefined;
    let message = `server answered ${status}`;
    let head: string | null | undefined;
    let unknownRoute = false;
    let sessionEnded: SessionEnded | undefined;
    if (contentType.includes('json')) {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as {
          error?: { code?: unknown; message?: unknown; head?: unknown; unknownRoute?: unknown; sessionEnded?: unknown };
        };
        if (parsed.error && isErrorCode(parsed.error.code)) code = parsed.error.code;
        if (typeof parsed.error?.message === 'string') message = parsed.error.message.slice(0, 300);
        if (typeof parsed.error?.head === 'string' || parsed.error?.head === null) head = parsed.error.head as string | null;
        unknownRoute = parsed.error?.unknownRoute === true;
        const ended = parsed.error?.sessionEnded;
        if (typeof ended === 'string' && (SESSION_ENDED as readonly string[]).includes(ended)) sessionEnded = ended as SessionEnded;
      } catch {
        /* not JSON after all: fall through with the status */
      }
    }
    if (res.revision === undefined) {
      // Not an answer of this protocol: not insomnia-sync at this URL (a wrong host, port or path),
      // or one from before the header. Gateway statuses stay "unavailable" (exit 6): a proxy in
      // front of a stopped server answers them, and so does this server while it shuts down.
      if (status === 502 || status === 503 || status === 504) {
        return new UnreachableError(
          `the server at ${this.base} is unavailable (${message})`,
          this.serverSource.linked
            ? `try again later; the answer names no sync protocol, so if it keeps failing, check that server: ${linkedTo(this.base)}`
            : `try again later; the answer names no sync protocol, so if it keeps failing, check --server or INSOMNIA_SYNC_SERVER`,
        );
      }
      if (code === undefined || status >= 500) return this.unusable(res, status >= 500 ? `the server at ${this.base} answered ${status}` : message);
    }
    if (status >= 500) return new UnreachableError(`the server failed: ${message}`, 'try again later');
    if (code === 'not_found' && unknownRoute) return this.unknownRoute(route);
    switch (code) {
      case 'unauthorized':
        // On the routes that check a password or recovery key, "log in" is what just failed.
        if (CREDENTIAL_ROUTES.has(route)) return new AuthError(message);
        if (this.token?.startsWith('isync-token.')) return new AuthError(message, 'create a new token with `insomnia-sync token create`');
        return new AuthError(message, sessionEndedHint(sessionEnded, this.sessionNames));
      case 'forbidden':
        return new AuthError(message, undefined, 'forbidden');
      case 'not_found':
        return new NotFoundError(message);
      case 'conflict':
        return head !== undefined ? new HeadMovedError(head) : new ConflictError(message);
      case 'already_exists':
        return new ConflictError(message);
      case 'rate_limited':
        return new RateLimitedError(message, rateLimitHint(res.retryAfter, sent));
      default:
        return new SyncError(code ?? 'server_error', message);
    }
  }

  /**
   * A JSON answer, used only once it follows the protocol: a status the route answers with and the
   * route's answer schema for it (protocol/answer-check.ts, docs/protocol.md §7.2). Anything else
   * is `bad_response`, naming the route and the first field at fault, never the server's values.
   * `check`: what the schema cannot say (an answer about the request), as answerProblem words it.
   */
  private async json<R>(name: RouteName, opts: Parameters<ApiClient['send']>[1] = {}, check?: (answer: R) => string | null): Promise<R> {
    const res = await this.send(name, opts);
    const route = `${ROUTES[name].method} ${ROUTES[name].path}`;
    let answer: unknown;
    if (hasAnswerCheck(name, res.status)) {
      try {
        answer = JSON.parse(res.body.toString('utf8'));
      } catch {
        throw this.unusable(res, `the server's answer to ${route} is not JSON`);
      }
    }
    const problem = answerProblem(name, res.status, answer) ?? check?.(answer as R) ?? null;
    if (problem !== null) throw this.unusable(res, `the server's answer to ${route} does not follow the protocol (${problem})`);
    return answer as R;
  }

  prelogin(req: T.PreloginRequest): Promise<T.PreloginResponse> {
    return this.json('prelogin', { json: req });
  }
  signup(req: T.SignupRequest): Promise<T.SignupResponse> {
    return this.json('signup', { json: req });
  }
  login(req: T.LoginRequest): Promise<T.AccountResponse> {
    return this.json('login', { json: req });
  }
  async logout(): Promise<void> {
    await this.send('logout', { json: {} });
  }
  me(): Promise<T.AccountResponse> {
    return this.json('me');
  }
  async listWorkspaces(): Promise<T.WorkspaceInfo[]> {
    return (await this.json<T.WorkspaceListResponse>('listWorkspaces')).workspaces;
  }
  createWorkspace(req: T.CreateWorkspaceRequest): Promise<T.WorkspaceInfo> {
    return this.json('createWorkspace', { json: req });
  }
  async getWorkspace(workspaceId: string): Promise<T.WorkspaceInfo> {
    try {
      return await this.json<T.WorkspaceInfo>('getWorkspace', { params: { workspaceId } });
    } catch (err) {
      // what a linked folder meets once its workspace, or the team it was in, is deleted
      if (err instanceof NotFoundError) {
        throw new NotFoundError(
          `workspace ${workspaceId.slice(0, 12)} is not on the server (or not visible to this account): it was deleted, alone or with its team`,
          'files in a folder linked to it stay as they are; `insomnia-sync workspace list` shows the workspaces you can reach',
        );
      }
      throw err;
    }
  }
  renameWorkspace(workspaceId: string, req: T.RenameWorkspaceRequest): Promise<T.WorkspaceInfo> {
    return this.json('renameWorkspace', { params: { workspaceId }, json: req });
  }
  async deleteWorkspace(workspaceId: string): Promise<void> {
    await this.send('deleteWorkspace', { params: { workspaceId } });
  }
  async workspaceMembers(workspaceId: string): Promise<T.MemberPublicKeys[]> {
    return (await this.json<T.WorkspaceMembersResponse>('workspaceMembers', { params: { workspaceId } })).members;
  }
  async missingBlobs(workspaceId: string, ids: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (let i = 0; i < ids.length; i += LIMITS.maxIdsPerRequest) {
      const asked = ids.slice(i, i + LIMITS.maxIdsPerRequest);
      // only ids it was asked about (docs/protocol.md §7.2)
      const res = await this.json<T.MissingBlobsResponse>('missingBlobs', { params: { workspaceId }, json: { ids: asked } }, (answer) => {
        const known = new Set(asked);
        const stray = answer.missing.findIndex((id) => !known.has(id));
        return stray === -1 ? null : `missing[${stray}]: names a blob id that was not asked about`;
      });
      missing.push(...res.missing);
    }
    return missing;
  }
  /** Uploads a body already in the frame format (protocol/blob-frames.ts), as it is. */
  async uploadFrameBody(workspaceId: string, body: Uint8Array): Promise<number> {
    return (await this.json<T.BlobUploadResponse>('uploadBlobs', { params: { workspaceId }, raw: [body] })).stored;
  }
  /** Fetches blobs; the server may answer fewer than asked (size cap), so this loops until done. */
  async fetchBlobs(workspaceId: string, ids: string[], opts: { signal?: AbortSignal | undefined } = {}): Promise<BlobFrame[]> {
    const out: BlobFrame[] = [];
    let rest = ids;
    while (rest.length > 0) {
      const res = await this.send('fetchBlobs', { params: { workspaceId }, json: { ids: rest.slice(0, LIMITS.maxIdsPerRequest) }, signal: opts.signal });
      const frames = decodeFrames(new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength), LIMITS.maxBlobBytes);
      if (frames.length === 0) {
        throw new IntegrityFailure(`the server does not have ${rest.length} blob(s) this snapshot needs`, 'run `insomnia-sync verify`');
      }
      // The answer must be a prefix of what we asked: a gap means the server lost a blob, and
      // anything else is a broken or hostile server (and would loop forever if tolerated).
      const asked = rest.slice(0, LIMITS.maxIdsPerRequest);
      if (frames.length > asked.length || frames.some((f, i) => f.id !== asked[i])) {
        throw new IntegrityFailure('the server did not return the blobs this snapshot needs (missing or out of order)', 'run `insomnia-sync verify`');
      }
      out.push(...frames);
      rest = rest.slice(frames.length);
    }
    return out;
  }
  /** Sent as binary (protocol/snapshot-frames.ts): a manifest's megabytes go as they are, not as base64 in JSON. */
  createSnapshot(workspaceId: string, upload: SnapshotUpload, epoch: number): Promise<T.CreateSnapshotResponse> {
    return this.json('createSnapshot', { params: { workspaceId }, query: { epoch: String(epoch) }, raw: encodeSnapshotUpload(upload) });
  }
  /** Newest first; asked for as binary frames (protocol/snapshot-frames.ts), not base64 JSON. */
  async listSnapshots(workspaceId: string, opts: { limit?: number; before?: string } = {}): Promise<SnapshotFrame[]> {
    const query: Record<string, string> = {};
    if (opts.limit) query.limit = String(opts.limit);
    if (opts.before) query.before = opts.before;
    return this.snapshotFrames(await this.send('listSnapshots', { params: { workspaceId }, query, accept: SNAPSHOT_FRAMES_TYPE }));
  }
  async getSnapshot(workspaceId: string, snapshotId: string): Promise<SnapshotFrame> {
    const frames = this.snapshotFrames(await this.send('getSnapshot', { params: { workspaceId, snapshotId }, accept: SNAPSHOT_FRAMES_TYPE }));
    if (frames.length !== 1 || frames[0]!.id !== snapshotId) throw new IntegrityFailure('the server answered with another snapshot than the one asked for');
    return frames[0]!;
  }
  private snapshotFrames(res: Answer): SnapshotFrame[] {
    if (!res.contentType.startsWith(SNAPSHOT_FRAMES_TYPE)) throw this.unusable(res, 'the server did not answer with snapshot frames');
    try {
      return decodeSnapshotFrames(new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.byteLength));
    } catch (err) {
      if (err instanceof SnapshotFrameError) throw new IntegrityFailure(`the server's snapshot list is malformed (${err.message})`);
      throw err;
    }
  }
  /** members with the workspace's access tokens (keys and certificates), for checking snapshot signers */
  workspaceMembersAndTokens(workspaceId: string): Promise<T.WorkspaceMembersResponse> {
    return this.json('workspaceMembers', { params: { workspaceId } });
  }
  createToken(workspaceId: string, req: T.CreateTokenRequest): Promise<T.TokenInfo> {
    return this.json('createToken', { params: { workspaceId }, json: req });
  }
  async listTokens(workspaceId?: string): Promise<T.TokenInfo[]> {
    return (await this.json<T.TokenListResponse>('listTokens', workspaceId ? { query: { workspaceId } } : {})).tokens;
  }
  revokeToken(tokenId: string): Promise<T.TokenInfo> {
    return this.json('revokeToken', { params: { tokenId } });
  }
  // account lifecycle (docs/protocol.md §3.22–3.29)
  /** the lists a server from before them leaves out read as empty, and named in `unlisted` (§3.22) */
  async accountShow(): Promise<AccountData> {
    const answer = await this.json<T.AccountDataResponse>('accountShow');
    const unlisted = (['endedSessions', 'invitations'] as const).filter((k) => answer[k] === undefined);
    return { ...answer, endedSessions: answer.endedSessions ?? [], invitations: answer.invitations ?? [], ...(unlisted.length > 0 ? { unlisted } : {}) };
  }
  async listSessions(): Promise<T.SessionView[]> {
    return (await this.json<T.SessionListResponse>('listSessions')).sessions;
  }
  async revokeSession(sessionId: string): Promise<void> {
    await this.send('revokeSession', { params: { sessionId } });
  }
  /** `recoveryKeyRevoked` false from a server from before it, which kept the recovery key (§3.25); `liveTokens` stays absent: such a server does not say */
  async changePassword(req: T.ChangePasswordRequest): Promise<T.ChangePasswordResponse & { recoveryKeyRevoked: boolean }> {
    const answer = await this.json<T.ChangePasswordResponse>('changePassword', { json: req });
    return { ...answer, recoveryKeyRevoked: answer.recoveryKeyRevoked ?? false };
  }
  setRecoveryKey(req: T.SetRecoveryKeyRequest): Promise<T.SetRecoveryKeyResponse> {
    return this.json('setRecoveryKey', { json: req });
  }
  deleteAccount(req: T.DeleteAccountRequest): Promise<T.DeletionReceipt> {
    return this.json('deleteAccount', { json: req });
  }
  recoverStart(req: T.RecoverStartRequest): Promise<T.RecoverStartResponse> {
    return this.json('recoverStart', { json: req });
  }
  recoverFinish(req: T.RecoverFinishRequest): Promise<T.RecoverFinishResponse> {
    return this.json('recoverFinish', { json: req });
  }
  // teams (docs/protocol.md §3.30–3.38)
  createTeam(req: T.CreateTeamRequest): Promise<T.TeamSummary> {
    return this.json('createTeam', { json: req });
  }
  teamMembers(teamId: string): Promise<T.TeamMembersResponse> {
    return this.json('teamMembers', { params: { teamId } });
  }
  inviteMembers(teamId: string, req: T.InviteRequest): Promise<T.InviteResponse> {
    return this.json('inviteMembers', { params: { teamId }, json: req });
  }
  acceptInvitation(req: T.AcceptInvitationRequest): Promise<T.AcceptInvitationResponse> {
    return this.json('acceptInvitation', { json: req });
  }
  async confirmMember(teamId: string, userId: string, req: T.ConfirmMemberRequest): Promise<void> {
    await this.send('confirmMember', { params: { teamId, userId }, json: req });
  }
  withdrawInvitation(teamId: string, req: T.WithdrawInvitationRequest): Promise<T.WithdrawInvitationResponse> {
    return this.json('withdrawInvitation', { params: { teamId }, json: req });
  }
  removeMember(teamId: string, userId: string, req: T.RemoveMemberRequest): Promise<T.RotateTeamResponse> {
    return this.json('removeMember', { params: { teamId, userId }, json: req });
  }
  rotateTeam(teamId: string, req: T.RotateTeamRequest): Promise<T.RotateTeamResponse> {
    return this.json('rotateTeam', { params: { teamId }, json: req });
  }
  setMemberRole(teamId: string, userId: string, req: T.SetMemberRoleRequest): Promise<T.SetMemberRoleResponse> {
    return this.json('setMemberRole', { params: { teamId, userId }, json: req });
  }
  leaveTeam(teamId: string): Promise<T.LeaveTeamResponse> {
    return this.json('leaveTeam', { params: { teamId }, json: {} });
  }
  deleteTeam(teamId: string): Promise<T.TeamDeletionReceipt> {
    return this.json('deleteTeam', { params: { teamId } });
  }
  async verifyEmail(req: T.VerifyEmailRequest): Promise<void> {
    await this.send('verifyEmail', { json: req });
  }
}

/** Waits `ms`, or less when `signal` is aborted meanwhile (the caller then sees it aborted). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
