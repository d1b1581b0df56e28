/** A file list handed to the pure sync logic is not a tree: a path twice, or a file that is also a folder. */
export class TreeError extends Error {
  readonly code = 'bad_tree';
  override readonly name = 'TreeError';
}

/**
 * Data in a layout newer than this version knows, inside an envelope that opened: a newer
 * insomnia-sync wrote it. Not an integrity failure, and worth saying so (exit 1, not 7).
 */
export class NewerFormatError extends Error {
  readonly code = 'newer_format';
  override readonly name = 'NewerFormatError';
  readonly hint = 'upgrade insomnia-sync to read it';
}
