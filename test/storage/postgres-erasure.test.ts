/**
 * Deleted rows in PostgreSQL's files, as a reviewer found them: after account deletion, VACUUM and
 * CHECKPOINT the email is still in the heap file of `users`, in the `team_invitations_email` index
 * and in pg_statistic (ANALYZE's samples). `insomnia-sync-server admin vacuum`, run as the tables'
 * owner, rewrites the tables holding service data (VACUUM (FULL, ANALYZE)) and, as a superuser,
 * pg_statistic: then no data file of the database holds the email. The write-ahead log still does
 * (the man page says how long it is kept). A role that does not own the tables is refused, and
 * nothing is rewritten. Private cluster: the test reads its data directory.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { newUser } from './store-contract.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, INSOMNIA_SYNC_DB: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Files under `dir` whose bytes contain `needle`. */
function filesWith(dir: string, needle: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesWith(path, needle));
    else if (readFileSync(path).includes(Buffer.from(needle))) out.push(path);
  }
  return out;
}

describe('erasing deleted rows from PostgreSQL files', () => {
  let cluster: RunningPostgres;
  let admin: pg.Client;
  const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-erase-'));

  beforeAll(async () => {
    cluster = await startPostgres();
    admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
  }, 120_000);
  afterAll(async () => {
    await admin?.end();
    await cluster?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A database whose deleted account's email is in the data files; its URL, directory and the email. */
  async function deletedAccount(): Promise<{ url: string; dir: string; email: string }> {
    const name = `erase_${hex(4)}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = cluster.url.replace(/\/postgres$/, `/${name}`);
    const email = `erase-me-${hex(6)}@example.com`;
    const store = await openPostgresStore(url);
    try {
      const owner = newUser();
      await store.createUser(owner);
      const teamId = hex(16);
      await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: new Date() });
      const user = newUser(email);
      await store.createUser(user);
      const code = randomBytes(32);
      await store.setEmailVerification(user.id, email, code, new Date(Date.now() + 60_000));
      expect(await store.verifyEmail(user.id, code, new Date())).toEqual({ ok: true });
      const invite = randomBytes(32);
      await store.createInvitation({ id: hex(16), teamId, email, role: 'member', codeHash: invite, invitedBy: owner.id, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
      expect((await store.acceptInvitation(invite, user.id, email, new Date())).ok).toBe(true);
      for (let i = 0; i < 20; i++) await store.createUser(newUser());
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      // what autovacuum does on its own schedule: samples of every column, the email among them
      await db.query('ANALYZE');
      expect((await store.deleteUser(user.id, user.authKeyHash)).ok).toBe(true);
      await db.query('VACUUM');
      await db.end();
    } finally {
      await store.close();
    }
    await admin.query('CHECKPOINT');
    const { rows } = await admin.query<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = $1', [name]);
    return { url, dir: join(cluster.dataDir, 'base', String(rows[0]!.oid)), email };
  }

  it('after deletion and VACUUM the email is still in the data files; admin vacuum as superuser leaves it in none', async () => {
    const { url, dir, email } = await deletedAccount();
    const before = filesWith(dir, email);
    // users' heap or unique index, the invitation index, pg_statistic: which of them varies with what VACUUM pruned
    expect(before.length).toBeGreaterThan(0);

    const r = await cli(['admin', 'vacuum', '--data-dir', dataDir, '--db', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      'rewrote users, email_verifications, team_invitations, sessions, access_tokens, account_recovery, teams and pg_statistic: deleted rows are gone from their files; the write-ahead log, its archive and backups keep them as long as those are kept\n',
    );
    await admin.query('CHECKPOINT');
    expect(filesWith(dir, email)).toEqual([]);
    expect(filesWith(join(cluster.dataDir, 'global'), email)).toEqual([]);
    // the server goes on with the rewritten tables
    const store = await openPostgresStore(url);
    expect((await store.createUser(newUser(email))).ok).toBe(true);
    await store.close();
  });

  it('as the tables\' owner without superuser: the tables are rewritten, pg_statistic is named as left; another role is refused and nothing is rewritten', async () => {
    const { url, dir, email } = await deletedAccount();
    const name = new URL(url).pathname.slice(1);
    const owner = `owner_${hex(4)}`;
    const other = `other_${hex(4)}`;
    await admin.query(`CREATE ROLE ${owner} LOGIN; CREATE ROLE ${other} LOGIN`);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'");
    for (const { t } of rows) await db.query(`ALTER TABLE ${t} OWNER TO ${owner}`);
    await db.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${other}`);
    await db.end();
    const as = (role: string): string => url.replace('postgres@', `${role}@`);
    const usersFile = async (): Promise<string> => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      const { rows: f } = await c.query<{ n: string }>("SELECT pg_relation_filenode('users')::text AS n");
      await c.end();
      return f[0]!.n;
    };
    const original = await usersFile();

    const refused = await cli(['admin', 'vacuum', '--data-dir', dataDir, '--db', as(other)]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      `insomnia-sync-server: PostgreSQL at ${new URL(url).host}/${name}: the role ${other} does not own users, email_verifications, team_invitations, sessions, access_tokens, account_recovery, teams: only their owner (the role that migrated them) or a superuser can rewrite them; run this command as that role\n`,
    );

    expect(await usersFile()).toBe(original);

    const r = await cli(['admin', 'vacuum', '--data-dir', dataDir, '--db', as(owner)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rewrote users, [^\n]*, teams: deleted rows are gone from their files, but not from pg_statistic \(rewriting it needs a superuser: VACUUM FULL pg_catalog\.pg_statistic\)/);
    expect(await usersFile()).not.toBe(original);
    await admin.query('CHECKPOINT');
    const check = new pg.Client({ connectionString: url });
    await check.connect();
    const { rows: stat } = await check.query<{ n: string }>("SELECT pg_relation_filenode('pg_catalog.pg_statistic')::text AS n");
    await check.end();
    // what may still hold it: pg_statistic's file (its main fork or free space map), nothing else
    for (const f of filesWith(dir, email)) expect(f.split('/').pop()!.split(/[._]/)[0], f).toBe(stat[0]!.n);
  });

  it('on SQLite it truncates the write-ahead log and says that deletes overwrite', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-sqlite-erase-'));
    try {
      expect((await cli(['migrate', '--data-dir', dir])).code).toBe(0);
      const r = await cli(['admin', 'vacuum', '--data-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('SQLite overwrote deleted rows when it deleted them; write-ahead log truncated\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
