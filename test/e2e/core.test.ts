/**
 * End-to-end: the real server on 127.0.0.1 and real CLI processes as two "machines" (separate
 * config dirs). Proves SPEC §9 invariants 1–6 and the exit codes of the core commands.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServer, type StartedServer as RunningServer } from '../helpers/server-process.js';
import { PASSWORD, loginMachine, machine, runCli, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { readIndex } from '../../src/client/local/link.js';

/** The suites run once per storage backend; tampering and at-rest checks reach into each its own way. */
const BACKENDS = ['sqlite', 'postgres'] as const;
type Backend = (typeof BACKENDS)[number];

async function startBackendServer(backend: Backend): Promise<{ server: RunningServer; pg: TestDatabase | null }> {
  const pg = backend === 'postgres' ? await createTestDatabase() : null;
  return { server: await startServer(pg ? { db: pg.url } : {}), pg };
}

/** Direct access to stored ciphertext, as a hostile server operator would have. */
interface StoredRows {
  blobs(workspaceId: string): Promise<{ key: unknown; data: Buffer }[]>;
  lastSnapshot(workspaceId: string): Promise<{ key: unknown; data: Buffer } | undefined>;
  /** returns the number of rows changed */
  setBlob(key: unknown, data: Buffer): Promise<number>;
  setSnapshot(key: unknown, data: Buffer): Promise<number>;
  close(): Promise<void>;
}

function storedRows(server: RunningServer, pg: TestDatabase | null): StoredRows {
  if (pg) {
    type BlobKey = { ws: string; id: Buffer };
    return {
      blobs: async (ws) =>
        (await pg.query<{ id: Buffer; data: Buffer }>('SELECT id, data FROM blobs WHERE workspace_id = $1', [ws])).rows.map((r) => ({ key: { ws, id: r.id }, data: r.data })),
      lastSnapshot: async (ws) => {
        const r = (await pg.query<{ seq: string; data: Buffer }>('SELECT seq, data FROM snapshots WHERE workspace_id = $1 ORDER BY seq DESC LIMIT 1', [ws])).rows[0];
        return r && { key: r.seq, data: r.data };
      },
      setBlob: async (key, data) => (await pg.query('UPDATE blobs SET data = $1 WHERE workspace_id = $2 AND id = $3', [data, (key as BlobKey).ws, (key as BlobKey).id])).rowCount ?? 0,
      setSnapshot: async (key, data) => (await pg.query('UPDATE snapshots SET data = $1 WHERE seq = $2', [data, key])).rowCount ?? 0,
      close: async () => {},
    };
  }
  const db = new Database(path.join(server.dataDir, 'sync.db'));
  return {
    blobs: async (ws) => (db.prepare('SELECT rowid AS rowid_, data FROM blobs WHERE workspace_id = ?').all(ws) as { rowid_: number; data: Buffer }[]).map((r) => ({ key: r.rowid_, data: r.data })),
    lastSnapshot: async (ws) => {
      const r = db.prepare('SELECT rowid AS rowid_, data FROM snapshots WHERE workspace_id = ? ORDER BY rowid DESC LIMIT 1').get(ws) as { rowid_: number; data: Buffer } | undefined;
      return r && { key: r.rowid_, data: r.data };
    },
    setBlob: async (key, data) => db.prepare('UPDATE blobs SET data = ? WHERE rowid = ?').run(data, key).changes,
    setSnapshot: async (key, data) => db.prepare('UPDATE snapshots SET data = ? WHERE rowid = ?').run(data, key).changes,
    close: async () => void db.close(),
  };
}

/** Every value of every table of the PostgreSQL test database, text and bytea alike. */
async function everyStoredValue(pg: TestDatabase): Promise<{ where: string; bytes: Buffer }[]> {
  const tables = (await pg.query<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows;
  const out: { where: string; bytes: Buffer }[] = [];
  for (const { table_name: table } of tables) {
    for (const row of (await pg.query(`SELECT * FROM ${table}`)).rows) {
      for (const [col, value] of Object.entries(row)) {
        if (Buffer.isBuffer(value)) out.push({ where: `${table}.${col}`, bytes: value });
        else if (typeof value === 'string') out.push({ where: `${table}.${col}`, bytes: Buffer.from(value) });
      }
    }
  }
  return out;
}

const MARKER = 'MARKER-7f3a9c1e-do-not-leak';
const SECRET_NAME = 'prod-admin-credentials.json';

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, rel);
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
}

