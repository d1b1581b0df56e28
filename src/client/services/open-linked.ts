/**
 * Opening a linked folder: its link, and the principal that talks to its server — the
 * login session, or the access token when INSOMNIA_SYNC_TOKEN is set. Kept apart from linked.ts so
 * that a push with nothing to do loads no crypto beyond what it uses (the token code is loaded only
 * when a token is given).
 */
import path from 'node:path';
import type { ClientContext } from '../context.js';
import { checkProfileName, DEFAULT_PROFILE } from '../config.js';
import { AuthError, SyncError, UsageError } from '../errors.js';
import { requireLinkedFolder, stateDir, type LinkedFolder } from '../local/link.js';
import { normalizeUrl, requireSession } from '../session.js';
import type { SyncPrincipal } from '../token-session.js';

export interface LinkedContext {
  folder: LinkedFolder;
  /** the login session, or the access token when INSOMNIA_SYNC_TOKEN is set */
  session: SyncPrincipal;
}

/**
 * The folder and its principal. The index is read by each command in its own way, and by those
 * that write it only once they hold the folder's lock (folder-lock.ts).
 */
export async function openLinkedFolder(ctx: ClientContext, notLinkedHint?: string): Promise<LinkedContext> {
  const folder = requireLinkedFolder(ctx.cwd, notLinkedHint);
  const server = linkedServer(ctx, folder);
  const token = ctx.accessToken === undefined ? null : (await import('../token-session.js')).openTokenSession(ctx, server);
  // An access token is its own identity: no profile's session is read, so none is checked.
  const session = token ?? requireSession(withLinkedProfile(ctx, folder), server, folder.root);
  // its hints name the link, not --server or INSOMNIA_SYNC_SERVER, which do not move this folder
  session.api.serverSource = { linked: true };
  return { folder, session };
}

/** The not-linked hint of a command that takes `--workspace W` (export, verify): not `init`, which would make a new, empty one. */
export const NAME_A_WORKSPACE_HINT = 'give --workspace W (see `insomnia-sync workspace list`), or run it in a linked folder';

/**
 * The server a linked folder talks to: the one recorded in its link, as its profile is. It wins
 * over INSOMNIA_SYNC_SERVER (set for a whole shell or CI job, it names where new links go, not
 * where this one went); a --server naming another server is refused (exit 2) rather than guessed
 * between, as an explicit --profile that differs is.
 */
export function linkedServer(ctx: ClientContext, folder: LinkedFolder): string {
  const linked = normalizeUrl(folder.link.server);
  if (ctx.serverSource === 'flag' && ctx.serverOverride !== undefined && normalizeUrl(ctx.serverOverride) !== linked) {
    throw new UsageError(
      `this folder is linked to ${linked}, not ${normalizeUrl(ctx.serverOverride)}`,
      `drop --server to use ${linked}, or clone the workspace again with --server ${normalizeUrl(ctx.serverOverride)}`,
    );
  }
  return linked;
}

/**
 * The context of the profile that linked the folder, as the server recorded in the link is used:
 * another profile's session would sign snapshots as another account, or not see the workspace at
 * all. A profile named explicitly (--profile, INSOMNIA_SYNC_PROFILE) that differs is refused rather
 * than guessed between. Links written before the profile was recorded mean the default profile.
 */
export function withLinkedProfile(ctx: ClientContext, folder: LinkedFolder): ClientContext {
  const linked = linkedProfile(folder);
  if (linked === ctx.profile) return ctx;
  if (ctx.profileExplicit) {
    throw new UsageError(
      `this folder is linked with profile "${linked}", not "${ctx.profile}"`,
      `drop --profile and INSOMNIA_SYNC_PROFILE to use "${linked}", or clone the workspace again with --profile ${ctx.profile}`,
    );
  }
  const secrets = ctx.secrets.forProfile(linked);
  if (secrets.read() === null) {
    throw new AuthError(
      `not logged in with profile "${linked}", which this folder is linked with`,
      `run \`insomnia-sync --profile ${linked} login --email EMAIL\``,
      'not_logged_in',
    );
  }
  return { ...ctx, profile: linked, secrets };
}

function linkedProfile(folder: LinkedFolder): string {
  const recorded: unknown = (folder.link as { profile?: unknown }).profile;
  if (recorded === undefined || recorded === null) return DEFAULT_PROFILE;
  // It names a file under the config dir: a link from someone else's archive must not reach outside it.
  try {
    if (typeof recorded !== 'string') throw new Error('not a string');
    return checkProfileName(recorded);
  } catch {
    throw new SyncError(
      'bad_state',
      `${path.join(stateDir(folder.root), 'link.json')} names an invalid profile`,
      'fix its "profile" field, or remove the .insomnia-sync folder and clone the workspace again',
    );
  }
}
