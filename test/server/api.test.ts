import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeFrames, encodeFrames } from '../../src/protocol/blob-frames.js';
import { decodeSnapshotFrames, encodeSnapshotUpload, type SnapshotFrame } from '../../src/protocol/snapshot-frames.js';
import { routePath } from '../../src/protocol/routes.js';
import { PROTOCOL_REVISION } from '../../src/protocol/revision.js';
import { LIMITS, type AccountResponse, type SignupRequest, type WorkspaceInfo } from '../../src/protocol/types.js';
import { buildApp, type AppDeps } from '../../src/server/app.js';
import { openStore } from '../../src/storage/open.js';
import type { Store } from '../../src/storage/store.js';
import { fakeSignupBody } from '../helpers/fake-signup.js';

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');
const DAY = 24 * 60 * 60 * 1000;
const KDF_DEFAULTS = { memoryKiB: 65536, iterations: 3, parallelism: 1 };
const SECRET = new Uint8Array(32).fill(7);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

let store: Store;
let app: FastifyInstance;
let clock: Date;

async function makeApp(extra: Partial<AppDeps> = {}): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-api-'));
  dirs.push(dir);
  store = await openStore(undefined, dir);
  clock = new Date('2026-03-01T12:00:00.000Z');
  app = buildApp({ store, serverSecret: SECRET, kdfDefaults: KDF_DEFAULTS, now: () => clock, ...extra });
  await app.ready();
}

beforeEach(async () => {
  await makeApp();
});
afterEach(async () => {
  await app.close();
  await store.close();
});

const signupBody = (email?: string): SignupRequest => fakeSignupBody({ email, name: 'Ada Lovelace', client: 'insomnia-sync/test' });

interface Account {
  body: SignupRequest;
  token: string;
  response: AccountResponse;
}

async function signup(email?: string): Promise<Account> {
  const body = signupBody(email);
  const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: body });
  expect(res.statusCode).toBe(200);
  const response = res.json<AccountResponse>();
  return { body, token: response.session!.token, response };
}

function auth(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

async function createWorkspace(account: Account, id = hex(16)): Promise<WorkspaceInfo> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/workspaces',
    headers: auth(account.token),
    payload: { id, teamId: account.body.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } },
  });
  expect(res.statusCode).toBe(200);
  return res.json<WorkspaceInfo>();
}

function expectError(res: LightMyRequestResponse, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  expect(res.headers['content-type']).toMatch(/application\/json/);
  const body = res.json<{ error: { code: string; message: string } }>();
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
}

function frame(size = 64): { id: string; data: Uint8Array } {
  return { id: hex(32), data: new Uint8Array(randomBytes(size)) };
}

function snapshotBody(parent: string | null, blobIds: string[] = []) {
  const data = randomBytes(120);
  return { id: createHash('sha256').update(data).digest('hex'), parent, data: data.toString('base64url'), blobIds };
}

