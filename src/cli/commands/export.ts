import type { ClientContext } from '../../client/context.js';
import { exportWorkspace } from '../../client/services/export.js';
import type { Output } from '../output.js';
import { caseProbeFor } from '../../client/local/case-probe.js';
import { shown } from '../shown-text.js';
import { warnLeftOut } from '../left-out.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const passphrase = process.env.INSOMNIA_SYNC_EXPORT_PASSPHRASE;
  const res = await exportWorkspace(ctx, {
    out: opts.out as string,
    ...(opts.workspace ? { workspace: opts.workspace as string } : {}),
    ...(opts.snapshot ? { snapshot: opts.snapshot as string } : {}),
    encrypt: Boolean(opts.encrypt),
    ...(passphrase ? { passphrase } : {}),
    caseProbe: caseProbeFor(process.env),
  });
  out.result(res, () => [
    `${out.green('✓')} Exported ${out.bold(shown(res.name))} ${res.snapshot ? `at ${res.snapshot.slice(0, 12)}` : '(empty)'}: ${res.files} file(s), ${res.bytes} bytes`,
    `  ${res.out}`,
    ...(res.format === 'tar.gz.age' ? [out.dim('  decrypt with: age -d -o export.tar.gz ' + JSON.stringify(res.out))] : []),
    ...(res.format === 'dir' ? [] : [out.dim('  the archive holds your files in plain form once decrypted: keep it safe')]),
  ]);
  warnLeftOut(out, res.leftOut);
}
