/**
 * The last step of a clone, restore --to and export into a folder: the staged tree's entries
 * moved into place (materialize.ts moveTreeInto), whole where nothing is there, merged into
 * folders made meanwhile, stopped by anything else in the way.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { moveTreeInto } from '../../src/client/local/materialize.js';
import { ConflictError } from '../../src/client/errors.js';
import { tempDir } from '../helpers/cli.js';

function stagedTree(): string {
  const tree = tempDir('isync-tree-');
  mkdirSync(path.join(tree, 'envs', 'prod'), { recursive: true });
  writeFileSync(path.join(tree, 'envs', 'prod', 'a.json'), 'A');
  writeFileSync(path.join(tree, 'envs', 'b.json'), 'B');
  writeFileSync(path.join(tree, 'top.json'), 'T');
  return tree;
}

describe('moving a staged tree into place', () => {
  it('moves each top-level entry whole when nothing is there: a rename per entry, not per file', () => {
    const tree = stagedTree();
    const root = tempDir('isync-root-');
    const moved: string[] = [];
    moveTreeInto(tree, root, '', moved);
    expect(moved.sort()).toEqual(['envs', 'top.json']);
    expect(readFileSync(path.join(root, 'envs', 'prod', 'a.json'), 'utf8')).toBe('A');
    expect(readFileSync(path.join(root, 'top.json'), 'utf8')).toBe('T');
  });

  it('merges into a folder already there, moving what is inside it', () => {
    const tree = stagedTree();
    const root = tempDir('isync-root-');
    mkdirSync(path.join(root, 'envs'));
    writeFileSync(path.join(root, 'envs', 'mine.txt'), 'mine');
    const moved: string[] = [];
    moveTreeInto(tree, root, '', moved);
    expect(moved.sort()).toEqual(['envs/b.json', 'envs/prod', 'top.json']);
    expect(readFileSync(path.join(root, 'envs', 'mine.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(path.join(root, 'envs', 'b.json'), 'utf8')).toBe('B');
  });

  it('a file, or a link, in the way is left as it is and stops the move (exit 3), naming it', () => {
    for (const inTheWay of ['file', 'link'] as const) {
      const tree = stagedTree();
      const root = tempDir('isync-root-');
      const elsewhere = tempDir('isync-elsewhere-');
      mkdirSync(path.join(root, 'envs'));
      if (inTheWay === 'file') writeFileSync(path.join(root, 'envs', 'b.json'), 'theirs');
      else symlinkSync(elsewhere, path.join(root, 'envs', 'prod'));
      const moved: string[] = [];
      expect(() => moveTreeInto(tree, root, '', moved)).toThrow(ConflictError);
      expect(() => moveTreeInto(tree, root, '', [])).toThrow(/^envs\/(b\.json|prod) appeared in .* while the files were downloading$/);
      if (inTheWay === 'file') expect(readFileSync(path.join(root, 'envs', 'b.json'), 'utf8')).toBe('theirs');
      expect(existsSync(path.join(elsewhere, 'a.json'))).toBe(false);
      // what was moved before the stop is listed, for the caller to take back
      expect(moved.every((m) => existsSync(path.join(root, m)))).toBe(true);
    }
  });
});
