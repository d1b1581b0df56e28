/** What `--snapshot` / `restore SNAPSHOT` says about input that cannot be a snapshot id (exit 2). */
import { describe, expect, it } from 'vitest';
import { findVerifiedSnapshot } from '../../src/client/history.js';
import { UsageError } from '../../src/client/errors.js';

// Refused before the verifier is used: none is needed.
const noVerifier = {} as Parameters<typeof findVerifiedSnapshot>[0];

describe('a snapshot id that cannot be one', () => {
  it.each([
    ['zz12', /zz12 is not a snapshot id: ids are hexadecimal \(0-9, a-f\)/],
    ['12345g', /not a snapshot id: ids are hexadecimal/],
    ['abc', /give at least the first 4 characters/],
    ['a'.repeat(65), /longer than a snapshot id \(64 characters\)/],
  ])('%s: says why', async (given, why) => {
    const err = await findVerifiedSnapshot(noVerifier, null, given).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(why);
  });
});
