/**
 * PostgreSQL over TLS with a certificate of a private CA (here self-signed, as its own CA), and the
 * URL forms that work both for the server (node-postgres) and for psql / pg_dump (libpq), which the
 * README's backup command uses with the same $INSOMNIA_SYNC_DB:
 * - sslmode=verify-full&sslrootcert=FILE: both verify the certificate and host name;
 * - sslmode=require: libpq checks nothing, node-postgres 8 checks as verify-full, so against this
 *   certificate the server fails: one line with the hint (sslrootcert), after one warning line,
 *   and never node-postgres's nine-line SECURITY WARNING;
 * - sslmode=no-verify (node-postgres only) is refused by pg_dump.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { findBin, startPostgres, type RunningPostgres } from '../helpers/postgres.js';
import { startServer } from '../helpers/server-process.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));

describe('PostgreSQL over TLS with a private CA', () => {
  let cluster: RunningPostgres;
  let base: URL;
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-tls-'));
  const ca = join(dir, 'ca.pem');

  beforeAll(async () => {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', ca,
    ], { stdio: 'ignore' });
    cluster = await startPostgres({ ssl: { cert: readFileSync(ca, 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') } });
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    await admin.query('CREATE DATABASE tls');
    await admin.end();
    base = new URL(cluster.url.replace(/\/postgres$/, '/tls'));
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const withParams = (params: Record<string, string>): string => {
    const u = new URL(base);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u.toString();
  };
  const pgDump = (url: string) => spawnSync(findBin('pg_dump'), ['--schema-only', '--file', join(dir, 'dump.sql'), url], { encoding: 'utf8', timeout: 30_000 });
  const serverCli = (args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args, '--data-dir', dir], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, INSOMNIA_SYNC_DB: '' } });

  it('sslmode=verify-full&sslrootcert=FILE: the server connects over TLS, warns of nothing, and pg_dump reads the same URL', async () => {
    const url = withParams({ sslmode: 'verify-full', sslrootcert: ca });
    const store = await openPostgresStore(url);
    try {
      // a connection kept in the pool
      await store.ping();
      const admin = new pg.Client({ connectionString: cluster.url });
      await admin.connect();
      const { rows } = await admin.query<{ ssl: boolean }>(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'tls' AND a.application_name = 'insomnia-sync-server'",
      );
      await admin.end();
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.ssl)).toBe(true);
    } finally {
      await store.close();
    }
    const server = await startServer({ db: url, dataDir: mkdtempSync(join(dir, 'srv-')), args: ['--gc-interval', '0'] });
    await server.stop();
    expect(server.stderr()).toBe('');
    const dump = pgDump(url);
    expect(dump.status, dump.stderr).toBe(0);
    expect(readFileSync(join(dir, 'dump.sql'), 'utf8')).toMatch(/CREATE TABLE [\w.]*schema_migrations/);
  });

  it('sslmode=require without the CA: pg_dump connects, the server exits 1 with the sslrootcert hint after one warning line, never the nine-line SECURITY WARNING', () => {
    const url = withParams({ sslmode: 'require' });
    const dump = pgDump(url);
    expect(dump.status, dump.stderr).toBe(0);
    for (const args of [['migrate'], ['--port', '0', '--gc-interval', '0']]) {
      const r = serverCli([...args, '--db', url]);
      expect(r.status, args[0]).toBe(1);
      expect(r.stderr).not.toMatch(/SECURITY WARNING/);
      const lines = r.stderr.split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toBe(
        'insomnia-sync-server: warning: sslmode=require in the database URL: the server checks the database\'s certificate and host name as for sslmode=verify-full (psql and pg_dump do not); write sslmode=verify-full, with sslrootcert=FILE naming the CA certificate unless a public CA issued it',
      );
      expect(lines[1]).toMatch(
        /^insomnia-sync-server: PostgreSQL at 127\.0\.0\.1:\d+\/tls: self[- ]signed certificate: the database's TLS certificate is not trusted: name the CA that issued it with sslrootcert=FILE and use sslmode=verify-full/,
      );
    }
  });

  it('sslmode=require&sslrootcert=FILE works for both, with the one warning line', () => {
    const url = withParams({ sslmode: 'require', sslrootcert: ca });
    expect(pgDump(url).status).toBe(0);
    const r = serverCli(['migrate', '--db', url]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^insomnia-sync-server: warning: sslmode=require in the database URL: [^\n]*\n$/);
  });

  it("node-postgres's own sslmode=no-verify and uselibpqcompat=true are refused by pg_dump", () => {
    expect(pgDump(withParams({ sslmode: 'no-verify' })).stderr).toMatch(/invalid sslmode value: "no-verify"/);
    expect(pgDump(withParams({ sslmode: 'require', uselibpqcompat: 'true' })).stderr).toMatch(/invalid URI query parameter: "uselibpqcompat"/);
  });
});

