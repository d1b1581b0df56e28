/**
 * A linked folder keeps its state in `.insomnia-sync/` (like `.git/`): link.json (server,
 * workspace id, profile) and index.json (the synced base and per-file stat cache). Never synced.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeIndex, encodeIndex, markRacyEntries, type LocalIndex } from '../../sync/index-format.js';
import { NotFoundError, SyncError } from '../errors.js';

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
  for (;;) {
    const file = path.join(dir, STATE_DIR, 'link.json');
    if (existsSync(file)) return { root: dir, link: readLink(file) };
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

export function requireLinkedFolder(start: string): LinkedFolder {
  const found = findLinkedFolder(start);
  if (!found) {
    throw new NotFoundError('this folder is not linked to a workspace', 'run `insomnia-sync init` here, or `insomnia-sync clone WORKSPACE DIR`');
  }
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

export function readIndex(root: string): LocalIndex {
  const file = path.join(stateDir(root), 'index.json');
  try {
    return decodeIndex(readFileSync(file, 'utf8'));
  } catch {
    throw new SyncError('bad_state', `${file} is missing or damaged`, 'run `insomnia-sync pull` from a fresh clone');
  }
}

export function writeIndex(root: string, index: LocalIndex): void {
  const now = Date.now();
  atomicWrite(path.join(stateDir(root), 'index.json'), encodeIndex({ ...index, entries: markRacyEntries(index.entries, now) }));
}

export function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}