/** Every regular file under root except .insomnia-sync/, as path → content. */
function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.insomnia-sync') continue;
      if (e.isDirectory()) walk(r);
      else out[r] = readFileSync(path.join(root, r)).toString('base64');
    }
  };
  walk('');
  return out;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk(dir);
  return out;
}

function json<T = any>(stdout: string): T {
  return JSON.parse(stdout) as T;
}

describe.each(BACKENDS)('core sync, end to end (%s)', (backend) => {
  let server: RunningServer;
  let pg: TestDatabase | null = null;
  let proxy: RecordingProxy;
  let a: Machine;
  let b: Machine;
  let wsA: string;
  let wsB: string;
  let workspaceId: string;
  const email = 'alice@example.com';

  beforeAll(async () => {
    ({ server, pg } = await startBackendServer(backend));
    proxy = await startRecordingProxy(server.url);
    a = machine(proxy.url);
    b = machine(proxy.url);
    await signupMachine(a, email);
    wsA = tempDir('isync-ws-a-');
    writeTree(wsA, {
      'collections/api.json': JSON.stringify({ token: MARKER, url: 'https://internal.example' }),
      [`envs/${SECRET_NAME}`]: JSON.stringify({ password: `${MARKER}-2` }),
      'spec.yaml': `openapi: 3.0.0\ninfo:\n  title: ${MARKER}\n`,
      'big.bin': Buffer.alloc(2.5 * 1024 * 1024, 7), // three chunks
      'empty.txt': '',
      'node_modules/ignored.json': '{"ignored":true}',
      '.insomnia-syncignore': 'node_modules/\n',
    });
    const init = await a.run(['init', '--name', 'Team API', '--json'], { cwd: wsA });
    expect(init.code, init.stderr).toBe(0);
    workspaceId = json(init.stdout).id;
    const pushed = await a.run(['push', '-m', 'first', '--json'], { cwd: wsA });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(json(pushed.stdout).snapshot).toMatch(/^[0-9a-f]{64}$/);
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
    await pg?.drop();
  });

  it('a second machine logged into the same account clones byte-identical files (§9.3)', async () => {
    await loginMachine(b, email);
    const parent = tempDir('isync-ws-b-');
    wsB = path.join(parent, 'clone');
    const res = await b.run(['clone', 'Team API', wsB, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const expected = readTree(wsA);
    delete expected['node_modules/ignored.json'];
    expect(readTree(wsB)).toEqual(expected);
    expect(existsSync(path.join(wsB, 'node_modules'))).toBe(false);
    // the clone records each file's stat data as it is after the rename into place (which moves
    // the ctime), so the next status has nothing to re-read but racily recent files
    const index = readIndex(wsB);
    expect(index.entries.map((e) => e.path).sort()).toEqual(Object.keys(expected).sort());
    for (const e of index.entries) {
      const st = statSync(path.join(wsB, e.path));
      expect({ path: e.path, ctimeMs: e.ctimeMs, ino: e.ino, size: e.size }).toEqual({ path: e.path, ctimeMs: st.ctimeMs, ino: st.ino, size: st.size });
    }
  });

  it('no file under the server data dir contains the marker, the password or a file name (§9.1)', async () => {
    const needles = [MARKER, PASSWORD, SECRET_NAME, 'collections/api.json', 'spec.yaml', 'Team API'];
    const files = filesUnder(server.dataDir);
    if (pg) {
      // the database lives outside the data dir: read back everything it stores
      const stored = await everyStoredValue(pg);
      expect(stored.some((v) => v.where === 'blobs.data')).toBe(true);
      for (const v of stored) {
        for (const needle of needles) expect(v.bytes.includes(Buffer.from(needle)), `${needle} found in ${v.where}`).toBe(false);
      }
    } else {
      expect(files.some((f) => f.endsWith('.db'))).toBe(true);
    }
    expect(files).toContain(server.logFile);
    expect(statSync(server.logFile).size).toBeGreaterThan(0);
    for (const file of files) {
      const content = readFileSync(file);
      for (const needle of needles) {
        expect(content.includes(Buffer.from(needle)), `${needle} found in ${file}`).toBe(false);
      }
    }
  });

  it('the password never appears in any request the client sends (§9.2)', () => {
    expect(proxy.requests.length).toBeGreaterThan(5);
    const pw = Buffer.from(PASSWORD);
    const forms = [pw, Buffer.from(pw.toString('base64')), Buffer.from(pw.toString('base64url')), Buffer.from(pw.toString('hex')), Buffer.from(encodeURIComponent(PASSWORD))];
    for (const req of proxy.requests) {
      for (const form of forms) expect(req.includes(form)).toBe(false);
      expect(req.includes(Buffer.from(MARKER))).toBe(false);
    }
  });

  it('pull on the second machine brings changes, additions and deletions', async () => {
    writeFileSync(path.join(wsA, 'spec.yaml'), 'openapi: 3.1.0\n');
    writeFileSync(path.join(wsA, 'collections/new.json'), '{"new":1}');
    rmSync(path.join(wsA, 'empty.txt'));
    const pushed = await a.run(['push', '-m', 'second'], { cwd: wsA });
    expect(pushed.code, pushed.stderr).toBe(0);
    const pulled = await b.run(['pull', '--json'], { cwd: wsB });
    expect(pulled.code, pulled.stderr).toBe(0);
    const res = json(pulled.stdout);
    expect(res.written.sort()).toEqual(['collections/new.json', 'spec.yaml']);
    expect(res.deleted).toEqual(['empty.txt']);
    const expected = readTree(wsA);
    delete expected['node_modules/ignored.json'];
    expect(readTree(wsB)).toEqual(expected);
  });

  it('two clients pushing at once: one wins, the other exits 3, pulls and pushes again; nothing lost (§9.4)', async () => {
    writeFileSync(path.join(wsA, 'from-a.json'), '{"a":1}');
    writeFileSync(path.join(wsB, 'from-b.json'), '{"b":1}');
    const [ra, rb] = await Promise.all([a.run(['push'], { cwd: wsA }), b.run(['push'], { cwd: wsB })]);
    const codes = [ra.code, rb.code].sort();
    expect(codes).toEqual([0, 3]);
    const loser = ra.code === 3 ? { m: a, dir: wsA, res: ra } : { m: b, dir: wsB, res: rb };
    const winner = ra.code === 3 ? { m: b, dir: wsB } : { m: a, dir: wsA };
    expect(loser.res.stderr).toMatch(/pull/);
    const pulled = await loser.m.run(['pull'], { cwd: loser.dir });
    expect(pulled.code, pulled.stderr).toBe(0);
    const again = await loser.m.run(['push'], { cwd: loser.dir });
    expect(again.code, again.stderr).toBe(0);
    const sync = await winner.m.run(['pull'], { cwd: winner.dir });
    expect(sync.code, sync.stderr).toBe(0);
    for (const dir of [wsA, wsB]) {
      expect(readFileSync(path.join(dir, 'from-a.json'), 'utf8')).toBe('{"a":1}');
      expect(readFileSync(path.join(dir, 'from-b.json'), 'utf8')).toBe('{"b":1}');
    }
  });

  it('a file changed on both sides keeps the local one, writes the remote one beside it and exits 3', async () => {
    writeFileSync(path.join(wsA, 'spec.yaml'), 'from A\n');
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    writeFileSync(path.join(wsB, 'spec.yaml'), 'from B\n');
    const blocked = await b.run(['push'], { cwd: wsB });
    expect(blocked.code).toBe(3);
    const pulled = await b.run(['pull', '--json'], { cwd: wsB });
    expect(pulled.code).toBe(3);
    expect(JSON.parse(pulled.stderr).error.code).toBe('conflict');
    expect(readFileSync(path.join(wsB, 'spec.yaml'), 'utf8')).toBe('from B\n');
    expect(readFileSync(path.join(wsB, 'spec.yaml.conflict'), 'utf8')).toBe('from A\n');
    // resolve: keep B's version, drop the copy, push; A pulls B's version
    rmSync(path.join(wsB, 'spec.yaml.conflict'));
    const resolved = await b.run(['push', '-m', 'resolve'], { cwd: wsB });
    expect(resolved.code, resolved.stderr).toBe(0);
    expect((await a.run(['pull'], { cwd: wsA })).code).toBe(0);
    expect(readFileSync(path.join(wsA, 'spec.yaml'), 'utf8')).toBe('from B\n');
    expect(existsSync(path.join(wsA, 'spec.yaml.conflict'))).toBe(false);
  });

  it('--theirs and --ours settle conflicts (exit 0); --theirs keeps your unpushed version as a conflict copy', async () => {
    writeFileSync(path.join(wsA, 'spec.yaml'), 'A2\n');
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    writeFileSync(path.join(wsB, 'spec.yaml'), 'B2\n');
    const theirs = await b.run(['pull', '--theirs'], { cwd: wsB });
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(readFileSync(path.join(wsB, 'spec.yaml'), 'utf8')).toBe('A2\n');
    expect(readFileSync(path.join(wsB, 'spec.yaml.conflict'), 'utf8')).toBe('B2\n');
    rmSync(path.join(wsB, 'spec.yaml.conflict'));
    writeFileSync(path.join(wsA, 'spec.yaml'), 'A3\n');
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    writeFileSync(path.join(wsB, 'spec.yaml'), 'B3\n');
    const ours = await b.run(['pull', '--ours'], { cwd: wsB });
    expect(ours.code, ours.stderr).toBe(0);
    expect(readFileSync(path.join(wsB, 'spec.yaml'), 'utf8')).toBe('B3\n');
    expect(existsSync(path.join(wsB, 'spec.yaml.conflict'))).toBe(false);
    expect((await b.run(['push'], { cwd: wsB })).code).toBe(0);
    expect((await a.run(['pull'], { cwd: wsA })).code).toBe(0);
    expect(readFileSync(path.join(wsA, 'spec.yaml'), 'utf8')).toBe('B3\n');
  });

  it('status sees an edit that keeps the size and sets the mtime back', async () => {
    const file = path.join(wsA, 'collections/api.json');
    const before = statSync(file);
    const content = readFileSync(file, 'utf8');
    const clean = await a.run(['status', '--json'], { cwd: wsA });
    expect(json(clean.stdout).changes).toEqual([]);
    writeFileSync(file, content.replace('internal', 'INTERNAL'));
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    const dirty = await a.run(['status', '--json'], { cwd: wsA });
    expect(dirty.code).toBe(0);
    expect(json(dirty.stdout).changes).toEqual([{ kind: 'modified', path: 'collections/api.json' }]);
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    expect((await b.run(['pull'], { cwd: wsB })).code).toBe(0);
    expect(readFileSync(path.join(wsB, 'collections/api.json'), 'utf8')).toContain('INTERNAL');
  });

  it('a no-op push says up to date and creates no snapshot', async () => {
    const res = await a.run(['push', '--json'], { cwd: wsA });
    expect(res.code).toBe(0);
    expect(json(res.stdout)).toMatchObject({ snapshot: null, upToDate: true });
  });

  it('log lists snapshots newest first, with author and message; verify passes', async () => {
    const res = await b.run(['log', '--json'], { cwd: wsB });
    expect(res.code, res.stderr).toBe(0);
    const log = json(res.stdout).snapshots;
    expect(log.length).toBeGreaterThanOrEqual(6);
    expect(log[log.length - 1].message).toBe('first');
    expect(log[0].author.email).toBe(email);
    for (let i = 0; i < log.length - 1; i++) expect(log[i].parent).toBe(log[i + 1].id);
    const ver = await b.run(['verify', '--json'], { cwd: wsB });
    expect(ver.code, ver.stderr).toBe(0);
    expect(json(ver.stdout)).toMatchObject({ ok: true, snapshots: log.length });
    expect(json(ver.stdout).blobs).toBeGreaterThan(5);
  });

  it('restore --to writes an old snapshot into a new folder', async () => {
    const log = json((await a.run(['log', '--json'], { cwd: wsA })).stdout).snapshots;
    const first = log[log.length - 1].id as string;
    const dest = path.join(tempDir(), 'old');
    const res = await a.run(['restore', first.slice(0, 10), '--to', dest, '--json'], { cwd: wsA });
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(path.join(dest, 'spec.yaml'), 'utf8')).toContain(MARKER);
    expect(existsSync(path.join(dest, 'empty.txt'))).toBe(true);
    expect(existsSync(path.join(dest, '.insomnia-sync'))).toBe(false);
    expect(json(res.stdout)).toMatchObject({ workspaceId: json(readFileSync(path.join(wsA, '.insomnia-sync/link.json'), 'utf8')).workspaceId, deleted: 0 });
    // the human text counts with the words of the JSON: written, deleted
    const human = await a.run(['restore', first.slice(0, 10), '--to', path.join(tempDir(), 'again')], { cwd: wsA });
    expect(human.stdout).toMatch(/: \d+ file\(s\) written, 0 deleted\n$/);
    const missing = await a.run(['restore', 'ffffffff'], { cwd: wsA });
    expect(missing.code).toBe(5);
    // a symbolic link, even to an empty folder, is refused for what it is, and left as it was
    const empty = tempDir();
    const link = path.join(tempDir(), 'link');
    symlinkSync(empty, link);
    const linked = await a.run(['restore', first, '--to', link], { cwd: wsA });
    expect(linked.code).toBe(2);
    expect(linked.stderr.split('\n')[0]).toBe(`error: ${link} is a symbolic link`);
    expect(readdirSync(empty)).toEqual([]);
    // not an id at all (too short, not hex): a usage error, as for token ids
    for (const bad of ['zz', 'abc', 'not-hex!']) expect((await a.run(['restore', bad], { cwd: wsA })).code, bad).toBe(2);
  });

  it('a folder replaced by a file of the same name syncs both ways', async () => {
    writeTree(wsA, { 'swap/inner.json': '{"inner":true}' });
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    expect((await b.run(['pull'], { cwd: wsB })).code).toBe(0);
    expect(readFileSync(path.join(wsB, 'swap/inner.json'), 'utf8')).toBe('{"inner":true}');
    rmSync(path.join(wsA, 'swap'), { recursive: true });
    writeFileSync(path.join(wsA, 'swap'), 'now a file');
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    const pulled = await b.run(['pull'], { cwd: wsB });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(wsB, 'swap'), 'utf8')).toBe('now a file');
  });

  it('restore into the linked folder asks first; with --yes it checks out the snapshot and push records it', async () => {
    const log = json((await a.run(['log', '--json'], { cwd: wsA })).stdout).snapshots;
    const first = log[log.length - 1].id as string;
    writeFileSync(path.join(wsA, 'unpushed.json'), '{}');
    // the question is about what the restore overwrites: an edit to a synced file (a new file stays)
    writeFileSync(path.join(wsA, 'spec.yaml'), 'unpushed edit');
    const refused = await a.run(['restore', first], { cwd: wsA });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Overwrite 1 unpushed change(s) to synced files (spec.yaml)');
    expect(readFileSync(path.join(wsA, 'spec.yaml'), 'utf8')).toBe('unpushed edit');
    expect(existsSync(path.join(wsA, 'unpushed.json'))).toBe(true);
    const res = await a.run(['restore', first, '--yes', '--json'], { cwd: wsA });
    expect(res.code, res.stderr).toBe(0);
    expect(readFileSync(path.join(wsA, 'spec.yaml'), 'utf8')).toContain(MARKER);
    // never synced, so not the snapshot's to delete (git checkout keeps untracked files too)
    expect(readFileSync(path.join(wsA, 'unpushed.json'), 'utf8')).toBe('{}');
    expect(existsSync(path.join(wsA, 'empty.txt'))).toBe(true);
    const st = json((await a.run(['status', '--json'], { cwd: wsA })).stdout);
    expect(st.changes.length).toBeGreaterThan(0);
    expect((await a.run(['push', '-m', 'restore first'], { cwd: wsA })).code).toBe(0);
    expect((await b.run(['pull'], { cwd: wsB })).code).toBe(0);
    const expected = readTree(wsA);
    delete expected['node_modules/ignored.json'];
    expect(readTree(wsB)).toEqual(expected);
  });

  it('a pull killed at any point leaves every file old or new, never partial (§9.6)', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `many/file-${String(i).padStart(3, '0')}.json`);
    const oldContent = (n: string) => JSON.stringify({ n, v: 'old', pad: 'x'.repeat(4000) });
    const newContent = (n: string) => JSON.stringify({ n, v: 'new', pad: 'y'.repeat(6000) });
    writeTree(wsA, Object.fromEntries(names.map((n) => [n, oldContent(n)])));
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    expect((await b.run(['pull'], { cwd: wsB })).code).toBe(0);
    writeTree(wsA, Object.fromEntries(names.map((n) => [n, newContent(n)])));
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    let killedMidway = 0;
    for (const delay of [60, 120, 180, 240, 300, 400, 500, 650]) {
      const child = b.spawn(['pull'], { cwd: wsB });
      const closed = new Promise((r) => child.on('close', r));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await closed;
      if (child.signalCode === 'SIGKILL') killedMidway++;
      for (const n of names) {
        const content = readFileSync(path.join(wsB, n), 'utf8');
        expect([oldContent(n), newContent(n)]).toContain(content);
      }
    }
    expect(killedMidway).toBeGreaterThan(0);
    const done = await b.run(['pull'], { cwd: wsB });
    expect(done.code, done.stderr).toBe(0);
    for (const n of names) expect(readFileSync(path.join(wsB, n), 'utf8')).toBe(newContent(n));
  });

  it('a ciphertext changed on the server makes pull exit 7 and leaves local files untouched (§9.5)', async () => {
    writeFileSync(path.join(wsA, 'tamper-me.json'), '{"tamper":"target"}');
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    const before = readTree(wsB);
    // flip one byte in the middle of every blob stored for this workspace, like a hostile server
    const db = storedRows(server, pg);
    const rows = await db.blobs(workspaceId);
    expect(rows.length).toBeGreaterThan(0);
    const originals = rows.map((r) => ({ key: r.key, data: Buffer.from(r.data) }));
    for (const r of rows) {
      const copy = Buffer.from(r.data);
      copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0x01;
      expect(await db.setBlob(r.key, copy)).toBe(1);
    }
    try {
      const res = await b.run(['pull'], { cwd: wsB });
      expect(res.code).toBe(7);
      expect(res.stderr).toMatch(/integrity|does not match/);
      expect(readTree(wsB)).toEqual(before);
      const ver = await b.run(['verify'], { cwd: wsB });
      expect(ver.code).toBe(7);
      expect(ver.stderr).not.toMatch(/run `insomnia-sync verify`/);
    } finally {
      for (const o of originals) await db.setBlob(o.key, o.data);
      await db.close();
    }
    expect((await b.run(['pull'], { cwd: wsB })).code).toBe(0);
  });

  it('a stored blob cut short (damaged storage) is an integrity failure (exit 7) naming no connection error, and the server logs it', async () => {
    writeFileSync(path.join(wsA, 'cut-me.json'), JSON.stringify({ cut: 'x'.repeat(3000) }));
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    const before = readTree(wsB);
    const db = storedRows(server, pg);
    const rows = await db.blobs(workspaceId);
    const originals = rows.map((r) => ({ key: r.key, data: Buffer.from(r.data) }));
    // every blob loses its last ten bytes; the size recorded beside it stays
    for (const r of rows) expect(await db.setBlob(r.key, Buffer.from(r.data.subarray(0, r.data.length - 10)))).toBe(1);
    try {
      for (const args of [['pull'], ['verify']]) {
        const res = await b.run(args, { cwd: wsB });
        expect(res.code, `${args[0]}: ${res.stderr}`).toBe(7);
        expect(res.stderr).not.toMatch(/ECONNRESET|cannot reach|scheme/);
      }
      expect(readTree(wsB)).toEqual(before);
      expect(readFileSync(server.logFile, 'utf8')).toMatch(/not as long as its record says: damaged storage/);
    } finally {
      for (const o of originals) await db.setBlob(o.key, o.data);
      await db.close();
    }
    expect((await b.run(['pull'], { cwd: wsB })).code).toBe(0);
  });

  it('a clone that meets a changed ciphertext exits 7 and takes back every file it placed', async () => {
    const src = tempDir('isync-clone-undo-src-');
    const files: Record<string, string> = {};
    for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) files[`${n}/file-${n}.json`] = JSON.stringify({ n });
    // the biggest blob, and the last file in path order: the clone has placed all others when it fails
    files['z/last.json'] = JSON.stringify({ pad: 'x'.repeat(4000) });
    writeTree(src, files);
    const init = await a.run(['init', '--name', 'Clone Undo', '--json'], { cwd: src });
    expect(init.code, init.stderr).toBe(0);
    expect((await a.run(['push'], { cwd: src })).code).toBe(0);
    const db = storedRows(server, pg);
    const rows = await db.blobs(json(init.stdout).id);
    expect(rows.length).toBe(7);
    const biggest = rows.reduce((x, y) => (y.data.length > x.data.length ? y : x));
    const original = Buffer.from(biggest.data);
    const copy = Buffer.from(original);
    copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0x01;
    expect(await db.setBlob(biggest.key, copy)).toBe(1);
    const parent = tempDir('isync-clone-undo-');
    const empty = path.join(parent, 'existing');
    mkdirSync(empty);
    try {
      const fresh = await b.run(['clone', 'Clone Undo', path.join(parent, 'new', 'dir')]);
      expect(fresh.code, fresh.stderr).toBe(7);
      expect(fresh.stderr).toMatch(/integrity/);
      // the folders the clone made are gone, and one that was there stays, empty
      expect(readdirSync(parent)).toEqual(['existing']);
      const into = await b.run(['clone', 'Clone Undo', empty]);
      expect(into.code, into.stderr).toBe(7);
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      await db.setBlob(biggest.key, original);
      await db.close();
    }
    const again = await b.run(['clone', 'Clone Undo', empty]);
    expect(again.code, again.stderr).toBe(0);
    expect(readTree(empty)).toEqual(readTree(src));
    expect((await a.run(['workspace', 'delete', 'Clone Undo', '--yes'])).code).toBe(0);
  });

  it('a snapshot changed on the server makes pull exit 7', async () => {
    writeFileSync(path.join(wsA, 'another.json'), '{"x":2}');
    expect((await a.run(['push'], { cwd: wsA })).code).toBe(0);
    const db = storedRows(server, pg);
    const row = (await db.lastSnapshot(workspaceId))!;
    expect(row).toBeDefined();
    const original = Buffer.from(row.data);
    const copy = Buffer.from(row.data);
    copy[copy.length - 5] = copy[copy.length - 5]! ^ 0x40;
    expect(await db.setSnapshot(row.key, copy)).toBe(1);
    try {
      const before = readTree(wsB);
      const res = await b.run(['pull'], { cwd: wsB });
      expect(res.code).toBe(7);
      expect(readTree(wsB)).toEqual(before);
      expect(res.stderr).toMatch(/hint: run `insomnia-sync verify`/);
      // verify's own failure must not send the user to verify again
      const ver = await b.run(['verify'], { cwd: wsB });
      expect(ver.code).toBe(7);
      expect(ver.stderr).toMatch(/^hint: /m);
      expect(ver.stderr).not.toMatch(/run `insomnia-sync verify`/);
    } finally {
      await db.setSnapshot(row.key, original);
      await db.close();
    }
  });

  it('workspace list, rename and delete', async () => {
    const other = tempDir('isync-ws-c-');
    writeFileSync(path.join(other, 'x.json'), '{}');
    expect((await a.run(['init', '--name', 'Scratch'], { cwd: other })).code).toBe(0);
    const list = json((await a.run(['workspace', 'list', '--json'])).stdout).workspaces;
    expect(list.map((w: any) => w.name).sort()).toEqual(['Scratch', 'Team API']);
    const ren = await a.run(['workspace', 'rename', 'Scratch', 'Scratch 2', '--json']);
    expect(ren.code, ren.stderr).toBe(0);
    const noYes = await a.run(['workspace', 'delete', 'Scratch 2']);
    expect(noYes.code).toBe(2);
    const del = await a.run(['workspace', 'delete', 'Scratch 2', '--yes', '--json']);
    expect(del.code, del.stderr).toBe(0);
    const after = json((await a.run(['workspace', 'list', '--json'])).stdout).workspaces;
    expect(after.map((w: any) => w.name)).toEqual(['Team API']);
    expect((await a.run(['workspace', 'delete', 'Scratch 2', '--yes'])).code).toBe(5);
  });
});

