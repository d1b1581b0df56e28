import type { ClientContext } from '../../client/context.js';
import { status } from '../../client/services/status.js';
import type { Output } from '../output.js';
import { isLinkedFolderEntry } from '../../client/local/scan.js';

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
      for (const c of res.changes) lines.push(`  ${c.kind === 'deleted' ? out.red(MARK[c.kind]) : out.green(MARK[c.kind])} ${c.path}`);
    }
    for (const s of res.skipped) {
      const why = isLinkedFolderEntry(s) ? 'linked to another workspace' : 'not a regular file or unsyncable name';
      lines.push(out.dim(`  skipped (${why}): ${s}`));
    }
    return lines;
  });
}
