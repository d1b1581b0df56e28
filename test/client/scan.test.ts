/** The folder walk: sorted output without a sort, columns and objects that agree. */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scanFolder } from '../../src/client/local/scan.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'isync-scan-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, content = 'x'): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), content);
}

describe('scanFolder', () => {
  it('lists paths in the same order as sorting them, where a folder name sorts with its slash', () => {
    // '-' (0x2d) and '.' (0x2e) sort before '/' (0x2f), '0' (0x30) after: the folder `a` must
    // come after `a-b` and `a.json` but before `a0`.
    for (const rel of ['a/x.json', 'a/b/c.json', 'a-b', 'a.json', 'a0', 'A', 'b/a', 'ab/c', 'a/b-c', 'a/b.json', 'é.json', 'e.json']) write(rel);
    return scanFolder(root).then((scan) => {
      const paths = [...scan.columns.paths];
      expect(paths).toEqual([...paths].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
      expect(paths).toHaveLength(12);
      expect(paths.indexOf('a-b')).toBeLessThan(paths.indexOf('a/x.json'));
      expect(paths.indexOf('a/x.json')).toBeLessThan(paths.indexOf('a0'));
    });
  });

  it('gives the same files as columns and as objects, modes normalised, symlinks skipped', async () => {
    write('run.sh', '#!/bin/sh\n');
    chmodSync(path.join(root, 'run.sh'), 0o750);
    write('env/dev.json', '{"a":1}');
    write('group-exec.sh');
    chmodSync(path.join(root, 'group-exec.sh'), 0o654); // only the owner's execute bit counts, as in git
    write('env/dev.json.conflict', 'theirs'); // pull's conflict copy: never synced
    write('nested/.insomnia-sync/link.json', '{}'); // a linked folder inside: never synced,
    write('nested/creds.json', 'its own workspace'); // nor anything in it: reported as skipped
    symlinkSync(path.join(root, 'run.sh'), path.join(root, 'link'));
    const scan = await scanFolder(root);
    expect(scan.skipped).toEqual(['link', 'nested/']);
    expect(scan.files.map((f) => [f.path, f.size, f.mode])).toEqual([
      ['env/dev.json', 7, 0o644],
      ['group-exec.sh', 1, 0o644],
      ['run.sh', 10, 0o755],
    ]);
    expect([...scan.columns.exec]).toEqual([0, 0, 1]);
    scan.files.forEach((f, i) => {
      expect(scan.columns.stats.subarray(i * 4, i * 4 + 4)).toEqual(Float64Array.of(f.size, f.mtimeMs, f.ctimeMs, f.ino));
    });
  });

  it('reports skipped entries in path order, and none an ignore rule covers', async () => {
    write('.insomnia-syncignore', 'ignored-link\nlogs/\n');
    write('b/file.json');
    write('logs/app.log');
    for (const rel of ['z-link', 'b/link', 'a-link', 'ignored-link', 'logs/link']) symlinkSync(path.join(root, 'b/file.json'), path.join(root, rel));
    write('b/cafe\u0301.json'); // not in NFC: cannot round-trip through a manifest
    const scan = await scanFolder(root);
    expect(scan.skipped).toEqual(['a-link', 'b/cafe\u0301.json', 'b/link', 'z-link']);
    expect(scan.columns.paths).toEqual(['.insomnia-syncignore', 'b/file.json']);
  });

  it('refuses a folder named .insomnia-syncignore with one clear line, rather than taking it as no rules', async () => {
    write('.insomnia-syncignore/secret.env', 'TOKEN=1');
    await expect(scanFolder(root)).rejects.toMatchObject({
      code: 'bad_ignore_file',
      message: '.insomnia-syncignore is a folder: it must be a file of ignore rules; rename or remove it',
    });
  });

  it('reads the rules of an ignore file that is a symlink to a file', async () => {
    write('rules', 'secret.env\n');
    write('secret.env', 'TOKEN=1');
    symlinkSync(path.join(root, 'rules'), path.join(root, '.insomnia-syncignore'));
    const scan = await scanFolder(root);
    expect(scan.columns.paths).toEqual(['rules']);
  });

  it('handles more files than its first column buffer holds', async () => {
    for (let i = 0; i < 1100; i++) write(`d${i % 7}/f${i}.json`, String(i));
    const scan = await scanFolder(root);
    expect(scan.files).toHaveLength(1100);
    expect(scan.files.every((f, i) => f.size === scan.columns.stats[i * 4])).toBe(true);
    expect(new Set(scan.files.map((f) => f.ino)).size).toBe(1100);
  });
});
