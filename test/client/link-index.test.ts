/** The index file on disk: checksum, damage, and the one-time upgrade from index.json. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readIndex, stateDir, writeIndex } from '../../src/client/local/link.js';
import { scanAgainstIndex } from '../../src/client/local/scan-index.js';
import type { LocalIndex } from '../../src/sync/index-format.js';

const WS = '0123456789abcdef0123456789abcdef';
const OLD = 1_600_000_000_000.25; // far outside the racy window, so writeIndex keeps it

function sample(): LocalIndex {
  return {
    version: 1,
    workspaceId: WS,
    base: 'a'.repeat(64),
    entries: [
      { path: 'collections/x.json', size: 3, mtimeMs: OLD, ctimeMs: OLD, ino: 7, mode: 0o644, chunks: ['b'.repeat(64)] },
      { path: 'env.yaml', size: 0, mtimeMs: OLD, ctimeMs: OLD, ino: 8, mode: 0o755, chunks: [] },
    ],
  };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'isync-link-'));
  mkdirSync(stateDir(root));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const indexFile = (): string => path.join(stateDir(root), 'index');
const legacyFile = (): string => path.join(stateDir(root), 'index.json');

describe('index file', () => {
  it('a scan knows whether the index is still the one it compared with (status must not write back an older one)', async () => {
    writeIndex(root, sample());
    const scanned = await scanAgainstIndex(root);
    expect(scanned.indexUnchanged()).toBe(true);
    // a pull or push elsewhere writes a newer index meanwhile
    writeIndex(root, { ...sample(), base: 'c'.repeat(64) });
    expect(scanned.indexUnchanged()).toBe(false);
  });

  it('reads back what it wrote', () => {
    writeIndex(root, sample());
    expect(readIndex(root)).toEqual(sample());
  });

  it('refuses a file with any single byte changed (the checksum catches what the layout would not)', () => {
    writeIndex(root, sample());
    const good = readFileSync(indexFile());
    for (let at = 0; at < good.length; at++) {
      const bad = Buffer.from(good);
      bad[at] = bad[at]! ^ 0x01;
      writeFileSync(indexFile(), bad);
      expect(() => readIndex(root), `byte ${at}`).toThrow(/missing or damaged/);
    }
  });

  it('refuses a truncated file, and says how to recover', () => {
    writeIndex(root, sample());
    writeFileSync(indexFile(), readFileSync(indexFile()).subarray(0, 50));
    let err: unknown;
    try {
      readIndex(root);
    } catch (e) {
      err = e;
    }
    expect((err as { code: string }).code).toBe('bad_state');
    expect((err as { hint: string }).hint).toMatch(/fresh clone/);
  });

  it('upgrades an index.json written by an older version once, then reads the binary index', () => {
    const i = sample();
    writeFileSync(legacyFile(), JSON.stringify(i));
    expect(readIndex(root)).toEqual(i);
    expect(existsSync(legacyFile())).toBe(false);
    expect(readFileSync(indexFile()).subarray(0, 8).toString('latin1')).toBe('ISYNCIDX');
    expect(readIndex(root)).toEqual(i);
  });

  it('refuses a damaged index.json', () => {
    writeFileSync(legacyFile(), '{"version":1');
    expect(() => readIndex(root)).toThrow(/missing or damaged/);
    expect(readFileSync(legacyFile(), 'utf8')).toBe('{"version":1');
  });
});
