/**
 * account export checks a workspace's every file before packing any of it (checkedFiles), so a bad
 * blob leaves the whole workspace out instead of half of it in the archive: held in memory up to a
 * budget, read a second time above it.
 */
import { describe, expect, it } from 'vitest';
import { IntegrityFailure } from '../../src/client/errors.js';
import type { RemoteFile } from '../../src/client/remote-read.js';
import { checkedFiles, type FileSource } from '../../src/client/services/export.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A server read of three files; `bad` names the file whose second chunk fails its check. */
function source(bad?: string): { read: FileSource; reads: () => number; chunksRead: () => number } {
  let reads = 0;
  let chunks = 0;
  const files = ['a.json', 'b.json', 'c.json'];
  const read: FileSource = async function* (): AsyncGenerator<RemoteFile> {
    reads++;
    for (const path of files) {
      async function* data(): AsyncGenerator<Uint8Array> {
        chunks++;
        yield utf8(`${path}:1;`);
        if (path === bad) throw new IntegrityFailure(`blob of ${path} failed its integrity check`);
        chunks++;
        yield utf8(`${path}:2`);
      }
      yield { file: { path, mode: 0o644, size: 16, chunks: ['x', 'y'] }, data: data() };
    }
  };
  return { read, reads: () => reads, chunksRead: () => chunks };
}

async function collect(s: FileSource): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for await (const { file, data } of s()) {
    let text = '';
    for await (const c of data) text += new TextDecoder().decode(c);
    out[file.path] = text;
  }
  return out;
}

const ALL = { 'a.json': 'a.json:1;a.json:2', 'b.json': 'b.json:1;b.json:2', 'c.json': 'c.json:1;c.json:2' };

describe('checkedFiles', () => {
  it('within the budget: reads once, then gives the files from memory', async () => {
    const s = source();
    const checked = await checkedFiles(s.read, 48, 48);
    expect(s.chunksRead()).toBe(6);
    expect(await collect(checked)).toEqual(ALL);
    expect(s.reads()).toBe(1);
  });

  it('over the budget: reads everything once to check it, and again as it is packed', async () => {
    const s = source();
    const checked = await checkedFiles(s.read, 48, 47);
    expect(s.chunksRead()).toBe(6);
    expect(await collect(checked)).toEqual(ALL);
    expect(s.reads()).toBe(2);
  });

  it('fails before giving anything when any file fails its check, the last one included, either way', async () => {
    for (const budget of [1000, 0]) {
      for (const bad of ['b.json', 'c.json']) {
        await expect(checkedFiles(source(bad).read, 48, budget)).rejects.toThrow(IntegrityFailure);
      }
    }
  });
});
