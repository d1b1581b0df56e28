import type { ClientContext } from '../../client/context.js';
import { SyncError, UsageError } from '../../client/errors.js';
import { DEFAULT_TOKEN_EXPIRY, createToken, parseExpiry, revokeToken } from '../../client/services/tokens.js';
import type { Output } from '../output.js';
import { quoted, shown, shownMinute } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  // The token is shown once; --quiet would throw it away after creating it.
  if (out.quiet && !out.json) throw new UsageError('--quiet would hide the token, which is shown only once', 'drop --quiet, or use --json');
  const expiresInMs = parseExpiry((opts.expires as string | undefined) ?? DEFAULT_TOKEN_EXPIRY);
  const res = await createToken(ctx, {
    workspace: opts.workspace as string,
    readOnly: Boolean(opts.readOnly),
    expiresInMs,
    ...(opts.name !== undefined ? { name: opts.name as string } : {}),
  });
  out.note(
    `Created ${res.scope === 'read' ? 'read-only' : 'read-write'} token ${res.id.slice(0, 12)} ${quoted(res.name)} for ${shown(res.workspace)}` +
      `, ${res.expiresAt ? `expires ${shownMinute(res.expiresAt)}` : 'never expires'}.`,
  );
  out.warn('this is the only time the token is shown: store it as a secret (e.g. INSOMNIA_SYNC_TOKEN in your CI).');
  // stdout carries the token alone, so `TOKEN=$(insomnia-sync token create …)` captures exactly it
  if (await out.resultDelivered(res, () => res.token)) return;
  // Nobody holds the token (`token create | true`): a live credential no one can use or name is
  // only a risk, so it goes, and the command fails.
  const lost = 'the token could not be written to standard output (its reader had closed it)';
  const retry = 'run `insomnia-sync token create` again with its output kept, e.g. TOKEN=$(insomnia-sync token create …)';
  try {
    await revokeToken(ctx, { id: res.id });
  } catch (err) {
    throw new SyncError('output_lost', `${lost}, and revoking it failed: ${(err as Error).message}`, `revoke it with \`insomnia-sync token revoke ${res.id.slice(0, 12)}\`; then ${retry}`);
  }
  throw new SyncError('output_lost', `${lost}, so it was revoked`, retry);
}
