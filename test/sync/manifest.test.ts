import { describe, expect, it } from 'vitest';
import { CHUNK_SIZE } from '../../src/sync/chunking.js';
import {
  decodeManifest,
  decodeManifestHead,
  encodeManifest,
  type Manifest,
  type ManifestFile,
  manifestBlobIds,
  ManifestError,
  manifestStats,
} from '../../src/sync/manifest.js';
import { newMessageProblem } from '../../src/sync/manifest-head.js';
import { encodeJsonManifest } from '../../src/sync/manifest-json.js';
import { NewerFormatError } from '../../src/sync/errors.js';

const blob = (n: number): string => n.toString(16).padStart(64, '0');
const SIGNING_KEY = 'A'.repeat(42) + 'E'; // 32 bytes, canonical base64url

function sample(): Manifest {
  return {
    version: 1,
    workspaceId: '0123456789abcdef0123456789abcdef',
    parent: 'f'.repeat(64),
    epoch: 2,
    author: { userId: 'a'.repeat(32), name: 'Ada Lovelace', email: 'ada@example.com', signingKey: SIGNING_KEY },
    time: '2025-01-02T03:04:05.678Z',
    message: 'first line\n\nbody\twith tab\r\n',
    files: [
      { path: 'a.json', mode: 0o644, size: 10, chunks: [blob(1)] },
      { path: 'bin/run.sh', mode: 0o755, size: CHUNK_SIZE + 1, chunks: [blob(2), blob(3)] },
      { path: 'empty.txt', mode: 0o644, size: 0, chunks: [] },
      { path: 'caf\u00e9/x.yaml', mode: 0o644, size: CHUNK_SIZE, chunks: [blob(1)] },
    ],
  };
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The canonical JSON of sample(), as a mutable object for breaking one rule at a time. */
function sampleJson(): Record<string, any> {
  return JSON.parse(text(encodeJsonManifest(sample())));
}

function expectManifestError(fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ManifestError);
  expect((err as ManifestError).code).toBe('bad_manifest');
}

describe('encodeManifest / decodeManifest', () => {
  it('round-trips, with files sorted', () => {
    const m = sample();
    const back = decodeManifest(encodeManifest(m));
    const sorted = [...m.files].sort((a, b) => (a.path < b.path ? -1 : 1));
    expect(back).toEqual({ ...m, files: sorted });
    expect(back.files.map((f) => f.path)).toEqual(['a.json', 'bin/run.sh', 'caf\u00e9/x.yaml', 'empty.txt']);
  });

  it('round-trips a first snapshot (parent null) and an empty tree', () => {
    const m = { ...sample(), parent: null, files: [] };
    expect(decodeManifest(encodeManifest(m))).toEqual(m);
  });

  it('is canonical: same bytes whatever the input key and file order', () => {
    const m = sample();
    const shuffled: Manifest = {
      files: [...m.files].reverse().map((f) => ({ chunks: f.chunks, size: f.size, mode: f.mode, path: f.path })),
      message: m.message,
      time: m.time,
      author: { signingKey: m.author.signingKey, email: m.author.email, name: m.author.name, userId: m.author.userId },
      epoch: m.epoch,
      parent: m.parent,
      workspaceId: m.workspaceId,
      version: 1,
    };
    expect(encodeManifest(shuffled)).toEqual(encodeManifest(m));
    expect(text(encodeManifest(m)).startsWith('ISYNCMAN\u0002\u0000\u0000\u0000')).toBe(true);
    expect(encodeJsonManifest(shuffled)).toEqual(encodeJsonManifest(m));
    expect(text(encodeJsonManifest(m)).startsWith('{"version":1,"workspaceId":')).toBe(true);
  });

  it('does not change the caller manifest', () => {
    const m = sample();
    const before = structuredClone(m);
    encodeManifest(m);
    expect(m).toEqual(before);
  });

  it('drops fields a file record has beyond the four (e.g. an index entry passed as a file)', () => {
    const m = sample();
    const withStat = { ...m, files: m.files.map((f) => ({ ...f, mtimeMs: 1, ino: 2 })) };
    expect(encodeManifest(withStat)).toEqual(encodeManifest(m));
  });

  it('keeps non-ASCII text intact', () => {
    const m = { ...sample(), message: 'héllo 😀 日本', author: { ...sample().author, name: 'Zoë' } };
    const back = decodeManifest(encodeManifest(m));
    expect(back.message).toBe('héllo 😀 日本');
    expect(back.author.name).toBe('Zoë');
  });

  it('handles 10,000 files (correctness only, not timed)', () => {
    const files = Array.from({ length: 10_000 }, (_, i) => ({
      path: `dir${i % 100}/file-${i}.json`,
      mode: i % 7 === 0 ? 0o755 : 0o644,
      size: 1000 + i,
      chunks: [blob(i)],
    }));
    const m: Manifest = { ...sample(), files };
    const bytes = encodeManifest(m);
    const back = decodeManifest(bytes);
    expect(back.files).toHaveLength(10_000);
    // Whole-structure comparisons through JSON text: vitest's deep equality is slow on this size.
    expect(JSON.stringify(back.files) === JSON.stringify([...files].sort((a, b) => (a.path < b.path ? -1 : 1)))).toBe(true);
    expect(manifestStats(back)).toEqual({ files: 10_000, bytes: files.reduce((s, f) => s + f.size, 0) });
    expect(Buffer.compare(encodeManifest(back), bytes)).toBe(0);
  });
});

