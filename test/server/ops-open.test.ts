/**
 * The operator sub-commands (backup, gc, admin export-user) open an existing database only: a
 * mistyped --data-dir or --db fails with exit 1 and leaves nothing behind, where it used to create
 * an empty database and, for backup, "succeed" with an empty copy of it.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { StoreMissingError } from '../../src/storage/store.js';
import { runServerCommand, startServer } from '../helpers/server-process.js';


const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-ops-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const serverCli = runServerCommand;

const COMMANDS: [string, (out: string) => string[]][] = [
  ['backup', (out) => ['backup', '--out', out]],
  ['gc', () => ['gc']],
  ['admin export-user', (out) => ['admin', 'export-user', 'ada@example.com', '--out', out]],
];

describe('operator commands on a database that is not there', () => {
  for (const [name, args] of COMMANDS) {
    it(`${name} with a wrong --data-dir exits 1, names the path, and creates nothing`, () => {
      const root = tempDir();
      const dataDir = join(root, 'typo');
      const out = join(root, 'out');
      const r = serverCli([...args(out), '--data-dir', dataDir]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toBe(`insomnia-sync-server: no database at ${join(dataDir, 'sync.db')}: check --data-dir or --db\n`);
      expect(r.stdout).toBe('');
      expect(readdirSync(root)).toEqual([]);
    });

    it(`${name} with --db sqlite:PATH that does not exist exits 1 and creates nothing`, () => {
      const root = tempDir();
      const out = join(root, 'out');
      const r = serverCli([...args(out), '--db', `sqlite:${join(root, 'missing.db')}`, '--data-dir', root]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/no database at .*missing\.db: check --data-dir or --db/);
      expect(readdirSync(root)).toEqual([]);
    });
  }

  it('the default data dir (./insomnia-sync-data) is not created either', () => {
    const cwd = tempDir();
    const r = serverCli(['gc'], cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no database at .*insomnia-sync-data\/sync\.db/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses a SQLite file without our schema, and leaves its journal mode alone', () => {
    const root = tempDir();
    const path = join(root, 'other.db');
    const other = new Database(path);
    other.exec('CREATE TABLE notes (body TEXT)');
    other.close();
    const r = serverCli(['gc', '--db', `sqlite:${path}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/other\.db is not an insomnia-sync database \(no schema\): check --data-dir or --db/);
    const again = new Database(path, { readonly: true });
    expect(again.pragma('journal_mode', { simple: true })).toBe('delete');
    again.close();
  });

  it('migrate still creates the database, after which the operator commands run', () => {
    const dataDir = join(tempDir(), 'new');
    expect(serverCli(['migrate', '--data-dir', dataDir]).code).toBe(0);
    const r = serverCli(['gc', '--dry-run', '--data-dir', dataDir]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('--data-dir and --db may come before the command word or after it; given twice, the last one counts', () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    const wrong = join(root, 'wrong');
    // before the word: the command's (migrate creates it there, the others open it there)
    expect(serverCli(['--data-dir', dataDir, 'migrate']).code).toBe(0);
    expect(existsSync(join(dataDir, 'sync.db'))).toBe(true);
    for (const args of [['gc', '--dry-run'], ['admin', 'vacuum']]) {
      const r = serverCli(['--data-dir', dataDir, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    // before and after the word: the one after
    const own = serverCli(['--data-dir', wrong, 'gc', '--dry-run', '--data-dir', dataDir]);
    expect(own.code, own.stderr).toBe(0);
    const ownWrong = serverCli(['--data-dir', dataDir, 'admin', 'vacuum', '--data-dir', wrong]);
    expect(ownWrong.code).toBe(1);
    expect(ownWrong.stderr).toBe(`insomnia-sync-server: no database at ${join(wrong, 'sync.db')}: check --data-dir or --db\n`);
    // even when it spells out the default
    const cwd = tempDir();
    expect(serverCli(['migrate'], cwd).code).toBe(0);
    const spelt = serverCli(['--data-dir', wrong, 'gc', '--dry-run', '--data-dir', './insomnia-sync-data'], cwd);
    expect(spelt.code, spelt.stderr).toBe(0);
    const db = serverCli(['--db', `sqlite:${join(wrong, 'x.db')}`, 'gc', '--dry-run', '--db', `sqlite:${join(dataDir, 'sync.db')}`]);
    expect(db.code, db.stderr).toBe(0);
    // migrate as every other operator command: no database made where the first one points
    const made = join(root, 'made');
    expect(serverCli(['--data-dir', wrong, 'migrate', '--data-dir', made]).code).toBe(0);
    expect(existsSync(join(made, 'sync.db'))).toBe(true);
    expect(existsSync(wrong)).toBe(false);
  });

  it('openStore with existing: true throws StoreMissingError and creates no file', async () => {
    const root = tempDir();
    await expect(openStore(undefined, root, { existing: true })).rejects.toBeInstanceOf(StoreMissingError);
    expect(existsSync(join(root, 'sync.db'))).toBe(false);
  });
});

describe('operator commands on a path that cannot be a database', () => {
  /** a folder holding a file `afile` and a folder `shut` of mode 0000 */
  function place(): string {
    const root = tempDir();
    writeFileSync(join(root, 'afile'), 'not a folder');
    mkdirSync(join(root, 'shut'), { mode: 0o000 });
    return root;
  }
  const ALL: [string, string[]][] = [
    ['migrate', ['migrate']],
    ['backup', ['backup', '--out', 'copy.db']],
    ['gc', ['gc']],
    ['admin vacuum', ['admin', 'vacuum']],
    ['admin export-user', ['admin', 'export-user', 'ada@example.com']],
    ['admin delete-unverified', ['admin', 'delete-unverified', 'ada@example.com']],
  ];
  // relative paths, as typed in the folder place() made: the line names them so, then the absolute path at fault
  const PATHS: [string, string[], (root: string) => string][] = [
    ['--data-dir naming a file', ['--data-dir', './afile'], (r) => `--data-dir ./afile: ${r}/afile is a file, not a folder: move it away or give another path`],
    ['--db inside a file', ['--db', 'sqlite:afile/x.db'], (r) => `--db sqlite:afile/x.db: ${r}/afile is a file, not a folder: move it away or give another path`],
    ['--data-dir it may not enter', ['--data-dir', 'shut'], (r) => `--data-dir shut: no permission to write in folder ${r}/shut as user USER: run as its owner, or change its owner or mode`],
  ];

  for (const [command, args] of ALL) {
    it.each(PATHS)(`${command}, %s: one line naming the flag, the path at fault and the fix; exit 1`, (_name, where, says) => {
      const root = place();
      const r = serverCli([...args, ...where], root, { withoutReadOverride: true });
      chmodSync(join(root, 'shut'), 0o700);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr.replace(/ as user \S+:/, ' as user USER:')).toBe(`insomnia-sync-server: ${says(root)}\n`);
      // nothing made: not the default data dir either, which none of them uses with --db
      expect(readdirSync(root).sort()).toEqual(['afile', 'shut']);
    });
  }

  it('migrate with --db elsewhere makes that database only, no data directory', () => {
    const root = tempDir();
    const elsewhere = tempDir();
    const r = serverCli(['migrate', '--db', `sqlite:${join(elsewhere, 'sync.db')}`], root);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(root)).toEqual([]);
    expect(readdirSync(elsewhere).filter((f) => f === 'sync.db')).toEqual(['sync.db']);
    // nor the one --data-dir names: with --db it holds nothing migrate uses
    const named = serverCli(['migrate', '--data-dir', join(root, 'data'), '--db', `sqlite:${join(elsewhere, 'sync.db')}`], root);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toBe('schema is up to date\n');
    expect(readdirSync(root)).toEqual([]);
  });

  it('migrate with a SQLite database in a data dir not made yet makes the data dir, as the server does, and the server then starts', async () => {
    const root = tempDir();
    // as typed on a fresh host, relative to the working directory
    const flags = ['--data-dir', './d2', '--db', 'sqlite:./d2/sync.db'];
    const r = serverCli(['migrate', ...flags], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^applied migrations: /);
    expect(statSync(join(root, 'd2')).mode & 0o777).toBe(0o700);
    expect(readdirSync(join(root, 'd2'))).toContain('sync.db');
    // INSOMNIA_SYNC_DB naming it (absolute) does the same
    const env = serverCli(['migrate', '--data-dir', './d3'], root, { env: { INSOMNIA_SYNC_DB: `sqlite:${root}/d3/sync.db` } });
    expect(env.code, env.stderr).toBe(0);
    expect(readdirSync(join(root, 'd3'))).toContain('sync.db');
    // migrate, then start: the server takes the database as migrate left it
    const server = await startServer({ dataDir: join(root, 'd2'), db: `sqlite:${join(root, 'd2', 'sync.db')}` });
    await server.stop();
    expect(serverCli(['migrate', ...flags], root).stdout).toBe('schema is up to date\n');
  });

  it('migrate fails where the server fails with the same flags, with the same line', () => {
    // a SQLite file in a folder below the data dir: neither makes that folder
    for (const flags of [
      ['--data-dir', './d4', '--db', 'sqlite:./d4/sub/x.db'],
      ['--data-dir', './d5', '--db', 'sqlite:./nodir/x.db'],
    ]) {
      const one = tempDir();
      const other = tempDir();
      const migrate = serverCli(['migrate', ...flags], one);
      const serve = serverCli(['--port', '0', ...flags], other);
      expect(serve.code, serve.stdout).toBe(1);
      expect(migrate.code).toBe(1);
      expect(migrate.stderr.replaceAll(one, 'ROOT')).toBe(serve.stderr.replaceAll(other, 'ROOT'));
    }
  });

  it('migrate with --db in a folder that does not exist names that folder', () => {
    const root = tempDir();
    const r = serverCli(['migrate', '--db', 'sqlite:nodir/x.db'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`insomnia-sync-server: --db sqlite:nodir/x.db: folder ${root}/nodir does not exist: create it or correct the path\n`);
  });
});
