/** A file list handed to the pure sync logic is not a tree: a path twice, or a file that is also a folder. */
export class TreeError extends Error {
  readonly code = 'bad_tree';
  override readonly name = 'TreeError';
}
