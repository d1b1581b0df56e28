/**
 * The authorisation matrix (issue 3) against the real server over HTTP: every team and workspace
 * route × {owner, admin, member, accepted-not-confirmed, invited, outsider, removed}, each cell an
 * asserted allow or deny. The principals are made with the real CLI (signup, invite, accept,
 * confirm, remove); requests then go out with each one's session token. Bodies are well-formed but
 * carry random ciphertext: the server cannot tell, and authorisation must come before any other
 * check, so "allowed" is any answer but 401/403/404 and "denied" is 403 or 404 (404 for anyone
 * who never belonged: ids cannot be probed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { mailedCode } from '../helpers/outbox.js';

const ROLES = ['owner', 'admin', 'member', 'accepted', 'invited', 'outsider', 'removed'] as const;
type Role = (typeof ROLES)[number];

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

function sessionOf(m: Machine): { userId: string; sessionToken: string } {
  const dir = path.join(m.configDir, 'sessions');
  return JSON.parse(readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!), 'utf8'));
}

interface Call {
  method: string;
  url: string;
  json?: unknown;
  raw?: Buffer;
}

interface RouteCase {
  name: string;
  allowed: readonly Role[];
  /** built per call: destructive routes get a fresh target */
  call: (role: Role) => Promise<Call>;
  /** for list routes, allow/deny is visibility of the team's workspace, not the status */
  visible?: (body: any) => boolean;
}

