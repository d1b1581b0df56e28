/**
 * The index as JSON (`index.json`, layout 1), as clients before the binary layout wrote it: read
 * once so that a folder linked by an older version keeps working, then replaced by the binary
 * `index` on the next write (client/local/link.ts). Decoded as strictly as ever.
 */
import {
  checkExactKeys,
  checkFileRecords,
  isHexId32,
  isHexId64,
} from './checks.js';
import { IndexFormatError, type LocalIndex } from './index-format.js';

const INDEX_VERSION = 1;

const TOP_KEYS = ['version', 'workspaceId', 'base', 'entries'] as const;
const ENTRY_KEYS = ['path', 'size', 'mtimeMs', 'ctimeMs', 'ino', 'mode', 'chunks'] as const;

// Per-record checks beyond checkFileList's; one function for all records (see checkFileList).
function checkEntryStat(r: Record<string, unknown>, where: () => string): string | null {
  const ino = r.ino;
  // Number.isFinite is false for anything but a finite number, so it doubles as the type test.
  if (!Number.isFinite(r.mtimeMs)) return `${where()}.mtimeMs is not a finite number`;
  if (!Number.isFinite(r.ctimeMs)) return `${where()}.ctimeMs is not a finite number`;
  if (!Number.isFinite(ino) || (ino as number) < 0) return `${where()}.ino is not a non-negative number`;
  return null;
}

const entryWhere = (n: number): string => `index.entries[${n}]`;

function checkIndex(i: unknown): string | null {
  const top = checkIndexHead(i);
  if (top !== null) return top;
  return checkFileRecords((i as { entries: unknown[] }).entries, ENTRY_KEYS, entryWhere, checkEntryStat).problem;
}

function checkIndexHead(i: unknown): string | null {
  const top = checkExactKeys(i, TOP_KEYS, () => 'index');
  if (top !== null) return top;
  const o = i as Record<string, unknown>;
  if (o.version !== INDEX_VERSION) return `index.version must be ${INDEX_VERSION}`;
  if (!isHexId32(o.workspaceId)) return 'index.workspaceId is not a 32-hex id';
  if (o.base !== null && !isHexId64(o.base)) return 'index.base is not a 64-hex snapshot id or null';
  if (!Array.isArray(o.entries)) return 'index.entries is not an array';
  return null;
}

/**
 * Parses and checks the index text. The entries are the parsed objects themselves: checked to
 * have exactly the entry fields, and new, so there is nothing to copy them away from.
 */
export function decodeJsonIndex(text: string): LocalIndex {
  if (typeof text !== 'string') throw new IndexFormatError('index text must be a string');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new IndexFormatError('index is not valid JSON');
  }
  const problem = checkIndex(parsed);
  if (problem !== null) throw new IndexFormatError(problem);
  const p = parsed as LocalIndex;
  return { version: p.version, workspaceId: p.workspaceId, base: p.base, entries: p.entries };
}
