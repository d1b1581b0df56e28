/**
 * Opening a linked folder: its link and index, and the principal that talks to its server — the
 * login session, or the access token when INSOMNIA_SYNC_TOKEN is set. Kept apart from linked.ts so
 * that a push with nothing to do loads no crypto beyond what it uses (the token code is loaded only
 * when a token is given).
 */
import type { ClientContext } from '../context.js';
import { readIndexColumns, requireLinkedFolder, type LinkedFolder } from '../local/link.js';
import { requireSession } from '../session.js';
import type { IndexColumns } from '../../sync/index-format.js';
import type { SyncPrincipal } from '../token-session.js';

export interface LinkedContext {
  folder: LinkedFolder;
  /** the login session, or the access token when INSOMNIA_SYNC_TOKEN is set */
  session: SyncPrincipal;
  index: IndexColumns;
}

export async function openLinked(ctx: ClientContext): Promise<LinkedContext> {
  const { folder, session } = await openLinkedFolder(ctx);
  return { folder, session, index: readIndexColumns(folder.root) };
}

/** openLinked without reading the index, for commands that read it in their own way. */
export async function openLinkedFolder(ctx: ClientContext): Promise<Omit<LinkedContext, 'index'>> {
  const folder = requireLinkedFolder(ctx.cwd);
  const server = ctx.serverOverride ?? folder.link.server;
  const token = ctx.accessToken === undefined ? null : (await import('../token-session.js')).openTokenSession(ctx, server);
  const session = token ?? requireSession(ctx, server);
  return { folder, session };
}
