import type { ClientContext } from '../../client/context.js';
import { status } from '../../client/services/status.js';
import type { Output } from '../output.js';
import { isLinkedFolderEntry, isUndecodableEntry } from '../../client/local/scan.js';
import { shown } from '../shown-text.js';

const MARK = { added: 'A', modified: 'M', deleted: 'D' } as const;

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await status(ctx);
  out.result(res, () => {
    const lines = [
      `Workspace ${res.workspaceId.slice(0, 12)} at ${res.base ? res.base.slice(0, 12) : '(nothing pushed yet)'}`,
      res.remoteMoved ? out.yellow('The remote has new snapshots: run `insomnia-sync pull`.') : 'The remote has not moved.',
    ];
    if (res.changes.length === 0) lines.push('No local changes.');
    else {
      lines.push(`${res.changes.length} local change(s):`);
      for (const c of res.changes) lines.push(`  ${c.kind === 'deleted' ? out.red(MARK[c.kind]) : out.green(MARK[c.kind])} ${shown(c.path)}`);
    }
    if (res.conflictCopies.length > 0) {
      // As git lists unmerged paths: what a pull wrote beside a conflict stays until it is resolved.
      lines.push(out.yellow(`${res.conflictCopies.length} conflict copy(ies), never pushed: compare, keep what you want, then delete them:`));
      for (const c of res.conflictCopies) lines.push(`  ${out.yellow('C')} ${shown(c)}`);
    }
    for (const s of res.skipped) {
      const why = isLinkedFolderEntry(s) ? 'linked to another workspace' : isUndecodableEntry(s) ? 'name is not valid UTF-8' : 'not a regular file or unsyncable name';
      lines.push(out.dim(`  skipped (${why}): ${shown(s)}`));
    }
    return lines;
  });
}
