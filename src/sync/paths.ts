/**
 * Workspace-relative file paths as they appear in manifests, the local index and merge plans.
 *
 * A path from a remote manifest is untrusted: it is later joined to the workspace folder and
 * written to. So the rules are strict and checked on every decode (docs/protocol.md, manifests):
 * relative, '/'-separated, no empty / '.' / '..' segments, no backslash, no control characters,
 * at most MAX_PATH_BYTES of UTF-8, and never the internal `.insomnia-sync` folder. Paths are kept
 * in Unicode NFC so that a file named on macOS (NFD on disk) and on Linux compares equal.
 */
import { NoConflictNameError } from './errors.js';

export class PathError extends Error {
  readonly code = 'bad_path';
  override readonly name = 'PathError';
}

/** The folder that links a workspace to its remote (like `.git/`); never synced. */
export const INTERNAL_DIR = '.insomnia-sync';

/** Linux PATH_MAX; measured in UTF-8 bytes because that is what the file system limits. */
export const MAX_PATH_BYTES = 4096;

// Characters that HFS+/APFS ignore when comparing names, so `.insomnia\u200c-sync` would open the
// internal folder on a Mac (the same trick as git's CVE-2014-9390 for `.git`).
const IGNORABLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]/g;

/**
 * True when a segment names the internal folder on some file system: case-insensitive file
 * systems (macOS, Windows), Windows dropping trailing dots and spaces, and ignorable code points.
 */
function isInternalSegment(segment: string): boolean {
  return namesFolder(segment, INTERNAL_DIR);
}

/** True when `segment` opens the folder `dotName` (lower case, begins with '.') on some file system. */
function namesFolder(segment: string, dotName: string): boolean {
  if (segment.length < dotName.length) return false;
  // Fast exit for the usual name: it must begin with '.' or with an ignorable code point.
  const first = segment.charCodeAt(0);
  if (first !== 0x2e && first < 0x200b) return false;
  const folded = segment.normalize('NFC').replace(IGNORABLE, '').toLowerCase().replace(/[. ]+$/, '');
  return folded === dotName;
}

/**
 * git's own folder (`.git`; a `.git` file in a worktree or submodule), spelt as any file system
 * would open it (see isInternalSegment). Never synced: its hooks and `core.fsmonitor` run
 * commands, and its config holds remote credentials. Unlike the internal folder, a manifest may
 * hold it (older versions pushed it): readers leave it out rather than refuse the snapshot.
 */
export const GIT_DIR = '.git';

// As MAYBE_INTERNAL, for `.git`.
const MAYBE_GIT = /[^\x00-\x7f]|(?:^|\/)\.git[. ]*(?:\/|$)/i;

/** True for `.git` and anything inside it, at any depth (git's folder of a nested repository too). */
export function isGitPath(p: string): boolean {
  if (!MAYBE_GIT.test(p)) return false;
  for (const segment of p.split('/')) {
    if (namesFolder(segment, GIT_DIR)) return true;
  }
  return false;
}

// For an ASCII path, isInternalSegment folds to exactly this test on some segment (NFC and the
// ignorable code points only touch non-ASCII text); anything non-ASCII needs the full fold.
const MAYBE_INTERNAL = /[^\x00-\x7f]|(?:^|\/)\.insomnia-sync[. ]*(?:\/|$)/i;

/** True for `.insomnia-sync` and anything inside it, at any depth (a nested linked folder too). */
export function isInternalPath(p: string): boolean {
  // One compiled regex answers the usual ASCII path; splitting is for the rest.
  if (!MAYBE_INTERNAL.test(p)) return false;
  return hasInternalSegment(p);
}

/** The precise rule, segment by segment. */
function hasInternalSegment(p: string): boolean {
  for (const segment of p.split('/')) {
    if (isInternalSegment(segment)) return true;
  }
  return false;
}

// Finds what makes a non-empty path other than simple and valid, in one scan: a character that
// is not printable ASCII or is a backslash; a leading slash, an empty segment or a trailing
// slash; a '.' or '..' segment; or the internal folder as isInternalSegment folds it for ASCII
// names (any case, trailing dots and spaces; explicit letter classes rather than the /i flag,
// which measured slower).
const ASCII_UNSAFE =
  /[^\x20-\x5b\x5d-\x7e]|^\/|\/\/|\/$|(?:^|\/)\.(?:\.?(?:\/|$)|[Ii][Nn][Ss][Oo][Mm][Nn][Ii][Aa]-[Ss][Yy][Nn][Cc][. ]*(?:\/|$))/;

/**
 * Checks a workspace-relative path and returns its NFC form; throws PathError when it is unsafe.
 * Cheap for the common case (manifests hold thousands of paths and are decoded on every pull):
 * printable ASCII paths take one regex scan, others one pass over the code units.
 */
