/**
 * Walking a linked folder: regular files only (symlinks and special files are skipped and
 * reported), honouring `.insomnia-syncignore`, never entering `.insomnia-sync/` nor another linked
 * folder inside this one. As in git, an ignore rule keeps out files not synced yet; a file already
 * synced (in the index) stays in the scan until it is deleted, so adding a rule deletes nothing.
 */
import { constants as fsConstants, lstatSync, readdirSync, readFileSync, statSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { normalizeMode } from '../../sync/file-mode.js';
import { builtinIgnored, isConflictCopyPath, noNameBuiltinIgnored } from '../../sync/ignore-builtin.js';
import type { ScannedFile } from '../../sync/diff.js';
import { STAT_FIELDS, type StatColumns } from '../../sync/file-columns.js';
import { areSimpleValidChildren, isInternalPath, validatePath } from '../../sync/paths.js';
import { STATE_DIR } from './link.js';
import { SyncError } from '../errors.js';
import { unreadable } from './files.js';

export { IGNORE_FILE } from '../../sync/ignore-builtin.js';
import { IGNORE_FILE } from '../../sync/ignore-builtin.js';

export interface ScanResult {
  /** the regular files, sorted by path (built on first use from `columns`) */
  readonly files: ScannedFile[];
  /** the same files column by column, for comparing with the index without an object per file */
  columns: StatColumns;
  /** paths skipped because they are not regular files or have names we cannot sync */
  skipped: string[];
  /**
   * Conflict copies on disk (`NAME.conflict`, `NAME.conflict-N`; a folder of them ends in '/'),
   * in path order: never synced (a built-in ignore rule), so listed for status and push to show.
   */
  conflictCopies: string[];
}


/**
 * Loads the gitignore parser only when the folder has rules for it. The ignore file may be a
 * symlink to a file; a folder (or FIFO…) by that name is refused rather than taken as no rules,
 * which would sync what the rules were there to keep out.
 */
async function matcherFor(root: string): Promise<(relPath: string, isDir: boolean) => boolean> {
  const ignoreFile = path.join(root, IGNORE_FILE);
  let rules: string;
  try {
    const st = statSync(ignoreFile, { throwIfNoEntry: false });
    if (st === undefined) return builtinIgnored;
    if (!st.isFile()) throw new SyncError('bad_ignore_file', `${IGNORE_FILE} is ${st.isDirectory() ? 'a folder' : 'not a regular file'}: it must be a file of ignore rules; rename or remove it`);
    rules = readFileSync(ignoreFile, 'utf8');
  } catch (err) {
    // an ignore file this user may not read stops the scan, as a folder by that name does
    throw unreadable(IGNORE_FILE, err);
  }
  const { createIgnoreMatcher } = await import('../../sync/ignore.js');
  return createIgnoreMatcher(rules);
}

/**
 * The synced paths an ignore rule does not hide: each file, and each folder on the way to one
 * (with its '/'). Built only if the scan meets an ignored entry.
 */
export type TrackedPaths = () => ReadonlySet<string>;

export function trackedPaths(paths: () => readonly string[]): TrackedPaths {
  let set: Set<string> | null = null;
  return () => {
    if (set) return set;
    set = new Set();
    for (const p of paths()) {
      set.add(p);
      for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) set.add(p.slice(0, i + 1));
    }
    return set;
  };
}

/**
 * Walks the folder depth-first with each folder's entries sorted by name, a sub-folder's name
 * taken with its '/' (git's tree order), which yields every path in sorted order with no sort at
 * the end. Stat data go straight into columns; ScannedFile objects are made only if asked for.
 */
/** A skipped entry that is a folder linked to another workspace: the only kind ending in '/'. */
export function isLinkedFolderEntry(skipped: string): boolean {
  return skipped.endsWith('/');
}

/**
 * A skipped entry whose name was not valid UTF-8 on disk: Node reads such a name with U+FFFD in
 * place of the bad bytes, a name that cannot be opened again nor sent to another machine. (A name
 * really holding U+FFFD, very rare, is synced; skipped for another reason, it is taken for one.)
 */
export function isUndecodableEntry(skipped: string): boolean {
  return skipped.includes(REPLACEMENT);
}

