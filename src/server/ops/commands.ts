/**
 * Operator sub-commands of `insomnia-sync-server` besides `migrate`: `backup --out FILE`, `gc`,
 * `admin vacuum`, `admin export-user EMAIL` and `admin delete-unverified EMAIL`. Each opens the
 * existing store without migrating it (a backup must not change what it copies), does one job and
 * closes it. Like main.ts, the only place here that prints. All of them, `migrate` too, take
 * `--data-dir` and `--db` through withStoreOptions.
 */
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { openStore, type OpenStoreOptions } from '../../storage/open.js';
import { describePathProblem, folderProblem, newFileProblem, type PathProblem } from '../../storage/path-problem.js';
import { redactUrlPasswords } from '../../storage/postgres/url.js';
import { StoreMissingError, StorePathError, type EraseReport, type Store } from '../../storage/store.js';

export interface StoreOptions {
  dataDir: string;
  db?: string;
}

const DEFAULT_DATA_DIR = './insomnia-sync-data';

/**
 * The `--data-dir` and `--db` of every operator command, added after its own options (the order
 * `--help` lists them in): of an existing database, which the command never creates, or, for
 * `migrate` (`creates`), of the one it migrates, made if missing. Read them with storeOptions.
 */
export function withStoreOptions(command: Command, creates = false): Command {
  return creates
    ? command.option('--data-dir <dir>', 'data directory', DEFAULT_DATA_DIR).option('--db <url>', 'database: sqlite:PATH or postgres://…')
    : command
        .option('--data-dir <dir>', 'data directory of an existing database (nothing is created)', DEFAULT_DATA_DIR)
        .option('--db <url>', 'existing database: sqlite:PATH or postgres://…');
}

/** The store an operator command names with `--data-dir` and `--db`, before the command word or after it. */
export function storeOptions(command: Command): StoreOptions {
  const dataDir = sharedOption<string>(command, 'dataDir')!;
  const db = sharedOption<string>(command, 'db');
  return db !== undefined ? { dataDir, db } : { dataDir };
}

/**
 * The value of an option a command shares with the program (`--data-dir`, `--db`,
 * `--mail-outbox`): commander hands such an option to the program wherever it stands on the line,
 * before the command word or after it (the last one given wins), so the command's own declaration
 * only lists it in the command's --help and holds its default. The program's value when given
 * there, else the command's.
 */
function sharedOption<T>(command: Command, key: string): T | undefined {
  let program = command;
  while (program.parent) program = program.parent;
  const from = command.getOptionValueSource(key) !== 'cli' && program.getOptionValueSource(key) === 'cli' ? program : command;
  return from.opts<Record<string, T | undefined>>()[key];
}

/**
 * Where the database comes from, as the operator gave it: `--db URL`, `INSOMNIA_SYNC_DB=URL`, or
 * `--data-dir DIR` for the default DIR/sync.db. Passwords in a URL are starred out.
 */
export function storeSource(opts: StoreOptions): string {
  const url = databaseUrl(opts);
  if (url === undefined) return `--data-dir ${opts.dataDir}`;
  return opts.db !== undefined ? `--db ${redactUrlPasswords(opts.db)}` : `INSOMNIA_SYNC_DB=${redactUrlPasswords(url)}`;
}

/**
 * The database URL openStoreFor opens, as openStore reads it: --db, else INSOMNIA_SYNC_DB; either
 * one empty, or neither given, means DIR/sync.db in the data directory (undefined here).
 */
export function databaseUrl(opts: StoreOptions): string | undefined {
  return (opts.db ?? process.env.INSOMNIA_SYNC_DB)?.trim() || undefined;
}

/**
 * openStore for the server and its commands: a database file that cannot be opened where it
 * points is one line starting with the flag that named it (`--db sqlite:nodir/x.db: folder
 * /…/nodir does not exist: …`).
 */
export async function openStoreFor(opts: StoreOptions, dataDir: string, options: OpenStoreOptions = {}): Promise<Store> {
  try {
    return await openStore(opts.db ?? process.env.INSOMNIA_SYNC_DB, dataDir, options);
  } catch (err) {
    if (err instanceof StorePathError) throw new Error(`${storeSource(opts)}: ${err.message}`, { cause: err });
    throw err;
  }
}