describe('healthz', () => {
  it('answers ok without auth', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true, protocol: PROTOCOL_REVISION });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('prelogin', () => {
  const prelogin = (email: string) => app.inject({ method: 'POST', url: '/v1/auth/prelogin', payload: { email } });

  it('gives unknown emails default parameters and a deterministic fake salt, different per email', async () => {
    const a1 = (await prelogin('nobody@example.com')).json();
    const a2 = (await prelogin('  NoBody@Example.com ')).json();
    const b = (await prelogin('other@example.com')).json();
    expect(a1).toEqual(a2);
    expect(a1.kdf).toMatchObject({ alg: 'argon2id', ...KDF_DEFAULTS });
    expect(a1.kdf.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(b.kdf.salt).not.toBe(a1.kdf.salt);
  });

  it('depends on the server secret', async () => {
    const before = (await prelogin('nobody@example.com')).json().kdf.salt;
    await app.close();
    await store.close();
    await makeApp({ serverSecret: new Uint8Array(32).fill(9) });
    expect((await prelogin('nobody@example.com')).json().kdf.salt).not.toBe(before);
  });

  it('gives known emails their stored parameters, shaped like the fake ones', async () => {
    const acct = await signup('known@example.com');
    const known = (await prelogin('Known@example.com')).json();
    const unknown = (await prelogin('unknown@example.com')).json();
    expect(known.kdf).toEqual(acct.body.kdf);
    expect(Object.keys(known.kdf).sort()).toEqual(Object.keys(unknown.kdf).sort());
    expect(known.kdf.salt.length).toBe(unknown.kdf.salt.length);
  });

  it('rejects a malformed email', async () => {
    expectError(await prelogin('not-an-email'), 400, 'bad_request');
  });
});

describe('signup and login', () => {
  it('creates the account, personal team and a session', async () => {
    const acct = await signup('Ada@Example.com');
    const r = acct.response;
    expect(acct.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(r.session!.id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Date(r.session!.expiresAt).getTime()).toBe(clock.getTime() + 30 * DAY);
    expect(r.user).toEqual({ id: acct.body.userId, email: 'ada@example.com', name: 'Ada Lovelace', createdAt: clock.toISOString() });
    expect(r.keys).toEqual(acct.body.keys);
    expect(r.teams).toEqual([
      {
        id: acct.body.personalTeam.id,
        name: 'Personal',
        personal: true,
        role: 'owner',
        epoch: 1,
        sealedKeys: [{ epoch: 1, sealedKey: acct.body.personalTeam.sealedTeamKey }],
      },
    ]);
  });

  it('refuses a duplicate email (any case) with 409 already_exists', async () => {
    await signup('dup@example.com');
    const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('DUP@example.com') });
    expectError(res, 409, 'already_exists');
  });

  it('refuses weak KDF parameters and bad emails with 400', async () => {
    for (const kdf of [
      { memoryKiB: 65535 },
      { iterations: 2 },
      { alg: 'argon2i' },
      { salt: b64(8) },
    ]) {
      const body = signupBody();
      const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: { ...body, kdf: { ...body.kdf, ...kdf } } });
      expectError(res, 400, 'bad_request');
    }
    const res = await app.inject({ method: 'POST', url: '/v1/auth/signup', payload: signupBody('a@b') });
    expectError(res, 400, 'bad_request');
  });

  it('logs in with the right auth key and refuses a wrong one or an unknown email alike', async () => {
    const acct = await signup('login@example.com');
    const ok = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: ' LOGIN@example.com', authKey: acct.body.authKey } });
    expect(ok.statusCode).toBe(200);
    const body = ok.json<AccountResponse>();
    expect(body.session!.token).not.toBe(acct.token);
    expect(body.user.id).toBe(acct.body.userId);
    expect(body.teams).toHaveLength(1);

    const wrong = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'login@example.com', authKey: b64(32) } });
    const unknown = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'ghost@example.com', authKey: b64(32) } });
    expectError(wrong, 401, 'unauthorized');
    expect(wrong.json()).toEqual(unknown.json());
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().error.message).toBe('wrong email or password');
  });
});

describe('sessions', () => {
  const me = (token: string) => app.inject({ method: 'GET', url: '/v1/me', headers: auth(token) });

  it('GET /v1/me answers the account without a session', async () => {
    const acct = await signup();
    const res = await me(acct.token);
    expect(res.statusCode).toBe(200);
    const body = res.json<AccountResponse>();
    expect(body.session).toBeUndefined();
    expect(body.user.id).toBe(acct.body.userId);
    expect(body.keys).toEqual(acct.body.keys);
  });

  it('refuses missing, malformed and unknown tokens with 401', async () => {
    await signup();
    expectError(await app.inject({ method: 'GET', url: '/v1/me' }), 401, 'unauthorized');
    expectError(await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Basic abc' } }), 401, 'unauthorized');
    expectError(await me('short'), 401, 'unauthorized');
    expectError(await me(b64(32)), 401, 'unauthorized');
  });

  it('expires a session after 30 idle days; each use extends it', async () => {
    const acct = await signup();
    const start = clock.getTime();
    clock = new Date(start + 20 * DAY);
    expect((await me(acct.token)).statusCode).toBe(200);
    clock = new Date(start + 45 * DAY);
    expect((await me(acct.token)).statusCode).toBe(200);
    clock = new Date(start + 75 * DAY + 1);
    expectError(await me(acct.token), 401, 'unauthorized');
    clock = new Date(start + 76 * DAY);
    expectError(await me(acct.token), 401, 'unauthorized');
    // logging in again gives a fresh session
    const again = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: acct.body.email, authKey: acct.body.authKey } });
    expect((await me(again.json<AccountResponse>().session!.token)).statusCode).toBe(200);
  });

  it('logout revokes only the current session', async () => {
    const acct = await signup('two@example.com');
    const login = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'two@example.com', authKey: acct.body.authKey } });
    const other = login.json<AccountResponse>().session!.token;
    const out = await app.inject({ method: 'POST', url: '/v1/auth/logout', headers: auth(acct.token), payload: {} });
    expect(out.statusCode).toBe(204);
    expectError(await me(acct.token), 401, 'unauthorized');
    expect((await me(other)).statusCode).toBe(200);
  });
});

