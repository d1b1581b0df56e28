/**
 * A linked folder keeps its state in `.insomnia-sync/` (like `.git/`): link.json (server,
 * workspace id, profile) and index (the synced base and per-file stat cache, binary: see
 * sync/index-format.ts). Never synced.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { decodeIndex, decodeIndexColumns, decodeIndexHead, encodeIndex, IndexFormatError, type IndexColumns, type LocalIndex } from '../../sync/index-format.js';
import { decodeJsonIndex } from '../../sync/index-json.js';
import { ConflictError, NotFoundError, SyncError } from '../errors.js';

export const STATE_DIR = '.insomnia-sync';

export interface FolderLink {
  version: 1;
  server: string;
  workspaceId: string;
  teamId: string;
  profile: string;
}

export interface LinkedFolder {
  root: string;
  link: FolderLink;
}

export function stateDir(root: string): string {
  return path.join(root, STATE_DIR);
}

/** Walks up from `start` like git does to find the folder that holds `.insomnia-sync/link.json`. */
export function findLinkedFolder(start: string): LinkedFolder | null {
  let dir = path.resolve(start);
  for (let here = true; ; here = false) {
    const file = path.join(dir, STATE_DIR, 'link.json');
    if (linkFileExists(file, here)) return { root: dir, link: readLink(file) };
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * Whether a link file is there. In the folder the command runs in, a state folder this user may
 * not search (a folder restored from a cache by another user, say) stops the walk with that said:
 * walking on up would call the folder "not linked" and offer `init`, or find an outer linked
 * folder and act on it instead. Above it, such a folder is walked past, as git walks past a
 * `.git` it may not read: anyone can make `/tmp/.insomnia-sync`, and it must not stop the commands
 * of every other user below it.
 */
function linkFileExists(file: string, here: boolean): boolean {
  try {
    return statSync(file, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') return false;
    if (code === 'EACCES' || code === 'EPERM') {
      if (!here) return false;
      throw new SyncError(
        'file_unreadable',
        `cannot read ${path.dirname(file)}: permission denied`,
        'the folder belongs to another user or its permissions keep you out: run as its owner, or fix them (chown/chmod)',
      );
    }
    throw err;
  }
}

/**
 * `target` with symbolic links resolved as far as it exists: the real path of its nearest existing
 * folder above, with the rest of the path (not made yet) as given. Lexically when nothing resolves.
 */
export function realTarget(target: string): string {
  const abs = path.resolve(target);
  const rest: string[] = [];
  for (let dir = abs; ; dir = path.dirname(dir)) {
    try {
      return path.join(realpathSync(dir), ...rest.reverse());
    } catch {
      if (path.dirname(dir) === dir) return abs;
      rest.push(path.basename(dir));
    }
  }
}

/**
 * Refuses a new folder or file (clone, restore --to, export --out) inside a linked one: the outer
 * workspace would sync what is written there, which belongs elsewhere (exit 3, as `init` refuses there).
 * The path is looked at as written and as the file system resolves it, so a symbolic link on the
 * way into a linked folder does not hide it.
 */
export function refuseInsideLinkedFolder(target: string, what: string, wanted?: { id: string; name: string }): void {
  const real = realTarget(target);
  const outer = findLinkedFolder(target) ?? findLinkedFolder(real);
  if (!outer) return;
  const id = outer.link.workspaceId;
  if (outer.root === path.resolve(target) || outer.root === real) {
    // the folder itself is linked: "inside itself" would puzzle
    if (wanted?.id === id) throw new ConflictError(`${outer.root} is already linked to workspace ${wanted.name} (${id})`, 'run `insomnia-sync pull` there to bring it up to date');
    throw new ConflictError(`${outer.root} is already a linked folder (workspace ${id})`, `${what} into another folder`);
  }
  const through = real.startsWith(outer.root + path.sep) && !path.resolve(target).startsWith(outer.root + path.sep) ? ` (through a symbolic link: it is ${real})` : '';
  throw new ConflictError(`${target} is inside ${outer.root}${through}, which is linked to workspace ${id}`, `${what} into a folder outside it`);
}

/** `hint`: what to do instead, for commands that can name a workspace (`--workspace W`) rather than make one. */
export function requireLinkedFolder(start: string, hint = 'run `insomnia-sync init` here, or `insomnia-sync clone WORKSPACE DIR`'): LinkedFolder {
  const found = findLinkedFolder(start);
  if (!found) throw new NotFoundError('this folder is not linked to a workspace', hint);
  return found;
}

function readLink(file: string): FolderLink {
  try {
    const link = JSON.parse(readFileSync(file, 'utf8')) as FolderLink;
    if (link.version !== 1 || typeof link.workspaceId !== 'string' || typeof link.server !== 'string') throw new Error('bad link');
    return link;
  } catch {
    throw new SyncError('bad_state', `${file} is damaged`, 'remove the .insomnia-sync folder and clone the workspace again');
  }
}

export function writeLink(root: string, link: FolderLink): void {
  mkdirSync(stateDir(root), { recursive: true, mode: 0o700 });
  atomicWrite(path.join(stateDir(root), 'link.json'), JSON.stringify(link, null, 2) + '\n');
}

const INDEX_FILE = 'index';
/** Written by versions before the binary index; read when there is no `index` yet. */
const LEGACY_INDEX_FILE = 'index.json';
const CRC_BYTES = 4;

export function readIndex(root: string): LocalIndex {
  return decodeIndexFile(root, readIndexBytes(root));
}

/** readIndex with the entries as columns (what the folder commands work on). */
export function readIndexColumns(root: string): IndexColumns {
  return decodeIndexFileColumns(root, readIndexBytes(root));
}

/**
 * The index file's checked bytes (layout of sync/index-format.ts), for callers that may not need
 * every entry (see indexMatchesScan); decodeIndexFile turns them into the index.
 */
export function readIndexBytes(root: string): Uint8Array {
  const file = path.join(stateDir(root), INDEX_FILE);
  try {
    if (!existsSync(file) && existsSync(path.join(stateDir(root), LEGACY_INDEX_FILE))) {
      const legacy = readLegacyIndex(root);
      return existsSync(file) ? unframe(readFileSync(file)) : encodeIndex(legacy);
    }
    return unframe(readFileSync(file));
  } catch {
    throw damagedIndex(root);
  }
}

export function decodeIndexFile(root: string, bytes: Uint8Array): LocalIndex {
  try {
    return decodeIndex(bytes);
  } catch {
    throw damagedIndex(root);
  }
}

/** decodeIndexFile with the entries as columns. */
export function decodeIndexFileColumns(root: string, bytes: Uint8Array): IndexColumns {
  try {
    return decodeIndexColumns(bytes);
  } catch {
    throw damagedIndex(root);
  }
}

/** The index's header (workspace id, base snapshot) without decoding its entries. */
export function decodeIndexFileHead(root: string, bytes: Uint8Array): { workspaceId: string; base: string | null } {
  try {
    return decodeIndexHead(bytes);
  } catch {
    throw damagedIndex(root);
  }
}

function damagedIndex(root: string): SyncError {
  return new SyncError('bad_state', `${path.join(stateDir(root), INDEX_FILE)} is missing or damaged`, 'run `insomnia-sync pull` from a fresh clone');
}

/** Reads `index.json` and, like git upgrading its index, rewrites it once in the binary layout. */
function readLegacyIndex(root: string): LocalIndex {
  const index = decodeJsonIndex(readFileSync(path.join(stateDir(root), LEGACY_INDEX_FILE), 'utf8'));
  try {
    writeIndex(root, index);
  } catch {
    /* a read-only folder keeps its JSON index: reading it works as well, only slower */
  }
  return index;
}

export function writeIndex(root: string, index: LocalIndex | IndexColumns): void {
  writeIndexFile(root, encodeIndexFile(index));
}

/**
 * The index file's bytes, encoded now to be written later (writeIndexFile): racily clean entries
 * are judged against the encoding time, which can only mark more of them than the write time would.
 */
export function encodeIndexFile(index: LocalIndex | IndexColumns): Uint8Array {
  return frame(encodeIndex(index, { writtenAtMs: Date.now() }));
}

export function writeIndexFile(root: string, bytes: Uint8Array): void {
  atomicWrite(path.join(stateDir(root), INDEX_FILE), bytes);
  rmSync(path.join(stateDir(root), LEGACY_INDEX_FILE), { force: true });
}

/** The index bytes followed by their CRC-32, so a torn or damaged file is refused, not half-believed. */
function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + CRC_BYTES);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body), true);
  return out;
}

function unframe(bytes: Uint8Array): Uint8Array {
  if (bytes.length < CRC_BYTES) throw new IndexFormatError('index is truncated');
  const body = bytes.subarray(0, bytes.length - CRC_BYTES);
  const stored = new DataView(bytes.buffer, bytes.byteOffset + body.length, CRC_BYTES).getUint32(0, true);
  if (stored !== crc32(body)) throw new IndexFormatError('index checksum does not match');
  return body;
}

export function atomicWrite(file: string, text: string | Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}
