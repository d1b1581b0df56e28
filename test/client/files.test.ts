/**
 * Reading workspace files after the scan: what is at the path by then may be a new version, or
 * not a file at all. Real temp files.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunksOf, GONE, hashFile, readSmallFile, type ScannedRef } from '../../src/client/local/files.js';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';

let root: string;
let outside: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'isync-files-'));
  outside = mkdtempSync(path.join(os.tmpdir(), 'isync-files-outside-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** The file as the scan records it: its path and inode. */
function scanned(rel: string): ScannedRef {
  return { path: rel, ino: lstatSync(path.join(root, rel)).ino };
}

/** A big file: `chunks` whole chunks and a bit, every byte `fill`. */
function big(rel: string, fill: string, chunks = 3): Buffer {
  const data = Buffer.alloc(chunks * CHUNK_SIZE + 1000, fill);
  writeFileSync(path.join(root, rel), data);
  return data;
}

/** What a consumer keeps; null if GONE. */
function readAll(file: ScannedRef): { data: Buffer | null } {
  const kept: Buffer[] = [];
  for (const piece of chunksOf(root, file)) {
    if (piece === GONE) return { data: null };
    kept.push(Buffer.from(piece));
  }
  return { data: Buffer.concat(kept) };
}

describe('chunksOf', () => {
  it('reads a big file whole', () => {
    const data = big('big.bin', 'A');
    expect(readAll(scanned('big.bin')).data!.equals(data)).toBe(true);
  });
});

describe('what is at the path by the time it is read', () => {
  const cases: [what: string, make: (abs: string) => void][] = [
    ['deleted', (abs) => rmSync(abs)],
    ['a folder now', (abs) => (rmSync(abs), mkdirSync(abs))],
    ['a symlink to a file outside the folder', (abs) => (rmSync(abs), symlinkSync(path.join(outside, 'secret.txt'), abs))],
    ['a dangling symlink', (abs) => (rmSync(abs), symlinkSync(path.join(outside, 'nothing'), abs))],
    ['a FIFO (would block a plain open forever)', (abs) => (rmSync(abs), execFileSync('mkfifo', [abs]))],
  ];
  for (const size of [10, 3 * CHUNK_SIZE]) {
    it.each(cases)(`${size > CHUNK_SIZE ? 'big' : 'small'} file %s: GONE, nothing read through it`, (_what, make) => {
      writeFileSync(path.join(outside, 'secret.txt'), Buffer.alloc(size, 'S'));
      writeFileSync(path.join(root, 'k.json'), Buffer.alloc(size, 'k'));
      const file = scanned('k.json');
      make(path.join(root, 'k.json'));
      const p = noblePrimitives;
      if (size <= CHUNK_SIZE) expect(readSmallFile(root, file)).toBe(GONE);
      expect(readAll(file).data).toBeNull();
      expect(hashFile(p, new Uint8Array(32), root, file)).toBeNull();
    });
  }

  it('a small file replaced by rename since the scan is read: a whole version of it', () => {
    writeFileSync(path.join(root, 'k.json'), '{"v":1}');
    const file = scanned('k.json');
    writeFileSync(path.join(root, 'k.tmp'), '{"v":2}');
    renameSync(path.join(root, 'k.tmp'), path.join(root, 'k.json'));
    expect(Buffer.from(readSmallFile(root, file) as Uint8Array).toString()).toBe('{"v":2}');
  });

  it('a folder on the way swapped for a symlink out of the folder: GONE (O_NOFOLLOW guards only the last name)', () => {
    mkdirSync(path.join(root, 'env'));
    writeFileSync(path.join(root, 'env', 'k.json'), '{"v":1}');
    const file = scanned('env/k.json');
    writeFileSync(path.join(outside, 'k.json'), 'OUTSIDE');
    rmSync(path.join(root, 'env'), { recursive: true });
    symlinkSync(outside, path.join(root, 'env'));
    expect(readSmallFile(root, file)).toBe(GONE);
  });

  it('a small file grown past one chunk since the scan: null, read it in chunks', () => {
    writeFileSync(path.join(root, 'k.json'), 'x');
    const file = scanned('k.json');
    writeFileSync(path.join(root, 'k.json'), Buffer.alloc(CHUNK_SIZE + 1, 'x'));
    expect(readSmallFile(root, file)).toBeNull();
  });

  it('reads small files exactly, empty and at the chunk size included', () => {
    for (const size of [0, 1, 4096, CHUNK_SIZE - 1, CHUNK_SIZE]) {
      const data = Buffer.alloc(size, 'q');
      writeFileSync(path.join(root, 'f'), data);
      expect(Buffer.from(readSmallFile(root, scanned('f')) as Uint8Array).equals(data)).toBe(true);
    }
  });
});
