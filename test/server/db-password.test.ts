/**
 * A database password on the command line (`--db postgres://USER:PASS@…`) is readable by every user
 * of the machine in the process list. The server says so in one line on standard error, naming the
 * safer ways (INSOMNIA_SYNC_DB, PGPASSWORD, ~/.pgpass) and never the password, and stars it out of
 * its process title, which on Linux is what /proc/PID/cmdline (and so `ps`) shows. A URL from the
 * environment gets no warning. The test cluster trusts every login, so any password connects.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { startServer } from '../helpers/server-process.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));
const PASSWORD = 'Vk3-unique-db-secret';
const WARNING =
  'insomnia-sync-server: warning: the --db URL holds a password, which other users of this machine can read in the process list while it starts and your shell may keep in its history; give the URL in INSOMNIA_SYNC_DB instead, or the password in PGPASSWORD or ~/.pgpass\n';

let db: TestDatabase;
let withPassword: string;
const dirs: string[] = [];
beforeAll(async () => {
  db = await createTestDatabase();
  const u = new URL(db.url);
  u.password = PASSWORD;
  withPassword = u.toString();
}, 120_000);
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await db?.drop();
});

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'insomnia-sync-dbpw-'));
  dirs.push(d);
  return d;
}

describe('a database password on the command line', () => {
  it('the server warns once on stderr, without the password, and hides it from /proc/PID/cmdline', async () => {
    const server = await startServer({ db: withPassword, dataDir: dataDir(), args: ['--gc-interval', '0'] });
    try {
      expect(server.stderr()).toBe(WARNING);
      if (existsSync(`/proc/${server.process.pid}/cmdline`)) {
        const cmdline = readFileSync(`/proc/${server.process.pid}/cmdline`, 'latin1');
        expect(cmdline).not.toContain(PASSWORD);
        expect(cmdline).toMatch(/^insomnia-sync-server .*--db postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/test_\w+/);
      }
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(server.stderr()).not.toContain(PASSWORD);
    expect(readFileSync(server.logFile, 'utf8')).not.toContain(PASSWORD);
  });

  it('a URL with its password in INSOMNIA_SYNC_DB, or one without a password, gets no warning', async () => {
    const fromEnv = await startServer({ dataDir: dataDir(), env: { INSOMNIA_SYNC_DB: withPassword }, args: ['--gc-interval', '0'] });
    await fromEnv.stop();
    expect(fromEnv.stderr()).toBe('');
    const noPassword = await startServer({ db: db.url, dataDir: dataDir(), args: ['--gc-interval', '0'] });
    await noPassword.stop();
    expect(noPassword.stderr()).toBe('');
  });

  it.each([[['migrate']], [['gc', '--dry-run']], [['--db', 'PLACEHOLDER', 'migrate']]])('%j warns once too, and still works', (args) => {
    const argv = args.includes('PLACEHOLDER') ? args.map((a) => (a === 'PLACEHOLDER' ? withPassword : a)) : [...args, '--db', withPassword];
    const r = spawnSync(process.execPath, [BIN, ...argv, '--data-dir', dataDir()], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, INSOMNIA_SYNC_DB: '' } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe(WARNING);
    expect(r.stdout).not.toContain(PASSWORD);
  });
});
