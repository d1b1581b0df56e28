/**
 * A linked folder scanned against its index, the first step of push and status: whether nothing
 * changed since the last sync is answered from the index's raw bytes (indexMatchesScan), and the
 * index is decoded only when something did.
 */
import { indexMatchesScan, type IndexColumns } from '../../sync/index-format.js';
import { decodeIndexFileColumns, decodeIndexFileHead, readIndexBytes } from './link.js';
import { scanFolder, trackedPaths, type ScanResult } from './scan.js';

export interface ScannedFolder {
  scan: ScanResult;
  /** the snapshot the folder last synced with, from the index's header */
  base: string | null;
  /** every file has the index's stat data, none is racily clean, none added or deleted */
  clean: boolean;
  /** the index, decoded (on each call) into columns */
  columns(): IndexColumns;
  /** whether the index on disk is still the one this scan compared with (no other command wrote it since) */
  indexUnchanged(): boolean;
}

export async function scanAgainstIndex(root: string): Promise<ScannedFolder> {
  const bytes = readIndexBytes(root);
  const scan = await scanFolder(root, trackedPaths(() => decodeIndexFileColumns(root, bytes).paths));
  const { base } = decodeIndexFileHead(root, bytes);
  const clean = indexMatchesScan(bytes, scan.columns);
  return { scan, base, clean, columns: () => decodeIndexFileColumns(root, bytes), indexUnchanged: () => Buffer.from(readIndexBytes(root)).equals(bytes) };
}
