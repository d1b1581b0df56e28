import type { ClientContext } from '../../client/context.js';
import { exportAccount } from '../../client/services/export.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<number> {
  const passphrase = process.env.INSOMNIA_SYNC_EXPORT_PASSPHRASE;
  const res = await exportAccount(ctx, { out: opts.out as string, encrypt: Boolean(opts.encrypt), ...(passphrase ? { passphrase } : {}) });
  const skipped = res.workspaces.filter((w) => w.skipped);
  // a workspace with no key yet is no failure; one that failed its check, or that a newer version wrote, is
  const failed = skipped.filter((w) => w.skippedCode === 'integrity' || w.skippedCode === 'newer_format');
  const label = (w: (typeof skipped)[number]): string => (w.name ? `${shown(w.name)} (${shownField(w.id, 12)})` : shownField(w.id, 12));
  for (const w of failed) out.warn(`workspace ${label(w)} not exported: ${w.skipped}`);
  out.result(res, () => [
    `${out.green('✓')} Exported your service data and ${res.workspaces.length - skipped.length} workspace(s) to ${res.out}`,
    ...skipped.map((w) => out.yellow(`  skipped ${label(w)}: ${w.skipped}`)),
    out.dim('  the archive holds your files in plain form once decrypted: keep it safe'),
  ]);
  if (failed.length === 0) return EXIT.ok;
  // The rest is exported and the archive says what is missing (account.json), but a script must
  // still see the failure: exit 7 when any workspace failed its check, else 1 (newer format).
  const code = failed.some((w) => w.skippedCode === 'integrity') ? 'integrity' : 'newer_format';
  out.error(
    code,
    `${failed.length} workspace(s) left out of the export (${failed.map(label).join(', ')}); everything else is in ${res.out}`,
    code === 'integrity' ? 'run `insomnia-sync verify --workspace W` on each for details; account.json in the archive lists what was left out and why' : 'upgrade insomnia-sync to export them',
  );
  return exitCodeFor(code);
}