describe('workspaces', () => {
  it('creates, lists, gets, renames, shows members and deletes', async () => {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    expect(ws).toMatchObject({ teamId: acct.body.personalTeam.id, head: null, size: 0 });
    expect(ws.keys).toHaveLength(1);
    expect(ws.createdAt).toBe(clock.toISOString());
    const h = auth(acct.token);

    const list = await app.inject({ method: 'GET', url: '/v1/workspaces', headers: h });
    expect(list.json().workspaces).toEqual([ws]);
    const got = await app.inject({ method: 'GET', url: routePath('getWorkspace', { workspaceId: ws.id }), headers: h });
    expect(got.json()).toEqual(ws);

    const renamed = await app.inject({ method: 'PATCH', url: routePath('renameWorkspace', { workspaceId: ws.id }), headers: h, payload: { encryptedName: 'bmV3bmFtZQ' } });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().encryptedName).toBe('bmV3bmFtZQ');

    const members = await app.inject({ method: 'GET', url: routePath('workspaceMembers', { workspaceId: ws.id }), headers: h });
    expect(members.json()).toEqual({
      members: [
        {
          userId: acct.body.userId,
          email: acct.body.email,
          name: 'Ada Lovelace',
          x25519PublicKey: acct.body.keys.x25519PublicKey,
          ed25519PublicKey: acct.body.keys.ed25519PublicKey,
        },
      ],
    });

    const dup = await app.inject({
      method: 'POST',
      url: '/v1/workspaces',
      headers: h,
      payload: { id: ws.id, teamId: acct.body.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' } },
    });
    expectError(dup, 409, 'already_exists');

    const del = await app.inject({ method: 'DELETE', url: routePath('deleteWorkspace', { workspaceId: ws.id }), headers: h });
    expect(del.statusCode).toBe(204);
    expectError(await app.inject({ method: 'GET', url: routePath('getWorkspace', { workspaceId: ws.id }), headers: h }), 404, 'not_found');
    expect((await app.inject({ method: 'GET', url: '/v1/workspaces', headers: h })).json().workspaces).toEqual([]);
  });

  it('hides another user’s workspace and team behind 404', async () => {
    const owner = await signup();
    const intruder = await signup();
    const ws = await createWorkspace(owner);
    const h = auth(intruder.token);
    const p = { workspaceId: ws.id };
    const snap = snapshotBody(null);
    const attempts = [
      app.inject({ method: 'GET', url: routePath('getWorkspace', p), headers: h }),
      app.inject({ method: 'PATCH', url: routePath('renameWorkspace', p), headers: h, payload: { encryptedName: 'eA' } }),
      app.inject({ method: 'DELETE', url: routePath('deleteWorkspace', p), headers: h }),
      app.inject({ method: 'GET', url: routePath('workspaceMembers', p), headers: h }),
      app.inject({ method: 'POST', url: routePath('missingBlobs', p), headers: h, payload: { ids: [hex(32)] } }),
      app.inject({ method: 'PUT', url: routePath('uploadBlobs', p), headers: { ...h, 'content-type': 'application/octet-stream' }, payload: Buffer.from(encodeFrames([frame()])) }),
      app.inject({ method: 'POST', url: routePath('fetchBlobs', p), headers: h, payload: { ids: [hex(32)] } }),
      app.inject({ method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: snap }),
      app.inject({ method: 'GET', url: routePath('listSnapshots', p), headers: h }),
      app.inject({ method: 'GET', url: routePath('getSnapshot', { ...p, snapshotId: snap.id }), headers: h }),
      app.inject({
        method: 'POST',
        url: '/v1/workspaces',
        headers: h,
        payload: { id: hex(16), teamId: owner.body.personalTeam.id, encryptedName: 'eA', key: { epoch: 1, wrappedKey: 'eA' } },
      }),
    ];
    for (const res of await Promise.all(attempts)) {
      expectError(res, 404, 'not_found');
      // a resource hidden or missing, never "no such route" (the CLI tells those apart)
      expect(res.json().error.unknownRoute).toBeUndefined();
    }
    for (const [method, url] of [['GET', '/v1/nothing-here'], ['GET', '/isync/v1/me'], ['PUT', '/v1/me']] as const) {
      const res = await app.inject({ method, url, headers: h });
      expectError(res, 404, 'not_found');
      expect(res.json().error.unknownRoute, `${method} ${url}`).toBe(true);
    }
    // a workspace id that does not exist at all looks the same
    expectError(await app.inject({ method: 'GET', url: routePath('getWorkspace', { workspaceId: hex(16) }), headers: h }), 404, 'not_found');
    // and nothing changed for the owner
    const still = await app.inject({ method: 'GET', url: routePath('getWorkspace', p), headers: auth(owner.token) });
    expect(still.json()).toEqual(ws);
    expect((await app.inject({ method: 'GET', url: '/v1/workspaces', headers: h })).json().workspaces).toEqual([]);
  });
});

