/** Builds the ClientContext for one CLI invocation from global options and the environment. */
import { isIPv4 } from 'node:net';
import os from 'node:os';
import type { ClientContext } from '../client/context.js';
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
  let cancel: { controller: AbortController; off: () => void } | null = null;
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
    }),
    progress: out.progress(),
    // Argon2id in a worker thread, so the spinner keeps turning while a password is stretched.
    primitives: { ...nodePrimitives, argon2id: argon2idInWorker },
    clientLabel,
    api(server: string, token?: string): ApiClient {
      const key = `${server}\u0000${token ?? ''}`;
      let client = clients.get(key);
      if (!client) {
        client = new ApiClient({ baseUrl: server, ...(token ? { token } : {}), userAgent: clientLabel });
        clients.set(key, client);
        warnIfCleartext(server, out);
      }
      return client;
    },
    cancellation() {
      if (cancel === null) {
        const controller = new AbortController();
        // A second Ctrl-C (or SIGTERM) ends the command at once, and a hangup (the terminal closed:
        // nobody to tell, and writing to it may fail) at the first: either way, what the command
        // wrote so far (a partial archive, a staging folder) is removed first, synchronously.
        const now = (): void => {
          takeBackAll();
          process.exit(EXIT.cancelled);
        };
        const onSignal = (): void => {
          if (controller.signal.aborted) now();
          controller.abort(new CancelledError());
        };
        process.on('SIGINT', onSignal).on('SIGTERM', onSignal).on('SIGHUP', now).on('exit', takeBackAll);
        cancel = { controller, off: () => process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('SIGHUP', now).off('exit', takeBackAll) };
      }
      return cancel.controller.signal;
    },
    async close() {
      cancel?.off();
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
}
