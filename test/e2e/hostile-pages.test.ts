/**
 * A history walk (log, pull, verify, restore, export --snapshot) follows the chain the snapshots
 * sign, not the pages the server makes up: pages of junk, the head's page served whatever
 * `before` says, or a page longer than asked for, end it at once (exit 7) instead of paging for
 * ever and holding every page.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy, type ResponseRewriter } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

let server: StartedServer;
let proxy: RecordingProxy;
let a: Machine;
/** what the proxy does to the server's answers, set by each test */
let rewrite: ResponseRewriter | null = null;
/** a folder at the head, and one two snapshots behind it */
let ahead: string;
let behind: string;

beforeAll(async () => {
  server = await startServer();
  proxy = await startRecordingProxy(server.url, (method, url, body) => rewrite?.(method, url, body) ?? null);
  a = machine(proxy.url);
  await signupMachine(a, 'pages@example.com');
  const made = await linkedFolder(a, 'pages', { 'a.json': 'v1' }, { prefix: 'isync-hostile-pages-' });
  ahead = made.dir;
  behind = path.join(tempDir('isync-hostile-pages-behind-'), 'b');
  for (const v of ['v2', 'v3', 'clone', 'v4', 'v5']) {
    if (v === 'clone') {
      expect((await a.run(['clone', json(made.init.stdout).id, behind])).code).toBe(0);
      continue;
    }
    writeFileSync(path.join(ahead, 'a.json'), v);
    const r = await a.run(['push', '-m', v], { cwd: ahead });
    expect(r.code, r.stderr).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  rewrite = null;
  await proxy?.close();
  await server?.stop();
});

describe('a walk follows the chain, not the pages the server makes up', () => {
  /** the listing requests the command made, and its result; a list that would go on ends after 40 pages */
  async function run(args: string[], cwd: string, page: (n: number, body: Buffer) => Buffer): Promise<{ code: number; stderr: string; pages: number; ms: number }> {
    let pages = 0;
    rewrite = (method, url, body) => {
      if (method !== 'GET' || !/\/snapshots\?/.test(url)) return null;
      pages++;
      return pages > 40 ? Buffer.alloc(0) : page(pages, body);
    };
    const t0 = Date.now();
    try {
      const res = await a.run(args, { cwd });
      return { code: res.code, stderr: res.stderr, pages, ms: Date.now() - t0 };
    } finally {
      rewrite = null;
    }
  }

  /**
   * four frames (as many as a first page asks for) of fresh ids, none of them the history's;
   * `hashed`: each id the SHA-256 of its data, as a real snapshot's is
   */
  const junk = (hashed = false): Buffer => {
    const frames: Buffer[] = [];
    for (let i = 0; i < 4; i++) {
      const h = Buffer.alloc(77);
      h[0] = 1;
      randomBytes(64).copy(h, 1);
      h.writeDoubleBE(Date.now(), 65);
      const data = randomBytes(64 * 1024);
      if (hashed) createHash('sha256').update(data).digest().copy(h, 1);
      h.writeUInt32BE(data.length, 73);
      frames.push(h, data);
    }
    return Buffer.concat(frames);
  };

  it('pages of junk: log and pull stop at the first one (exit 7)', async () => {
    for (const [args, cwd] of [[['log'], ahead], [['pull'], behind]] as const) {
      const res = await run([...args], cwd, () => junk());
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(7);
      expect(res.stderr).toContain("the server's list of snapshots does not follow the workspace's history");
      expect(res.pages).toBe(1);
    }
    expect(readFileSync(path.join(behind, 'a.json'), 'utf8')).toBe('v3');
  }, 120_000);

  it("the head's page served whatever `before` says: log and pull stop at the second page (exit 7)", async () => {
    for (const [args, cwd] of [[['log'], ahead], [['pull'], behind]] as const) {
      let first: Buffer | null = null;
      const res = await run([...args], cwd, (_n, body) => (first ??= Buffer.from(body.subarray(0, 77 + body.readUInt32BE(73)))));
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(7);
      expect(res.stderr).toContain("the server's list of snapshots does not follow the workspace's history");
      expect(res.pages).toBe(2);
    }
    expect(readFileSync(path.join(behind, 'a.json'), 'utf8')).toBe('v3');
  }, 120_000);

  it('pages of snapshots off the chain: the chain is fetched by id, two requests a snapshot at most', async () => {
    const from = proxy.responses.length;
    const res = await run(['log', '--json'], ahead, () => junk(true));
    expect(res.code, res.stderr).toBe(0);
    const byId = proxy.responses.slice(from).filter((r) => r.method === 'GET' && /\/snapshots\/[0-9a-f]{64}/.test(r.url)).length;
    // five snapshots: each found by id after a page that lacked it, never more pages than that
    expect({ pages: res.pages, byId }).toEqual({ pages: 5, byId: 5 });
  }, 120_000);

  it('a page longer than asked for is refused; the honest pages still pull', async () => {
    const res = await run(['log'], ahead, (_n, body) => Buffer.concat([body, junk()]));
    expect(res.code, res.stderr).toBe(7);
    expect(res.stderr).toContain('were asked for');
    const pulled = await a.run(['pull', '--json'], { cwd: behind });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(json(pulled.stdout).snapshots).toBe(2);
    expect(readFileSync(path.join(behind, 'a.json'), 'utf8')).toBe('v5');
  }, 120_000);
});