describe('blobs', () => {
  it('missing → upload → missing → fetch round trip', async () => {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    const h = auth(acct.token);
    const p = { workspaceId: ws.id };
    const frames = [frame(41), frame(2000), frame(100)];
    const ids = frames.map((f) => f.id);

    const missing1 = await app.inject({ method: 'POST', url: routePath('missingBlobs', p), headers: h, payload: { ids } });
    expect(missing1.json()).toEqual({ missing: ids });

    const upload = () =>
      app.inject({ method: 'PUT', url: routePath('uploadBlobs', p), headers: { ...h, 'content-type': 'application/octet-stream' }, payload: Buffer.from(encodeFrames(frames)) });
    const up = await upload();
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ stored: 3 });
    expect((await upload()).json()).toEqual({ stored: 0 });

    const missing2 = await app.inject({ method: 'POST', url: routePath('missingBlobs', p), headers: h, payload: { ids: [...ids, hex(32)] } });
    expect(missing2.json().missing).toHaveLength(1);

    const unknown = hex(32);
    const fetched = await app.inject({ method: 'POST', url: routePath('fetchBlobs', p), headers: h, payload: { ids: [ids[1], unknown, ids[0], ids[2]] } });
    expect(fetched.statusCode).toBe(200);
    expect(fetched.headers['content-type']).toBe('application/octet-stream');
    const back = decodeFrames(new Uint8Array(fetched.rawPayload), LIMITS.maxBlobBytes);
    expect(back.map((f) => f.id)).toEqual([ids[1], ids[0], ids[2]]);
    expect(Buffer.from(back[0]!.data).equals(Buffer.from(frames[1]!.data))).toBe(true);
    expect(back[2]!.data.length).toBe(100);

    const info = await app.inject({ method: 'GET', url: routePath('getWorkspace', p), headers: h });
    expect(info.json().size).toBe(2141);
  });

  it('rejects truncated frames, over-large frames, JSON bodies and over-large batches with 4xx', async () => {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    const url = routePath('uploadBlobs', { workspaceId: ws.id });
    const octet = { ...auth(acct.token), 'content-type': 'application/octet-stream' };
    const good = Buffer.from(encodeFrames([frame(100)]));

    expectError(await app.inject({ method: 'PUT', url, headers: octet, payload: good.subarray(0, good.length - 1) }), 400, 'bad_request');
    expectError(await app.inject({ method: 'PUT', url, headers: octet, payload: good.subarray(0, 20) }), 400, 'bad_request');
    const huge = Buffer.from(encodeFrames([frame(LIMITS.maxBlobBytes + 1)]));
    expectError(await app.inject({ method: 'PUT', url, headers: octet, payload: huge }), 400, 'bad_request');
    expectError(await app.inject({ method: 'PUT', url, headers: auth(acct.token), payload: { ids: [] } }), 400, 'bad_request');
    const tooBig = Buffer.alloc(LIMITS.maxBlobBatchBytes + 1);
    expectError(await app.inject({ method: 'PUT', url, headers: octet, payload: tooBig }), 413, 'too_large');
    // none of it was stored
    const info = await app.inject({ method: 'GET', url: routePath('getWorkspace', { workspaceId: ws.id }), headers: auth(acct.token) });
    expect(info.json().size).toBe(0);
  });

  it('refuses uploads without a session before reading the body', async () => {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    const res = await app.inject({
      method: 'PUT',
      url: routePath('uploadBlobs', { workspaceId: ws.id }),
      headers: { 'content-type': 'application/octet-stream' },
      payload: Buffer.from(encodeFrames([frame()])),
    });
    expectError(res, 401, 'unauthorized');
  });

  it('cuts fetch answers near maxFetchBytes but always sends at least one blob', async () => {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    const p = { workspaceId: ws.id };
    const h = auth(acct.token);
    const per = LIMITS.maxBlobBytes - 1024;
    const count = Math.ceil(LIMITS.maxFetchBytes / per) + 2;
    const frames = Array.from({ length: count }, () => frame(per));
    for (let i = 0; i < frames.length; i += 8) {
      const batch = Buffer.from(encodeFrames(frames.slice(i, i + 8)));
      const res = await app.inject({ method: 'PUT', url: routePath('uploadBlobs', p), headers: { ...h, 'content-type': 'application/octet-stream' }, payload: batch });
      expect(res.statusCode).toBe(200);
    }
    const res = await app.inject({ method: 'POST', url: routePath('fetchBlobs', p), headers: h, payload: { ids: frames.map((f) => f.id) } });
    const got = decodeFrames(new Uint8Array(res.rawPayload), LIMITS.maxBlobBytes);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(count);
    expect(got.reduce((n, f) => n + f.data.length, 0)).toBeLessThanOrEqual(LIMITS.maxFetchBytes);
    expect(got.map((f) => f.id)).toEqual(frames.slice(0, got.length).map((f) => f.id));
  });
});

