/**
 * Which files of the workspace folder are not synced: the user's `.insomnia-syncignore`
 * (gitignore syntax, parsed by the `ignore` package, which follows git's rules: negation, folder
 * patterns, anchoring, `**`) plus built-in rules the user cannot switch off:
 *
 *  - `.insomnia-sync/` at any depth: the link to the remote with the session, keys and index.
 *    Pushing it would upload local secrets and let a remote manifest overwrite local state.
 *  - `NAME.conflict` and `NAME.conflict-N` (files, and folders made for file/folder clashes):
 *    the remote copies that `pull` writes beside conflicting files. They must stay local until
 *    the user resolves the conflict; pushing them would hand every teammate conflict copies of
 *    conflict copies. The price: a user file with such a name is never synced.
 *
 * Matching is case-sensitive (git's default on Linux) so that every machine sharing a workspace
 * ignores the same files, and both patterns and paths are compared in Unicode NFC.
 */
import ignore from 'ignore';
import { builtinIgnored } from './ignore-builtin.js';

export { IGNORE_FILE, builtinIgnored, isConflictCopyPath } from './ignore-builtin.js';

/**
 * Builds the matcher for a workspace. `relPath` is workspace-relative with '/' separators;
 * `isDir` says whether it names a folder (patterns ending in '/' only match folders). A path
 * inside an ignored folder is ignored too, as in git.
 */
export function createIgnoreMatcher(ignoreFileText: string | null): (relPath: string, isDir: boolean) => boolean {
  if (ignoreFileText === null || ignoreFileText.trim() === '') return builtinIgnored;
  const ig = ignore({ ignorecase: false });
  ig.add(ignoreFileText.normalize('NFC'));
  return (relPath: string, isDir: boolean): boolean => {
    if (builtinIgnored(relPath)) return true;
    const p = relPath.normalize('NFC');
    return ig.ignores(isDir ? `${p}/` : p);
  };
}
