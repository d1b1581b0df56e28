/**
 * Reading workspace files after the scan: what is at the path by then may be a new version, a
 * version being written, or not a file at all. Real temp files; the file is changed between the
 * steps of a read from the consumer's side of the chunksOf generator, so the timing is exact.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunksOf, FileChangedError, FileUnreadableError, GONE, hashFile, READ_ATTEMPTS, readSmallFile, RESTART, unreadable, type ScannedRef } from '../../src/client/local/files.js';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';

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

/** Another program saving the file in place, as an editor that truncates and writes. */
function saveInPlace(rel: string, data: Buffer): void {
  // Past the coarsest timestamp tick, so the save cannot share its mtime with the read's first fstat.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
  const fd = openSync(path.join(root, rel), 'r+');
  try {
    writeSync(fd, data, 0, data.length, 0);
  } finally {
    closeSync(fd);
  }
}

/** What a consumer keeps: RESTART drops the pieces so far; null if GONE. */
function readAll(file: ScannedRef, between?: (pieces: number, attempt: number) => void): { data: Buffer | null; restarts: number } {
  const kept: Buffer[] = [];
  let restarts = 0;
  let pieces = 0;
  for (const piece of chunksOf(root, file)) {
    if (piece === GONE) return { data: null, restarts };
    if (piece === RESTART) {
      kept.length = 0;
      restarts++;
      pieces = 0;
      continue;
    }
    kept.push(Buffer.from(piece));
    between?.(++pieces, restarts + 1);
  }
  return { data: Buffer.concat(kept), restarts };
}

describe('chunksOf: a big file saved while it is read', () => {
  it('reads an unchanged file once, whole', () => {
    const data = big('big.bin', 'A');
    const { data: got, restarts } = readAll(scanned('big.bin'));
    expect(restarts).toBe(0);
    expect(got!.equals(data)).toBe(true);
  });

  it('saved in place after the first chunk: starts again and yields only the new version, never a mix', () => {
    big('big.bin', 'B');
    const v3 = Buffer.alloc(3 * CHUNK_SIZE + 1000, 'C');
    const { data, restarts } = readAll(scanned('big.bin'), (pieces, attempt) => {
      if (attempt === 1 && pieces === 1) saveInPlace('big.bin', v3);
    });
    expect(restarts).toBe(1);
    expect(data!.equals(v3)).toBe(true);
  });

  it('grown during the read: starts again', () => {
    big('big.bin', 'B');
    const longer = Buffer.alloc(4 * CHUNK_SIZE, 'D');
    const { data, restarts } = readAll(scanned('big.bin'), (pieces, attempt) => {
      if (attempt === 1 && pieces === 2) saveInPlace('big.bin', longer);
    });
    expect(restarts).toBe(1);
    expect(data!.equals(longer)).toBe(true);
  });

  it('replaced by rename during the read (an atomic save): starts again on the new file', () => {
    big('big.bin', 'B');
    const file = scanned('big.bin');
    const v3 = big('big.tmp', 'C');
    const { data, restarts } = readAll(file, (pieces, attempt) => {
      if (attempt === 1 && pieces === 1) renameSync(path.join(root, 'big.tmp'), path.join(root, 'big.bin'));
    });
    expect(restarts).toBe(1);
    expect(data!.equals(v3)).toBe(true);
  });

  it(`saved again during each of ${READ_ATTEMPTS} reads: FileChangedError naming the file (exit 1)`, () => {
    big('big.bin', 'B');
    let attempts = 0;
    const read = (): unknown =>
      readAll(scanned('big.bin'), (pieces, attempt) => {
        if (pieces === 1) {
          attempts = attempt;
          saveInPlace('big.bin', Buffer.alloc(3 * CHUNK_SIZE + 1000, String.fromCharCode(0x43 + attempt)));
        }
      });
    expect(read).toThrow(FileChangedError);
    expect(attempts).toBe(READ_ATTEMPTS);
    expect(read).toThrow('big.bin changed while being read; try again once it is saved');
    expect(exitCodeFor(new FileChangedError('x').code)).toBe(1);
  });

  it('hashFile keeps the ids of one version only', () => {
    const p = noblePrimitives;
    const key = new Uint8Array(32).fill(7);
    const v3 = Buffer.alloc(3 * CHUNK_SIZE + 1000, 'C');
    writeFileSync(path.join(root, 'v3.bin'), v3);
    const expected = hashFile(p, key, root, scanned('v3.bin'));
    big('big.bin', 'B');
    let restarts = 0;
    // chunksOf as hashFile runs it, with the save between its first and second piece.
    function* savedDuring(r: string, f: ScannedRef): ReturnType<typeof chunksOf> {
      let pieces = 0;
      for (const piece of chunksOf(r, f)) {
        yield piece;
        if (piece === RESTART) restarts++;
        else if (restarts === 0 && ++pieces === 1) saveInPlace('big.bin', v3);
      }
    }
    expect(hashFile(p, key, root, scanned('big.bin'), savedDuring)).toEqual(expected);
    expect(restarts).toBe(1);
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

describe('a read the file system refuses (test/e2e/push-reads.test.ts makes a real EACCES, as any user)', () => {
  const fsError = (code: string, message: string): NodeJS.ErrnoException => Object.assign(new Error(message), { code });

  it("one line naming the file in the workspace, in the file system's words, never the absolute path (exit 1)", () => {
    const denied = unreadable('env/k.json', fsError('EACCES', "EACCES: permission denied, open '/home/ann/ws/env/k.json'"));
    expect(denied).toBeInstanceOf(FileUnreadableError);
    expect((denied as FileUnreadableError).message).toBe('cannot read env/k.json: permission denied');
    expect(exitCodeFor((denied as FileUnreadableError).code)).toBe(1);
    expect((unreadable('sub/', fsError('EIO', "EIO: i/o error, scandir '/home/ann/ws/sub'")) as Error).message).toBe('cannot read sub/: i/o error');
    expect((unreadable('k.json', fsError('EPERM', 'no words here')) as Error).message).toBe('cannot read k.json: EPERM');
  });

  it('anything but a file system error goes on as it is', () => {
    const bug = new TypeError('x is undefined');
    expect(unreadable('k.json', bug)).toBe(bug);
    const changed = new FileChangedError('k.json');
    expect(unreadable('k.json', changed)).toBe(changed);
  });
});