describe('snapshots', () => {
  async function setup() {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    const h = auth(acct.token);
    const p = { workspaceId: ws.id };
    const blobs = [frame(), frame()];
    await app.inject({ method: 'PUT', url: routePath('uploadBlobs', p), headers: { ...h, 'content-type': 'application/octet-stream' }, payload: Buffer.from(encodeFrames(blobs)) });
    const post = (payload: unknown) => app.inject({ method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: payload as object });
    return { acct, ws, h, p, blobs, post };
  }

  it('creates by compare-and-swap; a stale parent gets 409 conflict with the current head', async () => {
    const { h, p, blobs, post } = await setup();
    const s1 = snapshotBody(null, blobs.map((b) => b.id));
    const r1 = await post(s1);
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toEqual({ head: s1.id });

    const s2 = snapshotBody(s1.id, [blobs[0]!.id]);
    expect((await post(s2)).json()).toEqual({ head: s2.id });

    const stale = await post(snapshotBody(s1.id));
    expectError(stale, 409, 'conflict');
    expect(stale.json().error.head).toBe(s2.id);
    const fromEmpty = await post(snapshotBody(null));
    expect(fromEmpty.json().error).toMatchObject({ code: 'conflict', head: s2.id });

    const ws = await app.inject({ method: 'GET', url: routePath('getWorkspace', p), headers: h });
    expect(ws.json().head).toBe(s2.id);

    const list = await app.inject({ method: 'GET', url: routePath('listSnapshots', p), headers: h });
    expect(list.json().snapshots.map((s: { id: string }) => s.id)).toEqual([s2.id, s1.id]);
    expect(list.json().snapshots[1]).toEqual({ id: s1.id, parent: null, createdAt: clock.toISOString(), data: s1.data });
    const page = await app.inject({ method: 'GET', url: `${routePath('listSnapshots', p)}?limit=1&before=${s2.id}`, headers: h });
    expect(page.json().snapshots.map((s: { id: string }) => s.id)).toEqual([s1.id]);

    const one = await app.inject({ method: 'GET', url: routePath('getSnapshot', { ...p, snapshotId: s2.id }), headers: h });
    expect(one.json()).toEqual({ id: s2.id, parent: s1.id, createdAt: clock.toISOString(), data: s2.data });
    expectError(await app.inject({ method: 'GET', url: routePath('getSnapshot', { ...p, snapshotId: hex(32) }), headers: h }), 404, 'not_found');

    // The same answers as binary frames for a client that asks for application/octet-stream alone.
    const binary = { ...h, accept: 'application/octet-stream' };
    const framed = await app.inject({ method: 'GET', url: routePath('listSnapshots', p), headers: binary });
    expect(framed.headers['content-type']).toBe('application/octet-stream');
    const asJson = (f: SnapshotFrame) => ({ ...f, data: Buffer.from(f.data).toString('base64url') });
    expect(decodeSnapshotFrames(framed.rawPayload).map(asJson)).toEqual(list.json().snapshots);
    const pageFramed = await app.inject({ method: 'GET', url: `${routePath('listSnapshots', p)}?limit=1&before=${s2.id}`, headers: binary });
    expect(decodeSnapshotFrames(pageFramed.rawPayload).map(asJson)).toEqual(page.json().snapshots);
    const oneFramed = await app.inject({ method: 'GET', url: routePath('getSnapshot', { ...p, snapshotId: s2.id }), headers: binary });
    expect(decodeSnapshotFrames(oneFramed.rawPayload).map(asJson)).toEqual([one.json()]);
    // errors stay JSON; a client that takes JSON too gets JSON
    expectError(await app.inject({ method: 'GET', url: routePath('getSnapshot', { ...p, snapshotId: hex(32) }), headers: binary }), 404, 'not_found');
    const either = await app.inject({ method: 'GET', url: routePath('listSnapshots', p), headers: { ...h, accept: 'application/json, application/octet-stream' } });
    expect(either.json()).toEqual(list.json());
  });

  it('takes the binary body (application/octet-stream) with the same checks as JSON', async () => {
    const { h, p, blobs } = await setup();
    const binary = (u: { id: string; parent: string | null; blobIds: string[]; data: Uint8Array }) =>
      app.inject({ method: 'POST', url: routePath('createSnapshot', p), headers: { ...h, 'content-type': 'application/octet-stream' }, payload: Buffer.concat(encodeSnapshotUpload(u)) });
    const data = randomBytes(300);
    const id = createHash('sha256').update(data).digest('hex');
    const ok = await binary({ id, parent: null, blobIds: blobs.map((b) => b.id), data });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toEqual({ head: id });
    const stored = await app.inject({ method: 'GET', url: routePath('getSnapshot', { ...p, snapshotId: id }), headers: h });
    expect(Buffer.from(stored.json().data, 'base64url').equals(data)).toBe(true);

    const other = randomBytes(300);
    const otherId = createHash('sha256').update(other).digest('hex');
    expectError(await binary({ id: otherId, parent: null, blobIds: [], data: other }), 409, 'conflict');
    expectError(await binary({ id: hex(32), parent: id, blobIds: [], data: other }), 400, 'bad_request');
    // missing blobs: a conflict with what the server stores (GC may have taken them), as for JSON
    expectError(await binary({ id: otherId, parent: id, blobIds: [hex(32)], data: other }), 409, 'conflict');
    const truncated = await app.inject({ method: 'POST', url: routePath('createSnapshot', p), headers: { ...h, 'content-type': 'application/octet-stream' }, payload: Buffer.alloc(40) });
    expectError(truncated, 400, 'bad_request');
    expect((await app.inject({ method: 'GET', url: routePath('getWorkspace', p), headers: h })).json().head).toBe(id);
    expect((await binary({ id: otherId, parent: id, blobIds: [], data: other })).json()).toEqual({ head: otherId });
  });

  it('cuts a snapshot list before LIMITS.maxSnapshotListBytes of data, never below one snapshot', async () => {
    const { h, p } = await setup();
    const big = Math.floor(LIMITS.maxSnapshotListBytes / 2) + 1;
    let parent: string | null = null;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const data = randomBytes(big);
      const id = createHash('sha256').update(data).digest('hex');
      const res = await app.inject({
        method: 'POST',
        url: routePath('createSnapshot', p),
        headers: { ...h, 'content-type': 'application/octet-stream' },
        payload: Buffer.concat(encodeSnapshotUpload({ id, parent, blobIds: [], data })),
      });
      expect(res.statusCode, res.body).toBe(200);
      ids.unshift(id);
      parent = id;
    }
    const list = (q: string) => app.inject({ method: 'GET', url: `${routePath('listSnapshots', p)}${q}`, headers: { ...h, accept: 'application/octet-stream' } });
    const page1 = decodeSnapshotFrames((await list('?limit=10')).rawPayload);
    expect(page1.map((s) => s.id)).toEqual([ids[0]]);
    expect(page1[0]!.data.length).toBe(big);
    expect(decodeSnapshotFrames((await list(`?limit=10&before=${ids[0]}`)).rawPayload).map((s) => s.id)).toEqual([ids[1]]);
    expect(decodeSnapshotFrames((await list(`?limit=10&before=${ids[2]}`)).rawPayload)).toEqual([]);
  });

  it('two racing pushes with the same parent: one 200, one 409', async () => {
    const { post } = await setup();
    const [a, b] = await Promise.all([post(snapshotBody(null)), post(snapshotBody(null))]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
  });

  it('refuses an id that is not the SHA-256 of the data with 400, and missing blobs with 409 (no head)', async () => {
    const { h, p, blobs, post } = await setup();
    const s = snapshotBody(null);
    const badId = await post({ ...s, id: hex(32) });
    expectError(badId, 400, 'bad_request');
    expect(badId.json().error.message).toMatch(/SHA-256/);

    const missing = await post(snapshotBody(null, [blobs[0]!.id, hex(32)]));
    expectError(missing, 409, 'conflict');
    expect(missing.json().error.message).toMatch(/missing blobs/);
    expect(missing.json().error.head).toBeUndefined();
    const ws = await app.inject({ method: 'GET', url: routePath('getWorkspace', p), headers: h });
    expect(ws.json().head).toBeNull();
  });

  it('validates list parameters', async () => {
    const { h, p } = await setup();
    for (const q of ['limit=0', 'limit=abc', 'before=xyz', 'other=1', 'limit=-1']) {
      expectError(await app.inject({ method: 'GET', url: `${routePath('listSnapshots', p)}?${q}`, headers: h }), 400, 'bad_request');
    }
  });
});