export async function scanFolder(root: string, tracked: TrackedPaths = () => NONE): Promise<ScanResult> {
  const ignored = await matcherFor(root);
  /** an ignored entry kept because it is synced already (never a built-in rule's: internal or conflict copy) */
  const keptIgnored = (relPath: string, isDir: boolean): boolean => !builtinIgnored(relPath) && tracked().has(isDir ? `${relPath}/` : relPath);
  const paths: string[] = [];
  let stats = new Float64Array(4096);
  let exec = new Uint8Array(1024);
  const skipped: string[] = [];
  const conflictCopies: string[] = [];
  /** `inIgnored`: this folder is ignored and walked only for the synced files in it */
  const walk = (rel: string, inIgnored: boolean): void => {
    const abs = rel ? `${root}${path.sep}${rel}` : root;
    const names: string[] = [];
    // Sort keys: a folder's name with its '/'. The default sort compares UTF-16 code units, as
    // `<` does everywhere else, and is native: no comparator called per pair.
    let keys: string[] = [];
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (err) {
      // a folder this user may not read (chmod 000): one line naming it, not Node's errno text
      throw unreadable(rel ? `${rel}/` : root, err);
    }
    for (const entry of entries) {
      const name = entry.name;
      names.push(name);
      if (entry.isDirectory()) keys.push(`${name}/`);
      else if (entry.isFile()) keys.push(name);
      else {
        const relPath = rel ? `${rel}/${name}` : name;
        if (!inIgnored && !ignored(relPath, false)) skipped.push(relPath);
      }
    }
    // Another linked folder (a clone made inside this one): its files belong to its workspace.
    // Only a real link counts, as findLinkedFolder finds one: a stray file or empty folder by
    // that name is listed below as a name that cannot be synced, and the rest is synced.
    if (rel !== '' && names.includes(STATE_DIR) && isLink(abs, rel)) {
      if (!inIgnored) skipped.push(`${rel}/`);
      return;
    }
    keys.sort();
    // The usual folder (plain ASCII names, no ignore file) is checked in two regex scans in all,
    // not two per entry.
    const plain = ignored === builtinIgnored && areSimpleValidChildren(rel, names) && noNameBuiltinIgnored(names);
    // A name that is not valid UTF-8 would not open (Node decoded it with U+FFFD): skipped like
    // any name that cannot be synced, unless ignored. No '/' for a folder: that marks a linked one.
    // Tested once per unusual folder, never per file.
    const undecodable = plain ? null : undecodableNames(abs, names);
    if (undecodable !== null) {
      keys = keys.filter((key) => {
        const isDir = key.charCodeAt(key.length - 1) === SLASH;
        const name = isDir ? key.slice(0, -1) : key;
        if (!undecodable.has(name)) return true;
        const relPath = rel ? `${rel}/${name}` : name;
        if (!inIgnored && !ignored(relPath, isDir)) skipped.push(relPath);
        return false;
      });
    }
    for (const key of keys) {
      const isDir = key.charCodeAt(key.length - 1) === SLASH;
      const name = isDir ? key.slice(0, -1) : key;
      const relPath = rel ? `${rel}/${name}` : name;
      let ignoredHere = inIgnored;
      if (!plain && (inIgnored || ignored(relPath, isDir))) {
        if (!keptIgnored(relPath, isDir)) {
          if (isConflictCopyPath(name)) conflictCopies.push(isDir ? `${relPath}/` : relPath);
          // the internal name anywhere but the root's own link (a linked subfolder returned above)
          else if (!inIgnored && (rel !== '' || name !== STATE_DIR) && isInternalPath(name)) skipped.push(relPath);
          continue;
        }
        ignoredHere = true;
      }
      if (isDir) {
        walk(relPath, ignoredHere);
        continue;
      }
      // A name that is not in NFC would not round-trip through the manifest byte for byte.
      if (!plain && !isSyncablePath(relPath)) {
        skipped.push(relPath);
        continue;
      }
      let st: Stats;
      try {
        st = lstatSync(`${abs}${path.sep}${name}`);
      } catch (err) {
        throw unreadable(relPath, err);
      }
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
  walk('', false);
  // Skipped entries are found in two passes per folder; report them in path order.
  skipped.sort();
  conflictCopies.sort();
  return scanResult({ paths, stats: stats.subarray(0, paths.length * STAT_FIELDS), exec: exec.subarray(0, paths.length) }, skipped, conflictCopies);
}

const SLASH = 0x2f;
const REPLACEMENT = '\ufffd';

/**
 * The names of a folder that are not valid UTF-8 on disk, as Node decoded them; null when none
 * can be (no name holds U+FFFD). The folder is read again as bytes only when one does.
 */
function undecodableNames(abs: string, names: readonly string[]): Set<string> | null {
  if (!names.join('/').includes(REPLACEMENT)) return null;
  const found = new Set<string>();
  let raw: Buffer[];
  try {
    raw = readdirSync(abs, { encoding: 'buffer' });
  } catch {
    return null; // gone meanwhile: the walk meets it as it would have
  }
  for (const bytes of raw) {
    const name = bytes.toString('utf8');
    if (name.includes(REPLACEMENT) && !Buffer.from(name, 'utf8').equals(bytes)) found.add(name);
  }
  return found.size > 0 ? found : null;
}
const NONE: ReadonlySet<string> = new Set();

/**
 * `dir` holds a link as the tool writes it (`.insomnia-sync/link.json`): a linked folder. One this
 * user may not look into counts as linked: the tool makes it 0700, so it is another user's clone
 * (a container's, a teammate's in a shared tree), whose files are not this workspace's either.
 */
function isLink(dir: string, rel: string): boolean {
  try {
    return statSync(`${dir}${path.sep}${STATE_DIR}${path.sep}link.json`, { throwIfNoEntry: false })?.isFile() === true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return false; // a file by that name
    if (code === 'EACCES' || code === 'EPERM') return true;
    throw unreadable(`${rel}/${STATE_DIR}/`, err);
  }
}
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

function scanResult(columns: StatColumns, skipped: string[], conflictCopies: string[]): ScanResult {
  let files: ScannedFile[] | null = null;
  return {
    columns,
    skipped,
    conflictCopies,
    get files(): ScannedFile[] {
      files ??= columns.paths.map((_, k) => scannedFileAt(columns, k));
      return files;
    },
  };
}
