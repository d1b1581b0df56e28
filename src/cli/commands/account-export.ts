import type { ClientContext } from '../../client/context.js';
import { exportAccount } from '../../client/services/export.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const passphrase = process.env.INSOMNIA_SYNC_EXPORT_PASSPHRASE;
  const res = await exportAccount(ctx, { out: opts.out as string, encrypt: Boolean(opts.encrypt), ...(passphrase ? { passphrase } : {}) });
  const skipped = res.workspaces.filter((w) => w.skipped);
  out.result(res, () => [
    `${out.green('✓')} Exported your service data and ${res.workspaces.length - skipped.length} workspace(s) to ${res.out}`,
    ...skipped.map((w) => out.yellow(`  skipped ${w.id.slice(0, 12)}: ${w.skipped}`)),
    out.dim('  the archive holds your files in plain form once decrypted: keep it safe'),
  ]);
}