describe('decodeManifest rejects', () => {
  const mutations: [why: string, mutate: (j: Record<string, any>) => void][] = [
    ['version 2', (j) => (j.version = 2)],
    ['version as string', (j) => (j.version = '1')],
    ['unknown top-level field', (j) => (j.extra = true)],
    ['missing field', (j) => delete j.message],
    ['__proto__ field', (j) => Object.defineProperty(j, '__proto__', { value: 1, enumerable: true })],
    ['workspaceId too short', (j) => (j.workspaceId = 'ab'.repeat(15))],
    ['workspaceId upper case', (j) => (j.workspaceId = 'AB'.repeat(16))],
    ['parent 32 hex', (j) => (j.parent = 'a'.repeat(32))],
    ['parent number', (j) => (j.parent = 0)],
    ['epoch 0', (j) => (j.epoch = 0)],
    ['epoch fraction', (j) => (j.epoch = 1.5)],
    ['epoch string', (j) => (j.epoch = '2')],
    ['author not object', (j) => (j.author = 'ada')],
    ['author unknown field', (j) => (j.author.admin = true)],
    ['author missing email', (j) => delete j.author.email],
    ['author userId 64 hex', (j) => (j.author.userId = 'a'.repeat(64))],
    ['author name with escape', (j) => (j.author.name = 'x\u001b[2J')],
    ['author name too long', (j) => (j.author.name = 'n'.repeat(201))],
    ['author email with newline', (j) => (j.author.email = 'a@b\nc')],
    ['signingKey padded', (j) => (j.author.signingKey = 'A'.repeat(43) + '=')],
    ['signingKey 31 bytes', (j) => (j.author.signingKey = 'A'.repeat(42))],
    ['signingKey non-canonical last char', (j) => (j.author.signingKey = 'A'.repeat(42) + 'B')],
    ['signingKey standard base64', (j) => (j.author.signingKey = '+'.repeat(42) + 'A')],
    ['time without ms', (j) => (j.time = '2025-01-02T03:04:05Z')],
    ['time with offset', (j) => (j.time = '2025-01-02T03:04:05.678+01:00')],
    ['time not a date', (j) => (j.time = 'yesterday')],
    ['time impossible day', (j) => (j.time = '2025-02-30T00:00:00.000Z')],
    ['time number', (j) => (j.time = 1735787045678)],
    ['message with escape', (j) => (j.message = 'ok\u001b]0;pwned\u0007')],
    ['message not string', (j) => (j.message = null)],
    ['message too long', (j) => (j.message = 'm'.repeat(65_537))],
    ['files not array', (j) => (j.files = {})],
    ['file not object', (j) => (j.files[0] = 'a.json')],
    ['file unknown field', (j) => (j.files[0].owner = 'root')],
    ['file missing chunks', (j) => delete j.files[0].chunks],
    ['path absolute', (j) => (j.files[0].path = '/a.json')],
    ['path dot-dot', (j) => (j.files[0].path = '../a.json')],
    ['path backslash', (j) => (j.files[0].path = 'a\\.json')],
    ['path internal', (j) => (j.files[0].path = '.insomnia-sync/a.json')],
    ['path in NFD', (j) => (j.files[2].path = 'cafe\u0301/x.yaml')],
    ['path not string', (j) => (j.files[0].path = 5)],
    ['path empty', (j) => (j.files[0].path = '')],
    ['path with newline', (j) => (j.files[0].path = 'a\n.json')],
    ['path with trailing slash', (j) => (j.files[0].path = 'a.json/')],
    ['path with NUL', (j) => (j.files[0].path = 'a\u0000.json')],
    ['non-ASCII path not in NFC among ASCII ones', (j) => (j.files[3].path = 'empty\u0301.txt')],
    ['mode 0o600', (j) => (j.files[0].mode = 0o600)],
    ['mode raw st_mode', (j) => (j.files[0].mode = 0o100644)],
    ['size negative', (j) => (j.files[0].size = -1)],
    ['size fraction', (j) => (j.files[0].size = 1.5)],
    ['size string', (j) => (j.files[0].size = '10')],
    ['too few chunks', (j) => (j.files[1].chunks = [blob(2)])],
    ['too many chunks', (j) => j.files[0].chunks.push(blob(9))],
    ['chunk for empty file', (j) => j.files[3].chunks.push(blob(9))],
    ['chunk id short', (j) => (j.files[0].chunks = ['ab'])],
    ['chunk id upper case', (j) => (j.files[0].chunks = ['A'.repeat(64)])],
    ['chunks not array', (j) => (j.files[0].chunks = blob(1))],
    ['chunk id a number', (j) => (j.files[0].chunks = [12])],
    ['chunk id with a non-hex letter', (j) => (j.files[1].chunks[1] = 'g'.repeat(64))],
    ['file keys in another order', (j) => (j.files[0] = { mode: j.files[0].mode, path: j.files[0].path, size: j.files[0].size, chunks: j.files[0].chunks })],
    ['files unsorted', (j) => j.files.reverse()],
    ['duplicate path', (j) => (j.files[1] = { ...j.files[0] })],
    ['file is also a folder', (j) => (j.files[0].path = 'bin')],
  ];
  it.each(mutations)('%s', (_why, mutate) => {
    const j = sampleJson();
    mutate(j);
    expectManifestError(() => decodeManifest(utf8(JSON.stringify(j))));
    // and so does the head-only reader of layout 1 (`log`, the middle of a pull's walk)
    expectManifestError(() => decodeManifestHead(utf8(JSON.stringify(j))));
  });

  it('sanity: the unmutated JSON decodes', () => {
    expect(() => decodeManifest(utf8(JSON.stringify(sampleJson())))).not.toThrow();
  });

  const raw: [why: string, bytes: () => Uint8Array][] = [
    ['empty input', () => new Uint8Array()],
    ['not JSON', () => utf8('not json')],
    ['JSON array', () => utf8('[]')],
    ['JSON null', () => utf8('null')],
    ['invalid UTF-8', () => new Uint8Array([0x7b, 0xff, 0x7d])],
    ['UTF-8 byte-order mark', () => new Uint8Array([0xef, 0xbb, 0xbf, ...encodeJsonManifest(sample())])],
    ['extra whitespace', () => utf8(JSON.stringify(sampleJson(), null, 1))],
    ['trailing newline', () => utf8(`${text(encodeJsonManifest(sample()))}\n`)],
    ['keys in another order', () => {
      const { version, ...rest } = sampleJson();
      return utf8(JSON.stringify({ ...rest, version }));
    }],
    ['duplicate key', () => utf8(text(encodeJsonManifest(sample())).replace('{"version":1,', '{"version":1,"version":1,'))],
    ['number written as 1.0', () => utf8(text(encodeJsonManifest(sample())).replace('"epoch":2', '"epoch":2.0'))],
    ['escaped character where a plain one is canonical', () => utf8(text(encodeJsonManifest(sample())).replace('Ada', '\\u0041da'))],
  ];
  it.each(raw)('%s', (_why, bytes) => {
    expectManifestError(() => decodeManifest(bytes()));
    expectManifestError(() => decodeManifestHead(bytes()));
  });

  it('a non-Uint8Array', () => {
    expectManifestError(() => decodeManifest('{}' as unknown as Uint8Array));
  });
});

