/**
 * Walking a linked folder: regular files only (symlinks and special files are skipped and
 * reported), honouring `.insomnia-syncignore`, never entering `.insomnia-sync/`.
 */
import { constants as fsConstants, lstatSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { normalizeMode } from '../../sync/file-mode.js';
import { builtinIgnored, noNameBuiltinIgnored } from '../../sync/ignore-builtin.js';
import type { ScannedFile } from '../../sync/diff.js';
import { STAT_FIELDS, type StatColumns } from '../../sync/file-columns.js';
import { areSimpleValidChildren, validatePath } from '../../sync/paths.js';

export { IGNORE_FILE } from '../../sync/ignore-builtin.js';
import { IGNORE_FILE } from '../../sync/ignore-builtin.js';

export interface ScanResult {
  /** the regular files, sorted by path (built on first use from `columns`) */
  readonly files: ScannedFile[];
  /** the same files column by column, for comparing with the index without an object per file */
  columns: StatColumns;
  /** paths skipped because they are not regular files or have names we cannot sync */
  skipped: string[];
}


/** Loads the gitignore parser only when the folder has rules for it. */
async function matcherFor(root: string): Promise<(relPath: string, isDir: boolean) => boolean> {
  const ignoreFile = path.join(root, IGNORE_FILE);
  if (!existsSync(ignoreFile)) return builtinIgnored;
  const { createIgnoreMatcher } = await import('../../sync/ignore.js');
  return createIgnoreMatcher(readFileSync(ignoreFile, 'utf8'));
}

/**
 * Walks the folder depth-first with each folder's entries sorted by name, a sub-folder's name
 * taken with its '/' (git's tree order), which yields every path in sorted order with no sort at
 * the end. Stat data go straight into columns; ScannedFile objects are made only if asked for.
 */
export async function scanFolder(root: string): Promise<ScanResult> {
  const ignored = await matcherFor(root);
  const paths: string[] = [];
  let stats = new Float64Array(4096);
  let exec = new Uint8Array(1024);
  const skipped: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel ? `${root}${path.sep}${rel}` : root;
    const names: string[] = [];
    // Sort keys: a folder's name with its '/'. The default sort compares UTF-16 code units, as
    // `<` does everywhere else, and is native: no comparator called per pair.
    const keys: string[] = [];
    for (const entry of readdirSync(abs, { withFileTypes: true })) {
      const name = entry.name;
      names.push(name);
      if (entry.isDirectory()) keys.push(`${name}/`);
      else if (entry.isFile()) keys.push(name);
      else {
        const relPath = rel ? `${rel}/${name}` : name;
        if (!ignored(relPath, false)) skipped.push(relPath);
      }
    }
    keys.sort();
    // The usual folder (plain ASCII names, no ignore file) is checked in two regex scans in all,
    // not two per entry.
    const plain = ignored === builtinIgnored && areSimpleValidChildren(rel, names) && noNameBuiltinIgnored(names);
    for (const key of keys) {
      const isDir = key.charCodeAt(key.length - 1) === SLASH;
      const name = isDir ? key.slice(0, -1) : key;
      const relPath = rel ? `${rel}/${name}` : name;
      if (!plain && ignored(relPath, isDir)) continue;
      if (isDir) {
        walk(relPath);
        continue;
      }
      // A name that is not in NFC would not round-trip through the manifest byte for byte.
      if (!plain && !isSyncablePath(relPath)) {
        skipped.push(relPath);
        continue;
      }
      const st = lstatSync(`${abs}${path.sep}${name}`);
      // Replaced by something else since the folder was read.
      if ((st.mode & S_IFMT) !== S_IFREG) {
        skipped.push(relPath);
        continue;
      }
      const n = paths.length;
      if ((n + 1) * STAT_FIELDS > stats.length) {
        const grown = new Float64Array(stats.length * 2);
        grown.set(stats);
        stats = grown;
      }
      if (n + 1 > exec.length) {
        const grown = new Uint8Array(exec.length * 2);
        grown.set(exec);
        exec = grown;
      }
      stats[n * STAT_FIELDS] = st.size;
      stats[n * STAT_FIELDS + 1] = st.mtimeMs;
      stats[n * STAT_FIELDS + 2] = st.ctimeMs;
      stats[n * STAT_FIELDS + 3] = st.ino;
      exec[n] = normalizeMode(st.mode) === 0o755 ? 1 : 0;
      paths.push(relPath);
    }
  };
  walk('');
  // Skipped entries are found in two passes per folder; report them in path order.
  skipped.sort();
  return scanResult({ paths, stats: stats.subarray(0, paths.length * STAT_FIELDS), exec: exec.subarray(0, paths.length) }, skipped);
}

const SLASH = 0x2f;
const { S_IFMT, S_IFREG } = fsConstants;

/** validatePath accepts it as it is (in particular, already in NFC). */
function isSyncablePath(relPath: string): boolean {
  try {
    return validatePath(relPath) === relPath;
  } catch {
    return false;
  }
}

/** Row `k` of the scan as an object. */
export function scannedFileAt(columns: StatColumns, k: number): ScannedFile {
  return {
    path: columns.paths[k] as string,
    size: columns.stats[k * STAT_FIELDS] as number,
    mtimeMs: columns.stats[k * STAT_FIELDS + 1] as number,
    ctimeMs: columns.stats[k * STAT_FIELDS + 2] as number,
    ino: columns.stats[k * STAT_FIELDS + 3] as number,
    mode: columns.exec[k] === 1 ? 0o755 : 0o644,
  };
}

function scanResult(columns: StatColumns, skipped: string[]): ScanResult {
  let files: ScannedFile[] | null = null;
  return {
    columns,
    skipped,
    get files(): ScannedFile[] {
      files ??= columns.paths.map((_, k) => scannedFileAt(columns, k));
      return files;
    },
  };
}
