/**
 * Workspace-relative file paths as they appear in manifests, the local index and merge plans.
 *
 * A path from a remote manifest is untrusted: it is later joined to the workspace folder and
 * written to. So the rules are strict and checked on every decode (docs/protocol.md, manifests):
 * relative, '/'-separated, no empty / '.' / '..' segments, no backslash, no control characters,
 * at most MAX_PATH_BYTES of UTF-8, and never the internal `.insomnia-sync` folder. Paths are kept
 * in Unicode NFC so that a file named on macOS (NFD on disk) and on Linux compares equal.
 */

export class PathError extends Error {
  readonly code = 'bad_path';
  override readonly name = 'PathError';
}

/** The folder that links a workspace to its remote (like `.git/`); never synced. */
export const INTERNAL_DIR = '.insomnia-sync';

/** Linux PATH_MAX; measured in UTF-8 bytes because that is what the file system limits. */
export const MAX_PATH_BYTES = 4096;

// C0 controls, DEL and C1 controls: never valid in a synced name (terminal escapes, NUL).
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// Characters that HFS+/APFS ignore when comparing names, so `.insomnia\u200c-sync` would open the
// internal folder on a Mac (the same trick as git's CVE-2014-9390 for `.git`).
const IGNORABLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u206a-\u206f\ufeff]/g;

/**
 * True when a segment names the internal folder on some file system: case-insensitive file
 * systems (macOS, Windows), Windows dropping trailing dots and spaces, and ignorable code points.
 */
function isInternalSegment(segment: string): boolean {
  if (segment.length < INTERNAL_DIR.length) return false;
  const folded = segment.normalize('NFC').replace(IGNORABLE, '').toLowerCase().replace(/[. ]+$/, '');
  return folded === INTERNAL_DIR;
}

/** True for `.insomnia-sync` and anything inside it, at any depth (a nested linked folder too). */
export function isInternalPath(p: string): boolean {
  for (const segment of p.split('/')) {
    if (isInternalSegment(segment)) return true;
  }
  return false;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

// A lone surrogate cannot be encoded as UTF-8 and would change on the way to disk.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Checks a workspace-relative path and returns its NFC form; throws PathError when it is unsafe. */
export function validatePath(p: string): string {
  if (typeof p !== 'string') throw new PathError('path is not a string');
  if (p.length === 0) throw new PathError('path is empty');
  if (CONTROL.test(p)) throw new PathError('path contains a control character');
  if (LONE_SURROGATE.test(p)) throw new PathError('path contains a lone surrogate');
  if (p.includes('\\')) throw new PathError('path contains a backslash');
  const nfc = p.normalize('NFC');
  if (utf8Length(nfc) > MAX_PATH_BYTES) throw new PathError(`path is longer than ${MAX_PATH_BYTES} bytes`);
  if (nfc.startsWith('/')) throw new PathError('path is absolute');
  for (const segment of nfc.split('/')) {
    if (segment === '') throw new PathError('path has an empty segment');
    if (segment === '.' || segment === '..') throw new PathError(`path has a '${segment}' segment`);
    if (isInternalSegment(segment)) throw new PathError(`path is inside ${INTERNAL_DIR}/`);
  }
  return nfc;
}

/** The one order used for paths everywhere (manifests, index, plans): UTF-16 code units. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Where the remote copy of a conflicting file goes: `NAME.conflict`, else `NAME.conflict-2`,
 * `-3`… — the first one `taken` says is free.
 */
export function conflictPathFor(path: string, taken: (p: string) => boolean): string {
  const first = `${path}.conflict`;
  if (!taken(first)) return first;
  for (let n = 2; ; n++) {
    const candidate = `${path}.conflict-${n}`;
    if (!taken(candidate)) return candidate;
  }
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
