/**
 * The command tree: names, arguments, options and help text, and the one check every value gets
 * (not empty). Each action loads its command module on demand, so `--version` and `--help` load
 * nothing but commander.
 */
import { Argument, Command, CommanderError, Option, type OutputConfiguration } from 'commander';
import { addHelpCommand, refuseEmptyValues } from '../shared/commander-errors.js';

export type CommandRunner = (name: string, args: unknown[], command: Command) => Promise<void>;

export const VERSION = '0.1.0';

/**
 * Whether --json is among the arguments: parsed already when it came before --version, which ends
 * the parse where it stands, so also looked for among those after it (up to a `--`).
 */
function jsonAsked(program: Command): boolean {
  if (program.opts().json === true) return true;
  const raw = (program as Command & { rawArgs?: string[] }).rawArgs ?? [];
  const end = raw.indexOf('--');
  return (end < 0 ? raw : raw.slice(0, end)).includes('--json');
}

/** `output` is set before the subcommands are made, as commander copies it into each of them then. */
export function buildProgram(run: CommandRunner, output?: OutputConfiguration): Command {
  const program = new Command('insomnia-sync');
  if (output) program.configureOutput(output);
  program
    .description('End-to-end encrypted sync for Insomnia workspace folders. The server stores ciphertext only.')
    // commander's .version(), but with --json (before or after it) one JSON document (SPEC §4)
    .addOption(new Option('-V, --version', 'output the version number'))
    .option('--server <url>', "sync server URL, with its path if it is served under one (env INSOMNIA_SYNC_SERVER; default http://127.0.0.1:8787); in a linked folder, the folder's own server wins over the env")
    .option('--profile <name>', 'local profile: a separate login (env INSOMNIA_SYNC_PROFILE)', undefined)
    .option('--json', 'print exactly one JSON document on stdout; errors as JSON on stderr')
    .option('-q, --quiet', 'print nothing but errors')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .option('-y, --yes', 'assume yes to confirmations')
    .option('--password-stdin', 'read the password from the first line of standard input (a pipe, not a terminal)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit status: 0 ok, 1 failure, 2 usage, missing input or declined, 3 conflict, 4 auth, 5 not found,
6 server unreachable, 7 integrity failure, 130 cancelled. See man insomnia-sync.`,
    );

  program.on('option:version', () => {
    const text = jsonAsked(program) ? `${JSON.stringify({ version: VERSION })}\n` : `${VERSION}\n`;
    program.configureOutput().writeOut!(text);
    throw new CommanderError(0, 'commander.version', VERSION);
  });

  const action =
    (name: string) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      await run(name, args.slice(0, -2), command);
    };

  program
    .command('signup')
    .description('create an account, its keys and personal team; prints your key fingerprint')
    .requiredOption('--email <email>', 'your email address')
    .addOption(emptyMeansDefault(new Option('--name <name>', 'your display name (default: the part of the email before the @)')))
    .action(action('signup'));
  program
    .command('login')
    .description('log in on this machine (password from a prompt, --password-stdin or INSOMNIA_SYNC_PASSWORD)')
    .requiredOption('--email <email>', 'your email address')
    .action(action('login'));
  program.command('logout').description('end the session and wipe local keys').action(action('logout'));
  program.command('whoami').description('show the logged-in account, server and fingerprint').action(action('whoami'));

  program
    .command('init')
    .description('create a new remote workspace and link the current folder to it (for one that exists, use clone)')
    .option('--name <name>', 'workspace name (default: the folder name)')
    .option('--team <team>', 'team name, id or id prefix (default: your personal team)')
    .action(action('init'));
  program
    .command('clone')
    .description('link a new folder to an existing workspace and pull it')
    .argument('<workspace>', 'workspace name, id or unique id prefix (≥ 4 characters)')
    .argument('[dir]', 'folder to create (default: the workspace name)')
    .action(action('clone'));
  program.command('status').description('local changes since the last sync, conflict copies left by pull, and whether the remote moved (exit 7 when it lost your last synced snapshot)').action(action('status'));
  program
    .command('push')
    .description('encrypt and upload local changes as a new snapshot')
    .option('-m, --message <msg>', 'snapshot message (may span lines; no other control characters)')
    .option('--force', "push even though the remote moved: your files replace the remote's newer snapshots, undoing their changes (they stay in log/restore)")
    .action(action('push'));
  program
    .command('pull')
    .description('download and merge remote changes; conflicts keep yours, write NAME.conflict and list each file (exit 3)')
    .addOption(new Option('--ours', 'on conflict keep the local file, write no .conflict copy').conflicts('theirs'))
    .addOption(new Option('--theirs', 'on conflict take the remote file; yours goes to a .conflict copy').conflicts('ours'))
    .action(action('pull'));
  program
    .command('log')
    .description('list snapshots: id, time (UTC), author, message, counts')
    .option('-n, --limit <n>', 'show at most N snapshots (digits, 1 to 2147483647)')
    .action(action('log'));
  program
    .command('restore')
    .description("check out an older snapshot into this folder (asks before overwriting unpushed changes; a file never synced stays, the snapshot's goes beside it as NAME.conflict, exit 3), or into a new folder with --to")
    .argument('<snapshot>', 'snapshot id or unique prefix (≥ 4 characters)')
    .option('--to <dir>', 'write the snapshot into this new or empty folder instead')
    .action(action('restore'));
  program
    .command('verify')
    .description('check every snapshot signature and parent link, and decrypt every blob against its id; in a linked folder, also that your last synced snapshot is still in the history')
    .option('--workspace <workspace>', 'workspace name, id or unique id prefix (≥ 4 characters; default: the linked folder)')
    .action(action('verify'));

  const workspace = program.command('workspace').description('manage workspaces');
  workspace.command('list').description('list the workspaces you can read').action(action('workspace-list'));
  workspace
    .command('rename')
    .description('rename a workspace (the name is encrypted)')
    .argument('<workspace>', 'workspace name, id or unique id prefix (≥ 4 characters)')
    .argument('<name>', 'new name')
    .action(action('workspace-rename'));
  workspace
    .command('delete')
    .description('delete a workspace and all its history from the server (asks first; --yes to skip)')
    .argument('<workspace>', 'workspace name, id or unique id prefix (≥ 4 characters)')
    .action(action('workspace-delete'));

  const token = program
    .command('token')
    .description('access tokens for CI and scripts: INSOMNIA_SYNC_TOKEN=… clone | pull | push | status | log | restore | export | verify, no login');
  token
    .command('create')
    .description('create an access token for one workspace and print it once (store it as a secret)')
    .requiredOption('--workspace <workspace>', 'workspace name, id or unique id prefix (≥ 4 characters)')
    .option('--read-only', 'the token can clone and pull but not push')
    .option('--expires <duration>', 'lifetime: 45s, 90m, 12h, 30d, 2w, or never (default 90d)')
    .option('--name <name>', 'a label shown in `token list` and as the author of its snapshots (default "ci")')
    .action(action('token-create'));
  token
    .command('list')
    .description("list the access tokens of every workspace you can read, your teammates' too (id, name, scope, workspace, created, last used, expiry, status: active, expired, revoked, or stale after a key rotation or once the creator left; who created it); never the secret")
    .option('--workspace <workspace>', 'only the tokens of this workspace (name, id or unique id prefix)')
    .action(action('token-list'));
  token
    .command('revoke')
    .description("revoke an access token; refused from its next request on. Yours, or as a team owner or admin anyone's (a member revoking another's: exit 4)")
    .argument('<id>', 'token id or unique prefix (≥ 6 characters) from `token list`')
    .action(action('token-revoke'));

  const team = program
    .command('team')
    .description('teams: create, list, members, invite, accept, confirm (fingerprint check), role; remove (rotates the key; withdraws a pending invitation), leave (an owner or admin then runs rotate), rotate; delete');
  team.command('create').description('create a team; you become its owner').argument('<name>', 'team name').action(action('team-create'));
  team.command('list').description('your teams, your role in each, key epoch').action(action('team-list'));
  team
    .command('members')
    .description('members with role, status and key fingerprint; open invitations (owners and admins)')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .action(action('team-members'));
  team
    .command('invite')
    .description('mail an invite code to each address; a malformed address is reported and the rest still go out (exit 1 if any failed)')
    .argument('[emails...]', 'addresses; - reads them from standard input, one a line')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .addOption(new Option('--role <role>', 'admin only by an owner (default member)').choices(['member', 'admin']))
    .option('--from-file <file>', 'read addresses from FILE, one a line (- for standard input)')
    .action(action('team-invite'));
  team
    .command('accept')
    .description("join a team with the invite code from your mail (only with the invited address's account); an expired code exits 4, a used, withdrawn or unknown one 5")
    .argument('<code>', 'the invite code')
    .action(action('team-accept'));
  team
    .command('confirm')
    .description("check a member's key fingerprint and seal the team key to them; until then they read nothing")
    .argument('[email]', 'the member to confirm')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .option('--all', 'confirm every accepted member (asks about each fingerprint on a terminal)')
    .option('--fingerprint <fp>', 'the fingerprint the member read out (scripts); a mismatch refuses with exit 7, nothing sealed; for a confirmed member, records it for key rotations')
    .action(action('team-confirm'));
  team
    .command('remove')
    .description('remove a member and rotate the team key (not for one never confirmed: they held no key); they are refused at once (asks first; --yes skips that and trusts the server\'s copy of keys never checked on this machine); for an address only invited, withdraw the invitation: its code stops working, no key changes')
    .argument('<email>', 'the member to remove, or the invited address')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .action(action('team-remove'));
  team
    .command('role')
    .description("change a member's role: owner, admin or member (owners only); only a confirmed member becomes owner, and a team keeps a confirmed owner")
    .argument('<email>', 'the member')
    .addArgument(new Argument('<role>', 'the new role').choices(['owner', 'admin', 'member']))
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .action(action('team-role'));
  team
    .command('leave')
    .description('leave a team (asks first; --yes to skip); an owner or admin then rotates its key')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .action(action('team-leave'));
  team
    .command('rotate')
    .description('make a new team key and new workspace keys (needed after a member left; owners and admins); seals only to fingerprints checked on this machine, asks about others (--yes trusts the server\'s copy)')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .action(action('team-rotate'));
  team
    .command('delete')
    .description('delete a team with all its workspaces and their history, for every member (owners only; not your personal team); says what goes, then asks you to type the team name (--yes to skip)')
    .requiredOption('--team <team>', 'team name, id or id prefix')
    .action(action('team-delete'));

  program
    .command('export')
    .description('write a decrypted copy of a workspace, readable without this tool: a folder, NAME.tar.gz, or with --encrypt NAME.tar.gz.age for `age -d`')
    .requiredOption('--out <path>', 'a new or empty folder (not the current one), or NAME.tar.gz (NAME.tar.gz.age with --encrypt); not inside a linked folder')
    .option('--workspace <workspace>', 'workspace name, id or unique id prefix (≥ 4 characters; default: the linked folder)')
    .option('--snapshot <snapshot>', 'snapshot id or unique prefix (default: the newest)')
    .option('--encrypt', 'age-encrypt the archive with a passphrase (prompt, --password-stdin or INSOMNIA_SYNC_EXPORT_PASSPHRASE); no plaintext is written to disk')
    .action(action('export'));

  const account = program.command('account').description('your account: what the server holds, sessions, password, recovery key, export, deletion');
  account.command('show').description('every piece of service data the server holds about you (nothing secret)').action(action('account-show'));
  account
    .command('export')
    .description('service data plus every workspace you can read, decrypted, in one .tar.gz (or .tar.gz.age with --encrypt)')
    .requiredOption('--out <file>', 'the archive to write, NAME.tar.gz (never overwritten; not inside a linked folder)')
    .option('--encrypt', 'age-encrypt the archive with a passphrase (prompt, --password-stdin or INSOMNIA_SYNC_EXPORT_PASSPHRASE); no plaintext is written to disk')
    .action(action('account-export'));
  account
    .command('verify')
    .description('confirm your email address with the code from the activation mail (--resend mails a new one)')
    .argument('[code]', 'the verification code')
    .option('--resend', 'mail a new code; the old one stops working')
    .action(action('account-verify'));
  account
    .command('password')
    .description('change your password: re-wraps your account key (no data is re-encrypted) and signs out every session (this machine gets a new one)')
    .action(action('account-password'));
  account
    .command('sessions')
    .description('list your live sessions (IP, client, last seen); --revoke ends one')
    .option('--revoke <id>', 'session id or unique prefix (≥ 6 characters)')
    .action(action('account-sessions'));
  account
    .command('recovery-key')
    .description('create a recovery key (shown once) that can set a new password without losing data; replacing an earlier one asks first (--yes)')
    .action(action('account-recovery-key'));
  account
    .command('recover')
    .description('set a new password with your recovery key (prompt, or --password-stdin: key, then new password)')
    .requiredOption('--email <email>', 'your email address')
    .action(action('account-recover'));
  account
    .command('delete')
    .description('delete your account for good: asks for your password and your email (or --yes); wipes local keys')
    .action(action('account-delete'));

  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh', 'fish']))
    .addHelpText('after', '\nExamples:\n  source <(insomnia-sync completion bash)\n  insomnia-sync completion fish > ~/.config/fish/completions/insomnia-sync.fish')
    .action(action('completion'));

  // An empty value is refused before any command runs, here for every option and argument at once:
  // `restore S --to ""` must not mean "in place", nor `export --out ""` the current folder.
  // commands test values for truth: an empty one would be taken for one not given, and the command
  // would act somewhere the user never named (the linked folder, the current folder, the default team)
  program.hook('preAction', (_program, actionCommand) => refuseEmptyValues(actionCommand, { exitCode: 2, allowed: (o) => EMPTY_MEANS_DEFAULT.has(o) }));

  // `help [COMMAND...]` at every level, as the server's (shared/commander-errors.ts): `help team
  // confirm` and `team help confirm` show confirm's help; an unknown word is one usage error.
  addHelpCommand(program, 'team confirm');
  for (const group of program.commands.filter((c) => c.commands.length > 0)) addHelpCommand(group, group.commands[0]!.name());

  return program;
}

/**
 * Options whose empty value is documented to mean the default, where that is harmless: `signup
 * --name ""` names you after your email, as the man page says. Every other one is refused
 * (refuseEmptyValues).
 */
const EMPTY_MEANS_DEFAULT = new WeakSet<Option>();

function emptyMeansDefault(option: Option): Option {
  EMPTY_MEANS_DEFAULT.add(option);
  return option;
}

