/**
 * Walking a linked folder: regular files only (symlinks and special files are skipped and
 * reported), honouring `.insomnia-syncignore`, never entering `.insomnia-sync/`.
 */
import { lstatSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createIgnoreMatcher } from '../../sync/ignore.js';
import type { ScannedFile } from '../../sync/diff.js';
import { validatePath } from '../../sync/paths.js';

export const IGNORE_FILE = '.insomnia-syncignore';

export interface ScanResult {
  files: ScannedFile[];
  /** paths skipped because they are not regular files or have names we cannot sync */
  skipped: string[];
}

export function fileMode(statMode: number): number {
  return statMode & 0o111 ? 0o755 : 0o644;
}

export function scanFolder(root: string): ScanResult {
  const ignoreFile = path.join(root, IGNORE_FILE);
  const ignored = createIgnoreMatcher(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : null);
  const files: ScannedFile[] = [];
  const skipped: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? path.join(root, rel) : root;
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      const isDir = entry.isDirectory();
      if (ignored(relPath, isDir)) continue;
      if (isDir) {
        walk(relPath);
        continue;
      }
      if (!entry.isFile()) {
        skipped.push(relPath);
        continue;
      }
      let valid: string;
      try {
        valid = validatePath(relPath);
      } catch {
        skipped.push(relPath);
        continue;
      }
      // A name that is not in NFC would not round-trip through the manifest byte for byte.
      if (valid !== relPath) {
        skipped.push(relPath);
        continue;
      }
      const st = lstatSync(path.join(root, relPath));
      files.push({ path: valid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: fileMode(st.mode) });
    }
  };
  walk('');
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
}
