/**
 * Several servers, one database: two server processes on one PostgreSQL database, started at the
 * same moment (they race to migrate it), and four CLI clients — two behind each server — pushing
 * at once in rounds. The head's compare-and-swap lives in the database, so across both servers
 * exactly one push per round wins, the rest exit 3, and after they pull and push again nothing is lost.
 * Rate limits are counted in the database too: a guesser alternating between the servers meets the
 * limit once, not once per server.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const ROUNDS = 3;
const CLIENTS = 4;

interface Client {
  m: Machine;
  dir: string;
  name: string;
}

function fileName(client: number, round: number): string {
  return `from-${client}/round-${round}.json`;
}

describe('two servers, one PostgreSQL database', () => {
  let pg: TestDatabase;
  let servers: StartedServer[] = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    pg = await createTestDatabase();
    servers = await Promise.all([startServer({ db: pg.url }), startServer({ db: pg.url })]);
    const email = 'multi@example.com';
    for (let i = 0; i < CLIENTS; i++) {
      const m = machine(servers[i % 2]!.url);
      if (i === 0) await signupMachine(m, email);
      else await loginMachine(m, email);
      clients.push({ m, dir: '', name: `client-${i}` });
    }
    const first = clients[0]!;
    first.dir = tempDir('isync-multi-0-');
    writeFileSync(path.join(first.dir, 'seed.json'), '{"seed":true}');
    const init = await first.m.run(['init', '--name', 'Shared'], { cwd: first.dir });
    expect(init.code, init.stderr).toBe(0);
    const pushed = await first.m.run(['push', '-m', 'seed'], { cwd: first.dir });
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const c of clients.slice(1)) {
      c.dir = path.join(tempDir('isync-multi-'), 'clone');
      const res = await c.m.run(['clone', 'Shared', c.dir]);
      expect(res.code, res.stderr).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    for (const s of servers) await s.stop();
    await pg?.drop();
  });

  it('both servers migrated the one database once and serve on their own ports', async () => {
    expect(new Set(servers.map((s) => s.url)).size).toBe(2);
    const versions = (await pg.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version);
    expect(versions.length).toBeGreaterThan(0);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });

  it('pushes racing through both servers: one winner per round, the rest exit 3; after pull and push nothing is lost', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      clients.forEach((c, i) => {
        mkdirSync(path.join(c.dir, `from-${i}`), { recursive: true });
        writeFileSync(path.join(c.dir, fileName(i, round)), JSON.stringify({ client: i, round }));
      });
      const results = await Promise.all(clients.map((c) => c.m.run(['push', '-m', `${c.name} round ${round}`], { cwd: c.dir })));
      const codes = results.map((r) => r.code);
      expect(codes.filter((c) => c === 0), `round ${round}: ${results.map((r) => r.stderr).join('\n')}`).toHaveLength(1);
      expect(codes.filter((c) => c === 3)).toHaveLength(CLIENTS - 1);
      // each loser catches up and pushes its file, one after another (each then has the newest head)
      for (const [i, c] of clients.entries()) {
        if (codes[i] === 0) continue;
        const pulled = await c.m.run(['pull'], { cwd: c.dir });
        expect(pulled.code, pulled.stderr).toBe(0);
        const again = await c.m.run(['push', '-m', `${c.name} round ${round} retry`], { cwd: c.dir });
        expect(again.code, again.stderr).toBe(0);
      }
      // everyone catches up before the next round, so all start from the same head again
      for (const c of clients) {
        const res = await c.m.run(['pull'], { cwd: c.dir });
        expect(res.code, res.stderr).toBe(0);
      }
    }

    const expected = ['seed.json', ...clients.flatMap((_, i) => Array.from({ length: ROUNDS }, (_, r) => fileName(i, r)))].sort();
    for (const [i, c] of clients.entries()) {
      const present = [
        'seed.json',
        ...readdirSync(c.dir)
          .filter((d) => d.startsWith('from-'))
          .flatMap((d) => readdirSync(path.join(c.dir, d)).map((f) => `${d}/${f}`)),
      ].sort();
      expect(present, `files of client ${i}`).toEqual(expected);
      for (let k = 0; k < CLIENTS; k++) {
        for (let r = 0; r < ROUNDS; r++) {
          expect(JSON.parse(readFileSync(path.join(c.dir, fileName(k, r)), 'utf8'))).toEqual({ client: k, round: r });
        }
      }
    }

    // one linear history: the seed plus one snapshot per client per round, each on its parent
    const log = JSON.parse((await clients[1]!.m.run(['log', '--json', '--limit', '100'], { cwd: clients[1]!.dir })).stdout).snapshots as {
      id: string;
      parent: string | null;
    }[];
    expect(log).toHaveLength(1 + CLIENTS * ROUNDS);
    for (let i = 0; i < log.length - 1; i++) expect(log[i]!.parent).toBe(log[i + 1]!.id);
    const verified = await clients[3]!.m.run(['verify', '--json'], { cwd: clients[3]!.dir });
    expect(verified.code, verified.stderr).toBe(0);
    // 4 clients × 3 rounds of CLI runs: ~25 s alone, over a minute while other suites load the 2 cores
  }, 240_000);
});

describe('two servers, one PostgreSQL database: rate limits', () => {
  let pg: TestDatabase;
  let servers: StartedServer[] = [];

  beforeAll(async () => {
    pg = await createTestDatabase();
    // as the README says: every server on the database gets the same server-secret file
    const first = await startServer({ db: pg.url, args: ['--rate-limit-login', '3,1000', '--rate-limit-prelogin', '1000,1000'] });
    const secondDir = mkdtempSync(path.join(tmpdir(), 'insomnia-sync-server-'));
    copyFileSync(path.join(first.dataDir, 'server-secret'), path.join(secondDir, 'server-secret'));
    const second = await startServer({ db: pg.url, dataDir: secondDir, args: ['--rate-limit-login', '3,1000', '--rate-limit-prelogin', '1000,1000'] });
    servers = [first, second];
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) await s.cleanup();
    await pg?.drop();
  });

  const login = (server: StartedServer, email: string) =>
    fetch(`${server.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, authKey: randomBytes(32).toString('base64url') }),
    });

  it('counts login attempts per account across both servers, and names no account or IP in the table', async () => {
    const email = 'guessed@example.com';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(servers[i % 2]!, email)).status);
    // three wrong guesses in all (two on one server, one on the other), then 429 on either
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    const limited = await login(servers[1]!, email);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited');
    // another account is not held back by this one's count
    expect((await login(servers[0]!, 'other@example.com')).status).toBe(401);

    const rows = (await pg.query<{ key: Buffer; count: number }>('SELECT key, count FROM rate_limit_counts')).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.key).toHaveLength(32);
      expect(row.key.includes(Buffer.from(email))).toBe(false);
      expect(row.key.includes(Buffer.from('127.0.0.1'))).toBe(false);
    }
    // the IP (7 attempts), the guessed account (6, the refused ones too) and the other account (1)
    expect(rows.map((r) => r.count).sort((a, b) => b - a)).toEqual([7, 6, 1]);
  });
});
