/**
 * `insomnia-sync-server backup` as an operator runs it: the partial file it writes holds the
 * database's content (emails, IP addresses, auth-key hashes), so it is never readable by others,
 * even half written; SIGTERM (or Ctrl-C) stops the copy and removes it; a finished copy is 0600
 * and opens with the data.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { newUser } from '../storage/store-contract.js';

const BIN = fileURLToPath(new URL('../../bin/insomnia-sync-server.js', import.meta.url));

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-backup-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A data dir whose database takes a good many steps to copy (~64 MB). */
async function bigDatabase(): Promise<{ dataDir: string; email: string; userId: string }> {
  const dataDir = join(tempDir(), 'data');
  mkdirSync(dataDir);
  const store = await openStore(undefined, dataDir);
  const user = newUser();
  await store.createUser(user);
  await store.close();
  const raw = new Database(join(dataDir, 'sync.db'));
  raw.exec('CREATE TABLE filler (x BLOB)');
  raw.prepare('INSERT INTO filler SELECT randomblob(15000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 4000) SELECT i FROM c)').run();
  raw.close();
  return { dataDir, email: user.email, userId: user.id };
}

/** The backup command with the usual umask 022, which would leave new files readable by all. */
function startBackup(dataDir: string, out: string) {
  const child = spawn('sh', ['-c', 'umask 022; exec "$0" "$@"', process.execPath, BIN, 'backup', '--data-dir', dataDir, '--out', out], {
    env: { ...process.env, INSOMNIA_SYNC_DB: '' },
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string }>((done) =>
    // 'close': exited and every output read
    child.on('close', (code, signal) => done({ code, signal, stderr, stdout })),
  );
  return { child, exited };
}

const othersMayRead = (file: string): boolean => (statSync(file).mode & 0o077) !== 0;

describe('backup command', () => {
  it('writes its partial file 0600 from the start, and removes it (and its journal) on SIGTERM', async () => {
    const { dataDir } = await bigDatabase();
    const outDir = join(tempDir(), 'backups');
    mkdirSync(outDir);
    const out = join(outDir, 'copy.db');
    const { child, exited } = startBackup(dataDir, out);
    const partial = `${out}.partial-${child.pid}`;
    // Wait, without yielding (the copy takes a fraction of a second), for the partial file to be
    // created and then for the copy to be under way (its journal there), freezing the command
    // at each point to look at the modes.
    const journal = `${partial}-journal`;
    const deadline = Date.now() + 30_000;
    while (!existsSync(partial) && Date.now() < deadline);
    child.kill('SIGSTOP');
    expect(existsSync(partial), 'the partial file never appeared').toBe(true);
    expect(othersMayRead(partial), 'the partial file is readable by others').toBe(false);
    child.kill('SIGCONT');
    while (!existsSync(journal) && existsSync(partial) && Date.now() < deadline);
    child.kill('SIGSTOP');
    expect(existsSync(journal), 'the journal never appeared').toBe(true);
    expect(othersMayRead(journal), 'the journal is readable by others').toBe(false);
    expect(othersMayRead(partial), 'the partial file is readable by others').toBe(false);
    child.kill('SIGTERM');
    child.kill('SIGCONT');
    const r = await exited;
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toBe('insomnia-sync-server: backup interrupted by SIGTERM; nothing written\n');
    expect(r.stdout).toBe('');
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('writes a finished copy 0600 that opens with the data', async () => {
    const { dataDir, email, userId } = await bigDatabase();
    const out = join(tempDir(), 'copy.db');
    const r = await startBackup(dataDir, out).exited;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^backup written: .*copy\.db \(\d+ bytes\)\n$/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(out, '..'))).toEqual(['copy.db']);
    const check = new Database(out, { readonly: true });
    expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    check.close();
    const copy = openSqliteStore(out, { migrate: false, existing: true });
    expect((await copy.getUserById(userId))!.email).toBe(email);
    await copy.close();
    // the copy is independent of the server's data dir and its secret: a second run refuses to overwrite it
    expect(spawnSync(process.execPath, [BIN, 'backup', '--data-dir', dataDir, '--out', out], { encoding: 'utf8' }).status).toBe(1);
  });
});
