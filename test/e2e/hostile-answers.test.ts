/**
 * A hostile (or broken) server's answers, through a proxy in front of the real server: an endless
 * body or a Content-Length of hundreds of MiB ends the command at once with `bad_response` (exit 1)
 * and bounded memory, while the largest answers a real server gives still go through; and fields a
 * command prints forge no output line whatever the server puts there: a size, a head, a role or a
 * date is refused unless of the protocol's form, a name or label is printed escaped.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../src/client/api.js';
import { bearerOf, decodeAccessToken } from '../../src/client/access-token.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { encodeFrames, FRAME_HEADER_BYTES } from '../../src/protocol/blob-frames.js';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { LIMITS } from '../../src/protocol/types.js';
import { linkedFolder, machine, signupMachine, type Machine } from '../helpers/cli.js';
import { startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const MiB = 1024 * 1024;
/** a page of snapshot frames: up to maxSnapshotListBytes of data, or one snapshot of a whole upload body; a header each */
const SNAPSHOT_PAGE_BOUND = LIMITS.maxSnapshotListBytes + LIMITS.maxJsonBodyBytes + LIMITS.maxSnapshotsPerList * 77;

let server: StartedServer;
let proxy: HostileProxy;
let a: Machine;
let dir: string;
let ws: string;

beforeAll(async () => {
  server = await startServer();
  proxy = await startHostileProxy(server.url);
  a = machine(proxy.url);
  await signupMachine(a, 'hostile@example.com');
  const f = await linkedFolder(a, 'hostile', { 'a.json': '{"v":1}' }, { prefix: 'isync-hostile-' });
  dir = f.dir;
  ws = JSON.parse(f.init.stdout).id;
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await server?.cleanup();
});

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs the CLI and samples its memory; kills it (by its own pid) past `maxMiB` or `ms`. */
async function watched(args: string[], maxMiB: number, ms: number): Promise<{ exited: boolean; code: number | null; peakMiB: number; stderr: string }> {
  const child = a.spawn(args, { cwd: dir });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  let code: number | null = null;
  let exited = false;
  const done = new Promise<void>((r) =>
    child.on('exit', (c) => {
      exited = true;
      code = c;
      r();
    }),
  );
  let peakMiB = 0;
  const started = Date.now();
  while (!exited && Date.now() - started < ms && peakMiB <= maxMiB) {
    await Promise.race([done, new Promise((r) => setTimeout(r, 100))]);
    if (!exited) peakMiB = Math.max(peakMiB, rssMiB(child.pid!));
  }
  const finished = exited;
  if (!exited) {
    child.kill('SIGKILL');
    await done;
  }
  return { exited: finished, code, peakMiB, stderr };
}

/** Answers `matches` requests with 200 and an endless body of JSON whitespace, as fast as the socket takes it. */
function endless(matches: (req: http.IncomingMessage) => boolean, contentType: string): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  const junk = Buffer.alloc(4 * MiB, 0x20);
  return (req, res) => {
    if (!matches(req)) return false;
    res.writeHead(200, { 'content-type': contentType, [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) });
    const pump = (): void => {
      while (!res.destroyed && res.write(junk)) {
        /* fill the socket */
      }
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
    return true;
  };
}

