/**
 * The ignore rules the user cannot switch off (see ignore.ts for why), without the gitignore
 * parser: a folder with no `.insomnia-syncignore` is scanned without loading it.
 */
import { isInternalPath } from './paths.js';

/** Name of the ignore file at the workspace root; it is itself synced, like .gitignore. */
export const IGNORE_FILE = '.insomnia-syncignore';

const CONFLICT_COPY = /\.conflict(?:-[1-9][0-9]*)?$/;

/** True when a path or any folder on it is a conflict copy made by pull. */
export function isConflictCopyPath(relPath: string): boolean {
  for (const segment of relPath.split('/')) if (CONFLICT_COPY.test(segment)) return true;
  return false;
}

export function builtinIgnored(relPath: string, _isDir?: boolean): boolean {
  return isInternalPath(relPath) || isConflictCopyPath(relPath);
}
