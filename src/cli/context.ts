/** Builds the ClientContext for one CLI invocation from global options and the environment. */
import { isIPv4 } from 'node:net';
import os from 'node:os';
import type { ClientContext, LateNotes } from '../client/context.js';
import { ApiClient, checkServerUrl } from '../client/api.js';
import { checkProfileName, configDir, DEFAULT_PROFILE, openConfig, type ConfigStore } from '../client/config.js';
import { SecretStore } from '../client/secrets.js';
import { nodePrimitives } from '../native/primitives-node.js';
import { argon2idInWorker } from '../native/argon2-worker.js';
import { CancelledError, UsageError } from '../client/errors.js';
import { takeBackAll } from '../client/local/take-back.js';
import { EXIT } from './exit-codes.js';
import { CliPrompter } from './prompter.js';
import type { Output } from './output.js';
import { VERSION } from './program.js';

export interface CliContext extends ClientContext {
  close(): Promise<void>;
}

const warned = new Set<string>();

/**
 * Contents are end-to-end encrypted either way, but over plain HTTP a session or token can be
 * stolen on the wire: say so, once per server, unless the server is on this machine.
 */
export function warnIfCleartext(server: string, out: Output): void {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return;
  }
  // 127.x only as an address: a host name like 127.example.com is anywhere.
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || (isIPv4(url.hostname) && url.hostname.startsWith('127.'));
  if (url.protocol !== 'http:' || loopback || warned.has(url.origin)) return;
  warned.add(url.origin);
  out.warn(`${url.origin} is plain HTTP: your files stay encrypted, but your session can be stolen on the way; use https://`);
}

export async function buildContext(opts: Record<string, unknown>, out: Output, env: NodeJS.ProcessEnv = process.env): Promise<CliContext> {
  // An empty INSOMNIA_SYNC_PROFILE counts as unset, as shells make it easy to leave one behind.
  const explicitProfile = (opts.profile as string | undefined) ?? (env.INSOMNIA_SYNC_PROFILE || undefined);
  const profileName = explicitProfile ?? DEFAULT_PROFILE;
  let profile: string;
  try {
    profile = checkProfileName(profileName);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const dir = await configDir(env);
  let config: Promise<ConfigStore> | null = null;
  const clientLabel = `insomnia-sync/${VERSION} (${os.platform()})`;
  const clients = new Map<string, ApiClient>();
  /**
   * The command's graceful Ctrl-C, once it asked for one: `committed` what to say of a Ctrl-C past
   * its point of no return (ClientContext.committing), `late` whether one was heard, `told` whether
   * that was said already, `done` once its work is over (close): a signal then changes nothing.
   */
  let cancel: { controller: AbortController; off: () => void; committed?: LateNotes; late: boolean; told: boolean; done: boolean } | null = null;
  const progress = out.progress();
  const cancelSignal = (): AbortSignal | undefined => cancel?.controller.signal;
  const serverFlag = opts.server as string | undefined;
  const serverOverride = serverFlag ?? env.INSOMNIA_SYNC_SERVER;
  if (serverOverride) {
    try {
      checkServerUrl(serverOverride);
    } catch (err) {
      // named, since a variable set long ago in a shell profile is easy to forget
      if (err instanceof UsageError) throw new UsageError(`${serverFlag !== undefined ? '--server' : 'INSOMNIA_SYNC_SERVER'}: ${err.message}`, err.hint);
      throw err;
    }
  }
  const cancellation = (): AbortSignal => {
    if (cancel === null) {
      const controller = new AbortController();
      // A second Ctrl-C (or SIGTERM) ends the command at once, and a hangup (the terminal closed)
      // at the first: what the command wrote so far (a partial archive, a staging folder) is
      // removed first, synchronously; then one line says so (a hangup's may reach nobody), and
      // past the point of no return what may be left: never a silent 130.
      const now = (): void => {
        takeBackAll();
        progress.stop();
        out.error('cancelled', cancel!.committed?.ended ?? new CancelledError().message);
        process.exit(EXIT.cancelled);
      };
      const onSignal = (): void => {
        const c = cancel!;
        if (c.committed === undefined) {
          if (controller.signal.aborted) now();
          else controller.abort(new CancelledError());
        } else if (c.done) {
          // heard once the work was done (it ran without a break): it stands, and says so
          c.late = true;
        } else if (c.late) now();
        else {
          // past the point of no return the first one no longer cancels: said at once
          c.late = c.told = true;
          progress.stop();
          out.warn(`${c.committed.finishing}; Ctrl-C again stops it at once`);
        }
      };
      // a hangup once the work is done: nobody to tell, nothing left to stop
      const onHangup = (): void => void (cancel!.done || now());
      process.on('SIGINT', onSignal).on('SIGTERM', onSignal).on('SIGHUP', onHangup).on('exit', takeBackAll);
      cancel = {
        controller,
        late: false,
        told: false,
        done: false,
        off: () => process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('SIGHUP', onHangup).off('exit', takeBackAll),
      };
    }
    return cancel.controller.signal;
  };
  const heardCancel = async (): Promise<void> => {
    const signal = cancellation();
    await heardSignals();
    signal.throwIfAborted();
  };
  return {
    cwd: process.cwd(),
    profile,
    profileExplicit: explicitProfile !== undefined,
    ...(serverOverride ? { serverOverride, serverSource: serverFlag ? ('flag' as const) : ('env' as const) } : {}),
    configDir: dir,
    ...(env.INSOMNIA_SYNC_TOKEN ? { accessToken: env.INSOMNIA_SYNC_TOKEN } : env.INSOMNIA_SYNC_TOKEN === '' ? { accessTokenEmpty: true } : {}),
    loadConfig: () => (config ??= openConfig(dir)),
    // a session file others could read is made private, and said so once (private-files.ts)
    secrets: new SecretStore(dir, profile, (message) => out.warn(message)),
    prompter: new CliPrompter({
      passwordStdin: Boolean(opts.passwordStdin),
      yes: Boolean(opts.yes),
      env,
      stdin: process.stdin,
      stderr: process.stderr,
      // a SIGTERM while a cancellable command asks something ends the question, not only the command
      signal: cancelSignal,
    }),
    progress,
    // Argon2id in a worker thread, so the spinner keeps turning while a password is stretched.
    primitives: { ...nodePrimitives, argon2id: argon2idInWorker },
    clientLabel,
    api(server: string, token?: string): ApiClient {
      const key = `${server}\u0000${token ?? ''}`;
      let client = clients.get(key);
      if (!client) {
        // a Ctrl-C that cancels the command tears down whatever request it is waiting for
        client = new ApiClient({ baseUrl: server, ...(token ? { token } : {}), userAgent: clientLabel, signal: cancelSignal });
        clients.set(key, client);
        warnIfCleartext(server, out);
      }
      return client;
    },
    cancellation,
    async committing(notes: LateNotes) {
      await heardCancel();
      cancel!.committed = notes;
    },
    heardCancel,
    async close() {
      if (cancel?.committed !== undefined) {
        // The work is over (done or failed). A Ctrl-C or hangup sent while its last synchronous
        // stretch ran (applying, writing the index) is heard now: it is always told, never
        // sometimes, and never turns what was done into a 130.
        cancel.done = true;
        await heardSignals();
        if (cancel.late && !cancel.told) out.warn(cancel.committed.finished);
      }
      cancel?.off();
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}

/**
 * Lets the event loop run until signals already sent to the process have reached their handlers.
 * A signal is read in the loop's poll phase; from inside an I/O callback (a response just read)
 * one setImmediate runs before the next poll, so it takes two.
 */
function heardSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