const REQUIRED_LATE = new WeakSet<Option>();

/**
 * A required option that commander does not check itself: it checks required options before it
 * looks for unknown ones, so `backup --ot x` would be "required option '--out <file>' not
 * specified", without its "(did you mean --out?)". checkRequiredLate checks it after.
 */
function requiredLate(option: Option): Option {
  REQUIRED_LATE.add(option);
  return option;
}

export const isRequiredLate = (option: Option): boolean => REQUIRED_LATE.has(option);

/** For the program's preAction hook: a requiredLate option of `command` not given is commander's error. */
export function checkRequiredLate(command: Command): void {
  for (const option of command.options) {
    if (REQUIRED_LATE.has(option) && command.getOptionValue(option.attributeName()) === undefined) {
      command.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  }
}

/**
 * A path a flag names, checked before the command starts its work with `find` (path-problem.ts:
 * newFileProblem, newFolderProblem…): one line with the flag and the path as given, the path at
 * fault and the fix (`--out nodir/copy.db: folder /…/nodir does not exist: create it or correct
 * the path`), rather than an errno once the work is done or half done.
 */
export function checkPathFlag(flag: string, given: string, find: (path: string) => PathProblem | undefined): void {
  const problem = find(resolve(given));
  if (problem) throw new Error(`${flag} ${given}: ${describePathProblem(problem)}`);
}

/**
 * Opens an existing database only: with a mistyped --data-dir an operator must get an error, not
 * a new empty database (and an empty backup of it). Only `migrate` creates one.
 */
async function withStore<R>(opts: StoreOptions, job: (store: Store) => Promise<R>): Promise<R> {
  let store: Store;
  try {
    store = await openStoreFor(opts, resolve(opts.dataDir), { migrate: false, existing: true });
  } catch (err) {
    if (err instanceof StoreMissingError) throw new Error(`${err.message}: check --data-dir or --db`, { cause: err });
    throw err;
  }
  try {
    return await job(store);
  } finally {
    await store.close();
  }
}

export function registerOpsCommands(program: Command): void {
  withStoreOptions(
    program
      .command('backup')
      .description('write a consistent copy of the database to FILE while the server keeps running')
      .addOption(requiredLate(new Option('--out <file>', 'the new backup file (never overwritten)'))),
  ).action(async (opts: { out: string }, command: Command) => {
    const out = opts.out;
    checkPathFlag('--out', out, newFileProblem);
    const { backupStore } = await import('./backup.js');
    // a backup is the database's content: for this user only, like everything the server writes
    process.umask(0o077);
    // Ctrl-C or a service manager's SIGTERM stops the copy between two steps and removes the
    // partial file; a second signal ends the process at once
    const interrupt = new AbortController();
    const onSignal = (signal: NodeJS.Signals): void => interrupt.abort(new Error(`backup interrupted by ${signal}; nothing written`));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      const res = await withStore(storeOptions(command), (store) => backupStore(store, out, { signal: interrupt.signal }));
      process.stdout.write(`backup written: ${res.file} (${res.bytes} bytes)\n`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });

  withStoreOptions(
    program
      .command('gc')
      .description('delete blobs no snapshot references (uploads of pushes that never finished), and sessions and invitations that ended; safe while the server runs')
      .option('--dry-run', 'only count what would be deleted')
      .option('--grace <hours>', 'skip workspaces with uploads or blob checks in the last this many hours', '1'),
  ).action(async (opts: { dryRun?: boolean; grace: string }, command: Command) => {
    const graceHours = Number(opts.grace);
    if (!/^\d+(\.\d+)?$/.test(opts.grace) || graceHours <= 0) throw new Error('--grace: expected a positive number of hours');
    const { runGc, describeGc, shareWithServer } = await import('./gc.js');
    const dryRun = opts.dryRun === true;
    const report = await withStore(storeOptions(command), (store) => runGc(store, { graceHours, dryRun, pause: shareWithServer() }));
    process.stdout.write(`${describeGc(report, dryRun)}\n`);
  });

  const admin = program.command('admin').description('operator tools');
  withStoreOptions(
    admin
      .command('vacuum')
      .description(
        'make the database files forget deleted rows of service data (emails, names, IP addresses): on PostgreSQL rewrite the tables that hold them (VACUUM FULL, as their owner); on SQLite truncate the write-ahead log',
      ),
  ).action(async (_opts: unknown, command: Command) => {
    const report = await withStore(storeOptions(command), (store) => store.eraseDeletedRows());
    process.stdout.write(`${describeErase(report)}\n`);
  });
  withStoreOptions(
    admin
      .command('delete-unverified')
      .description('delete an account whose email address was never confirmed, freeing the address (someone signed up with an address not theirs); never a confirmed one')
      .argument('<email>', 'the account email')
      .option('--mail-outbox <dir>', 'also remove waiting mails to or from the account from this outbox folder (default DATA_DIR/outbox)'),
  ).action(async (email: string, _opts: unknown, command: Command) => {
    const { deleteUnverified, describeUnverifiedDeletion } = await import('./delete-unverified.js');
    const where = storeOptions(command);
    // the server has a --mail-outbox too: commander hands the one on this line to the program
    const given = sharedOption<string>(command, 'mailOutbox');
    const outbox = resolve(given ?? resolve(where.dataDir, 'outbox'));
    // Its mails are removed after the account is deleted, which cannot be undone: an outbox that
    // cannot be cleaned stops it before. One named must exist (a typo would keep the mails); the
    // default need not (the server may send by SMTP).
    if (given !== undefined) checkPathFlag('--mail-outbox', given, (dir) => folderProblem(dir, false));
    else if (existsSync(outbox)) checkPathFlag('--data-dir', where.dataDir, () => folderProblem(outbox, false));
    const done = await withStore(where, (store) => deleteUnverified(store, email, outbox));
    process.stdout.write(`${describeUnverifiedDeletion(done)}\n`);
  });
  withStoreOptions(
    admin
      .command('export-user')
      .description("print one account's service data and ciphertext as JSON (what a disclosure could hand over)")
      .argument('<email>', 'the account email')
      .option('--out <file>', 'write to this new file (mode 0600) instead of standard output'),
  ).action(async (email: string, opts: { out?: string }, command: Command) => {
    const { exportUser, exportUserToFile } = await import('./export-user.js');
    if (opts.out) {
      checkPathFlag('--out', opts.out, newFileProblem);
      // written beside --out and moved there when complete: a failure or an interrupt never
      // leaves a truncated export at --out, nor the temporary file
      const out = resolve(opts.out);
      let temp: string | undefined;
      const interrupted = (signal: NodeJS.Signals): void => {
        if (temp) rmSync(temp, { force: true });
        process.kill(process.pid, signal);
      };
      process.once('SIGINT', interrupted);
      process.once('SIGTERM', interrupted);
      try {
        await withStore(storeOptions(command), (store) => exportUserToFile(store, email, out, { onTemp: (path) => (temp = path) }));
      } finally {
        process.off('SIGINT', interrupted);
        process.off('SIGTERM', interrupted);
      }
      return;
    }
    // a reader that stops early (`| head`) is not an error
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
    });
    const write = (chunk: string): Promise<void> => new Promise((ok, fail) => process.stdout.write(chunk, (err) => (err ? fail(err) : ok())));
    await withStore(storeOptions(command), (store) => exportUser(store, email, write));
  });
}

/** One line saying what `admin vacuum` did and what still holds deleted rows. */
function describeErase(report: EraseReport): string {
  if (report.walTruncated !== null) {
    return report.walTruncated
      ? 'SQLite overwrote deleted rows when it deleted them; write-ahead log truncated'
      : 'SQLite overwrote deleted rows when it deleted them; the write-ahead log could not be truncated now (another process is reading the database): run this again';
  }
  const kept = 'the write-ahead log, its archive and backups keep them as long as those are kept';
  if (report.statistics) return `rewrote ${report.tables.join(', ')} and pg_statistic: deleted rows are gone from their files; ${kept}`;
  return `rewrote ${report.tables.join(', ')}: deleted rows are gone from their files, but not from pg_statistic (rewriting it needs a superuser: VACUUM FULL pg_catalog.pg_statistic), where ANALYZE's samples of them stay until their space is reused; ${kept}`;
}
