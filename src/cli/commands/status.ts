import type { ClientContext } from '../../client/context.js';
import { status, StatusUnreachable, type StatusResult } from '../../client/services/status.js';
import type { Output } from '../output.js';
import { isLinkedFolderEntry, isUndecodableEntry } from '../../client/local/scan.js';
import { shown } from '../shown-text.js';

const MARK = { added: 'A', modified: 'M', deleted: 'D' } as const;

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  let res: StatusResult;
  try {
    res = await status(ctx);
  } catch (err) {
    // The server out of reach: the local part is still said, then the error (exit 6). With --json
    // the error's details hold it.
    if (err instanceof StatusUnreachable && !out.json) {
      const local = err.details;
      out.result(local, () => [
        heading(local),
        out.yellow("The remote's state is unknown: the server cannot be reached."),
        ...(local.compared ? [] : [out.dim('(touched files are listed as modified: comparing their content needs the server)')]),
        ...localLines(out, local),
      ]);
    }
    throw err;
  }
  out.result(res, () => [
    heading(res),
    res.remoteMoved ? out.yellow('The remote has new snapshots: run `insomnia-sync pull`.') : 'The remote has not moved.',
    ...localLines(out, res),
  ]);
}

function heading(res: Pick<StatusResult, 'workspaceId' | 'base'>): string {
  return `Workspace ${res.workspaceId.slice(0, 12)} at ${res.base ? res.base.slice(0, 12) : '(nothing pushed yet)'}`;
}

function localLines(out: Output, res: Pick<StatusResult, 'changes' | 'conflictCopies' | 'skipped'>): string[] {
  const lines: string[] = [];
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
}
