import type { ClientContext } from '../../client/context.js';
import { listTokens } from '../../client/services/tokens.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

const when = (iso: string | null, none: string): string => (iso ? shownField(typeof iso === 'string' ? iso.replace('T', ' ') : iso, 16) : none);

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await listTokens(ctx, opts.workspace ? { workspace: opts.workspace as string } : {});
  out.result(res, () => {
    if (res.tokens.length === 0) return 'No access tokens. Create one with `insomnia-sync token create --workspace W`.';
    // teammates' tokens are listed too: who made each tells whose CI it is (and who may revoke it)
    // times in UTC, as log and token create say them
    const header = ['ID', 'NAME', 'SCOPE', 'WORKSPACE', 'CREATED (UTC)', 'LAST USED (UTC)', 'EXPIRES (UTC)', 'STATUS', 'CREATED BY'];
    const rows = res.tokens.map((t) => [
      shownField(t.id, 12),
      shown(t.name),
      t.scope === 'read' ? 'read-only' : 'read-write',
      shown(t.workspace),
      when(t.createdAt, '-'),
      when(t.lastUsedAt, 'never'),
      when(t.expiresAt, 'never'),
      t.staleBecause ? `${t.status} (${t.staleBecause === 'key-rotated' ? 'key rotated' : 'creator left'})` : t.status,
      shown(t.createdBy),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    return [out.bold(line(header)), ...rows.map(line)];
  });
}
