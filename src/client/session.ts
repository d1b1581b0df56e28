/** Turning the stored session into an authenticated API client and unlocked identity. */
import { fromB64 } from '../protocol/encoding.js';
import { serverBaseUrl, type ApiClient } from './api.js';
import type { ClientContext } from './context.js';
import { DEFAULT_PROFILE, DEFAULT_SERVER } from './config.js';
import { AuthError, UsageError } from './errors.js';
import type { SessionSecrets } from './secrets.js';
import { grantTrust, type GrantTrust } from './grant-trust.js';
import { ownIdentity } from './own-keys.js';
import type { Identity } from '../crypto/keys.js';

export interface ActiveSession {
  secrets: SessionSecrets;
  api: ApiClient;
  identity: Identity;
  accountKey: Uint8Array;
  /** whom team keys are taken from (grant-trust.ts) */
  trust: GrantTrust;
}

/** The server for commands that are not bound to a folder: flag/env, else the session's, else the profile's, else the default. */
export async function resolveServer(ctx: ClientContext): Promise<string> {
  return ctx.serverOverride ?? ctx.secrets.read()?.server ?? (await ctx.loadConfig()).getProfile(ctx.profile).server ?? DEFAULT_SERVER;
}

/**
 * A command for a hint, with the profile this one ran under when it is not the default: a hint to
 * `logout` that ends the default profile's session instead of this one's does harm.
 */
export function commandLine(ctx: Pick<ClientContext, 'profile'>, command: string): string {
  return ctx.profile === DEFAULT_PROFILE ? `insomnia-sync ${command}` : `insomnia-sync --profile ${ctx.profile} ${command}`;
}

/**
 * signup, login and `account recover` store a new session in the profile. Over a session of another
 * account (or of another server) that would leave the old session live on the server, and the
 * folders linked under it failing with "workspace not found": refuse before asking anything.
 * Logging in again as the same account (`email`) is fine: it refreshes the session.
 */
export async function refuseOtherAccount(ctx: ClientContext, email: string | null): Promise<void> {
  const current = ctx.secrets.read();
  if (!current) return;
  const sameServer = normalizeUrl(await resolveServer(ctx)) === normalizeUrl(current.server);
  if (sameServer && email !== null && email === current.email) return;
  throw new UsageError(
    `already logged in as ${current.email}${sameServer ? '' : ` on ${current.server}`} on this profile`,
    `run \`${commandLine(ctx, 'logout')}\` first, or use \`--profile NAME\` for a second account`,
  );
}

/**
 * The profile's session, for `server` (a linked folder's, whose root is `linkedRoot`), else the
 * --server or INSOMNIA_SYNC_SERVER given, else the session's own. A session for another server is
 * "not logged in" (exit 4); the hint never says `logout`, which would wipe the keys this profile
 * holds for its own server.
 */
export function requireSession(ctx: ClientContext, server?: string, linkedRoot?: string): ActiveSession {
  const secrets = ctx.secrets.read();
  if (!secrets) {
    const login = `run \`${commandLine(ctx, 'login --email EMAIL')}\` (or \`signup\`)`;
    if (ctx.accessTokenEmpty) {
      throw new AuthError(
        'not logged in, and INSOMNIA_SYNC_TOKEN is set but empty',
        `in CI, check that the token's secret reaches this job (pull requests from forks get none); or ${login}`,
        'not_logged_in',
      );
    }
    throw new AuthError('not logged in', login, 'not_logged_in');
  }
  const target = normalizeUrl(server ?? ctx.serverOverride ?? secrets.server);
  if (target !== normalizeUrl(secrets.server)) {
    const otherProfile = `log in to ${target} with a profile of its own: \`insomnia-sync --profile NAME --server ${target} login --email EMAIL\``;
    if (linkedRoot !== undefined) {
      throw new AuthError(
        `${linkedRoot} is linked to ${target}, but profile "${ctx.profile}" is logged in to ${secrets.server}`,
        `${otherProfile}, then clone the workspace again with that --profile`,
        'not_logged_in',
      );
    }
    const drop = ctx.serverSource === 'env' ? 'unset INSOMNIA_SYNC_SERVER' : 'drop --server';
    throw new AuthError(`not logged in to ${target} (this profile's session is for ${secrets.server})`, `${drop} to use ${secrets.server}, or ${otherProfile}`, 'not_logged_in');
  }
  // The public halves are derived from the secret keys, not read from the session file: a session
  // stored by an older signup may hold the server's reply there, unchecked (own-keys.ts).
  const identity: Identity = ownIdentity(secrets, ctx.primitives);
  const api = ctx.api(secrets.server, secrets.sessionToken);
  // a hint to log in again names this profile and account: `login` alone would fail (no --email) or log in another profile
  api.sessionNames = { command: (command) => commandLine(ctx, command), email: secrets.email };
  const trust = grantTrust({
    configDir: ctx.configDir,
    server: secrets.server,
    userId: secrets.userId,
    identity,
    accountKey: fromB64(secrets.accountKey, 32),
    membersOf: async (teamId) => (await api.teamMembers(teamId)).members,
  });
  return { secrets, api, identity, accountKey: fromB64(secrets.accountKey, 32), trust };
}

export function normalizeUrl(url: string): string {
  try {
    return serverBaseUrl(new URL(url));
  } catch {
    return url;
  }
}
