/**
 * Digest of a folder's synced content: every regular file's relative path and bytes, in sorted
 * order, skipping `.insomnia-sync/` (local link state, never synced). Two trees with equal digests
 * hold the same files with the same contents.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function treeDigest(root) {
  const files = [];
  const walk = (rel) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== '.insomnia-sync') walk(r);
      } else if (e.isFile()) files.push(r);
    }
  };
  walk('');
  files.sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const f of files) {
    const data = readFileSync(path.join(root, f));
    bytes += data.length;
    // Length-prefix the path so "a" + "bc" and "ab" + "c" cannot collide.
    hash.update(`${Buffer.byteLength(f)}:${f}:${data.length}:`);
    hash.update(data);
  }
  return { files: files.length, bytes, sha256: hash.digest('hex'), paths: files };
}
