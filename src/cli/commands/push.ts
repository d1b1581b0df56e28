import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { push } from '../../client/services/push.js';
import type { Output } from '../output.js';
import { isLinkedFolderEntry } from '../../client/local/scan.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  // As git: an empty message given on purpose is refused, not silently replaced.
  if (typeof opts.message === 'string' && opts.message.trim() === '') throw new UsageError('the snapshot message is empty', 'leave out -m for an automatic one');
  const res = await push(ctx, { ...(opts.message ? { message: opts.message as string } : {}), force: Boolean(opts.force) });
  // A folder moved or copied in with its own link belongs to that workspace: its files, synced
  // here before, were just deleted from this one. Said, since the count alone would not show why.
  if (res.snapshot) {
    for (const dir of res.skipped.filter(isLinkedFolderEntry)) {
      const gone = res.changes.filter((c) => c.kind === 'deleted' && c.path.startsWith(dir)).length;
      if (gone > 0) out.warn(`${dir} is linked to another workspace: its ${gone} file(s) were removed from this one`);
    }
  }
  out.result(res, () => {
    if (!res.snapshot) return res.upToDate ? 'Everything up to date.' : 'No local changes to push. The remote has new snapshots: run `insomnia-sync pull`.';
    const mb = (res.uploadedBytes / 1024 / 1024).toFixed(1);
    return `${out.green('✓')} Pushed snapshot ${out.bold(res.snapshot.slice(0, 12))}: ${res.changes.length} change(s), ${res.files} file(s), uploaded ${res.uploadedBlobs} blob(s) (${mb} MiB)`;
  });
}
