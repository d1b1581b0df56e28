/** A file list handed to the pure sync logic is not a tree: a path twice, or a file that is also a folder. */
export class TreeError extends Error {
  readonly code = 'bad_tree';
  override readonly name = 'TreeError';
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
