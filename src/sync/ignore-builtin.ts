/**
 * The ignore rules the user cannot switch off (see ignore.ts for why), without the gitignore
 * parser: a folder with no `.insomnia-syncignore` is scanned without loading it.
 */
import { isGitPath, isInternalPath } from './paths.js';

/** Name of the ignore file at the workspace root; it is itself synced, like .gitignore. */
export const IGNORE_FILE = '.insomnia-syncignore';

// `NAME.conflict` or `NAME.conflict-N` as a whole segment: the suffix followed by '/' or the end.
const CONFLICT_COPY = /\.conflict(?:-[1-9][0-9]*)?(?:\/|$)/;

/** True when a path or any folder on it is a conflict copy made by pull. */
export function isConflictCopyPath(relPath: string): boolean {
  return CONFLICT_COPY.test(relPath);
}

// A superset of the built-in rules in one regex, so the usual name (called for every entry of
// the folder walk) costs one native scan: any non-ASCII character (isInternalPath and isGitPath
// must fold it), the internal folder or git's spelt in ASCII in any case (explicit classes: the
// conflict suffix is case-sensitive, so no /i flag), or a conflict-copy suffix.
const MAYBE_BUILTIN =
  /[^\x00-\x7f]|(?:^|\/)\.(?:[Ii][Nn][Ss][Oo][Mm][Nn][Ii][Aa]-[Ss][Yy][Nn][Cc]|[Gg][Ii][Tt])[. ]*(?:\/|$)|\.conflict(?:-[1-9][0-9]*)?(?:\/|$)/;

/**
 * The rules no ignore file can undo: the internal folder, git's folder (`.git`, a folder or the
 * file of a worktree or submodule, at any depth) and conflict copies.
 */
export function builtinIgnored(relPath: string, _isDir?: boolean): boolean {
  if (!MAYBE_BUILTIN.test(relPath)) return false;
  return isConflictCopyPath(relPath) || isInternalPath(relPath) || isGitPath(relPath);
}

/** True when builtinIgnored is false for every one of these names of one folder: one regex scan. */
export function noNameBuiltinIgnored(names: readonly string[]): boolean {
  return !MAYBE_BUILTIN.test(names.join('/'));
}
