/**
 * Everything a service touches outside its own arguments: the API, local config and secrets,
 * prompts and progress. The CLI builds one per invocation (src/cli/context.ts); tests can build
 * their own. Services never print or exit.
 */
import type { Primitives } from '../crypto/primitives.js';
import type { ApiClient } from './api.js';
import type { ConfigStore } from './config.js';
import type { SecretStore } from './secrets.js';

export interface PasswordOptions {
  /** ask a terminal twice */
  confirm?: boolean;
  /** false for anything but the account password: INSOMNIA_SYNC_PASSWORD does not hold it */
  fromEnv?: boolean;
  /** with `fromEnv: false`, the variable the caller itself reads this secret from, for the hint when nothing supplies it */
  otherEnv?: string;
  /**
   * INSOMNIA_SYNC_PASSWORD, when set, before --password-stdin: `account password` takes the current
   * password from it and then the new one from standard input's first line.
   */
  envFirst?: boolean;
  /** the hint when nothing supplies it and there is no terminal, in place of the one naming --password-stdin and the variable */
  noInputHint?: string;
  /** a terminal re-asks a shorter entry at once (the caller still checks one from stdin or the environment) */
  minLength?: number;
  /** a terminal re-asks an entry equal to `value` at once, naming `what` it is (the caller still checks one from stdin) */
  differentFrom?: { value: string; what: string };
}

export interface Prompter {
  /**
   * A secret from --password-stdin (the next line), INSOMNIA_SYNC_PASSWORD (only the account
   * password: pass `fromEnv: false` for anything else; before stdin with `envFirst`) or a hidden
   * prompt; MissingInputError otherwise.
   */
  password(message: string, opts?: PasswordOptions): Promise<string>;
  /**
   * true when --yes, a yes on a terminal; MissingInputError with no terminal and no --yes, whose
   * hint is `noInputHint` when the command has a better way than --yes (team confirm: --fingerprint)
   */
  confirm(message: string, opts?: { noInputHint?: string }): Promise<boolean>;
  /** free text (e.g. a typed name to confirm deletion); MissingInputError with no terminal */
  text(message: string): Promise<string>;
}

export interface Progress {
  start(text: string): void;
  update(text: string): void;
  stop(): void;
}

export const silentProgress: Progress = { start() {}, update() {}, stop() {} };

export interface ClientContext {
  cwd: string;
  profile: string;
  /**
   * Whether --profile or INSOMNIA_SYNC_PROFILE named `profile`. When not, a linked folder's commands
   * use the profile recorded in its link (see services/open-linked.ts).
   */
  profileExplicit?: boolean;
  /** --server or INSOMNIA_SYNC_SERVER, when given */
  serverOverride?: string;
  /**
   * Where serverOverride came from. In a linked folder the folder's server wins over
   * INSOMNIA_SYNC_SERVER, and a --server naming another one is refused (services/open-linked.ts).
   */
  serverSource?: 'flag' | 'env';
  configDir: string;
  /** profile settings (server, email); loaded on demand */
  loadConfig(): Promise<ConfigStore>;
  secrets: SecretStore;
  prompter: Prompter;
  progress: Progress;
  primitives: Primitives;
  /** One API client per server URL for this invocation. */
  api(server: string, token?: string): ApiClient;
  /** a label for the session list: "insomnia-sync/0.1.0 (linux)" */
  clientLabel: string;
  /** INSOMNIA_SYNC_TOKEN: when set, folder commands act as this access token instead of the session */
  accessToken?: string;
  /**
   * INSOMNIA_SYNC_TOKEN set to the empty string: taken as unset (as shells and most tools do), but
   * "not logged in" then says so — a CI secret that does not reach a job (a fork's pull request)
   * arrives empty, and "run login" alone would send the reader the wrong way.
   */
  accessTokenEmpty?: boolean;
  /**
   * Opts the command into a graceful Ctrl-C: from this call on, the first SIGINT or SIGTERM aborts
   * the signal (with a CancelledError as its reason) so the command can take back what it started,
   * and a second one ends the process. Commands that never ask are ended by Ctrl-C at once.
   */
  cancellation?(): AbortSignal;
  /**
   * A cancellable command's point of no return, just before it starts changing what it cannot
   * take back (a folder's files, the remote head). Lets signals already sent be heard, throws the
   * CancelledError if one was (so a Ctrl-C before this moment always cancels); from then on a
   * Ctrl-C no longer cancels: the command finishes and says so (LateNotes). A second one heard
   * before the work is done still ends it at once; one heard only once it is done (the work's
   * last stretch runs without a break) changes nothing but the warning. Opts into
   * cancellation() if the command had not.
   */
  committing?(notes: LateNotes): Promise<void>;
  /**
   * For a cancellable command after a stretch that runs without a break (a scan, an index write):
   * lets signals already sent be heard and throws the CancelledError if one was. Opts into
   * cancellation() if the command had not.
   */
  heardCancel?(): Promise<void>;
}

/** What a command says of a Ctrl-C that comes past its point of no return (ClientContext.committing). */
export interface LateNotes {
  /** a warning as soon as one is heard while the command still works: what it goes on to do */
  finishing: string;
  /** a warning at the end when one was heard only once the work was done */
  finished: string;
  /** the error when a second one (or a hangup) ends the command before its work is done: where that leaves things and what to run */
  ended: string;
}