describe('encodeManifest refuses what decode would refuse', () => {
  const cases: [why: string, mutate: (m: Manifest) => void][] = [
    ['a non-NFC path', (m) => void (m.files[0]!.path = 'cafe\u0301.json')],
    ['a duplicate path', (m) => void m.files.push({ ...m.files[0]! })],
    ['a bad mode', (m) => void (m.files[0]!.mode = 0o777)],
    ['a chunk count that does not fit', (m) => void (m.files[0]!.chunks = [])],
    ['an unsafe path', (m) => void (m.files[0]!.path = '../x')],
    ['a bad time', (m) => void (m.time = 'now')],
    ['a file that is also a folder', (m) => void (m.files[0]!.path = 'bin')],
  ];
  it.each(cases)('%s', (_why, mutate) => {
    const m = sample();
    mutate(m);
    expectManifestError(() => encodeManifest(m));
    expectManifestError(() => encodeJsonManifest(m));
  });
});

describe('manifestStats / manifestBlobIds', () => {
  it('counts files and bytes', () => {
    expect(manifestStats(sample())).toEqual({ files: 4, bytes: 10 + CHUNK_SIZE + 1 + 0 + CHUNK_SIZE });
  });
  it('lists each referenced blob once, sorted', () => {
    expect(manifestBlobIds(sample())).toEqual([blob(1), blob(2), blob(3)]);
  });
});

