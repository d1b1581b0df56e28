/**
 * A server's JSON answers in the wrong shape, through a proxy in front of the real server: every
 * command stops with one line, `bad_response` (exit 1), naming the route and the first field at
 * fault (docs/protocol.md §7.2), with no stack, no control character and none of the server's
 * values; a pull or clone writes nothing. The same commands through the real server's own answers
 * work (the rest of the e2e suite runs every route so).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { linkedFolder, machine, signupMachine, tempDir, type CliResult, type Machine } from '../helpers/cli.js';
import { startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

let server: StartedServer;
let proxy: HostileProxy;
let a: Machine;
let dir: string;
let other: string;
let ws: string;
let teamId: string;

const BROKEN = 'hint: the server may be older or newer than this insomnia-sync, or broken: tell its operator';
/** what a hostile value carries: none of it may reach the terminal */
const FORGED = '\u001b[2J\u001b]0;owned\u0007\nfake: all workspaces verified OK';

beforeAll(async () => {
  server = await startServer();
  proxy = await startHostileProxy(server.url);
  a = machine(proxy.url);
  await signupMachine(a, 'malformed@example.com');
  const f = await linkedFolder(a, 'malformed', { 'a.json': '{"v":1}' }, { prefix: 'isync-malformed-' });
  dir = f.dir;
  ws = JSON.parse(f.init.stdout).id;
  // a second folder of the same workspace, to push what the first then pulls
  other = path.join(tempDir('isync-malformed-other-'), 'w');
  expect((await a.run(['clone', ws, other])).code).toBe(0);
  const team = await a.run(['team', 'create', 'Shapes', '--json']);
  expect(team.code, team.stderr).toBe(0);
  teamId = JSON.parse(team.stdout).id;
  const token = await a.run(['token', 'create', '--workspace', ws, '--name', 'ci', '--json']);
  expect(token.code, token.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.cleanup();
});

/** Every file under `root` (the link and index in .insomnia-sync too) with its bytes. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[path.relative(root, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(root);
  return out;
}

/** Runs `args` with the JSON answer to `method` `url` (a RegExp on the path) changed by `change`. */
async function withAnswer(method: string, url: RegExp, change: (answer: any) => unknown, args: string[], cwd = dir): Promise<CliResult> {
  let rewritten = 0;
  proxy.rewrite = (m, u, body) => {
    if (m !== method || !url.test(u)) return null;
    rewritten++;
    return Buffer.from(JSON.stringify(change(JSON.parse(body.toString('utf8')))));
  };
  try {
    const r = await a.run(args, { cwd });
    expect(rewritten, `no ${method} ${url} was answered: ${r.stderr}`).toBeGreaterThan(0);
    return r;
  } finally {
    proxy.rewrite = null;
  }
}

/** exit 1, the error line as given and the hint that goes with it, nothing else on stderr */
function refused(r: CliResult, line: string, hint = BROKEN): void {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stderr.split('\n')).toEqual([`error: ${line}`, hint, '']);
  // no control character (but the newlines ending the two lines), no stack, none of FORGED
  expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toContain('fake:');
}

