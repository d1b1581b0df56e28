/**
 * Walking a linked folder: regular files only (symlinks and special files are skipped and
 * reported), honouring `.insomnia-syncignore`, never entering `.insomnia-sync/`.
 */
import { lstatSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { builtinIgnored } from '../../sync/ignore-builtin.js';
import type { ScannedFile } from '../../sync/diff.js';
import { validatePath } from '../../sync/paths.js';

export { IGNORE_FILE } from '../../sync/ignore-builtin.js';
import { IGNORE_FILE } from '../../sync/ignore-builtin.js';

export interface ScanResult {
  files: ScannedFile[];
  /** paths skipped because they are not regular files or have names we cannot sync */
  skipped: string[];
}

export function fileMode(statMode: number): number {
  return statMode & 0o111 ? 0o755 : 0o644;
}

/** Loads the gitignore parser only when the folder has rules for it. */
async function matcherFor(root: string): Promise<(relPath: string, isDir: boolean) => boolean> {
  const ignoreFile = path.join(root, IGNORE_FILE);
  if (!existsSync(ignoreFile)) return builtinIgnored;
  const { createIgnoreMatcher } = await import('../../sync/ignore.js');
  return createIgnoreMatcher(readFileSync(ignoreFile, 'utf8'));
}

export async function scanFolder(root: string): Promise<ScanResult> {
  const ignored = await matcherFor(root);
  const files: ScannedFile[] = [];
  const skipped: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? `${root}${path.sep}${rel}` : root;
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
      const st = lstatSync(`${abs}${path.sep}${entry.name}`);
      files.push({ path: valid, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, mode: fileMode(st.mode) });
    }
  };
  walk('');
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, skipped };
}
