import { describe, expect, it } from 'vitest';
import { builtinIgnored, createIgnoreMatcher, isConflictCopyPath } from '../../src/sync/ignore.js';
import { noNameBuiltinIgnored } from '../../src/sync/ignore-builtin.js';
import { isInternalPath } from '../../src/sync/paths.js';

describe('createIgnoreMatcher built-ins (no ignore file)', () => {
  const ignored = createIgnoreMatcher(null);
  it.each([
    ['.insomnia-sync', true, true],
    ['.insomnia-sync/index.json', false, true],
    ['sub/.insomnia-sync', true, true],
    ['.INSOMNIA-SYNC/x', false, true],
    ['a.json.conflict', false, true],
    ['a.json.conflict-2', false, true],
    ['dir/a.json.conflict-17', false, true],
    ['a.conflict', true, true],
    ['a.conflict/b.json', false, true],
    ['.git', true, true],
    ['.git', false, true], // a worktree's or submodule's .git file
    ['.git/hooks/post-checkout', false, true],
    ['sub/.git/config', false, true],
    ['.GIT/config', false, true],
    ['.git./config', false, true],
    ['.gi\u200ct/config', false, true],
    ['.gitignore', false, false],
    ['.github/workflows/ci.yml', false, false],
    ['git/config', false, false],
    ['x.git', false, false],
    ['a.json', false, false],
    ['.insomnia-syncignore', false, false],
    ['a.conflicted', false, false],
    ['a.conflict-', false, false],
    ['a.conflict-0', false, false],
    ['a.conflict-x', false, false],
    ['conflict', false, false],
    ['dir', true, false],
  ] as const)('%s (dir=%s) → %s', (p, isDir, expected) => {
    expect(ignored(p, isDir)).toBe(expected);
  });

  it('a user rule cannot bring .git back', () => {
    expect(createIgnoreMatcher('!.git\n!.git/**\n')('.git/config', false)).toBe(true);
  });

  it('isConflictCopyPath looks at every segment', () => {
    expect(isConflictCopyPath('x.conflict/y/z')).toBe(true);
    expect(isConflictCopyPath('x/y.conflict-3')).toBe(true);
    expect(isConflictCopyPath('x/y.json')).toBe(false);
  });
});

describe('createIgnoreMatcher with user patterns', () => {
  const text = [
    '# comments and blank lines are skipped',
    '',
    '*.log',
    '!keep.log',
    'build/',
    '/root-only.txt',
    'secrets/**',
    '!secrets/public.json',
    'cache',
    '\\#literal-hash',
    'caf\u00e9.tmp',
    '!a.json.conflict',
    '!.insomnia-sync/',
  ].join('\n');
  const ignored = createIgnoreMatcher(text);
  it.each([
    ['x.log', false, true],
    ['deep/x.log', false, true],
    ['keep.log', false, false],
    ['deep/keep.log', false, false],
    ['build', true, true],
    ['build', false, false], // 'build/' matches folders only
    ['build/out.js', false, true],
    ['src/build', true, true],
    ['root-only.txt', false, true],
    ['sub/root-only.txt', false, false],
    ['secrets/token.json', false, true],
    ['secrets/public.json', false, false],
    ['cache', false, true],
    ['cache', true, true],
    ['cache/a/b.json', false, true],
    ['#literal-hash', false, true],
    ['caf\u00e9.tmp', false, true],
    ['cafe\u0301.tmp', false, true], // NFD name on disk, NFC pattern
    ['Build', true, false], // case-sensitive on every platform
    ['X.LOG', false, false],
    ['a.json.conflict', false, true], // built-ins cannot be negated
    ['.insomnia-sync/config', false, true],
    ['api/spec.yaml', false, false],
  ] as const)('%s (dir=%s) → %s', (p, isDir, expected) => {
    expect(ignored(p, isDir)).toBe(expected);
  });

  it('matches NFD patterns against NFC paths too', () => {
    const m = createIgnoreMatcher('cafe\u0301/\n');
    expect(m('caf\u00e9', true)).toBe(true);
    expect(m('caf\u00e9/x.json', false)).toBe(true);
  });

  it('an empty ignore file ignores only the built-ins', () => {
    const m = createIgnoreMatcher('');
    expect(m('anything.json', false)).toBe(false);
    expect(m('x.conflict', false)).toBe(true);
  });
});

/** The built-in rules written the slow, obvious way (segment by segment), to cross-check the one-regex fast paths. */
function referenceInternal(p: string): boolean {
  return p.split('/').some((seg) => {
    const folded = seg
      .normalize('NFC')
      .replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]/g, '')
      .toLowerCase()
      .replace(/[. ]+$/, '');
    return folded === '.insomnia-sync';
  });
}
function referenceConflict(p: string): boolean {
  return p.split('/').some((seg) => /\.conflict(?:-[1-9][0-9]*)?$/.test(seg));
}

describe('built-in rules agree with a plain reference on random paths', () => {
  const parts = ['a', '/', '.', ' ', '-', '1', '0', '12', 'x', '.insomnia-sync', '.INSOMNIA-Sync', '.insomnia', '-sync', 'sync',
    '\u200d', '\ufeff', 'é', 'e\u0301', '.conflict', '.Conflict', '.conflict-', 'conflict', '\u0130', '\u212a', '😀'];
  let seed = 4242;
  const next = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  it('for 20,000 generated paths', () => {
    const ignored = createIgnoreMatcher(null);
    let internal = 0;
    let conflict = 0;
    let nonAsciiInternal = 0;
    for (let n = 0; n < 20_000; n++) {
      let p = '';
      const len = 1 + Math.floor(next() * 6);
      for (let i = 0; i < len; i++) p += parts[Math.floor(next() * parts.length)];
      const i = referenceInternal(p);
      const c = referenceConflict(p);
      if (i) internal++;
      if (i && /[^\x00-\x7f]/.test(p)) nonAsciiInternal++;
      if (c) conflict++;
      expect(isInternalPath(p), JSON.stringify(p)).toBe(i);
      expect(isConflictCopyPath(p), JSON.stringify(p)).toBe(c);
      expect(builtinIgnored(p), JSON.stringify(p)).toBe(i || c);
      expect(ignored(p, false), JSON.stringify(p)).toBe(i || c);
    }
    // the generator must hit both rules often, through ASCII and non-ASCII spellings
    expect(internal).toBeGreaterThan(300);
    expect(nonAsciiInternal).toBeGreaterThan(50);
    expect(conflict).toBeGreaterThan(500);
  });
});

describe('noNameBuiltinIgnored (one scan for a folder of names)', () => {
  it.each<[string[], boolean]>([
    [['a.json', 'b.conflictx', 'conflict', 'x.conflict-0'], true],
    [['a.json', 'b.json.conflict'], false],
    [['a.json', 'b.json.conflict-2'], false],
    [['.insomnia-sync'], false],
    [['.Insomnia-Sync..'], false],
    [['café'], false], // non-ASCII: builtinIgnored must fold it
    [[], true],
  ])('%j → %s', (names, expected) => {
    expect(noNameBuiltinIgnored(names)).toBe(expected);
    if (expected) for (const n of names) expect(builtinIgnored(n, false)).toBe(false);
    else expect(names.some((n) => builtinIgnored(n, false)) || names.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
  });
});
