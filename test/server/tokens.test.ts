/**
 * Access-token principals on the server (app.inject): creation checks, the allow/deny table of every
 * route for write and read tokens, and refusal of wrong, revoked, expired and foreign tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeFrames } from '../../src/protocol/blob-frames.js';
import { ROUTES, ACCESS_TOKEN_ROUTES, type RouteName } from '../../src/protocol/routes.js';
import type { AccountResponse, CreateTokenRequest, TokenInfo, WorkspaceInfo, WorkspaceMembersResponse } from '../../src/protocol/types.js';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');
const DAY = 24 * 60 * 60 * 1000;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let store: Store;
let app: FastifyInstance;
let clock: Date;

beforeEach(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-tokens-'));
  dirs.push(dir);
  store = await openStore(undefined, dir);
  clock = new Date('2026-03-01T12:00:00.000Z');
  app = buildApp({
    store,
    serverSecret: new Uint8Array(32).fill(7),
    kdfDefaults: { memoryKiB: 65536, iterations: 3, parallelism: 1 },
    now: () => clock,
  });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await store.close();
});

interface Account {
  userId: string;
  teamId: string;
  session: string;
  authKey: string;
}

async function signup(): Promise<Account> {
  const body = fakeSignupBody();
  const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
  expect(res.statusCode).toBe(200);
  return { userId: body.userId, teamId: body.personalTeam.id, session: res.json<AccountResponse>().session!.token, authKey: body.authKey };
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function createWorkspace(a: Account): Promise<string> {
  const id = hex(16);
  const res = await app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: bearer(a.session),
    payload: { id, teamId: a.teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } },
  });
  expect(res.statusCode).toBe(200);
  return id;
}

interface Token {
  id: string;
  secret: Buffer;
  bearer: string;
  request: CreateTokenRequest;
}

function tokenRequest(extra: Partial<CreateTokenRequest> = {}): { request: CreateTokenRequest; secret: Buffer } {
  const secret = randomBytes(32);
  const request: CreateTokenRequest = {
    id: hex(16),
    name: 'ci',
    scope: 'write',
    secretHash: createHash('sha256').update(secret).digest('base64url'),
    expiresAt: new Date(clock.getTime() + 30 * DAY).toISOString(),
    publicKey: b64(32),
    certificate: b64(64),
    keys: [{ epoch: 1, wrappedKey: b64(73) }],
    ...extra,
  };
  return { request, secret };
}

function postToken(a: Account, wsId: string, request: CreateTokenRequest): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: `/v1/workspaces/${wsId}/tokens`, headers: bearer(a.session), payload: request });
}

async function createToken(a: Account, wsId: string, extra: Partial<CreateTokenRequest> = {}): Promise<Token> {
  const { request, secret } = tokenRequest(extra);
  const res = await postToken(a, wsId, request);
  expect(res.statusCode).toBe(200);
  return { id: request.id, secret, bearer: `isync-token.${request.id}.${secret.toString('base64url')}`, request };
}

function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  expect(res.json<{ error: { code: string } }>().error.code).toBe(code);
}

function snapshotBody(parent: string | null) {
  const data = randomBytes(120);
  return { id: createHash('sha256').update(data).digest('hex'), parent, data: data.toString('base64url'), blobIds: [] as string[] };
}

describe('creating tokens', () => {
  it('stores the token and answers its public facts, never a secret', async () => {
    const a = await signup();
    const ws = await createWorkspace(a);
    const { request } = tokenRequest({ name: '  deploy bot ', scope: 'read' });
    const res = await postToken(a, ws, request);
    expect(res.statusCode).toBe(200);
    const info = res.json<TokenInfo>();
    expect(info).toMatchObject({ id: request.id, workspaceId: ws, name: 'deploy bot', scope: 'read', lastUsedAt: null, revokedAt: null, expiresAt: request.expiresAt });
    expect(info.createdBy.userId).toBe(a.userId);
    expect(res.body).not.toContain(request.secretHash);
    expect(res.body).not.toContain(request.keys[0]!.wrappedKey);
  });

  it('refuses tokens that would be born stale, expired, or with keys of unknown epochs', async () => {
    const a = await signup();
    const ws = await createWorkspace(a);
    expectError(await postToken(a, ws, tokenRequest({ keys: [{ epoch: 2, wrappedKey: b64(73) }] }).request), 400, 'bad_request');
    expectError(await postToken(a, ws, tokenRequest({ keys: [{ epoch: 1, wrappedKey: b64(73) }, { epoch: 1, wrappedKey: b64(73) }] }).request), 400, 'bad_request');
    expectError(await postToken(a, ws, tokenRequest({ expiresAt: new Date(clock.getTime() - 1000).toISOString() }).request), 400, 'bad_request');
    expectError(await postToken(a, ws, tokenRequest({ expiresAt: 'soon' }).request), 400, 'bad_request');
    expectError(await postToken(a, ws, tokenRequest({ expiresAt: new Date(clock.getTime() + 6 * 366 * DAY).toISOString() }).request), 400, 'bad_request');
    expectError(await postToken(a, ws, { ...tokenRequest().request, extra: 1 } as unknown as CreateTokenRequest), 400, 'bad_request');
    const ok = tokenRequest({ expiresAt: null });
    expect((await postToken(a, ws, ok.request)).statusCode).toBe(200);
    expectError(await postToken(a, ws, ok.request), 409, 'already_exists');
    expect((await app.inject({ method: 'GET', url: '/v1/tokens', headers: bearer(a.session) })).json().tokens).toHaveLength(1);
  });

  it("refuses a public key that is already a member's or another token's in the workspace (any base64 spelling)", async () => {
    const a = await signup();
    const ws = await createWorkspace(a);
    const members = (await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/members`, headers: bearer(a.session) })).json().members;
    const memberKey: string = members[0].ed25519PublicKey;
    // 32 bytes take 43 characters: the last one's two low bits are padding, which decoders ignore
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelt = memberKey.slice(0, -1) + ALPHABET[ALPHABET.indexOf(memberKey.at(-1)!) ^ 1];
    expect(Buffer.from(respelt, 'base64url').equals(Buffer.from(memberKey, 'base64url'))).toBe(true);
    for (const publicKey of [memberKey, respelt]) {
      const res = await postToken(a, ws, tokenRequest({ publicKey }).request);
      expectError(res, 400, 'bad_request');
      expect(res.json().error.message).toMatch(/already a member's or another token's key/);
    }
    const first = await createToken(a, ws);
    expectError(await postToken(a, ws, tokenRequest({ publicKey: first.request.publicKey }).request), 400, 'bad_request');
    // a revoked token's key stays taken: its signatures stay valid history
    expect((await app.inject({ method: 'DELETE', url: `/v1/tokens/${first.id}`, headers: bearer(a.session) })).statusCode).toBe(200);
    expectError(await postToken(a, ws, tokenRequest({ publicKey: first.request.publicKey }).request), 400, 'bad_request');
    expect((await postToken(a, ws, tokenRequest().request)).statusCode).toBe(200);
  });

  it("is refused on someone else's workspace as not found", async () => {
    const a = await signup();
    const b = await signup();
    const ws = await createWorkspace(a);
    expectError(await postToken(b, ws, tokenRequest().request), 404, 'not_found');
  });
});

describe('listing and revoking', () => {
  it("lists the tokens of the caller's workspaces only, and revokes only those", async () => {
    const a = await signup();
    const b = await signup();
    const wsA = await createWorkspace(a);
    const wsA2 = await createWorkspace(a);
    const wsB = await createWorkspace(b);
    const t1 = await createToken(a, wsA);
    clock = new Date(clock.getTime() + 1000); // oldest first
    const t2 = await createToken(a, wsA2);
    const tb = await createToken(b, wsB);
    const list = async (who: Account, query = '') =>
      (await app.inject({ method: 'GET', url: `/v1/tokens${query}`, headers: bearer(who.session) })).json<{ tokens: TokenInfo[] }>().tokens.map((t) => t.id);
    expect(await list(a)).toEqual([t1.id, t2.id]);
    expect(await list(a, `?workspaceId=${wsA2}`)).toEqual([t2.id]);
    expect(await list(b)).toEqual([tb.id]);
    expectError(await app.inject({ method: 'DELETE', url: `/v1/tokens/${tb.id}`, headers: bearer(a.session) }), 404, 'not_found');
    expectError(await app.inject({ method: 'DELETE', url: `/v1/tokens/${hex(16)}`, headers: bearer(a.session) }), 404, 'not_found');
    const revoked = await app.inject({ method: 'DELETE', url: `/v1/tokens/${t1.id}`, headers: bearer(a.session) });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json<TokenInfo>().revokedAt).toBe(clock.toISOString());
    const raw = JSON.stringify((await app.inject({ method: 'GET', url: '/v1/tokens', headers: bearer(a.session) })).json());
    expect(raw).not.toContain(t1.request.secretHash);
    expect(raw).not.toContain(t1.secret.toString('base64url'));
  });
});

describe('token principals', () => {
  let a: Account;
  let ws: string;
  let other: string;
  let write: Token;
  let read: Token;
  let snapshotId: string;
  let blobId: string;

  beforeEach(async () => {
    a = await signup();
    ws = await createWorkspace(a);
    other = await createWorkspace(a);
    write = await createToken(a, ws, { name: 'writer' });
    read = await createToken(a, ws, { scope: 'read', name: 'reader' });
    blobId = hex(32);
    const up = await app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${ws}/blobs`,
      headers: { ...bearer(a.session), 'content-type': 'application/octet-stream' },
      payload: Buffer.from(encodeFrames([{ id: blobId, data: new Uint8Array(randomBytes(50)) }])),
    });
    expect(up.statusCode).toBe(200);
    const snap = snapshotBody(null);
    snapshotId = snap.id;
    expect((await app.inject({ method: 'POST', url: `/v1/workspaces/${ws}/snapshots`, headers: bearer(a.session), payload: snap })).statusCode).toBe(200);
  });

  type Call = { method: string; url: string; payload?: unknown; headers?: Record<string, string> };
  function call(route: RouteName, wsId: string): Call {
    const base = (params: Record<string, string>) => ROUTES[route].path.replace(/:([A-Za-z]+)/g, (_, k: string) => params[k]!);
    const url = base({ workspaceId: wsId, snapshotId, tokenId: write.id });
    switch (route) {
      case 'prelogin':
        return { method: 'POST', url, payload: { email: 'x@example.com' } };
      case 'login':
        return { method: 'POST', url, payload: { email: 'x@example.com', authKey: b64(32) } };
      case 'logout':
        return { method: 'POST', url, payload: {} };
      case 'createWorkspace':
        return { method: 'POST', url, payload: { id: hex(16), teamId: a.teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } } };
      case 'renameWorkspace':
        return { method: 'PATCH', url, payload: { encryptedName: b64(40) } };
      case 'missingBlobs':
      case 'fetchBlobs':
        return { method: 'POST', url, payload: { ids: [blobId] } };
      case 'uploadBlobs':
        return {
          method: 'PUT',
          url,
          headers: { 'content-type': 'application/octet-stream' },
          payload: Buffer.from(encodeFrames([{ id: hex(32), data: new Uint8Array(randomBytes(60)) }])),
        };
      case 'createSnapshot':
        return { method: 'POST', url: `${url}?epoch=1`, payload: snapshotBody(snapshotId) };
      case 'createToken':
        return { method: 'POST', url, payload: tokenRequest().request };
      default:
        return { method: ROUTES[route].method, url };
    }
  }

  // every authenticated route: what a write token and a read token get on their own workspace
  const TABLE: [RouteName, number, number][] = [
    ['logout', 403, 403],
    ['me', 403, 403],
    ['listWorkspaces', 403, 403],
    ['createWorkspace', 403, 403],
    ['getWorkspace', 200, 200],
    ['renameWorkspace', 403, 403],
    ['deleteWorkspace', 403, 403],
    ['workspaceMembers', 200, 200],
    ['missingBlobs', 200, 403],
    ['uploadBlobs', 200, 403],
    ['fetchBlobs', 200, 200],
    ['createSnapshot', 200, 403],
    ['listSnapshots', 200, 200],
    ['getSnapshot', 200, 200],
    ['createToken', 403, 403],
    ['listTokens', 403, 403],
    ['revokeToken', 403, 403],
  ];

  it('the table allows exactly ACCESS_TOKEN_ROUTES', () => {
    expect(TABLE.filter((r) => r[1] === 200).map((r) => r[0]).sort()).toEqual([...ACCESS_TOKEN_ROUTES].sort());
  });

  it('no route outside ACCESS_TOKEN_ROUTES answers a write token with success (routes added later included)', async () => {
    const others = (Object.keys(ROUTES) as RouteName[]).filter((r) => !ACCESS_TOKEN_ROUTES.includes(r));
    expect(others.length).toBeGreaterThan(8);
    for (const route of others) {
      const c = call(route, ws);
      const res = await app.inject({ method: c.method as 'GET', url: c.url, payload: c.payload as string, headers: { ...bearer(write.bearer), ...c.headers } });
      // open routes ignore credentials
      if (route === 'healthz' || route === 'prelogin') continue;
      expect(res.statusCode, `${route}: ${res.body}`).toBeGreaterThanOrEqual(400);
    }
    // and the workspace survived every one of them
    expect((await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(a.session) })).statusCode).toBe(200);
  });

  for (const [route, writeStatus, readStatus] of TABLE) {
    it(`${route}: write token ${writeStatus}, read token ${readStatus}`, async () => {
      for (const [token, expected] of [
        [write, writeStatus],
        [read, readStatus],
      ] as const) {
        const c = call(route, ws);
        const res = await app.inject({ method: c.method as 'GET', url: c.url, payload: c.payload as string, headers: { ...bearer(token.bearer), ...c.headers } });
        expect(res.statusCode, `${route} with ${token.request.scope} token: ${res.body}`).toBe(expected);
        if (expected === 403) expect(res.json().error.code).toBe('forbidden');
      }
    });
  }

  it('nothing was changed by the refused calls: the workspace still exists under the same head', async () => {
    for (const route of ['renameWorkspace', 'deleteWorkspace', 'createSnapshot'] as const) {
      const c = call(route, ws);
      await app.inject({ method: c.method as 'GET', url: c.url, payload: c.payload as string, headers: bearer(read.bearer) });
    }
    const got = await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(a.session) });
    expect(got.json<WorkspaceInfo>().head).toBe(snapshotId);
  });

  it('GET workspace hands a token its own wrapped keys; a session gets none', async () => {
    const asToken = (await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(write.bearer) })).json<WorkspaceInfo>();
    expect(asToken.tokenKeys).toEqual(write.request.keys);
    expect(asToken.keys).toHaveLength(1);
    const asReader = (await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(read.bearer) })).json<WorkspaceInfo>();
    expect(asReader.tokenKeys).toEqual(read.request.keys);
    const asSession = (await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(a.session) })).json<WorkspaceInfo>();
    expect(asSession.tokenKeys).toBeUndefined();
  });

  it('the members answer lists token keys and certificates, revoked ones flagged', async () => {
    await app.inject({ method: 'DELETE', url: `/v1/tokens/${read.id}`, headers: bearer(a.session) });
    const res = (await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/members`, headers: bearer(a.session) })).json<WorkspaceMembersResponse>();
    expect([...res.tokens!].sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { id: read.id, name: 'reader', scope: 'read', createdBy: a.userId, publicKey: read.request.publicKey, certificate: read.request.certificate, revoked: true },
      { id: write.id, name: 'writer', scope: 'write', createdBy: a.userId, publicKey: write.request.publicKey, certificate: write.request.certificate, revoked: false },
    ]);
  });

  it('refuses the token on another workspace of the same creator, before looking it up', async () => {
    for (const route of ['getWorkspace', 'workspaceMembers', 'fetchBlobs', 'listSnapshots', 'createSnapshot'] as const) {
      const c = call(route, other);
      const res = await app.inject({ method: c.method as 'GET', url: c.url, payload: c.payload as string, headers: bearer(write.bearer) });
      expectError(res, 403, 'forbidden');
    }
    expectError(await app.inject({ method: 'GET', url: `/v1/workspaces/${hex(16)}`, headers: bearer(write.bearer) }), 403, 'forbidden');
  });

  it('refuses a wrong secret, an unknown id and a malformed bearer with 401', async () => {
    const wrong = `isync-token.${write.id}.${randomBytes(32).toString('base64url')}`;
    const unknown = `isync-token.${hex(16)}.${write.secret.toString('base64url')}`;
    for (const b of [wrong, unknown, `isync-token.${write.id}`, `isync-token.${write.id}.${write.secret.toString('base64url')}x`]) {
      expectError(await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(b) }), 401, 'unauthorized');
    }
  });

  it('refuses a revoked token from the next request on', async () => {
    expect((await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(write.bearer) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: `/v1/tokens/${write.id}`, headers: bearer(a.session) })).statusCode).toBe(200);
    expectError(await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(write.bearer) }), 401, 'unauthorized');
    // the other token is untouched
    expect((await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(read.bearer) })).statusCode).toBe(200);
  });

  it('refuses an expired token, and records the last use of a live one', async () => {
    const short = await createToken(a, ws, { expiresAt: new Date(clock.getTime() + 60_000).toISOString() });
    expect((await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/snapshots`, headers: bearer(short.bearer) })).statusCode).toBe(200);
    const listed = (await app.inject({ method: 'GET', url: '/v1/tokens', headers: bearer(a.session) })).json<{ tokens: TokenInfo[] }>().tokens;
    expect(listed.find((t) => t.id === short.id)!.lastUsedAt).toBe(clock.toISOString());
    expect(listed.find((t) => t.id === write.id)!.lastUsedAt).toBeNull();
    clock = new Date(clock.getTime() + 60_000);
    expectError(await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/snapshots`, headers: bearer(short.bearer) }), 401, 'unauthorized');
  });

  it('dies with its workspace', async () => {
    expect((await app.inject({ method: 'DELETE', url: `/v1/workspaces/${ws}`, headers: bearer(a.session) })).statusCode).toBe(204);
    expectError(await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(write.bearer) }), 401, 'unauthorized');
  });

  it('a write token pushes: blobs, then a snapshot that moves the head', async () => {
    const blob = hex(32);
    const up = await app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${ws}/blobs`,
      headers: { ...bearer(write.bearer), 'content-type': 'application/octet-stream' },
      payload: Buffer.from(encodeFrames([{ id: blob, data: new Uint8Array(randomBytes(60)) }])),
    });
    expect(up.json()).toEqual({ stored: 1 });
    const snap = { ...snapshotBody(snapshotId), blobIds: [blob] };
    expect((await app.inject({ method: 'POST', url: `/v1/workspaces/${ws}/snapshots?epoch=1`, headers: bearer(write.bearer), payload: snap })).json()).toEqual({
      head: snap.id,
    });
  });

  it("a password change lists the caller's tokens that still work: not revoked, expired or stale", async () => {
    await app.inject({ method: 'DELETE', url: `/v1/tokens/${read.id}`, headers: bearer(a.session) });
    await createToken(a, ws, { name: 'short', expiresAt: new Date(clock.getTime() + 60_000).toISOString() });
    await createToken(a, other, { name: 'elsewhere' });
    clock = new Date(clock.getTime() + 60_000);
    const change = async () => {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/account/password',
        headers: bearer(a.session),
        payload: { authKey: a.authKey, newKdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) }, newAuthKey: (a.authKey = b64(32)), wrappedAccountKey: b64(73), renewSession: true },
      });
      expect(res.statusCode, res.body).toBe(200);
      // the session the change was made with ended: the caller goes on with the new one
      const body = res.json<{ liveTokens: TokenInfo[]; session: { token: string } }>();
      a.session = body.session.token;
      return body.liveTokens;
    };
    expect((await change()).map((t) => t.name).sort()).toEqual(['elsewhere', 'writer']);
    // after a rotation the tokens of the epoch before are stale: refused, so not listed
    const rotated = await app.inject({
      method: 'POST',
      url: `/v1/teams/${a.teamId}/rotate`,
      headers: bearer(a.session),
      payload: { epoch: 1, sealedKeys: [{ userId: a.userId, sealedKey: b64(80) }], workspaceKeys: [ws, other].map((id) => ({ workspaceId: id, wrappedKey: b64(73) })) },
    });
    expect(rotated.statusCode).toBe(200);
    const fresh = await createToken(a, ws, { name: 'fresh', keys: [{ epoch: 1, wrappedKey: b64(73) }, { epoch: 2, wrappedKey: b64(73) }] });
    const live = await change();
    expect(live.map((t) => t.id)).toEqual([fresh.id]);
    expect(live[0]).toMatchObject({ name: 'fresh', scope: 'write', workspaceId: ws, keyEpoch: 2, revokedAt: null });
    // every token still works as before: a password change revokes none
    expect((await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(fresh.bearer) })).statusCode).toBe(200);
  });

  it('a token push must name the key epoch, and the current one', async () => {
    const post = (query: string) =>
      app.inject({ method: 'POST', url: `/v1/workspaces/${ws}/snapshots${query}`, headers: bearer(write.bearer), payload: snapshotBody(snapshotId) });
    expectError(await post(''), 400, 'bad_request');
    expectError(await post('?epoch=2'), 409, 'conflict');
    const head = (await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(a.session) })).json<WorkspaceInfo>().head;
    expect(head).toBe(snapshotId);
    expect((await post('?epoch=1')).statusCode).toBe(200);
  });

  it('refuses a token made before a key rotation (401) for reads and writes; one made after works under the new epoch only', async () => {
    const rotated = await app.inject({
      method: 'POST',
      url: `/v1/teams/${a.teamId}/rotate`,
      headers: bearer(a.session),
      payload: { epoch: 1, sealedKeys: [{ userId: a.userId, sealedKey: b64(80) }], workspaceKeys: [ws, other].map((id) => ({ workspaceId: id, wrappedKey: b64(73) })) },
    });
    expect(rotated.json()).toEqual({ epoch: 2 });
    const send = (token: Token, route: RouteName, url?: string) => {
      const c = call(route, ws);
      return app.inject({ method: c.method as 'GET', url: url ?? c.url, payload: c.payload as string, headers: { ...bearer(token.bearer), ...c.headers } });
    };
    const reads: RouteName[] = ['getWorkspace', 'workspaceMembers', 'fetchBlobs', 'listSnapshots', 'getSnapshot'];
    const writes: RouteName[] = ['missingBlobs', 'uploadBlobs', 'createSnapshot'];
    for (const token of [write, read]) {
      for (const route of token === write ? [...reads, ...writes] : reads) {
        const res = await send(token, route);
        expectError(res, 401, 'unauthorized');
        expect(res.json().error.message, route).toMatch(/predates a key rotation/);
      }
    }
    // the push the reviewer made: no `?epoch=`, and an old one
    for (const url of [`/v1/workspaces/${ws}/snapshots`, `/v1/workspaces/${ws}/snapshots?epoch=1`]) expectError(await send(write, 'createSnapshot', url), 401, 'unauthorized');
    // a session naming the old epoch is refused in the store's transaction, and the head stays
    const asSession = await app.inject({ method: 'POST', url: `/v1/workspaces/${ws}/snapshots?epoch=1`, headers: bearer(a.session), payload: snapshotBody(snapshotId) });
    expectError(asSession, 409, 'conflict');
    expect(asSession.json().error.message).toMatch(/rotated .*now epoch 2/);
    expect((await app.inject({ method: 'GET', url: `/v1/workspaces/${ws}`, headers: bearer(a.session) })).json<WorkspaceInfo>().head).toBe(snapshotId);

    const fresh = await createToken(a, ws, { keys: [{ epoch: 1, wrappedKey: b64(73) }, { epoch: 2, wrappedKey: b64(73) }] });
    expect((await send(fresh, 'getWorkspace')).statusCode).toBe(200);
    expectError(await send(fresh, 'createSnapshot', `/v1/workspaces/${ws}/snapshots?epoch=1`), 409, 'conflict');
    expect((await send(fresh, 'createSnapshot', `/v1/workspaces/${ws}/snapshots?epoch=2`)).statusCode).toBe(200);
    const listed = (await app.inject({ method: 'GET', url: '/v1/tokens', headers: bearer(a.session) })).json<{ tokens: TokenInfo[] }>().tokens;
    expect(listed.find((t) => t.id === fresh.id)!.keyEpoch).toBe(2);
    expect(listed.find((t) => t.id === write.id)!.keyEpoch).toBe(1);
  });
});
