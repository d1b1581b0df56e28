/**
 * The warning for files of a snapshot inside `.git` that a command did not write (see
 * VerifiedSnapshot.leftOut in client/history.ts): one line naming the git folders they were in.
 */
import type { Output } from './output.js';
import { shown } from './shown-text.js';
import { isGitPath } from '../sync/paths.js';

export function warnLeftOut(out: Output, leftOut: readonly string[]): void {
  if (leftOut.length === 0) return;
  const folders = new Set<string>();
  for (const p of leftOut) {
    // the path up to its first segment that is git's folder, with its '/'
    const parts = p.split('/');
    const at = parts.findIndex((_, i) => isGitPath(parts.slice(0, i + 1).join('/')));
    folders.add(`${parts.slice(0, at + 1).join('/')}${at + 1 < parts.length ? '/' : ''}`);
  }
  const named = [...folders].slice(0, 3).map(shown).join(', ') + (folders.size > 3 ? `, … (${folders.size} in all)` : '');
  out.warn(`left out ${leftOut.length} file(s) of the snapshot inside git's folder (${named}): never synced nor written; the next push drops them from the workspace`);
}
