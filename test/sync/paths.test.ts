import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  areSimpleValidChildren,
  areSimpleValidPaths,
  comparePaths,
  conflictPathFor,
  CONFLICT_NAMES_TRIED,
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
  it('gives up after CONFLICT_NAMES_TRIED names, with one clear error, where every name is taken', () => {
    let asked = 0;
    // says yes to every name; a search that does not stop meets this error instead of hanging the suite
    const all = (): boolean => {
      if (++asked > 5 * CONFLICT_NAMES_TRIED) throw new Error('still searching');
      return true;
    };
    expect(() => conflictPathFor('d/f.json', all)).toThrow(
      expect.objectContaining({ code: 'no_conflict_name', message: `no free name for a conflict copy of d/f.json: d/f.json.conflict to d/f.json.conflict-${CONFLICT_NAMES_TRIED} are all taken` }),
    );
    expect(asked).toBe(CONFLICT_NAMES_TRIED);
    const taken = new Set(Array.from({ length: CONFLICT_NAMES_TRIED - 1 }, (_, i) => (i === 0 ? 'f.conflict' : `f.conflict-${i + 1}`)));
    expect(conflictPathFor('f', (p) => taken.has(p))).toBe(`f.conflict-${CONFLICT_NAMES_TRIED}`);
  });
  it('shortens a name too long for the suffix to 255 bytes, by whole characters, keeping the folder', () => {
    const bytes = (s: string) => Buffer.byteLength(s);
    const long = `d/${'n'.repeat(250)}.json`;
    const copy = conflictPathFor(long, () => false);
    expect(copy.startsWith(`d/${'n'.repeat(200)}`)).toBe(true);
    expect(copy.endsWith('.conflict')).toBe(true);
    expect(bytes(copy.slice(2))).toBe(255);
    // three-byte characters are not cut in half
    const wide = conflictPathFor('€'.repeat(84), (p) => p.endsWith('.conflict'));
    expect(wide.endsWith('.conflict-2')).toBe(true);
    expect(bytes(wide)).toBeLessThanOrEqual(255);
    expect(wide.slice(0, -'.conflict-2'.length)).toBe('€'.repeat(81));
    expect(conflictPathFor('short.json', () => false)).toBe('short.json.conflict');
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

/** The rules written the slow, obvious way, to cross-check the fast paths. */
function reference(p: string): string | null {
  if (p.length === 0 || /[\u0000-\u001f\u007f-\u009f\\]/.test(p)) return null;
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(p)) return null;
  const nfc = p.normalize('NFC');
  if (new TextEncoder().encode(nfc).length > MAX_PATH_BYTES) return null;
  for (const seg of nfc.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return null;
    const folded = seg.replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]/g, '').toLowerCase().replace(/[. ]+$/, '');
    if (folded === '.insomnia-sync') return null;
  }
  return nfc;
}

describe('validatePath agrees with a plain reference on random paths', () => {
  const parts = ['a', 'B', '.', '..', '/', '//', ' ', '-', '\\', '\u0000', '\u001b', 'é', 'e\u0301', '\u200d', '😀', '\ud800',
    '.insomnia-sync', '.Insomnia-Sync', 'insomnia-sync', '.insomnia-sync.', 'x.json', '~', '#', '\u0085'];
  let seed = 12345;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  it('for 20,000 generated paths', () => {
    const asciiValid: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      let p = '';
      const len = 1 + Math.floor(next() * 6);
      for (let i = 0; i < len; i++) p += parts[Math.floor(next() * parts.length)];
      const expected = reference(p);
      let got: string | null;
      try {
        got = validatePath(p);
      } catch (e) {
        expect(e).toBeInstanceOf(PathError);
        got = null;
      }
      expect(got, JSON.stringify(p)).toBe(expected);
      const simple = expected !== null && /^[\x20-\x7e]*$/.test(p);
      expect(areSimpleValidPaths([p]), JSON.stringify(p)).toBe(simple);
      if (simple) asciiValid.push(p);
    }
    expect(asciiValid.length).toBeGreaterThan(500);
    expect(areSimpleValidPaths(asciiValid)).toBe(true);
    expect(areSimpleValidPaths([...asciiValid, 'a/../b'])).toBe(false);
    expect(areSimpleValidPaths(['a', ''])).toBe(false);
    expect(areSimpleValidPaths(['a', '/b'])).toBe(false);
    expect(areSimpleValidPaths(['a/', 'b'])).toBe(false);
    expect(areSimpleValidPaths([])).toBe(true);
  });
});

describe('areSimpleValidChildren (one scan for a folder of names)', () => {
  const valid = (p: string): boolean => {
    try {
      return validatePath(p) === p;
    } catch {
      return false;
    }
  };
  it.each<[string, string[], boolean]>([
    ['', ['a.json', 'b', 'c-d.yaml'], true],
    ['collections/x', ['a.json', '.env', '..x'], true],
    ['', [], true],
    ['', ['a', '.'], false],
    ['', ['a', '..'], false],
    ['', ['a', '.insomnia-sync'], false],
    ['', ['.INSOMNIA-SYNC. '], false],
    ['d', ['a\\b'], false],
    ['d', ['tab\there'], false],
    ['d', ['café.json'], false], // not ASCII: validatePath must look at it
    ['d', ['ok', ''], false],
    ['a/.insomnia-sync', ['x'], false],
    ['d', ['x'.repeat(4095)], false], // d/ + 4095 > 4096 bytes
    ['', ['x'.repeat(4096)], true],
  ])('%j + %j → %s', (dir, names, expected) => {
    expect(areSimpleValidChildren(dir, names)).toBe(expected);
    // Never true when some child is not valid as it is.
    if (expected) for (const n of names) expect(valid(dir ? `${dir}/${n}` : n)).toBe(true);
  });

  it('is never true for a folder with an invalid child (random names)', () => {
    const nameChar = fc.constantFrom('a', 'Z', '.', '-', '_', ' ', '\\', '\t', 'é', 'i', 'n', 's', 'o', 'm', 'y', 'c');
    fc.assert(
      fc.property(fc.array(fc.string({ unit: nameChar, minLength: 1, maxLength: 16 }), { maxLength: 6 }), fc.constantFrom('', 'd', 'a/b'), (names, dir) => {
        if (areSimpleValidChildren(dir, names)) for (const n of names) expect(valid(dir ? `${dir}/${n}` : n)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
