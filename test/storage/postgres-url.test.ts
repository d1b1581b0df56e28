/**
 * PostgreSQL URLs as operators type them (src/storage/postgres/url.ts): a password with #, /, ? or
 * % left unencoded is refused with the hint to percent-encode it (or to use PGPASSWORD / ~/.pgpass),
 * before any connection, and no message ever shows the password or a piece of it. Needs no database.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { describeUrl, parsePostgresUrl, urlHasPassword } from '../../src/storage/postgres/url.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'insomnia-sync-pg-url-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** [what is wrong, URL, pieces of the password that must never be printed] */
const BAD: [string, string, string[]][] = [
  ['# in the password: no URL at all', 'postgres://sync:Qz7#Wv3k@127.0.0.1:9/db', ['Qz7', 'Wv3k']],
  ['# after digits: parses with host "sync" and port 4711', 'postgres://sync:4711#Wv3k@127.0.0.1:9/db', ['4711', 'Wv3k']],
  ['/ after digits: the rest becomes the path', 'postgres://sync:4711/Wv3k@127.0.0.1:9/db', ['4711', 'Wv3k']],
  ['? after digits: the rest becomes the query', 'postgres://sync:4711?Wv3k@127.0.0.1:9/db', ['4711', 'Wv3k']],
  ['/ elsewhere: no URL at all', 'postgresql://sync:Qz7/Wv3k@127.0.0.1:9/db', ['Qz7', 'Wv3k']],
  ['a % that encodes nothing', 'postgres://sync:Qz7%zzWv3k@127.0.0.1:9/db', ['Qz7', 'Wv3k']],
];

describe('PostgreSQL URL checks', () => {
  it.each(BAD)('%s: refused with the percent-encoding hint, naming no part of the password', async (_name, url, secrets) => {
    expect(() => parsePostgresUrl(url)).toThrow(/percent-encode special characters of the user name and password \(# as %23, \/ as %2F/);
    const err = (await openStore(url, dataDir).catch((e: unknown) => e)) as Error & { code?: string };
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('store_config');
    expect(err.message).toMatch(/PGPASSWORD or ~\/\.pgpass/);
    for (const s of secrets) expect(err.message).not.toContain(s);
    expect(err.cause).toBeUndefined();
  });

  it('accepts the same passwords percent-encoded, and URLs without one', () => {
    for (const url of [
      'postgres://sync:4711%23Wv3k@127.0.0.1:9/db',
      'postgres://sync:Qz7%2FWv3k%3F%40%3A%25@db.internal:5432/insomnia_sync?sslmode=verify-full&sslrootcert=/etc/ca.pem',
      'postgres://sync@db.internal/insomnia_sync',
      'postgresql://%2Fvar%2Frun%2Fpostgresql/insomnia_sync',
    ]) {
      expect(() => parsePostgresUrl(url), url).not.toThrow();
    }
  });

  it('describes a URL by host and database only, and knows when it holds a password', () => {
    expect(describeUrl('postgres://sync:Wv3k@db.internal:5432/insomnia_sync?sslmode=verify-full')).toBe('db.internal:5432/insomnia_sync');
    expect(urlHasPassword('postgres://sync:Wv3k@db/x')).toBe(true);
    expect(urlHasPassword('postgres://sync:Qz7#Wv3k@db/x')).toBe(true);
    expect(urlHasPassword('postgres://sync@db/x?password=Wv3k')).toBe(true);
    expect(urlHasPassword('postgres://sync@db/x')).toBe(false);
    expect(urlHasPassword('postgres://db/x')).toBe(false);
  });

  it.each([['serve'], ['migrate'], ['gc']])('%s exits 1 with one line and the hint, printing no part of the password', (command) => {
    for (const [, url, secrets] of BAD) {
      const args = command === 'serve' ? ['--port', '0', '--gc-interval', '0'] : [command];
      const r = spawnSync(process.execPath, [BIN, ...args, '--data-dir', dataDir, '--db', url], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, INSOMNIA_SYNC_DB: '' } });
      expect(r.status, url).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^insomnia-sync-server: the PostgreSQL URL [^\n]*: percent-encode special characters[^\n]*\n$/m);
      for (const s of secrets) expect(r.stderr, url).not.toContain(s);
    }
  });
});
