import { describe, expect, it } from 'vitest';
import {
  comparePaths,
  conflictPathFor,
  findFileDirClash,
  isInternalPath,
  MAX_PATH_BYTES,
  parentDirs,
  PathError,
  validatePath,
} from '../../src/sync/paths.js';

const NFD_CAFE = 'cafe\u0301.json'; // e + combining acute
const NFC_CAFE = 'caf\u00e9.json';

describe('validatePath accepts', () => {
  const good: [input: string, expected: string][] = [
    ['a.json', 'a.json'],
    ['dir/sub/file.yaml', 'dir/sub/file.yaml'],
    ['.insomnia-syncignore', '.insomnia-syncignore'],
    ['.insomnia-sync-old/x', '.insomnia-sync-old/x'],
    ['dir/.insomnia-syncx', 'dir/.insomnia-syncx'],
    ['...', '...'],
    ['a..b/..c', 'a..b/..c'],
    ['with space/and-dash_.txt', 'with space/and-dash_.txt'],
    [NFC_CAFE, NFC_CAFE],
    [NFD_CAFE, NFC_CAFE],
    [`dir/${NFD_CAFE}`, `dir/${NFC_CAFE}`],
    ['日本語/ファイル.json', '日本語/ファイル.json'],
    ['emoji-😀.txt', 'emoji-😀.txt'],
    ['a'.repeat(MAX_PATH_BYTES), 'a'.repeat(MAX_PATH_BYTES)],
    ['é'.repeat(MAX_PATH_BYTES / 2), 'é'.repeat(MAX_PATH_BYTES / 2)],
  ];
  it.each(good)('%j', (input, expected) => {
    expect(validatePath(input)).toBe(expected);
  });
});

describe('validatePath rejects', () => {
  const bad: [why: string, input: string][] = [
    ['empty', ''],
    ['absolute', '/etc/passwd'],
    ['absolute dir', '/a/b'],
    ['dot-dot first', '../x'],
    ['dot-dot middle', 'a/../../x'],
    ['dot-dot last', 'a/..'],
    ['only dot-dot', '..'],
    ['dot segment', './a'],
    ['dot middle', 'a/./b'],
    ['only dot', '.'],
    ['empty segment', 'a//b'],
    ['trailing slash', 'a/'],
    ['backslash', 'a\\b'],
    ['windows traversal', '..\\x'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['escape', 'a\u001b[31m'],
    ['DEL', 'a\u007f'],
    ['C1 control', 'a\u0085'],
    ['lone high surrogate', 'a\ud800'],
    ['lone low surrogate', '\udc00a'],
    ['internal dir itself', '.insomnia-sync'],
    ['inside internal dir', '.insomnia-sync/index.json'],
    ['internal dir nested', 'sub/.insomnia-sync/config'],
    ['internal dir upper case', '.INSOMNIA-SYNC/index.json'],
    ['internal dir mixed case', '.Insomnia-Sync/x'],
    ['internal dir trailing dot (Windows)', '.insomnia-sync./x'],
    ['internal dir trailing space (Windows)', '.insomnia-sync /x'],
    ['internal dir with zero-width joiner (HFS+)', '.insomnia\u200d-sync/x'],
    ['internal dir with BOM', '\ufeff.insomnia-sync/x'],
    ['too long', 'a'.repeat(MAX_PATH_BYTES + 1)],
    ['too long in UTF-8 bytes', 'é'.repeat(MAX_PATH_BYTES / 2 + 1)],
  ];
  it.each(bad)('%s', (_why, input) => {
    let err: unknown;
    try {
      validatePath(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PathError);
    expect((err as PathError).code).toBe('bad_path');
  });

  it('rejects a non-string', () => {
    expect(() => validatePath(42 as unknown as string)).toThrow(PathError);
  });
});

describe('isInternalPath', () => {
  it.each([
    ['.insomnia-sync', true],
    ['.insomnia-sync/index.json', true],
    ['a/.insomnia-sync/b', true],
    ['.INSOMNIA-SYNC', true],
    ['.insomnia-syncignore', false],
    ['insomnia-sync/x', false],
    ['a/b.json', false],
  ] as const)('%s → %s', (p, expected) => {
    expect(isInternalPath(p)).toBe(expected);
  });
});

describe('conflictPathFor', () => {
  it('uses NAME.conflict when free', () => {
    expect(conflictPathFor('a/b.json', () => false)).toBe('a/b.json.conflict');
  });
  it('counts up from -2 while taken', () => {
    const taken = new Set(['a.json.conflict', 'a.json.conflict-2', 'a.json.conflict-3']);
    expect(conflictPathFor('a.json', (p) => taken.has(p))).toBe('a.json.conflict-4');
  });
  it('asks about each candidate in order', () => {
    const asked: string[] = [];
    conflictPathFor('x', (p) => {
      asked.push(p);
      return asked.length < 3;
    });
    expect(asked).toEqual(['x.conflict', 'x.conflict-2', 'x.conflict-3']);
  });
});

describe('helpers', () => {
  it('parentDirs lists proper ancestors', () => {
    expect(parentDirs('a')).toEqual([]);
    expect(parentDirs('a/b/c.json')).toEqual(['a', 'a/b']);
  });
  it('comparePaths orders by code unit', () => {
    expect(['b', 'a/b', 'a', 'a!', 'B'].sort(comparePaths)).toEqual(['B', 'a', 'a!', 'a/b', 'b']);
  });
  it('findFileDirClash finds a file that is also a folder', () => {
    expect(findFileDirClash(['a', 'b/c', 'a!'])).toBeNull();
    expect(findFileDirClash(['x', 'a/b/c', 'a/b'])).toEqual(['a/b', 'a/b/c']);
  });
});