describe('wrong shapes of JSON answers: one line, exit 1, the route and the field named', () => {
  it.each([
    { what: 'workspaces not an array', change: () => ({ workspaces: 5 }), problem: 'workspaces: must be array' },
    { what: 'an empty object', change: () => ({}), problem: 'workspaces: is missing' },
    { what: 'not an object', change: () => [FORGED], problem: 'the answer: must be object' },
    { what: 'a number for an id', change: (j: any) => ((j.workspaces[0].id = 5), j), problem: 'workspaces[0].id: must be string' },
    { what: 'a string for a size', change: (j: any) => ((j.workspaces[0].size = FORGED), j), problem: 'workspaces[0].size: must be integer' },
    { what: 'a head that is no snapshot id', change: (j: any) => ((j.workspaces[0].head = FORGED), j), problem: 'workspaces[0].head: must match ^[0-9a-f]{64}$' },
    { what: 'a key without its epoch', change: (j: any) => (delete j.workspaces[0].keys[0].epoch, j), problem: 'workspaces[0].keys[0].epoch: is missing' },
  ])('workspace list: $what', async ({ change, problem }) => {
    const r = await withAnswer('GET', /^\/v1\/workspaces$/, change, ['workspace', 'list']);
    refused(r, `the server's answer to GET /v1/workspaces does not follow the protocol (${problem})`);
    expect(r.stdout).toBe('');
  });

  it.each([
    { args: ['whoami'], change: (j: any) => ((j.teams[0].role = `owner${FORGED}`), j), problem: 'teams[0].role: must be one of owner, admin, member' },
    { args: ['team', 'list'], change: (j: any) => ((j.teams[0].epoch = '1'), j), problem: 'teams[0].epoch: must be integer' },
    { args: ['team', 'list'], change: (j: any) => ((j.user.createdAt = FORGED), j), problem: 'user.createdAt: must match ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$' },
  ])('GET /v1/me ($args.0 $args.1): $problem', async ({ args, change, problem }) => {
    const r = await withAnswer('GET', /^\/v1\/me$/, change, args);
    refused(r, `the server's answer to GET /v1/me does not follow the protocol (${problem})`);
  });

  it('team members: a status from no list', async () => {
    const r = await withAnswer('GET', /^\/v1\/teams\/[0-9a-f]{32}\/members$/, (j) => ((j.members[0].status = 7), j), ['team', 'members', '--team', 'Shapes']);
    refused(r, `the server's answer to GET /v1/teams/:teamId/members does not follow the protocol (members[0].status: must be string)`);
    expect(teamId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('token list: a time that is none, and a scope from no list', async () => {
    const time = await withAnswer('GET', /^\/v1\/tokens/, (j) => ((j.tokens[0].createdAt = FORGED), j), ['token', 'list']);
    refused(time, `the server's answer to GET /v1/tokens does not follow the protocol (tokens[0].createdAt: must match ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$)`);
    const scope = await withAnswer('GET', /^\/v1\/tokens/, (j) => ((j.tokens[0].scope = 'admin'), j), ['token', 'list']);
    refused(scope, `the server's answer to GET /v1/tokens does not follow the protocol (tokens[0].scope: must be one of read, write)`);
  });

  it('account sessions: a session without its id', async () => {
    const r = await withAnswer('GET', /^\/v1\/account\/sessions$/, (j) => (delete j.sessions[0].id, j), ['account', 'sessions']);
    refused(r, `the server's answer to GET /v1/account/sessions does not follow the protocol (sessions[0].id: is missing)`);
  });

  it('push: a `missing` answer with an id that is none, or one not asked about; the next push goes through', async () => {
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ pad: randomBytes(64).toString('hex') }));
    const bad = await withAnswer('POST', /\/blobs\/missing$/, () => ({ missing: [FORGED] }), ['push']);
    refused(bad, `the server's answer to POST /v1/workspaces/:workspaceId/blobs/missing does not follow the protocol (missing[0]: must match ^[0-9a-f]{64}$)`);
    const stray = await withAnswer('POST', /\/blobs\/missing$/, (j) => ({ missing: [...j.missing, 'f'.repeat(64)] }), ['push']);
    refused(stray, `the server's answer to POST /v1/workspaces/:workspaceId/blobs/missing does not follow the protocol (missing[1]: names a blob id that was not asked about)`);
    const ok = await a.run(['push'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('push: a receipt whose head is not a snapshot id', async () => {
    writeFileSync(path.join(dir, 'c.json'), '{"c":1}');
    const r = await withAnswer('POST', /\/snapshots\?/, () => ({ head: 5 }), ['push']);
    refused(r, `the server's answer to POST /v1/workspaces/:workspaceId/snapshots does not follow the protocol (head: must be string)`);
  });

  it('pull: a wrong member list or workspace writes nothing in the folder; the same pull then goes through', async () => {
    writeFileSync(path.join(other, 'from-other.json'), '{"o":1}');
    expect((await a.run(['pull'], { cwd: other })).code).toBe(0);
    expect((await a.run(['push'], { cwd: other })).code).toBe(0);
    const before = tree(dir);
    const members = await withAnswer('GET', /\/members$/, (j) => ((j.members[0].ed25519PublicKey = FORGED), j), ['pull']);
    refused(members, `the server's answer to GET /v1/workspaces/:workspaceId/members does not follow the protocol (members[0].ed25519PublicKey: must match ^[A-Za-z0-9_-]{43}$)`);
    expect(tree(dir)).toEqual(before);
    const workspace = await withAnswer('GET', /^\/v1\/workspaces\/[0-9a-f]{32}$/, (j) => ((j.keys = {}), j), ['pull']);
    refused(workspace, `the server's answer to GET /v1/workspaces/:workspaceId does not follow the protocol (keys: must be array)`);
    expect(tree(dir)).toEqual(before);
    const ok = await a.run(['pull'], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(path.join(dir, 'from-other.json'))).toBe(true);
  });

  it('clone: a wrong member list leaves no folder behind', async () => {
    const target = path.join(tempDir('isync-malformed-clone-'), 'w');
    const r = await withAnswer('GET', /\/members$/, (j) => ({ ...j, members: j.members.map((m: any) => ({ ...m, userId: null })) }), ['clone', ws, target]);
    refused(r, `the server's answer to GET /v1/workspaces/:workspaceId/members does not follow the protocol (members[0].userId: must be string)`);
    expect(existsSync(target)).toBe(false);
  });

  it('in a linked folder, an answer naming no protocol revision hints at the folder\'s link', async () => {
    proxy.answer = (req, res) => {
      if (req.method !== 'GET' || !/^\/v1\/workspaces\/[0-9a-f]{32}$/.test(req.url ?? '')) return false;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":5}');
      return true;
    };
    try {
      const before = tree(dir);
      const r = await a.run(['pull'], { cwd: dir });
      refused(
        r,
        `the server's answer to GET /v1/workspaces/:workspaceId does not follow the protocol (teamId: is missing)`,
        `hint: the server at ${proxy.url} names no sync protocol: upgrade it to this version of insomnia-sync, or check the URL this folder is linked to (.insomnia-sync/link.json), or clone the workspace again with the right --server`,
      );
      expect(tree(dir)).toEqual(before);
    } finally {
      proxy.answer = null;
    }
  });

  it('a status the route does not answer with (204 for a workspace list) is no answer', async () => {
    proxy.answer = (req, res) => {
      if (req.method !== 'GET' || req.url !== '/v1/workspaces') return false;
      res.writeHead(204, { [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) }).end();
      return true;
    };
    try {
      refused(await a.run(['workspace', 'list']), `the server's answer to GET /v1/workspaces does not follow the protocol (status 204 is not an answer of this route)`);
    } finally {
      proxy.answer = null;
    }
  });
});

describe('malformed error answers: still one line', () => {
  it.each([
    { what: 'an error that is a number', body: '{"error":5}', line: 'server answered 404' },
    { what: 'null', body: 'null', line: 'server answered 404' },
    { what: 'an array', body: `[${JSON.stringify(FORGED)}]`, line: 'server answered 404' },
    { what: 'a message that is an object', body: '{"error":{"code":"not_found","message":{"a":1}}}', line: 'server answered 404', exit: 5 },
    { what: 'a code from no list', body: '{"error":{"code":"teapot","message":"short and stout"}}', line: 'short and stout' },
    { what: 'a message with escapes and a newline', body: JSON.stringify({ error: { code: 'not_found', message: `gone${FORGED}` } }), line: 'gone\\u001b[2J\\u001b]0;owned\\u0007', exit: 5 },
  ])('$what', async ({ body, line, exit }) => {
    proxy.answer = (req, res) => {
      if (req.method !== 'GET' || req.url !== '/v1/workspaces') return false;
      res.writeHead(404, { 'content-type': 'application/json', [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) }).end(body);
      return true;
    };
    try {
      const r = await a.run(['workspace', 'list']);
      expect(r.code, r.stderr).toBe(exit ?? 1);
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      expect(lines[0]).toBe(`error: ${line}`);
      expect(lines.length).toBeLessThanOrEqual(2);
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // a message's first line only (src/cli/main.ts): the rest forges nothing
      expect(r.stderr).not.toContain('fake:');
    } finally {
      proxy.answer = null;
    }
  });
});