describe('bad input never makes a 5xx', () => {
  it('answers malformed JSON, wrong types, unknown fields and oversized values with JSON 4xx', async () => {
    const acct = await signup();
    const ws = await createWorkspace(acct);
    const h = auth(acct.token);
    const p = { workspaceId: ws.id };
    const json = { 'content-type': 'application/json' };
    const cases: { method: 'POST' | 'PUT' | 'PATCH' | 'GET'; url: string; headers?: Record<string, string>; payload?: string | object | Buffer; status: number; code: string }[] = [
      { method: 'POST', url: '/v1/auth/prelogin', headers: json, payload: '{"email":', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: json, payload: '', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: json, payload: '[]', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: json, payload: 'null', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: json, payload: '{"__proto__":{"x":1},"email":"a@b.co"}', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', payload: { email: 123 }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', payload: { email: 'a@b.co', extra: true }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', payload: { email: `${'a'.repeat(400)}@b.co` }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: { 'content-type': 'text/plain' }, payload: 'hello', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: { 'content-type': 'application/xml' }, payload: '<a/>', status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/signup', payload: { ...signupBody(), name: 'x'.repeat(LIMITS.maxNameChars + 1) }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/signup', payload: { ...signupBody(), authKey: b64(31) }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/signup', payload: { ...signupBody(), userId: 'ABC' }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/signup', payload: { ...signupBody(), kdf: { ...signupBody().kdf, memoryKiB: '65536' } }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/login', payload: { email: 'a@b.co', authKey: 'not base64!' }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/login', payload: { email: 'a@b.co' }, status: 400, code: 'bad_request' },
      { method: 'PATCH', url: routePath('renameWorkspace', p), headers: h, payload: { encryptedName: 'x'.repeat(5000) }, status: 400, code: 'bad_request' },
      { method: 'PATCH', url: routePath('renameWorkspace', p), headers: h, payload: { encryptedName: 'a b' }, status: 400, code: 'bad_request' },
      { method: 'GET', url: '/v1/workspaces/NOT-AN-ID', headers: h, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('missingBlobs', p), headers: h, payload: { ids: ['zz'] }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('missingBlobs', p), headers: h, payload: { ids: Array.from({ length: LIMITS.maxIdsPerRequest + 1 }, () => hex(32)) }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('fetchBlobs', p), headers: h, payload: { ids: 'abc' }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: { ...snapshotBody(null), parent: 5 }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: { ...snapshotBody(null), data: '***' }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: { ...snapshotBody(null), data: 'A' }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: { ...snapshotBody(null), data: '' }, status: 400, code: 'bad_request' },
      { method: 'POST', url: routePath('createSnapshot', p), headers: h, payload: { ...snapshotBody(null), data: `${b64(3000)}=` }, status: 400, code: 'bad_request' },
      { method: 'POST', url: '/v1/auth/logout', headers: h, payload: { all: true }, status: 400, code: 'bad_request' },
      { method: 'GET', url: '/v1/nothing-here', status: 404, code: 'not_found' },
      { method: 'POST', url: '/v1/auth/prelogin', headers: json, payload: Buffer.alloc(LIMITS.maxJsonBodyBytes + 1, 0x20), status: 413, code: 'too_large' },
    ];
    for (const c of cases) {
      const res = await app.inject({ method: c.method, url: c.url, headers: c.headers ?? {}, payload: c.payload as string });
      try {
        expectError(res, c.status, c.code);
      } catch (err) {
        throw new Error(`${c.method} ${c.url} ${String(c.payload).slice(0, 60)}: got ${res.statusCode} ${res.body.slice(0, 200)}`, { cause: err });
      }
    }
  });
});

describe('logging', () => {
  it('logs one line per request with id, method, url, status, latency and IP, and never the token or keys', async () => {
    await app.close();
    await store.close();
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    await makeApp({ logger: { stream } });
    const acct = await signup('logged@example.com');
    await app.inject({ method: 'GET', url: '/v1/me', headers: auth(acct.token) });
    await app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: 'logged@example.com', authKey: acct.body.authKey } });
    await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${b64(32)}` } });

    const all = lines.join('\n');
    expect(all).not.toContain(acct.token);
    expect(all).not.toContain(acct.body.authKey);
    expect(all).not.toContain(acct.body.keys.wrappedAccountKey);
    expect(all.toLowerCase()).not.toContain('authorization');
    expect(all.toLowerCase()).not.toContain('bearer');

    const entries = lines.map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.msg === 'request completed');
    expect(entries).toHaveLength(4);
    const meLine = entries[1]!;
    expect(meLine.reqId).toMatch(/^[0-9a-f]{16}$/);
    expect(meLine.req).toEqual({ method: 'GET', url: '/v1/me', ip: '127.0.0.1' });
    expect(meLine.res).toEqual({ statusCode: 200 });
    expect(typeof meLine.responseTime).toBe('number');
    expect(entries[3]!.res.statusCode).toBe(401);
  });
});
