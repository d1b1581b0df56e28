/**
 * The wire protocol's revision (docs/protocol.md §1.1). The server names it in a header on every
 * answer. It changes only with a change one side cannot follow without the other (as binary
 * snapshot frames were), so a different number means the two versions cannot talk, and the client
 * says which side to upgrade instead of failing on an answer it cannot read.
 */
export const PROTOCOL_REVISION = 2;
export const PROTOCOL_REVISION_HEADER = 'insomnia-sync-protocol';

/**
 * Set on an answer given before the request's body was read (the server's upload memory was in
 * use): the request had no effect, so a client may send it again after Retry-After, whatever it was.
 */
export const BODY_NOT_READ_HEADER = 'insomnia-sync-body-not-read';
