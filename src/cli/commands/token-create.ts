import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { DEFAULT_TOKEN_EXPIRY, createToken, parseExpiry } from '../../client/services/tokens.js';
import type { Output } from '../output.js';

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
    `Created ${res.scope === 'read' ? 'read-only' : 'read-write'} token ${res.id.slice(0, 12)} "${res.name}" for ${res.workspace}` +
      `, ${res.expiresAt ? `expires ${res.expiresAt.replace('T', ' ').slice(0, 16)} UTC` : 'never expires'}.`,
  );
  out.warn('this is the only time the token is shown: store it as a secret (e.g. INSOMNIA_SYNC_TOKEN in your CI).');
  // stdout carries the token alone, so `TOKEN=$(insomnia-sync token create …)` captures exactly it
  out.result(res, () => res.token);
}
