import type { ClientContext } from '../../client/context.js';
import { UsageError } from '../../client/errors.js';
import { push } from '../../client/services/push.js';
import type { Output } from '../output.js';
import { isLinkedFolderEntry } from '../../client/local/scan.js';
import { newMessageProblem } from '../../sync/manifest-head.js';
import { shown } from '../shown-text.js';

/** How many names a one-line warning lists before "and N more". */
const FIRST_FEW = 3;

/** `names` shown, the first few of them, on one line. */
function firstFew(names: readonly string[]): string {
  const listed = names.slice(0, FIRST_FEW).map(shown).join(', ');
  return names.length > FIRST_FEW ? `${listed} and ${names.length - FIRST_FEW} more` : listed;
}

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
      if (gone > 0) out.warn(`${shown(dir)} is linked to another workspace: its ${gone} file(s) were removed from this one`);
    }
  }
  // Like git's unmerged paths: a pull's conflict copy holds a teammate's version this push leaves
  // out. A warning, not a refusal: the copy is a plain file, and deleting it is how it is resolved.
  if (res.conflictCopies.length > 0) {
    out.warn(`${res.conflictCopies.length} conflict copy(ies) not pushed, their content is only here: ${firstFew(res.conflictCopies)}; keep what you want, then delete them (see \`insomnia-sync status\`)`);
  }
  // Linux keeps A.yaml and a.yaml apart; a Mac or Windows machine would hold one file for both.
  if (res.caseCollisions.length > 0) {
    const pairs = res.caseCollisions.map((g) => g.map(shown).join(' and '));
    const listed = pairs.length > FIRST_FEW ? `${pairs.slice(0, FIRST_FEW).join('; ')} and ${pairs.length - FIRST_FEW} more` : pairs.join('; ');
    out.warn(`names that differ only in case in one folder: ${listed}; a Mac or Windows machine cannot hold both (clone and pull refuse there): rename one`);
  }
  out.result(res, () => {
    if (!res.snapshot) return res.upToDate ? 'Everything up to date.' : 'No local changes to push. The remote has new snapshots: run `insomnia-sync pull`.';
    const mb = (res.uploadedBytes / 1024 / 1024).toFixed(1);
    const pushed = `${out.green('✓')} Pushed snapshot ${out.bold(res.snapshot.slice(0, 12))}: ${res.changes.length} change(s), ${res.files} file(s), uploaded ${res.uploadedBlobs} blob(s) (${mb} MiB)`;
    // The change count is against your last sync; what --force undid on the remote is said apart.
    if (res.replacedSnapshots === 0) return pushed;
    return [
      pushed,
      out.yellow(
        res.replacedSnapshots === null
          ? "It replaced the remote's head, whose history does not hold your last sync; what it had stays in `log`/`restore`."
          : `It replaced ${res.replacedSnapshots} newer snapshot(s) of the remote, undoing their changes; they stay in \`log\`/\`restore\`.`,
      ),
    ];
  });
}
