/**
 * The real `insomnia-sync-server` given a command line it cannot parse: every command's unknown
 * option, missing or empty argument or value, unknown command and extra argument is one line on standard
 * error, `error: …`, with commander's typo suggestion on that line, exit 1 (the man page's EXIT
 * STATUS), nothing on standard output and nothing created.
 */
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/cli.js';
import { runServerCommand } from '../helpers/server-process.js';

// [the command line, the one line it prints]
const CASES: [string[], string][] = [
  // unknown options, with and without a suggestion
  [['--prot', '1'], "error: unknown option '--prot' (did you mean --port?)"],
  [['serve', '--prot', '1'], "error: unknown option '--prot' (did you mean --port?)"],
  [['--bogus'], "error: unknown option '--bogus'"],
  [['migrate', '--dat-dir', 'x'], "error: unknown option '--dat-dir' (did you mean --data-dir?)"],
  [['backup', '--ot', 'x.db'], "error: unknown option '--ot' (did you mean --out?)"],
  [['gc', '--dryrun'], "error: unknown option '--dryrun' (did you mean --dry-run?)"],
  [['admin', 'vacuum', '--dbb', 'sqlite:x'], "error: unknown option '--dbb' (did you mean --db?)"],
  [['admin', 'export-user', 'a@example.com', '--outt', 'x'], "error: unknown option '--outt' (did you mean --out?)"],
  [['admin', 'delete-unverified', 'a@example.com', '--mail-outbx', 'x'], "error: unknown option '--mail-outbx' (did you mean --mail-outbox?)"],
  // what follows = may be a password: never shown
  [['--dbb=postgres://u:hunter2@h/db'], "error: unknown option '--dbb=…'"],
  // unknown commands: not "too many arguments" of the server itself
  [['migrat'], "error: unknown command 'migrat' (did you mean migrate?)"],
  [['serve'], "error: unknown command 'serve'"],
  [['postgres://u:hunter2@h/db'], "error: unknown command 'postgres://u:***@h/db'"],
  [['admin', 'vacum'], "error: unknown command 'vacum' (did you mean vacuum?)"],
  // help for a command that is not one: that line too, not the whole help
  [['help', 'nosuch'], "error: unknown command 'nosuch'"],
  [['help', 'migrat'], "error: unknown command 'migrat' (did you mean migrate?)"],
  [['help', 'admin', 'vacum'], "error: unknown command 'vacum' (did you mean vacuum?)"],
  [['admin', 'help', 'nosuch'], "error: unknown command 'nosuch'"],
  [['help', 'postgres://u:hunter2@h/db'], "error: unknown command 'postgres://u:***@h/db'"],
  // missing arguments and values
  [['backup'], "error: required option '--out <file>' not specified"],
  [['backup', '--out'], "error: option '--out <file>' argument missing"],
  [['--port'], "error: option '--port <port>' argument missing"],
  [['admin', 'export-user'], "error: missing required argument 'email'"],
  [['admin', 'delete-unverified'], "error: missing required argument 'email'"],
  [['migrate', '--data-dir'], "error: option '--data-dir <dir>' argument missing"],
  // extra arguments
  [['migrate', 'now'], "error: too many arguments for 'migrate'. Expected 0 arguments but got 1."],
  [['gc', 'now'], "error: too many arguments for 'gc'. Expected 0 arguments but got 1."],
  [['admin', 'vacuum', 'now'], "error: too many arguments for 'vacuum'. Expected 0 arguments but got 1."],
  [['admin', 'export-user', 'a@example.com', 'b@example.com'], "error: too many arguments for 'export-user'. Expected 1 argument but got 2."],
  // empty values (a "$DIR" whose variable is unset): not the current folder, nor the default
  [['--data-dir', ''], "error: option '--data-dir <dir>' is empty (an empty value does not mean the default: leave out --data-dir, or give a value)"],
  [['migrate', '--data-dir', ' '], "error: option '--data-dir <dir>' is empty (an empty value does not mean the default: leave out --data-dir, or give a value)"],
  [['gc', '--db', ''], "error: option '--db <url>' is empty (an empty value does not mean the default: leave out --db, or give a value)"],
  // where leaving the flag out is not its --help default, the line says what it then does (a start
  // script's --smtp "$SMTP_URL" with the variable unset: leave it out for the outbox)
  [['--mail-outbox', ''], "error: option '--mail-outbox <dir>' is empty (an empty value does not mean the default: leave out --mail-outbox for DATA_DIR/outbox, the default, or give a value)"],
  [['admin', 'delete-unverified', 'a@example.com', '--mail-outbox', ''], "error: option '--mail-outbox <dir>' is empty (an empty value does not mean the default: leave out --mail-outbox for DATA_DIR/outbox, the default, or give a value)"],
  [['--smtp', ''], "error: option '--smtp <url>' is empty (an empty value does not mean the default: leave out --smtp to write mail to the outbox, the default, or give a value)"],
  [['--trust-proxy', ''], "error: option '--trust-proxy [addresses]' is empty (an empty value does not mean the default: leave out --trust-proxy to trust no proxy, the default, or give a value)"],
  [['--log-file', ''], "error: option '--log-file <file>' is empty (an empty value does not mean the default: leave out --log-file to log to standard output, the default, or give a value)"],
  [['--mail-from', ''], "error: option '--mail-from <address>' is empty (an empty value does not mean the default: leave out --mail-from for insomnia-sync <no-reply@HOSTNAME>, the default, or give a value)"],
  [['backup', '--out', ''], "error: option '--out <file>' is empty (give it a value)"],
  [['admin', 'export-user', ''], "error: argument 'email' is empty (give it a value)"],
  // invalid values
  [['--port', 'abc'], "error: option '--port <port>' argument 'abc' is invalid. not a whole number"],
];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('insomnia-sync-server with a command line it cannot parse', () => {
  it.each(CASES)('%j: one line, exit 1, nothing created', (args, line) => {
    const cwd = tempDir('isync-usage-');
    dirs.push(cwd);
    const r = runServerCommand(args, cwd);
    expect(r.stderr).toBe(`${line}\n`);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('help, --help and help COMMAND print the help on standard output, exit 0', () => {
    for (const args of [['help'], ['--help'], ['help', 'backup'], ['backup', '--help']]) {
      const r = runServerCommand(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: insomnia-sync-server/);
      expect(r.stderr).toBe('');
    }
  });

  it('help COMMAND SUBCOMMAND (and admin help SUBCOMMAND) is the sub-command\'s help, as its --help', () => {
    const own = runServerCommand(['admin', 'vacuum', '--help']).stdout;
    expect(own).toMatch(/^Usage: insomnia-sync-server admin vacuum /);
    for (const args of [['help', 'admin', 'vacuum'], ['admin', 'help', 'vacuum']]) {
      const r = runServerCommand(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toBe(own);
      expect(r.stderr).toBe('');
    }
  });

  it('admin without a command: its help on standard error, nothing on standard output, exit 1 (as the client does for team alone, with its usage status)', () => {
    const r = runServerCommand(['admin']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(runServerCommand(['help', 'admin']).stdout);
  });
});