export function validatePath(p: string): string {
  if (typeof p !== 'string') throw new PathError('path is not a string');
  if (p.length === 0) throw new PathError('path is empty');
  // Fast path for the common printable-ASCII path: one compiled regex instead of a character
  // loop (which matters before the JIT has warmed up, i.e. on every CLI run).
  if (p.length <= MAX_PATH_BYTES && !ASCII_UNSAFE.test(p)) return p;
  let ascii = true;
  let bytes = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) throw new PathError('path contains a control character');
    if (c === 0x5c) throw new PathError('path contains a backslash');
    if (c < 0x80) {
      bytes += 1;
      continue;
    }
    ascii = false;
    if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < p.length ? p.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) throw new PathError('path contains a lone surrogate');
      bytes += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) throw new PathError('path contains a lone surrogate');
    else bytes += 3;
  }
  // NFC never adds control characters, backslashes or surrogates; it may change the length.
  const nfc = ascii ? p : p.normalize('NFC');
  if ((ascii ? bytes : utf8Length(nfc)) > MAX_PATH_BYTES) {
    throw new PathError(`path is longer than ${MAX_PATH_BYTES} bytes`);
  }
  if (nfc.charCodeAt(0) === 0x2f) throw new PathError('path is absolute');
  let start = 0;
  for (;;) {
    const slash = nfc.indexOf('/', start);
    const end = slash === -1 ? nfc.length : slash;
    const len = end - start;
    if (len === 0) throw new PathError('path has an empty segment');
    if (nfc.charCodeAt(start) === 0x2e) {
      if (len === 1 || (len === 2 && nfc.charCodeAt(start + 1) === 0x2e)) {
        throw new PathError(`path has a '${nfc.slice(start, end)}' segment`);
      }
    }
    if (len >= INTERNAL_DIR.length && isInternalSegment(nfc.slice(start, end))) {
      throw new PathError(`path is inside ${INTERNAL_DIR}/`);
    }
    if (slash === -1) break;
    start = slash + 1;
  }
  return nfc;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/**
 * True when every path is printable ASCII and valid, so validatePath would return it unchanged.
 * Checks the '/'-joined list with one regex scan: each path is then a run of whole segments,
 * so a bad segment, a leading or trailing '/' or an empty path shows up in the joined text too.
 * False does not say which path is wrong (or whether one is: non-ASCII paths need validatePath).
 */
export function areSimpleValidPaths(paths: readonly string[]): boolean {
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i] as string;
    if (p.length === 0 || p.length > MAX_PATH_BYTES) return false;
  }
  if (paths.length === 0) return true;
  return !ASCII_UNSAFE.test(paths.join('/'));
}

/**
 * True when `dir/name` is printable ASCII and valid for every name (validatePath would return each
 * unchanged): one regex scan over the names of a folder joined by '/', instead of one per file.
 * `dir` is '' for the root. False does not say which name is wrong, or whether one is.
 */
export function areSimpleValidChildren(dir: string, names: readonly string[]): boolean {
  let longest = 0;
  for (let i = 0; i < names.length; i++) {
    const n = (names[i] as string).length;
    if (n === 0) return false;
    if (n > longest) longest = n;
  }
  if (names.length === 0) return true;
  if ((dir ? dir.length + 1 : 0) + longest > MAX_PATH_BYTES) return false;
  const joined = names.join('/');
  return !ASCII_UNSAFE.test(dir ? `${dir}/${joined}` : joined);
}

/** The one order used for paths everywhere (manifests, index, plans): UTF-16 code units. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** How many names conflictPathFor tries (`NAME.conflict` to `NAME.conflict-1000`) before it gives up. */
export const CONFLICT_NAMES_TRIED = 1000;

/**
 * Where the remote copy of a conflicting file goes: `NAME.conflict`, else `NAME.conflict-2`,
 * `-3`… — the first one `taken` says is free. A name too long for the suffix (file systems take
 * 255 bytes) is shortened first, by whole characters. After CONFLICT_NAMES_TRIED names it throws
 * NoConflictNameError: a `taken` that says yes to every name (as one once did for every copy in a
 * subfolder) fails at once, instead of spinning for ever where no signal is heard.
 */
export function conflictPathFor(path: string, taken: (p: string) => boolean): string {
  for (let n = 1; n <= CONFLICT_NAMES_TRIED; n++) {
    const candidate = withNameSuffix(path, n === 1 ? '.conflict' : `.conflict-${n}`);
    if (!taken(candidate)) return candidate;
  }
  const last = withNameSuffix(path, `.conflict-${CONFLICT_NAMES_TRIED}`);
  throw new NoConflictNameError(`no free name for a conflict copy of ${path}: ${withNameSuffix(path, '.conflict')} to ${last} are all taken`);
}

const MAX_NAME_BYTES = 255;
const utf8 = new TextEncoder();

function withNameSuffix(path: string, suffix: string): string {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  let name = path.slice(slash + 1);
  if (utf8.encode(name + suffix).length > MAX_NAME_BYTES) {
    const chars = Array.from(name);
    while (chars.length > 1 && utf8.encode(chars.join('') + suffix).length > MAX_NAME_BYTES) chars.pop();
    name = chars.join('');
  }
  return dir + name + suffix;
}

/** Every proper ancestor folder of a path: `a/b/c` → `a`, `a/b`. */
export function parentDirs(path: string): string[] {
  const out: string[] = [];
  let i = path.indexOf('/');
  while (i !== -1) {
    out.push(path.slice(0, i));
    i = path.indexOf('/', i + 1);
  }
  return out;
}

/**
 * Finds a path that is both a file and the folder of another file (`a` and `a/b`), which no file
 * system can hold. Returns the pair or null. `paths` need not be sorted.
 */
export function findFileDirClash(paths: Iterable<string>): [file: string, inside: string] | null {
  const files = new Set(paths);
  for (const p of files) {
    for (const dir of parentDirs(p)) {
      if (files.has(dir)) return [dir, p];
    }
  }
  return null;
}