describe('authorisation matrix: team and workspace routes × 7 standings', () => {
  let server: StartedServer;
  const m = {} as Record<Role, Machine>;
  const token = {} as Record<Role, string>;
  const userId = {} as Record<Role, string>;
  let teamId: string;
  let wsId: string;
  let snapshotId: string;
  let blobId: string;

  async function http(role: Role, c: Call): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = { authorization: `Bearer ${token[role]}` };
    let body: string | Buffer | undefined;
    if (c.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(c.json);
    } else if (c.raw) {
      headers['content-type'] = 'application/octet-stream';
      body = c.raw;
    }
    const res = await fetch(server.url + c.url, { method: c.method, headers, body });
    const text = await res.text();
    let parsed: any = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed };
  }

  /** a workspace of the team made by the owner, for routes that destroy or rename their target */
  async function scratchWorkspace(): Promise<string> {
    const id = hex(16);
    // epoch 2: the team's key rotated when `removed` was removed, and a new workspace's key must be under the current one
    const res = await http('owner', { method: 'POST', url: '/v1/workspaces', json: { id, teamId, encryptedName: b64(40), key: { epoch: 2, wrappedKey: b64(72) } } });
    expect(res.status).toBe(200);
    return id;
  }

  beforeAll(async () => {
    server = await startServer();
    for (const r of ROLES) m[r] = machine(server.url);
    await Promise.all(ROLES.map((r) => signupMachine(m[r], `${r}@example.com`)));
    for (const r of ROLES) {
      const s = sessionOf(m[r]);
      token[r] = s.sessionToken;
      userId[r] = s.userId;
    }
    const must = async (mm: Machine, args: string[], opts: { cwd?: string } = {}): Promise<string> => {
      const res = await mm.run(args, opts);
      if (res.code !== 0) throw new Error(`${args.join(' ')} → ${res.code}: ${res.stderr}`);
      return res.stdout;
    };
    await must(m.owner, ['account', 'verify', mailedCode(server.dataDir, 'owner@example.com', 'Verification code')]);
    teamId = JSON.parse(await must(m.owner, ['team', 'create', 'Matrix', '--json'])).id;
    const dir = tempDir('isync-authz-');
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}');
    wsId = JSON.parse(await must(m.owner, ['init', '--team', 'Matrix', '--json'], { cwd: dir })).id;
    snapshotId = JSON.parse(await must(m.owner, ['push', '--json'], { cwd: dir })).snapshot;
    await must(m.owner, ['team', 'invite', 'admin@example.com', '--role', 'admin', '--team', 'Matrix']);
    await must(m.owner, ['team', 'invite', 'member@example.com', 'accepted@example.com', 'invited@example.com', 'removed@example.com', '--team', 'Matrix']);
    for (const r of ['admin', 'member', 'accepted', 'removed'] as const) {
      await must(m[r], ['team', 'accept', mailedCode(server.dataDir, `${r}@example.com`, 'Invite code')]);
    }
    for (const r of ['admin', 'member', 'removed'] as const) await must(m.owner, ['team', 'confirm', `${r}@example.com`, '--team', 'Matrix', '--yes']);
    await must(m.owner, ['team', 'remove', 'removed@example.com', '--team', 'Matrix', '--yes']);
    const db = new Database(path.join(server.dataDir, 'sync.db'), { readonly: true });
    blobId = (db.prepare('SELECT id FROM blobs WHERE workspace_id = ? LIMIT 1').pluck().get(wsId) as Buffer).toString('hex');
    db.close();
  }, 180_000);

  afterAll(async () => {
    await server?.cleanup();
  });

  /** a team of the owner's, for the owner's cell of team deletion: the matrix team must stay */
  async function scratchTeam(): Promise<string> {
    const id = hex(16);
    const res = await http('owner', { method: 'POST', url: '/v1/teams', json: { id, name: 'Scratch', sealedTeamKey: b64(80) } });
    expect(res.status).toBe(200);
    return id;
  }

  const CONTENT: readonly Role[] = ['owner', 'admin', 'member'];
  const MANAGE: readonly Role[] = ['owner', 'admin'];
  const ws = (suffix = ''): string => `/v1/workspaces/${wsId}${suffix}`;

  const routes: RouteCase[] = [
    { name: 'GET /v1/workspaces (lists the team workspace)', allowed: CONTENT, call: async () => ({ method: 'GET', url: '/v1/workspaces' }), visible: (b) => b.workspaces.some((w: any) => w.id === wsId) },
    { name: 'POST /v1/workspaces (in the team)', allowed: CONTENT, call: async () => ({ method: 'POST', url: '/v1/workspaces', json: { id: hex(16), teamId, encryptedName: b64(40), key: { epoch: 2, wrappedKey: b64(72) } } }) },
    { name: 'GET /v1/workspaces/:id', allowed: CONTENT, call: async () => ({ method: 'GET', url: ws() }) },
    { name: 'PATCH /v1/workspaces/:id (rename)', allowed: MANAGE, call: async () => ({ method: 'PATCH', url: `/v1/workspaces/${await scratchWorkspace()}`, json: { encryptedName: b64(40) } }) },
    { name: 'DELETE /v1/workspaces/:id', allowed: MANAGE, call: async () => ({ method: 'DELETE', url: `/v1/workspaces/${await scratchWorkspace()}` }) },
    { name: 'GET /v1/workspaces/:id/members', allowed: CONTENT, call: async () => ({ method: 'GET', url: ws('/members') }) },
    { name: 'POST /v1/workspaces/:id/blobs/missing', allowed: CONTENT, call: async () => ({ method: 'POST', url: ws('/blobs/missing'), json: { ids: [hex(32)] } }) },
    {
      name: 'PUT /v1/workspaces/:id/blobs',
      allowed: CONTENT,
      call: async () => {
        const data = randomBytes(64);
        const header = Buffer.alloc(36);
        Buffer.from(hex(32), 'hex').copy(header);
        header.writeUInt32BE(data.length, 32);
        return { method: 'PUT', url: ws('/blobs'), raw: Buffer.concat([header, data]) };
      },
    },
    { name: 'POST /v1/workspaces/:id/blobs/fetch', allowed: CONTENT, call: async () => ({ method: 'POST', url: ws('/blobs/fetch'), json: { ids: [blobId] } }) },
    {
      name: 'POST /v1/workspaces/:id/snapshots',
      allowed: CONTENT,
      call: async () => {
        const data = randomBytes(120);
        // a stale parent: allowed callers get 409 and nothing is written
        return { method: 'POST', url: ws('/snapshots'), json: { id: createHash('sha256').update(data).digest('hex'), parent: hex(32), data: data.toString('base64url'), blobIds: [] } };
      },
    },
    { name: 'GET /v1/workspaces/:id/snapshots', allowed: CONTENT, call: async () => ({ method: 'GET', url: ws('/snapshots') }) },
    { name: 'GET /v1/workspaces/:id/snapshots/:sid', allowed: CONTENT, call: async () => ({ method: 'GET', url: ws(`/snapshots/${snapshotId}`) }) },
    {
      name: 'POST /v1/workspaces/:id/tokens',
      allowed: CONTENT,
      call: async () => ({
        method: 'POST',
        url: ws('/tokens'),
        json: { id: hex(16), name: 'ci', scope: 'read', secretHash: b64(32), expiresAt: null, publicKey: b64(32), certificate: b64(64), keys: [{ epoch: 2, wrappedKey: b64(72) }] },
      }),
    },
    {
      // another member's token: its creator may revoke it too, but only owners and admins anyone's
      name: "DELETE /v1/tokens/:id (the owner's token)",
      allowed: MANAGE,
      call: async () => {
        const id = hex(16);
        const made = await http('owner', {
          method: 'POST',
          url: ws('/tokens'),
          json: { id, name: 'ci', scope: 'read', secretHash: b64(32), expiresAt: null, publicKey: b64(32), certificate: b64(64), keys: [{ epoch: 2, wrappedKey: b64(72) }] },
        });
        expect(made.status).toBe(200);
        return { method: 'DELETE', url: `/v1/tokens/${id}` };
      },
    },
    { name: 'GET /v1/teams/:id/members', allowed: CONTENT, call: async () => ({ method: 'GET', url: `/v1/teams/${teamId}/members` }) },
    { name: 'POST /v1/teams/:id/invitations', allowed: MANAGE, call: async (r) => ({ method: 'POST', url: `/v1/teams/${teamId}/invitations`, json: { emails: [`new-${r}-${hex(3)}@example.com`], role: 'member' } }) },
    {
      name: 'POST /v1/teams/:id/invitations/withdraw',
      allowed: MANAGE,
      call: async (r) => {
        // an open invitation for each caller to withdraw: allowed callers get 200, the rest 403/404 and it stays
        const email = `withdraw-${r}-${hex(3)}@example.com`;
        expect((await http('owner', { method: 'POST', url: `/v1/teams/${teamId}/invitations`, json: { emails: [email], role: 'member' } })).body.invited).toHaveLength(1);
        return { method: 'POST', url: `/v1/teams/${teamId}/invitations/withdraw`, json: { email } };
      },
    },
    // missing the current epoch: allowed callers get 409, nobody is confirmed by the matrix
    { name: 'POST /v1/teams/:id/members/:uid/confirm', allowed: MANAGE, call: async () => ({ method: 'POST', url: `/v1/teams/${teamId}/members/${userId.accepted}/confirm`, json: { sealedKeys: [{ epoch: 1, sealedKey: b64(80) }] } }) },
    // a stale epoch: allowed callers get 409 after the role check, nothing changes
    { name: 'POST /v1/teams/:id/members/:uid/remove', allowed: MANAGE, call: async () => ({ method: 'POST', url: `/v1/teams/${teamId}/members/${userId.member}/remove`, json: { epoch: 1, sealedKeys: [], workspaceKeys: [] } }) },
    // the member's own role again: allowed callers change nothing
    { name: 'POST /v1/teams/:id/members/:uid/role', allowed: ['owner'], call: async () => ({ method: 'POST', url: `/v1/teams/${teamId}/members/${userId.member}/role`, json: { role: 'member' } }) },
    { name: 'POST /v1/teams/:id/rotate', allowed: MANAGE, call: async () => ({ method: 'POST', url: `/v1/teams/${teamId}/rotate`, json: { epoch: 1, sealedKeys: [], workspaceKeys: [] } }) },
    // deletes for real: everyone else is refused on the matrix team, the owner deletes a team of its own
    { name: 'DELETE /v1/teams/:id', allowed: ['owner'], call: async (r) => ({ method: 'DELETE', url: `/v1/teams/${r === 'owner' ? await scratchTeam() : teamId}` }) },
  ];
  // leave really leaves: it runs last, the owner after everyone else (then 409: last member)
  const leave: RouteCase = { name: 'POST /v1/teams/:id/leave', allowed: ['owner', 'admin', 'member', 'accepted'], call: async () => ({ method: 'POST', url: `/v1/teams/${teamId}/leave`, json: {} }) };

  let checked = 0;
  async function check(route: RouteCase, role: Role): Promise<void> {
    const res = await http(role, await route.call(role));
    const expectAllowed = route.allowed.includes(role);
    const where = `${route.name} as ${role}: ${res.status} ${JSON.stringify(res.body)?.slice(0, 200)}`;
    if (route.visible) {
      expect(res.status, where).toBe(200);
      expect(route.visible(res.body), where).toBe(expectAllowed);
    } else if (expectAllowed) {
      expect([401, 403, 404], where).not.toContain(res.status);
      expect(res.status, where).toBeLessThan(500);
    } else {
      expect([403, 404], where).toContain(res.status);
      // people who never belonged learn nothing, not even that the team exists
      if (role === 'outsider' || role === 'invited') expect(res.status, where).toBe(404);
    }
    checked++;
  }

  for (const route of routes) {
    it(route.name, async () => {
      for (const role of ROLES) await check(route, role);
    }, 60_000);
  }

  it(leave.name, async () => {
    for (const role of ['admin', 'member', 'accepted', 'invited', 'outsider', 'removed', 'owner'] as const) await check(leave, role);
  }, 60_000);

  it('covered every route × every standing', () => {
    const size = (routes.length + 1) * ROLES.length;
    expect(checked).toBe(size);
    // the closing note quotes this line
    console.info(`authorisation matrix: ${routes.length + 1} routes × ${ROLES.length} standings = ${size} cells checked`);
  });
});
