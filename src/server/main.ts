/**
 * The `insomnia-sync-server` executable: flags → data dir, secret, store → app → listen.
 * The only place in the server that prints or exits.
 */
import { mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { addHelpCommand, isHelpCommand, readCommanderError, refuseEmptyValues, unknownCommand } from '../shared/commander-errors.js';
import { describePathProblem, errnoCode, fileProblem, folderProblem, isWithin, newFolderProblem, newFolderProblemBeside } from '../storage/path-problem.js';
import { databaseUrlWarnings, redactUrlPasswords, urlHasPassword } from '../storage/postgres/url.js';
import { DEFAULT_KDF, buildApp } from './app.js';
import { loadOrCreateServerSecret } from './secret.js';
import type { Mailer } from './mail/mailer.js';
import { checkPathFlag, checkRequiredLate, databaseUrl, isRequiredLate, openStoreFor, registerOpsCommands, storeOptions, withStoreOptions, type StoreOptions } from './ops/commands.js';
import { addHardeningOptions, hardeningDeps, type HardeningOptions } from './serve-options.js';

interface ServeOptions extends HardeningOptions {
  host: string;
  port: number;
  dataDir: string;
  db?: string;
  logFile?: string;
  kdfMemory: number;
  kdfIterations: number;
  mailOutbox?: string;
  smtp?: string;
  smtpTimeout: number;
  mailFrom?: string;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function intOption(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError('not a whole number');
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

function prepareDataDir(dataDir: string): string {
  // Everything the server writes (database, WAL, log, outbox, backups) is for its own user only.
  process.umask(0o077);
  const dir = resolve(dataDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw dataDirError(dataDir, dir, err);
  }
  return dir;
}

/**
 * A file-system error making or using the data directory, as one line: the flag as given, then
 * the path at fault and the fix (`--data-dir ./afile: /…/afile is a file, not a folder: …`).
 */
function dataDirError(given: string, dir: string, err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const problem = folderProblem(dir, true) ?? (e.path && e.path !== dir ? fileProblem(e.path) : undefined);
  const why = problem ? describePathProblem(problem) : `cannot ${e.syscall === 'mkdir' ? 'create' : 'open'} ${e.path ?? dir} (${e.code ?? e.message})`;
  return new Error(`--data-dir ${given}: ${why}`, { cause: err });
}

const warn = (line: string): void => void process.stderr.write(`insomnia-sync-server: warning: ${line}\n`);

/**
 * Opens --log-file for appending before anything else starts, so that a path it cannot be (a
 * folder, a file without write permission) is one line and exit 1, not a stack after "listening".
 * pino then writes to this descriptor, ready at once (given a path, it would open it later).
 */
function openLogFile(logFile: string): number {
  const file = resolve(logFile);
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    return openSync(file, 'a', 0o600);
  } catch (err) {
    throw new Error(`--log-file: cannot open ${file} for appending (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

async function serve(opts: ServeOptions): Promise<void> {
  // the flags' own checks first (TLS files, the mail outbox): a mistake there is one line, before anything is made or opened
  const hardening = hardeningDeps(opts, warn);
  // --mail-outbox on the command line beats INSOMNIA_SYNC_SMTP in the environment, as --smtp does
  const smtp = opts.smtp ?? (opts.mailOutbox === undefined ? process.env.INSOMNIA_SYNC_SMTP || undefined : undefined);
  // (one in the data dir made just below is fine: DATA_DIR/outbox spelt out on a first start)
  if (opts.mailOutbox !== undefined && smtp === undefined) checkPathFlag('--mail-outbox', opts.mailOutbox, (dir) => newFolderProblemBeside(dir, resolve(opts.dataDir)));
  const dataDir = prepareDataDir(opts.dataDir);
  const logger: Record<string, unknown> = opts.logFile ? { file: openLogFile(opts.logFile) } : {};
  const mailer = await openMailerFor(opts, dataDir, smtp);
  let serverSecret: Uint8Array;
  try {
    serverSecret = loadOrCreateServerSecret(dataDir);
  } catch (err) {
    // a folder or file it may not write or read; its own complaints (a wrong size) stand as they are
    throw errnoCode(err) ? dataDirError(opts.dataDir, dataDir, err) : err;
  }
  const store = await openStoreFor(opts, dataDir);
  const app = buildApp({
    ...hardening,
    store,
    mailer,
    logger,
    serverSecret,
    kdfDefaults: { ...DEFAULT_KDF, memoryKiB: opts.kdfMemory, iterations: opts.kdfIterations },
  });

  // requests whose response has not closed yet: what a shutdown that runs out of time cuts off
  let inFlight = 0;
  app.addHook('onRequest', async (_request, reply) => {
    inFlight++;
    reply.raw.once('close', () => inFlight--);
  });

  let gc: { stop(): void; running(): Promise<void> } | undefined;
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    gc?.stop();
    // in-flight requests (a push's upload) may finish; a stuck connection must not keep the process alive forever
    setTimeout(() => {
      const cut = inFlight === 0 ? 'while closing, with no request in flight' : `with ${inFlight} request${inFlight === 1 ? '' : 's'} still in flight, cut off`;
      app.log.error({ inFlight, shutdownTimeout: opts.shutdownTimeout }, `--shutdown-timeout (${opts.shutdownTimeout} s) ran out ${cut}; exiting with status 1`);
      process.exit(1);
    }, opts.shutdownTimeout * 1000).unref();
    app
      .close()
      .then(() => gc?.running())
      .then(() => store.close())
      .then(() => mailer.close())
      .then(
        () => {
          process.exitCode = 0;
        },
        (err: unknown) => {
          process.stderr.write(`insomnia-sync-server: error while closing: ${(err as Error).message}\n`);
          process.exitCode = 1;
        },
      );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    await store.close();
    throw listenError(opts, err);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  process.stdout.write(`insomnia-sync-server listening on ${opts.tlsCert ? 'https' : 'http'}://${host}:${port}\n`);
  if (!opts.tlsCert && app.addresses().some((a) => typeof a === 'object' && !isLoopback(a.address))) {
    // Behind a proxy the operator named (a container on a private network, say), TLS is the
    // proxy's job: said once, not as a warning at every start that nothing could silence.
    if (opts.trustProxy !== undefined && opts.trustProxy !== false) {
      process.stderr.write(`insomnia-sync-server: note: plain HTTP on ${opts.host} behind the proxy --trust-proxy names: it must terminate TLS\n`);
    } else {
      warn(
        `listening on ${opts.host} over plain HTTP: login keys and session tokens would cross the network in clear; give --tls-cert and --tls-key, or keep it on 127.0.0.1 behind a TLS-terminating reverse proxy (a proxy on another machine is fine only over a private network; --trust-proxy says there is one)`,
      );
    }
  }
  if (opts.gcInterval > 0) {
    const { scheduleGc, describeGc } = await import('./ops/gc.js');
    gc = scheduleGc(store, {
      intervalHours: opts.gcInterval,
      graceHours: opts.gcGrace,
      onResult: (report) => app.log.info({ gc: report }, describeGc(report, false)),
      onError: (err) => app.log.error({ err: { message: err.message } }, 'garbage collection failed'),
    });
  }
}

/**
 * The mailer the flags choose, its outbox folder made (DATA_DIR/outbox by default) and checked:
 * one it cannot write mails in is one line naming the flag at start, not an errno at the first
 * signup.
 */
async function openMailerFor(opts: ServeOptions, dataDir: string, smtp: string | undefined): Promise<Mailer> {
  const { openMailer } = await import('./mail/open.js');
  const [flag, given, outbox] = opts.mailOutbox !== undefined ? ['--mail-outbox', opts.mailOutbox, resolve(opts.mailOutbox)] : ['--data-dir', opts.dataDir, join(dataDir, 'outbox')];
  let mailer: Mailer;
  try {
    mailer = openMailer({ dataDir, ...pick(opts, ['mailOutbox', 'mailFrom', 'smtpTimeout']), ...(smtp ? { smtp } : {}) });
  } catch (err) {
    // the outbox folder could not be made; the mailer's own complaints (an --smtp URL) stand as they are
    if (typeof (err as NodeJS.ErrnoException).syscall !== 'string') throw err;
    const problem = newFolderProblem(outbox);
    throw new Error(`${flag} ${given}: ${problem ? describePathProblem(problem) : `cannot create ${outbox} (${errnoCode(err)})`}`, { cause: err });
  }
  if (mailer.kind === 'outbox') checkPathFlag(flag, given, () => folderProblem(outbox, false));
  return mailer;
}

/**
 * Why the server could not listen, as one line naming the flag at fault and the fix, rather than
 * Node's `listen EADDRINUSE: address already in use 127.0.0.1:8787`. Other errors stand.
 */
function listenError(opts: Pick<ServeOptions, 'host' | 'port'>, err: unknown): unknown {
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  switch (errnoCode(err)) {
    case 'EADDRINUSE':
      return new Error(`--port ${opts.port}: another process listens on ${host}:${opts.port}: stop it, or give another --port`, { cause: err });
    case 'EACCES':
      return new Error(
        `--port ${opts.port}: ports below 1024 need root or CAP_NET_BIND_SERVICE: give a port from 1024 up (behind a reverse proxy on 443), or grant the capability`,
        { cause: err },
      );
    case 'EADDRNOTAVAIL':
      return new Error(`--host ${opts.host}: no network interface of this machine has this address: give one it has, 127.0.0.1, or 0.0.0.0 for all`, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new Error(`--host ${opts.host}: no address found for this name: give an IP address such as 127.0.0.1`, { cause: err });
  }
  return err;
}

/** 127.0.0.0/8 and ::1 (also IPv4-mapped): nobody else on the network can listen in. */
function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./i.test(address);
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

async function migrate(opts: StoreOptions): Promise<void> {
  process.umask(0o077);
  const dataDir = databaseInDataDir(opts) ? prepareDataDir(opts.dataDir) : resolve(opts.dataDir);
  const store = await openStoreFor(opts, dataDir, { migrate: false });
  try {
    const applied = await store.migrate();
    process.stdout.write(applied.length ? `applied migrations: ${applied.join(', ')}\n` : 'schema is up to date\n');
  } finally {
    await store.close();
  }
}

/**
 * Whether migrate makes the data directory: the server makes it before it opens the database, so
 * a SQLite database in it (DIR/sync.db by default, or a sqlite: path inside it) opens there on a
 * fresh host, and migrate with the same flags must do as much ("migrate, then start"). Otherwise
 * it holds nothing migrate uses and is not made: PostgreSQL, or a SQLite file elsewhere.
 */
function databaseInDataDir(opts: StoreOptions): boolean {
  const url = databaseUrl(opts);
  if (url === undefined) return true;
  if (!url.startsWith('sqlite:')) return false;
  const path = url.slice('sqlite:'.length);
  return path !== '' && path !== ':memory:' && isWithin(resolve(path), resolve(opts.dataDir));
}

export function buildProgram(): Command {
  const program = new Command('insomnia-sync-server')
    .description('End-to-end encrypted sync server for insomnia-sync (stores ciphertext only)')
    // commander's parse errors are thrown, not printed, and said in one line below (commandLineError);
    // the commands made from here on inherit both
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .version(version())
    .option('--host <host>', 'address to listen on; beyond loopback, use --tls-cert or a TLS-terminating proxy', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', intOption(0, 65535), 8787)
    .option('--data-dir <dir>', 'data directory (database, server secret)', './insomnia-sync-data')
    .option('--db <url>', 'database: sqlite:PATH or postgres://… (env INSOMNIA_SYNC_DB; default DATA_DIR/sync.db)')
    .option('--log-file <file>', 'write JSON request logs to this file instead of stdout')
    .option('--kdf-memory <KiB>', 'Argon2id memory for new accounts, in KiB', intOption(65536, 4 * 1024 * 1024), DEFAULT_KDF.memoryKiB)
    .option('--kdf-iterations <n>', 'Argon2id iterations for new accounts', intOption(3, 100), DEFAULT_KDF.iterations)
    .option('--mail-outbox <dir>', 'write each mail as an RFC 5322 .eml file in this folder (default DATA_DIR/outbox)')
    .option('--smtp <url>', 'send mail through this SMTP server instead: smtp://user@host:587 (STARTTLS) or smtps://user@host:465 (env INSOMNIA_SYNC_SMTP, the safer place for a password)')
    .option('--smtp-timeout <seconds>', 'give up on the SMTP server after this long: connecting, its greeting, each answer, one whole mail', intOption(1, 600), 10)
    .option('--mail-from <address>', 'From: of notices (default insomnia-sync <no-reply@HOSTNAME>)')
    .action(async (opts: ServeOptions) => serve(opts));
  addHardeningOptions(program);

  // the one operator command that creates the database it is pointed at
  withStoreOptions(program.command('migrate').description('apply pending database migrations and exit'), true).action(async (_opts: unknown, command: Command) => {
    await migrate(storeOptions(command));
  });

  registerOpsCommands(program);
  addHelpCommand(program, 'admin vacuum');
  for (const group of program.commands.filter((c) => c.commands.length > 0)) addHelpCommand(group, group.commands[0]!.name());
  // A word where a command goes is a mistyped command, not a stray argument of the server's own
  // action ("too many arguments"): the program takes any and says so here, with commander's
  // suggestion. Set last, so no command inherits it.
  program.allowExcessArguments(true);
  program.hook('preAction', (_program, action) => {
    if (isHelpCommand(action)) return;
    if (action === program && program.args.length > 0) unknownCommand(program, program.args[0]!);
    checkRequiredLate(action);
    // `--data-dir ""` (a "$DIR" whose variable is unset) would be the current folder
    refuseEmptyValues(action, { exitCode: 1, required: isRequiredLate, leftOut: (option) => LEFT_OUT[option.long ?? ''] });
    guardUrlPasswords(program, action);
    const db = [action, program].map((c) => c.opts<{ db?: string }>().db).find((d) => d !== undefined) ?? process.env.INSOMNIA_SYNC_DB;
    for (const line of databaseUrlWarnings(db)) process.stderr.write(`insomnia-sync-server: warning: ${line}\n`);
  });

  return program;
}

/**
 * What leaving out a flag does, for the line refusing its empty value, where --help shows no
 * default: `--smtp "$SMTP_URL"` with the variable unset once meant the outbox; now it stops the
 * server, and the line says to leave the flag out for that.
 */
const LEFT_OUT: Record<string, string> = {
  '--smtp': 'to write mail to the outbox, the default',
  '--mail-outbox': 'for DATA_DIR/outbox, the default',
  '--trust-proxy': 'to trust no proxy, the default',
  '--log-file': 'to log to standard output, the default',
  '--mail-from': 'for insomnia-sync <no-reply@HOSTNAME>, the default',
};

/**
 * A parse error of commander as the one line to print, as the client CLI reads them
 * (shared/commander-errors.ts): `error: unknown option '--prot' (did you mean --port?)`. A URL
 * typed where a command goes keeps its password out.
 */
function commandLineError(err: CommanderError): string {
  const { message, suggestion, more } = readCommanderError(err);
  const extra = suggestion !== undefined ? ` (did you mean ${suggestion}?)` : more !== undefined ? ` (${more})` : '';
  return `error: ${redactUrlPasswords(message)}${extra}`;
}

/** The flags whose URL may hold a password, and the safer places for it. */
const PASSWORD_URL_FLAGS = [
  { key: 'db', flag: '--db', instead: 'give the URL in INSOMNIA_SYNC_DB instead, or the password in PGPASSWORD or ~/.pgpass' },
  { key: 'smtp', flag: '--smtp', instead: 'give the URL in INSOMNIA_SYNC_SMTP instead' },
] as const;

/**
 * A `--db` or `--smtp` URL on the command line that holds a password: every user of the machine
 * can read the command line (`ps`, /proc/PID/cmdline) and the shell may keep it in its history,
 * unlike the environment (INSOMNIA_SYNC_DB, INSOMNIA_SYNC_SMTP, PGPASSWORD: /proc/PID/environ is
 * the user's own) or ~/.pgpass. Says so in one line per flag on standard error, naming the safer
 * ways and never the password, then overwrites the process title with the arguments, passwords
 * starred out: on Linux that rewrites the memory /proc/PID/cmdline reads, so the password stays
 * visible only while the process starts.
 */
function guardUrlPasswords(program: Command, action: Command): void {
  let found = false;
  for (const { key, flag, instead } of PASSWORD_URL_FLAGS) {
    const given = [program, action].filter((c) => c.getOptionValueSource(key) === 'cli').map((c) => c.opts<Record<string, unknown>>()[key]);
    if (!given.some((url) => typeof url === 'string' && urlHasPassword(url))) continue;
    found = true;
    process.stderr.write(
      `insomnia-sync-server: warning: the ${flag} URL holds a password, which other users of this machine can read in the process list while it starts and your shell may keep in its history; ${instead}\n`,
    );
  }
  if (found) process.title = ['insomnia-sync-server', ...process.argv.slice(2)].map(redactUrlPasswords).join(' ');
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // --help, --version and `help`; and the help commander printed for `admin` without a command
      if (err.exitCode === 0) process.exit(0);
      if (err.code !== 'commander.help') process.stderr.write(`${commandLineError(err)}\n`);
      process.exit(1);
    }
    process.stderr.write(`insomnia-sync-server: ${(err as Error).message}\n`);
    process.exit(1);
  });
