/** A file list handed to the pure sync logic is not a tree: a path twice, or a file that is also a folder. */
export class TreeError extends Error {
  readonly code = 'bad_tree';
  override readonly name = 'TreeError';
}

/**
 * No free name for a conflict copy among the first CONFLICT_NAMES_TRIED (sync/paths.ts
 * conflictPathFor): a folder holding that many old copies of one file, or a caller whose `taken`
 * says yes to every name. Exit 1, one line, rather than a search that never ends.
 */
export class NoConflictNameError extends Error {
  readonly code = 'no_conflict_name';
  override readonly name = 'NoConflictNameError';
  readonly hint = 'delete the old conflict copies beside it (NAME.conflict, NAME.conflict-2, …), then run the command again';
}

/**
 * A snapshot in a manifest layout newer than this version knows, whose envelope opened and whose
 * signature and chain link check out: a newer insomnia-sync wrote it. Not an integrity failure,
 * and worth saying so (exit 1, not 7) — once the caller has also found `author` trusted.
 */
export class NewerFormatError extends Error {
  readonly code = 'newer_format';
  override readonly name = 'NewerFormatError';
  readonly hint = 'upgrade insomnia-sync to read it';
  /** who signed it (set by openSnapshot once the signature verified), for the caller's trust check */
  author?: { userId: string; signingKey: string };
}