describe('decodeManifestHead', () => {
  it.each([
    ['layout 2', encodeManifest],
    ['layout 1', encodeJsonManifest],
  ])('gives the head fields and the file count and bytes of decodeManifest and manifestStats (%s)', (_layout, encode) => {
    const bytes = encode(sample());
    const { files, ...head } = decodeManifest(bytes);
    expect(decodeManifestHead(bytes)).toEqual({ manifest: head, ...manifestStats(sample()) });
    const none = encode({ ...sample(), files: [] });
    expect(decodeManifestHead(none)).toEqual({ manifest: head, files: 0, bytes: 0 });
  });

  it('layout 2: refuses a mode byte other than 0 or 1, as decodeManifest does', () => {
    const bytes = encodeManifest(sample());
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headLength = view.readUInt32LE(12);
    const n = view.readUInt32LE(16 + headLength);
    const modesAt = 16 + headLength + 4 + n * 8;
    for (let k = 0; k < n; k++) {
      const edited = Uint8Array.from(bytes);
      edited[modesAt + k] = 2;
      expectManifestError(() => decodeManifest(edited));
      expectManifestError(() => decodeManifestHead(edited));
    }
  });

  it('layout 1: refuses a repeated key in the head, which JSON.parse alone would take (the last one wins)', () => {
    const good = text(encodeJsonManifest(sample()));
    const other = 'e'.repeat(64);
    for (const edited of [
      good.replace(`"parent":"${'f'.repeat(64)}",`, `"parent":"${'f'.repeat(64)}","parent":"${other}",`),
      good.replace(`"parent":"${'f'.repeat(64)}",`, `"parent":"${other}","parent":"${'f'.repeat(64)}",`),
      good.replace('"epoch":2,', '"epoch":2,"epoch":3,'),
      good.replace('"name":"Ada Lovelace",', '"name":"Ada Lovelace","name":"Ada",'),
    ]) {
      expect(edited).not.toBe(good);
      expectManifestError(() => decodeManifest(utf8(edited)));
      expectManifestError(() => decodeManifestHead(utf8(edited)));
    }
  });

  it('layout 1: refuses a malformed file list it does not return, as decodeManifest does', () => {
    const good = text(encodeJsonManifest(sample()));
    const id1 = `"${blob(1)}"`;
    for (const edited of [
      good.replace(`{"path":"a.json","mode":420,"size":10,"chunks":[${id1}]}`, `{"path":"a.json","mode":420,"size":10,"chunks":[${id1}],"owner":"root"}`),
      good.replace('"path":"a.json"', '"path":"../a.json"'),
      good.replace('"path":"a.json"', '"path":"zz.json"'),
      good.replace('"mode":420', '"mode":384'),
      good.replace('"size":10,', '"size":010,'),
      good.replace('"size":10,', '"size":-0,'),
      good.replace(`"chunks":[${id1}]`, '"chunks":[]'),
      good.replace(`"chunks":[${id1}]`, `"chunks":[${id1},${id1}]`),
      good.replace(`"chunks":[${id1}]`, `"chunks":["${'A'.repeat(64)}"]`),
      good.replace(`"chunks":[${id1}]`, `"chunks": [${id1}]`),
      good.replace('"chunks":[]}]}', '"chunks":[]},]}'),
      good.replace(',"files":[', ',"files":[{"path":"a.json","mode":420,"size":0,"chunks":[]},'),
      good.replace('"files":[', '"files":[1,'),
    ]) {
      expect(edited).not.toBe(good);
      expectManifestError(() => decodeManifest(utf8(edited)));
      expectManifestError(() => decodeManifestHead(utf8(edited)));
    }
  });

  it('layout 1: accepts exactly the bytes decodeManifest accepts, whatever byte is changed, dropped or doubled', () => {
    // escapes, non-ASCII and a quote in a path, so string scanning is tried too
    const m = sample();
    m.files.push({ path: 'say "hi".txt', mode: 0o644, size: 3, chunks: [blob(4)] });
    const bytes = encodeJsonManifest(m);
    const variants: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x02, 0x20, 0x80]) {
        const changed = bytes.slice();
        changed[i] = (changed[i] as number) ^ flip;
        variants.push(changed);
      }
      variants.push(new Uint8Array([...bytes.subarray(0, i), ...bytes.subarray(i + 1)]));
      variants.push(new Uint8Array([...bytes.subarray(0, i + 1), ...bytes.subarray(i)]));
      variants.push(bytes.subarray(0, i));
    }
    let accepted = 0;
    for (const v of variants) {
      let whole: Manifest | null = null;
      try {
        whole = decodeManifest(v);
      } catch (e) {
        expect(e).toBeInstanceOf(ManifestError);
      }
      if (whole === null) {
        expectManifestError(() => decodeManifestHead(v));
        continue;
      }
      accepted++;
      const { files, ...head } = whole;
      expect(decodeManifestHead(v)).toEqual({ manifest: head, ...manifestStats(whole) });
    }
    // Some changes are other valid manifests (a letter of the message, a bit of a blob id).
    expect(accepted).toBeGreaterThan(0);
  });

  it('rejects what has no file list at its end, a head that breaks a rule, a size that is not a number', () => {
    const good = text(encodeJsonManifest(sample()));
    expectManifestError(() => decodeManifestHead(utf8(good.replace(',"files":[', ',"filez":['))));
    expectManifestError(() => decodeManifestHead(utf8(good.slice(0, -1))));
    expectManifestError(() => decodeManifestHead(utf8(good.replace('"epoch":2', '"epoch":0'))));
    expectManifestError(() => decodeManifestHead(utf8(good.replace('"version":1', '"version":2'))));
    expectManifestError(() => decodeManifestHead(utf8(good.replace('"size":10', '"size":"10"'))));
    expectManifestError(() => decodeManifestHead(utf8('{')));
    expectManifestError(() => decodeManifestHead('{}' as unknown as Uint8Array));
  });
});