describe('answers over their route bound', () => {
  it.each([
    { what: 'an endless JSON answer to GET /v1/workspaces/:id (status)', args: ['status'], route: /^\/v1\/workspaces\/[0-9a-f]{32}$/, type: 'application/json', bound: '64 MiB' },
    { what: 'an endless snapshot list (log)', args: ['log'], route: /\/snapshots\?/, type: 'application/octet-stream', bound: `${Math.round((SNAPSHOT_PAGE_BOUND / MiB) * 10) / 10} MiB` },
  ])('$what: exit 1 at the bound, memory bounded', async ({ args, route, type, bound }) => {
    proxy.answer = endless((req) => req.method === 'GET' && route.test(req.url ?? ''), type);
    try {
      const r = await watched(args, 1024, 30_000);
      expect(r.exited, `still running after 30 s or past 1 GiB (peak ${r.peakMiB.toFixed(0)} MiB): ${r.stderr}`).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`sent an answer over ${bound}`);
      expect(r.stderr.split('\n')[0]).toMatch(/^error: the server at http:\/\/127\.0\.0\.1:\d+ sent an answer over .* refused$/);
      // the answer is held whole up to its bound, once: not grown without end
      expect(r.peakMiB).toBeLessThan(600);
    } finally {
      proxy.answer = null;
    }
  }, 60_000);

  it('a Content-Length over the bound of a JSON route is refused before its body (workspace list)', async () => {
    const held: http.ServerResponse[] = [];
    proxy.answer = (req, res) => {
      if (req.method !== 'GET' || req.url !== '/v1/workspaces') return false;
      // 200 MiB announced, a few bytes sent, then silence: the client must not wait for the rest
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(200 * MiB), [PROTOCOL_REVISION_HEADER]: String(PROTOCOL_REVISION) });
      res.write('{"workspaces":[');
      held.push(res);
      return true;
    };
    try {
      const started = Date.now();
      const r = await watched(['workspace', 'list'], 1024, 20_000);
      expect(r.exited, `no answer after 20 s: ${r.stderr}`).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('sent an answer over 64 MiB to GET /v1/workspaces');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      proxy.answer = null;
      for (const res of held) res.destroy();
    }
  }, 60_000);

  it('a fixed-shape answer is held to 1 MiB: an endless answer to `missing` ends a push', async () => {
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${dir}/b.json`, JSON.stringify({ pad: randomBytes(1000).toString('hex') }));
    proxy.answer = endless((req) => req.method === 'POST' && (req.url ?? '').endsWith('/blobs/missing'), 'application/json');
    try {
      const r = await watched(['push'], 1024, 30_000);
      expect(r.exited, r.stderr).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain('sent an answer over 1 MiB to POST /v1/workspaces/:workspaceId/blobs/missing');
    } finally {
      proxy.answer = null;
    }
  }, 60_000);
});

describe('the largest answers a real server gives still go through', () => {
  let api: ApiClient;
  let bigWs: string;

  beforeAll(async () => {
    const f = await linkedFolder(a, 'big-answers', { 'a.json': '{}' }, { prefix: 'isync-hostile-big-' });
    bigWs = JSON.parse(f.init.stdout).id;
    const created = await a.run(['token', 'create', '--workspace', bigWs, '--name', 'big', '--json']);
    expect(created.code, created.stderr).toBe(0);
    // straight to the server: these answers are what a real one sends
    api = new ApiClient({ baseUrl: server.url, token: bearerOf(decodeAccessToken(noblePrimitives, JSON.parse(created.stdout).token as string)) });
  }, 60_000);
  afterAll(async () => api?.close());

  it('a blob fetch answer of almost LIMITS.maxFetchBytes, in blobs of the largest size', async () => {
    const blobs = Array.from({ length: 17 }, () => ({ id: randomBytes(32).toString('hex'), data: new Uint8Array(randomBytes(LIMITS.maxBlobBytes)) }));
    expect(await api.uploadFrameBody(bigWs, encodeFrames(blobs))).toBe(blobs.length);
    const first = Math.floor(LIMITS.maxFetchBytes / LIMITS.maxBlobBytes);
    const got = await api.fetchBlobs(bigWs, blobs.map((b) => b.id));
    expect(got.map((f) => f.id)).toEqual(blobs.map((b) => b.id));
    // the first answer held 15 of them: ~15 MiB in one body
    expect(first * (LIMITS.maxBlobBytes + FRAME_HEADER_BYTES)).toBeGreaterThan(15 * MiB);
    expect(Buffer.from(got[16]!.data).equals(Buffer.from(blobs[16]!.data))).toBe(true);
  }, 120_000);

  it('a snapshot page of one snapshot as large as an upload body allows (over LIMITS.maxSnapshotListBytes)', async () => {
    const head = (await api.getWorkspace(bigWs)).head;
    // a binary snapshot body of 64 MiB: 69 bytes of header, the rest data (the server cannot read it)
    const data = new Uint8Array(randomBytes(LIMITS.maxBlobBatchBytes - 69));
    const id = createHash('sha256').update(data).digest('hex');
    expect((await api.createSnapshot(bigWs, { id, parent: head, blobIds: [], data }, 1)).head).toBe(id);
    const page = await api.listSnapshots(bigWs, { limit: 1000 });
    expect(page[0]!.id).toBe(id);
    expect(page[0]!.data.length).toBe(data.length);
    expect(page[0]!.data.length).toBeGreaterThan(LIMITS.maxSnapshotListBytes);
    expect((await api.getSnapshot(bigWs, id)).data.length).toBe(data.length);
  }, 120_000);
});

describe('server fields printed as they came', () => {
  const FORGED = 'fake: all workspaces verified OK';

  /** Rewrites the JSON answer to GET `url`, runs the command, and returns its stdout lines. */
  async function printedWith(url: string, change: (answer: Record<string, any>) => void, args: string[]): Promise<string[]> {
    proxy.rewrite = (method, u, body) => {
      if (method !== 'GET' || u !== url) return null;
      const answer = JSON.parse(body.toString('utf8'));
      change(answer);
      return Buffer.from(JSON.stringify(answer));
    };
    try {
      const r = await a.run(args, { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
      return r.stdout.split('\n');
    } finally {
      proxy.rewrite = null;
    }
  }

  it('workspace list: a size and a head not of the protocol\'s form are refused (bad_response), not printed', async () => {
    // fields with a form (ids, times, counts, roles) are checked before use (test/e2e/malformed-answers.test.ts)
    for (const change of [(w: any) => (w.head = '\u001b]0;owned\u0007\nzz'), (w: any) => (w.size = `\u001b[2J\u001b[H\n${FORGED}\n`)]) {
      proxy.rewrite = (method, u, body) => {
        if (method !== 'GET' || u !== '/v1/workspaces') return null;
        const answer = JSON.parse(body.toString('utf8'));
        for (const w of answer.workspaces) change(w);
        return Buffer.from(JSON.stringify(answer));
      };
      try {
        const r = await a.run(['workspace', 'list'], { cwd: dir });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toMatch(/^error: the server's answer to GET \/v1\/workspaces does not follow the protocol \(workspaces\[0\]\.(head|size): must /);
        expect(r.stderr).not.toContain(FORGED);
        expect(r.stderr).not.toMatch(/\u001b/);
      } finally {
        proxy.rewrite = null;
      }
    }
  });

  // Free text the protocol leaves free (names, a session's client label): printed, escaped.
  it.each([
    { command: ['team', 'list'], url: '/v1/me', change: (j: any) => (j.teams[0].name = `Personal\n${FORGED}`) },
    { command: ['account', 'sessions'], url: '/v1/account/sessions', change: (j: any) => (j.sessions[0].client = `cli\n${FORGED}`) },
    { command: ['account', 'show'], url: '/v1/account', change: (j: any) => (j.user.name = `hostile\n${FORGED}`) },
    { command: ['account', 'show'], url: '/v1/account', change: (j: any) => (j.teams[0].name = `Personal\n${FORGED}`) },
  ])('$command.1: $url rewritten', async ({ command, url, change }) => {
    const lines = await printedWith(url, change, command);
    expect(lines).not.toContain(FORGED);
    expect(lines.join('\n')).toContain(`\\n${FORGED}`);
  });
});
