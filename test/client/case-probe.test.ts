/**
 * The question to the file system (do these two names that differ only in case name one file
 * here?) and the refusal built on it. CI has only case-sensitive file systems, so the real probe
 * is checked for its "no" there, for "yes" where the two names are one name, and for leaving
 * nothing behind; what a Mac answers is injected.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caseRenames, fileSystemProbe, refuseCaseCollisions, sameNameThere, type CaseProbe } from '../../src/client/local/case-probe.js';
import { ConflictError } from '../../src/client/errors.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'case-probe-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A probe that answers `answer` and records what it was asked. */
function recording(answer: boolean): CaseProbe & { asked: [string, string, string][] } {
  const asked: [string, string, string][] = [];
  return Object.assign((d: string, a: string, b: string) => (asked.push([d, a, b]), answer), { asked });
}

describe('fileSystemProbe', () => {
  it('answers no for A.yaml and a.yaml on a case-sensitive file system, and leaves nothing behind', () => {
    expect(fileSystemProbe(dir, 'A.yaml', 'a.yaml')).toBe(false);
    expect(fileSystemProbe(dir, 'Straße', 'STRASSE')).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('answers yes where the two names are one name (same inode), and leaves nothing behind', () => {
    expect(fileSystemProbe(dir, 'a.yaml', 'a.yaml')).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('asks about a/A when a name is too long for the probe prefix', () => {
    const long = 'x'.repeat(250);
    expect(fileSystemProbe(dir, long, long.toUpperCase())).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('answers no in a folder it cannot write in (the command then fails there as before)', () => {
    expect(fileSystemProbe(path.join(dir, 'missing'), 'A', 'a')).toBe(false);
  });
});

describe('sameNameThere', () => {
  it('asks about the first segment that differs, in the deepest folder that exists', () => {
    mkdirSync(path.join(dir, 'top', 'Sub'), { recursive: true });
    const probe = recording(true);
    expect(sameNameThere(dir, 'top/Sub/A.yaml', 'top/Sub/a.yaml', probe)).toBe(true);
    expect(sameNameThere(dir, 'top/New/x', 'top/new/x', probe)).toBe(true);
    expect(sameNameThere(dir, 'top/Sub/deeper/A', 'top/Sub/deeper/a', probe)).toBe(true);
    expect(probe.asked).toEqual([
      [path.join(dir, 'top', 'Sub'), 'A.yaml', 'a.yaml'],
      [path.join(dir, 'top'), 'New', 'new'],
      // top/Sub/deeper is not there yet: it would be made in top/Sub
      [path.join(dir, 'top', 'Sub'), 'A', 'a'],
    ]);
  });

  it('never asks about names that do not fold together', () => {
    const probe = recording(true);
    expect(sameNameThere(dir, 'a.yaml', 'b.yaml', probe)).toBe(false);
    expect(probe.asked).toEqual([]);
  });
});

describe('refuseCaseCollisions', () => {
  it('asks nothing when there is no group', () => {
    const probe = recording(true);
    refuseCaseCollisions(dir, [], probe, 'clone');
    expect(probe.asked).toEqual([]);
  });

  it('lets a pair through where the file system tells them apart', () => {
    expect(() => refuseCaseCollisions(dir, [['A.yaml', 'a.yaml']], recording(false), 'clone')).not.toThrow();
  });

  it('refuses with exit 3 naming the pairs where the file system takes them for one', () => {
    let err: unknown;
    try {
      refuseCaseCollisions(dir, [['A.yaml', 'a.yaml'], ['Dir', 'dir']], recording(true), 'clone');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConflictError);
    const c = err as ConflictError;
    expect(c.message).toBe('clone would write names that differ only in case, which the file system here takes for one: A.yaml and a.yaml; Dir and dir; nothing was written');
    expect(c.hint).toBe('rename one of each on a machine that tells them apart (Linux) and push, then run clone again');
    expect(c.details).toEqual({ caseCollisions: [['A.yaml', 'a.yaml'], ['Dir', 'dir']] });
  });
});

describe('caseRenames', () => {
  it('finds a new name written where the pull deletes the old spelling, where they are one name', () => {
    expect(caseRenames(dir, ['a.yaml', 'dir/x', 'other'], ['A.yaml', 'Dir/x'], recording(true))).toEqual(['a.yaml', 'dir/x']);
    expect(caseRenames(dir, ['a.yaml'], ['A.yaml'], recording(false))).toEqual([]);
  });

  it('asks nothing without deletes', () => {
    const probe = recording(true);
    expect(caseRenames(dir, ['a.yaml'], [], probe)).toEqual([]);
    expect(probe.asked).toEqual([]);
  });
});