describe('encodeManifest / decodeManifest without copies', () => {
  // Files already sorted with the four fields in order: the path push takes, written as they are.
  const sortedSample = (): Manifest => {
    const m = sample();
    return { ...m, files: [...m.files].sort((a, b) => (a.path < b.path ? -1 : 1)) };
  };

  it('encodes sorted canonical files to the same bytes as any other input order', () => {
    expect(encodeManifest(sortedSample())).toEqual(encodeManifest(sample()));
    const bytes = encodeManifest(sortedSample());
    expect(encodeManifest(decodeManifest(bytes))).toEqual(bytes);
  });

  it('writes canonical key order for sorted files whose keys are in another order', () => {
    const m = sortedSample();
    const reordered = { ...m, files: m.files.map((f) => ({ chunks: f.chunks, size: f.size, mode: f.mode, path: f.path })) };
    expect(encodeManifest(reordered)).toEqual(encodeManifest(m));
  });

  it('writes the data of files that are not plain objects, not what their toJSON says', () => {
    const m = sortedSample();
    class File {
      constructor(f: ManifestFile) {
        Object.assign(this, f);
      }
      toJSON(): unknown {
        return { path: '../x' };
      }
    }
    expect(encodeManifest({ ...m, files: m.files.map((f) => new File(f) as unknown as ManifestFile) })).toEqual(encodeManifest(m));
    const files = m.files.map((f) => ({ ...f, chunks: Object.assign(f.chunks.slice(), { toJSON: () => ['zz'] }) }));
    expect(encodeManifest({ ...m, files })).toEqual(encodeManifest(m));
  });

  it('drops extra fields of sorted files', () => {
    const m = sortedSample();
    expect(encodeManifest({ ...m, files: m.files.map((f) => ({ ...f, ino: 1 })) })).toEqual(encodeManifest(m));
  });

  it.each([
    ['a non-NFC path', (m: Manifest) => void (m.files[2]!.path = 'cafe\u0301/x.yaml')],
    ['a bad blob id', (m: Manifest) => void (m.files[0]!.chunks = [':'.repeat(64)])],
    ['a file that is also a folder', (m: Manifest) => void (m.files[0]!.path = 'bin')],
    ['an unsafe path', (m: Manifest) => void (m.files[0]!.path = '.insomnia-sync/a')],
  ])('refuses %s among sorted files', (_why, mutate) => {
    const m = sortedSample();
    mutate(m);
    expectManifestError(() => encodeManifest(m));
  });

  it('decodes to plain data equal to the input', () => {
    const back = decodeManifest(encodeManifest(sortedSample()));
    expect(back).toEqual(sortedSample());
    expect(Object.getPrototypeOf(back.files[0])).toBe(Object.prototype);
  });

  const raw: [why: string, edit: (t: string) => string][] = [
    ['author keys in another order', (t) => t.replace(/"author":\{"userId":("[^"]*"),"name":("[^"]*")/, '"author":{"name":$2,"userId":$1')],
    ['file keys in another order', (t) => t.replace('{"path":"a.json","mode":420,', '{"mode":420,"path":"a.json",')],
    ['a repeated file key', (t) => t.replace('{"path":"a.json","mode":420,', '{"path":"a.json","mode":420,"mode":420,')],
    ['a repeated author key', (t) => t.replace('"name":"Ada Lovelace",', '"name":"Ada Lovelace","name":"Ada Lovelace",')],
    ['a repeated top-level key moved to the end', (t) => t.replace(/^\{"version":1,/, '{').replace(/\}$/, ',"version":1}')],
  ];
  it.each(raw)('decode refuses %s', (_why, edit) => {
    const canonicalText = text(encodeJsonManifest(sample()));
    const edited = edit(canonicalText);
    expect(edited).not.toBe(canonicalText);
    expectManifestError(() => decodeManifest(utf8(edited)));
  });
});

describe('layout 2 (binary)', () => {
  it('decodes to what layout 1 of the same manifest decodes to', () => {
    expect(decodeManifest(encodeManifest(sample()))).toEqual(decodeManifest(encodeJsonManifest(sample())));
  });

  it('has one byte form: any byte changed is refused, or re-encodes to exactly the changed bytes', () => {
    const bytes = encodeManifest(sample());
    let accepted = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (const flip of [0x01, 0x80]) {
        const changed = bytes.slice();
        changed[i] = (changed[i] as number) ^ flip;
        let back: Manifest;
        try {
          back = decodeManifest(changed);
        } catch (e) {
          // The layout number going up reads as a newer version's manifest (snapshot.test.ts).
          if (e instanceof NewerFormatError) expect(i).toBeGreaterThanOrEqual(8);
          else expect(e).toBeInstanceOf(ManifestError);
          if (e instanceof NewerFormatError) expect(i).toBeLessThan(12);
          continue;
        }
        accepted++;
        expect(Buffer.compare(encodeManifest(back), changed)).toBe(0);
      }
    }
    // Some changes are other valid manifests (a letter of the message, a bit of a blob id).
    expect(accepted).toBeGreaterThan(0);
  });

  it('refuses every truncation and any byte after the last blob id', () => {
    const bytes = encodeManifest(sample());
    for (let n = 0; n < bytes.length; n++) expectManifestError(() => decodeManifest(bytes.subarray(0, n)));
    expectManifestError(() => decodeManifest(new Uint8Array([...bytes, 0])));
    expectManifestError(() => decodeManifestHead(bytes.subarray(0, 30)));
    // The head-only reader skips the paths but still wants every section where it belongs.
    expectManifestError(() => decodeManifestHead(new Uint8Array([...bytes, 0])));
    expectManifestError(() => decodeManifestHead(bytes.subarray(0, bytes.length - 1)));
    expect(decodeManifestHead(bytes).files).toBe(4);
  });

  it('carries sizes past 4 GiB, and refuses one past Number.MAX_SAFE_INTEGER', () => {
    const size = 2 ** 32 + 5;
    const chunks = Array.from({ length: Math.ceil(size / CHUNK_SIZE) }, (_, i) => blob(i));
    const m: Manifest = { ...sample(), files: [{ path: 'huge.bin', mode: 0o644, size, chunks }] };
    const bytes = encodeManifest(m);
    expect(decodeManifest(bytes)).toEqual(m);
    expect(decodeManifestHead(bytes).bytes).toBe(size);
    const sizeAt = Buffer.from(bytes).indexOf(Buffer.from([5, 0, 0, 0, 1, 0, 0, 0]));
    const spoiled = bytes.slice();
    spoiled[sizeAt + 6] = 0x20; // high word 2^21 + 1
    expectManifestError(() => decodeManifest(spoiled));
    expectManifestError(() => decodeManifestHead(spoiled));
  });

  it('refuses a head that is not canonical JSON and an older layout number; a newer one is a newer version', () => {
    const bytes = Buffer.from(encodeManifest(sample()));
    const headLength = bytes.readUInt32LE(12);
    const headText = bytes.toString('utf8', 16, 16 + headLength);
    const withHead = (t: string): Uint8Array => {
      const h = Buffer.from(t, 'utf8');
      const out = Buffer.concat([bytes.subarray(0, 12), Buffer.alloc(4), h, bytes.subarray(16 + headLength)]);
      out.writeUInt32LE(h.length, 12);
      return out;
    };
    expect(decodeManifest(withHead(headText))).toEqual(decodeManifest(bytes));
    expectManifestError(() => decodeManifest(withHead(headText.replace('{"version":1,', '{"version":1,"version":1,'))));
    expectManifestError(() => decodeManifest(withHead(headText.replace('"epoch":2', '"epoch":2.0'))));
    expectManifestError(() => decodeManifest(withHead(` ${headText}`)));
    expectManifestError(() => decodeManifest(withHead(headText.replace(/\}$/, ',"files":[]}'))));
    expectManifestError(() => decodeManifest(withHead(JSON.stringify({ ...JSON.parse(headText), extra: 1 }))));
    const layout3 = Buffer.from(bytes);
    layout3.writeUInt32LE(3, 8);
    expect(() => decodeManifest(layout3)).toThrow(NewerFormatError);
    const layout1 = Buffer.from(bytes);
    layout1.writeUInt32LE(1, 8);
    expectManifestError(() => decodeManifest(layout1));
  });
});