describe.each(BACKENDS)('exit codes and inputs (%s)', (backend) => {
  let server: RunningServer;
  let pg: TestDatabase | null = null;
  beforeAll(async () => {
    ({ server, pg } = await startBackendServer(backend));
  });
  afterAll(async () => {
    await server?.stop();
    await pg?.drop();
  });

  it('no terminal and no password source: exit 2, nothing created', async () => {
    const m = machine(server.url);
    const res = await m.run(['signup', '--email', 'nopw@example.com']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/--password-stdin|INSOMNIA_SYNC_PASSWORD/);
    expect(res.stderr.trim().split('\n')[0]).toMatch(/^error: /);
    const login = await m.run(['login', '--email', 'nopw@example.com', '--password-stdin'], { input: 'whatever-password\n' });
    expect(login.code).toBe(4);
  });

  it('INSOMNIA_SYNC_PASSWORD works; a wrong password exits 4; an unknown email looks the same', async () => {
    const m = machine(server.url);
    const up = await m.run(['signup', '--email', 'env@example.com'], { env: { INSOMNIA_SYNC_PASSWORD: 'env-password-1' } });
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/Fingerprint: (\d{5} ){7}\d{5}/);
    // from another machine: this profile is logged in, and would refuse another account (exit 2)
    const elsewhere = machine(server.url);
    const wrong = await elsewhere.run(['login', '--email', 'env@example.com', '--password-stdin', '--json'], { input: 'not-the-password\n' });
    expect(wrong.code).toBe(4);
    const unknown = await elsewhere.run(['login', '--email', 'nobody@example.com', '--password-stdin', '--json'], { input: 'not-the-password\n' });
    expect(unknown.code).toBe(4);
    expect(JSON.parse(unknown.stderr).error.message).toBe(JSON.parse(wrong.stderr).error.message);
    const who = await m.run(['whoami', '--json']);
    expect(who.code).toBe(0);
    expect(json(who.stdout).email).toBe('env@example.com');
    const dup = await elsewhere.run(['signup', '--email', 'env@example.com'], { env: { INSOMNIA_SYNC_PASSWORD: 'env-password-1' } });
    expect(dup.code).toBe(3);
  });

  it('logout wipes local keys and the session stops working', async () => {
    const m = machine(server.url);
    await signupMachine(m, 'bye@example.com');
    const sessions = path.join(m.configDir, 'sessions', 'default.json');
    expect(statSync(sessions).mode & 0o777).toBe(0o600);
    expect(statSync(m.configDir).mode & 0o777).toBe(0o700);
    const stolen = readFileSync(sessions, 'utf8');
    const out = await m.run(['logout']);
    expect(out.code).toBe(0);
    expect(existsSync(sessions)).toBe(false);
    expect((await m.run(['whoami'])).code).toBe(4);
    // the revoked session is dead on the server too
    writeFileSync(sessions, stolen, { mode: 0o600 });
    expect((await m.run(['whoami'])).code).toBe(4);
  });

  it('an unreachable server exits 6; a bad flag exits 2; outside a linked folder exits 5', async () => {
    const m = machine('http://127.0.0.1:9');
    const res = await m.run(['login', '--email', 'x@example.com', '--password-stdin'], { input: 'pw-pw-pw-pw\n' });
    expect(res.code).toBe(6);
    expect((await runCli(['push', '--bogus'])).code).toBe(2);
    const m2 = machine(server.url);
    await signupMachine(m2, 'nofolder@example.com');
    expect((await m2.run(['status'], { cwd: tempDir() })).code).toBe(5);
  });

  it('the client refuses KDF parameters below its minimum from a hostile server (exit 7), before sending anything derived', async () => {
    const m = machine(server.url);
    await signupMachine(m, 'weak@example.com');
    const hostile = await startRecordingProxy(server.url, (method, url, body) => {
      if (!url.endsWith('/auth/prelogin')) return null;
      const parsed = JSON.parse(body.toString());
      parsed.kdf.memoryKiB = 1024;
      parsed.kdf.iterations = 1;
      return Buffer.from(JSON.stringify(parsed));
    });
    try {
      const other = machine(hostile.url);
      const res = await other.run(['login', '--email', 'weak@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(res.code).toBe(7);
      expect(res.stderr).toMatch(/weak|parameters|minimum/i);
      expect(hostile.requests.some((r) => r.toString().startsWith('POST /v1/auth/login'))).toBe(false);
    } finally {
      await hostile.close();
    }
  });

  it('--version and --help exit 0', async () => {
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const h = await runCli(['--help']);
    expect(h.code).toBe(0);
    for (const cmd of ['signup', 'login', 'logout', 'whoami', 'init', 'clone', 'status', 'push', 'pull', 'log', 'restore', 'verify', 'workspace']) {
      expect(h.stdout).toContain(cmd);
    }
  });
});
