/** caseCollisions: names that differ only in case within one folder, files and folders, any depth. */
import { describe, expect, it } from 'vitest';
import { caseCollisions, caseFold, collisionText, foldedNames } from '../../src/sync/case-fold.js';

describe('caseFold', () => {
  it.each([
    ['A.yaml', 'a.yaml'],
    ['README.MD', 'readme.md'],
    // Unicode case folding (macOS) joins these …
    ['Straße', 'STRASSE'],
    ['ẞ', 'ß'],
    ['ﬁle', 'FILE'],
    // … and Windows' upper-casing these
    ['ı', 'i'],
    ['aς', 'aσ'],
    ['Å', 'å'],
  ])('%s and %s fold to one key', (a, b) => {
    expect(caseFold(a)).toBe(caseFold(b));
  });

  it.each([
    ['a.yaml', 'b.yaml'],
    ['é', 'e'],
    ['a', 'a '],
  ])('%s and %s do not', (a, b) => {
    expect(caseFold(a)).not.toBe(caseFold(b));
  });
});

describe('caseCollisions', () => {
  it('finds none where no two names fold together (the usual case)', () => {
    expect(caseCollisions(['a.yaml', 'b.yaml', 'dir/a.yaml', 'dir/sub/A.json', 'other/a.yaml'])).toEqual([]);
    expect(caseCollisions([])).toEqual([]);
  });

  it('finds two files of one folder', () => {
    expect(caseCollisions(['A.yaml', 'a.yaml', 'b.yaml'])).toEqual([['A.yaml', 'a.yaml']]);
    expect(caseCollisions(['x/y/Env.json', 'x/y/ENV.json', 'x/y/other.json'])).toEqual([['x/y/ENV.json', 'x/y/Env.json']]);
  });

  it('does not take the same name in two folders for a collision', () => {
    expect(caseCollisions(['one/a.yaml', 'two/A.yaml'])).toEqual([]);
  });

  it('finds two folders once, not again for the files in them', () => {
    expect(caseCollisions(['Dir/a.yaml', 'dir/a.yaml', 'dir/b.yaml'])).toEqual([['Dir', 'dir']]);
    expect(caseCollisions(['top/Dir/x', 'top/dir/y'])).toEqual([['top/Dir', 'top/dir']]);
  });

  it('finds a file and a folder whose names differ only in case', () => {
    expect(caseCollisions(['readme', 'README/part.md'])).toEqual([['README', 'readme']]);
  });

  it('groups three names together and sorts the groups', () => {
    expect(caseCollisions(['z/Q', 'z/q', 'b', 'B', 'ẞ', 'ß', 'SS'])).toEqual([
      ['B', 'b'],
      ['SS', 'ß', 'ẞ'],
      ['z/Q', 'z/q'],
    ]);
  });

  it('takes paths in any order and repeats', () => {
    expect(caseCollisions(['a/x', 'B/y', 'a/x', 'b/z', 'a/y'])).toEqual([['B', 'b']]);
  });

  it('stays cheap for 10,000 paths', () => {
    const paths = Array.from({ length: 10_000 }, (_, i) => `folder-${i % 50}/sub-${i % 7}/request-${i}.yaml`).sort();
    const t0 = performance.now();
    expect(caseCollisions(paths)).toEqual([]);
    // a few ms on a laptop; generous for a loaded CI machine
    expect(performance.now() - t0).toBeLessThan(200);
  });
});

describe('collisionText', () => {
  it('lists the first few groups on one line', () => {
    expect(collisionText([['A.yaml', 'a.yaml']])).toBe('A.yaml and a.yaml');
    expect(collisionText([['X', 'x', 'ẋ']])).toBe('X, x and ẋ');
    expect(collisionText([['A', 'a'], ['B', 'b'], ['C', 'c'], ['D', 'd']], 2)).toBe('A and a; B and b (and 2 more)');
  });
});

describe('foldedNames', () => {
  it('finds a name spelt otherwise only where sameName says so, folding the paths at the first question', () => {
    let folded = 0;
    const paths = (): string[] => {
      folded++;
      return ['a/Notes.yaml', 'ß.json'];
    };
    const asked: string[] = [];
    const names = foldedNames(paths, (a, b) => {
      asked.push(`${a}|${b}`);
      return b !== 'ß.json';
    });
    names.add('Early.json'); // before the first question: kept for it
    expect(folded).toBe(0);
    expect(names.alike('early.json')).toBe(true);
    expect(names.alike('a/notes.YAML')).toBe(true);
    expect(names.alike('a/Notes.yaml')).toBe(false); // the same name: not another spelling
    expect(names.alike('SS.json')).toBe(false); // folds alike, but this file system keeps them apart
    expect(names.alike('b/notes.yaml')).toBe(false);
    expect(asked).toEqual(['early.json|Early.json', 'a/notes.YAML|a/Notes.yaml', 'SS.json|ß.json']);
    names.add('X.conflict');
    expect(names.alike('x.conflict')).toBe(true);
    expect(folded).toBe(1);
  });
});