describe('a message for a new snapshot (push -m)', () => {
  it('may hold newlines, tabs and any printable text', () => {
    for (const m of ['first sync', 'subject\n\nbody\twith tab\n', 'héllo 😀 日本', 'm'.repeat(65_536)]) expect(newMessageProblem(m), JSON.stringify(m)).toBeNull();
  });

  it('refuses a carriage return, every other control character and bidirectional overrides, naming the character', () => {
    expect(newMessageProblem('ok\r0123456789ab bob')).toMatch(/U\+000D \(a carriage return\), a control character/);
    expect(newMessageProblem('red \u001b[31m')).toMatch(/U\+001B \(an escape\)/);
    expect(newMessageProblem('a\u0001b')).toMatch(/U\+0001, a control character/);
    expect(newMessageProblem('rtl\u202etxt')).toMatch(/U\+202E, a bidirectional override/);
    for (let c = 0; c < 0xa0; c++) {
      const ch = String.fromCharCode(c);
      const control = c < 0x20 || c >= 0x7f;
      expect(newMessageProblem(`x${ch}y`) !== null, `U+${c.toString(16)}`).toBe(control && ch !== '\n' && ch !== '\t');
    }
  });

  it('refuses one longer than a manifest holds', () => {
    expect(newMessageProblem('m'.repeat(65_537))).toMatch(/at most 65536 characters/);
  });

  it('is stricter than reading: a pushed message with a carriage return (older clients) still decodes', () => {
    const m = { ...sample(), message: 'line\r\nnext' };
    expect(decodeManifest(encodeManifest(m)).message).toBe('line\r\nnext');
  });
});
