/**
 * Whether a folder's file system takes two names that differ only in case for one (macOS,
 * Windows, a casefold folder on Linux), asked of the file system itself, and the refusal of a
 * clone, pull, restore or export that would write such a pair there: one file would silently take
 * the other's place, and the next push would spread the loss (as git warns "the following paths
 * have collided" after the fact; here it is said before anything is written).
 *
 * Only asked when a snapshot holds such names (sync/case-fold.ts, in memory): the usual command
 * makes no system call here.
 */
import { closeSync, fstatSync, lstatSync, openSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { caseFold, collisionText } from '../../sync/case-fold.js';
import { ConflictError } from '../errors.js';

/**
 * Whether the file system of folder `dir` (absolute, existing) takes names `a` and `b` (one
 * segment each) for one. Injectable, so tests can answer for a file system CI does not have.
 */
export type CaseProbe = (dir: string, a: string, b: string) => boolean;

/**
 * Asks the file system about this very pair: creates `PREFIX-a` (a fresh, unlikely name, as
 * new-path.ts's write probe) and lstat()s `PREFIX-b`; the same inode means one name. Asking about
 * the pair, not about `A` and `a`, answers for what differs between file systems (`ß` and `ss`
 * are one name on some, two on others). A name too long for the prefix is asked about as ASCII
 * `a`/`A`. A folder that cannot be written in answers no: the command then fails there as it
 * would have, and only a file system that says yes stops it.
 */
export const fileSystemProbe: CaseProbe = (dir, a, b) => {
  let pair: readonly [string, string] = [a, b];
  for (let attempt = 0; attempt < 5; attempt++) {
    const prefix = `${dir}${path.sep}.insomnia-sync-probe-${Math.random().toString(36).slice(2, 10)}-`;
    let fd: number;
    try {
      fd = openSync(prefix + pair[0], 'wx', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code === 'ENAMETOOLONG' && pair[0] !== 'a') {
        pair = ['a', 'A'];
        continue;
      }
      return false;
    }
    try {
      const made = fstatSync(fd);
      const other = lstatSync(prefix + pair[1], { throwIfNoEntry: false });
      return other !== undefined && other.ino === made.ino && other.dev === made.dev;
    } finally {
      closeSync(fd);
      unlinkSync(prefix + pair[0]);
    }
  }
  return false;
};

/** Every pair folds: what a Mac or Windows folder answers, for the tests (see caseProbeFor). */
const foldsEverything: CaseProbe = () => true;

/**
 * The probe a command uses: the file system's. INSOMNIA_SYNC_TEST_FOLD_CASE=1 is for the test
 * suite only (the man page's ENVIRONMENT says so): CI has no case-insensitive file system, and
 * the end-to-end tests drive the real CLI process, which can be told only through its
 * environment. It can only make a command refuse more, or give a conflict copy the next free
 * name, never write more.
 */
export function caseProbeFor(env: NodeJS.ProcessEnv): CaseProbe {
  return env.INSOMNIA_SYNC_TEST_FOLD_CASE === '1' ? foldsEverything : fileSystemProbe;
}

/**
 * Whether relative paths `a` and `b` (under `root`) would name one file or folder there: at the
 * first segment where they differ, asked in the deepest folder above it that exists (a casefold
 * folder on Linux is one folder, and its new subfolders inherit it). Paths that do not fold to
 * one key are never asked about.
 */
export function sameNameThere(root: string, a: string, b: string, probe: CaseProbe): boolean {
  if (a === b || caseFold(a) !== caseFold(b)) return a === b;
  const sa = a.split('/');
  const sb = b.split('/');
  let i = 0;
  while (i < sa.length - 1 && sa[i] === sb[i]) i++;
  return probe(nearestFolder(root, sa.slice(0, i)), sa[i]!, sb[i]!);
}

function nearestFolder(root: string, segments: string[]): string {
  for (let n = segments.length; n > 0; n--) {
    const abs = `${root}${path.sep}${segments.slice(0, n).join(path.sep)}`;
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (st?.isDirectory()) return abs;
  }
  return root;
}

/**
 * Refuses (exit 3, nothing written) when the file system under `root` takes names of one of
 * `groups` (from caseCollisions) for one. Within a group, the first name is asked about with each
 * other one; the refusal names the pairs that are one name there, and `details.caseCollisions`
 * holds them all. No group: no question asked.
 */
export function refuseCaseCollisions(root: string, groups: readonly string[][], probe: CaseProbe, command: string, nothing = 'nothing was written'): void {
  const colliding: string[][] = [];
  for (const g of groups) {
    const one = g.filter((p, k) => k === 0 || sameNameThere(root, g[0]!, p, probe));
    if (one.length > 1) colliding.push(one);
  }
  if (colliding.length === 0) return;
  throw new ConflictError(
    `${command} would write names that differ only in case, which the file system here takes for one: ${collisionText(colliding)}; ${nothing}`,
    `rename one of each on a machine that tells them apart (Linux) and push, then run ${command} again`,
    { caseCollisions: colliding },
  );
}

/**
 * The new names among `targets` that a pull or restore writes where it deletes a path that differs
 * only in case (`A.yaml` renamed `a.yaml` on Linux), when the file system takes the two for one:
 * until the old file is deleted (applyStaged deletes first), the new name finds it, which the
 * obstacle check would take for a file in the way. No deletes: no work.
 */
export function caseRenames(root: string, targets: Iterable<string>, deletes: readonly string[], probe: CaseProbe): string[] {
  if (deletes.length === 0) return [];
  const byFold = new Map(deletes.map((d) => [caseFold(d), d]));
  const out: string[] = [];
  for (const t of targets) {
    const d = byFold.get(caseFold(t));
    if (d !== undefined && d !== t && sameNameThere(root, t, d, probe)) out.push(t);
  }
  return out;
}
