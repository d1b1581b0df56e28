import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { push } from '../../client/services/push.js';
import type { Output } from '../output.js';
import { isLinkedFolderEntry } from '../../client/local/scan.js';
import { newMessageProblem } from '../../sync/manifest-head.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  if (typeof opts.message === 'string') {
    // As git: an empty message given on purpose is refused, not silently replaced.
    if (opts.message.trim() === '') throw new UsageError('the snapshot message is empty', 'leave out -m for an automatic one');
    // Refused before any work, not left to the manifest check after the upload (exit 1).
    const problem = newMessageProblem(opts.message);
    if (problem !== null) throw new UsageError(`-m: ${problem}`, 'write the message on one or more plain lines');
  }
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
