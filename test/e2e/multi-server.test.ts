/**
 * Several servers, one database: two server processes on one PostgreSQL database, started at the
 * same moment (they race to migrate it), and four CLI clients — two behind each server — pushing
 * at once in rounds. The head's compare-and-swap lives in the database, so across both servers
 * exactly one push per round wins, the rest exit 3, and after they pull and push again nothing is lost.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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
  });
});
