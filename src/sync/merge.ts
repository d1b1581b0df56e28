/**
 * The three-way plan for `pull`: given the last synced tree (base), the folder as it is now
 * (local) and the remote head (remote), decide per path what to do to the folder. Pure: the
 * caller applies the plan (docs/protocol.md, pull).
 *
 * Two files are "the same" when mode, size and blob ids are equal (blob ids are MACs of content).
 * B = base, L = local, R = remote, "—" = absent.
 *
 * A file on both sides that differs from the base is merged as git does, content and mode (the
 * executable bit) each on its own: a side that left one of them as in the base takes the other
 * side's. Only when both sides changed the content differently (or, for a file added on both
 * sides, chose different contents or modes) is it a conflict.
 *
 * | case                                   | test          | 'conflict' (default)                     | 'ours'  | 'theirs' |
 * |----------------------------------------|---------------|------------------------------------------|---------|----------|
 * | unchanged on both sides                | L = R = B     | nothing                                  | nothing | nothing  |
 * | both made the same change (or both     | L = R ≠ B     | nothing                                  | nothing | nothing  |
 * |   deleted, or both added the same)     |               |                                          |         |          |
 * | only local changed / added / deleted   | R = B ≠ L     | nothing (local change stays, push later) | nothing | nothing  |
 * | only remote changed or added           | L = B ≠ R, R  | write R                                  | write R | write R  |
 * | only remote deleted                    | L = B ≠ R = — | delete                                   | delete  | delete   |
 * | remote changed only the mode, local    | content: R=B, | chmod: keep L's content, take R's mode   | chmod   | chmod    |
 * |   only the content                     | mode: L=B     |                                          |         |          |
 * | local changed only the mode, remote    | content: L=B, | write R's content with L's mode          | same    | same     |
 * |   only the content                     | mode: R=B     |   (the mode stays a local change)        |         |          |
 * | both changed or both added, differently| L, R, L ≠ R   | conflict: keep L, R at NAME.conflict     | keep    | write R* |
 * | local changed, remote deleted          | L ≠ B, R = —  | conflict: keep L, conflictPath null      | keep    | delete*  |
 * | local deleted, remote changed          | L = —, R ≠ B  | write R, marked `restored` (see below)   | keep    | write R  |
 * | file on one side is a folder on the    | after above   | conflict: local stays, the remote file   | same    | same     |
 * |   other (`a` vs `a/b.json`)            |               |   goes to a conflict path (see below)    |         |          |
 *
 * (*) 'theirs' takes the remote side, but the local side there is a change that exists nowhere
 * else (never pushed, or a file never synced), so it is not thrown away: the action carries
 * `localAside`, a conflict path (as below) where the caller first copies the local file. The copy
 * is a conflict copy like any other, never pushed. ('ours' loses nothing: the remote side stays
 * in the history.)
 *
 * Local deleted + remote changed is NOT a conflict: restoring the remote version loses nothing
 * (the local side has no content there, and the deletion can simply be redone and pushed),
 * whereas keeping the deletion would throw away a teammate's edit at the next push. The action
 * carries `restored: true` so the caller can report it.
 *
 * File/folder clashes are always conflicts, whatever the strategy: neither side can win without
 * deleting or overwriting a whole file or folder that the other side may not have pushed. The
 * local side stays in place and the remote file is written elsewhere:
 *  - remote file `a` vs local files under `a/`: `a` goes to `a.conflict` (or `-2`…);
 *  - remote files under `a/` vs local file `a`: they go under a sibling folder
 *    `a.conflict/` (or `a.conflict-2/`…), keeping their relative paths.
 * Conflict paths never collide with a path of the local or remote tree, with each other, or with
 * anything `taken` reports (e.g. an earlier conflict copy still on disk); with `sameName`, nor with
 * one of them spelt otherwise that the folder's file system takes for the same name (a case-folding
 * one: `NAME.conflict` and a synced `NAME.Conflict`).
 *
 * Order of `actions`: every delete first (a deleted file may be where a folder must be created),
 * then the rest, each group sorted by path. The caller must remove folders emptied by deletes
 * before writing, and create parent folders of writes and conflict copies.
 *
 * `result` is the remote tree: after the pull the folder is synced with the remote head, so the
 * merge base moves there. Every local file that differs from it (local-only changes, the local
 * side of conflicts, kept 'ours' changes) then shows up as a local modification and is uploaded
 * by the next push; conflict copies are ignored (see ignore.ts) and never pushed.
 */
import { TreeError } from './errors.js';
import { comparePaths, conflictPathFor, parentDirs } from './paths.js';
import { foldedNames, type SameName } from './case-fold.js';

export interface TreeFile {
  path: string;
  mode: number;
  size: number;
  chunks: string[];
}

export type MergeStrategy = 'conflict' | 'ours' | 'theirs';

export type MergeAction =
  /** take the remote version; `restored` when the local side had deleted the file; `localAside`: see (*) */
  | { kind: 'write'; path: string; file: TreeFile; restored?: true; localAside?: string }
  /** remote deleted, local unchanged (or changed, with 'theirs': then `localAside`, see (*)) */
  | { kind: 'delete'; path: string; localAside?: string }
  /** keep the local content, set the mode: the remote changed only the mode, the local side only the content */
  | { kind: 'chmod'; path: string; mode: number }
  /** keep local at `path`; write remote beside it at conflictPath (null when the remote side is a deletion) */
  | { kind: 'conflict'; path: string; local: TreeFile | null; remote: TreeFile | null; conflictPath: string | null }
  /** a local change kept over a remote one ('ours') */
  | { kind: 'keep'; path: string };

export interface MergePlan {
  actions: MergeAction[];
  conflicts: number;
  /** the tree to record as synced (the remote tree), sorted by path */
  result: TreeFile[];
}

export const MERGE_STRATEGIES = ['conflict', 'ours', 'theirs'] as const satisfies readonly MergeStrategy[];

function toMap(files: readonly TreeFile[], side: string): Map<string, TreeFile> {
  const map = new Map<string, TreeFile>();
  for (const f of files) {
    if (map.has(f.path)) throw new TreeError(`${side} tree lists a path twice`);
    map.set(f.path, f);
  }
  return map;
}

function checkNoFileDirClash(map: Map<string, TreeFile>, side: string): void {
  for (const p of map.keys()) {
    for (const dir of parentDirs(p)) {
      if (map.has(dir)) throw new TreeError(`${side} tree has a file that is also a folder`);
    }
  }
}

function same(a: TreeFile | undefined, b: TreeFile | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.mode === b.mode && sameContent(a, b);
}

function sameContent(a: TreeFile, b: TreeFile): boolean {
  if (a.size !== b.size || a.chunks.length !== b.chunks.length) return false;
  for (let i = 0; i < a.chunks.length; i++) if (a.chunks[i] !== b.chunks[i]) return false;
  return true;
}

/**
 * A file changed on both sides, merged as git does: content and mode each on their own, a side
 * that left one as in the base taking the other side's. Null when one of them changed on both
 * sides differently (a conflict), or when there is no base to tell who changed what.
 */
function mergeContentAndMode(b: TreeFile | undefined, l: TreeFile, r: TreeFile): { content: Origin; mode: number } | null {
  if (b === undefined) return null;
  const content: Origin | null = sameContent(l, r) || sameContent(r, b) ? 'local' : sameContent(l, b) ? 'remote' : null;
  const mode = l.mode === r.mode || r.mode === b.mode ? l.mode : l.mode === b.mode ? r.mode : null;
  return content === null || mode === null ? null : { content, mode };
}

type Origin = 'local' | 'remote';

export function planMerge(
  base: TreeFile[],
  local: TreeFile[],
  remote: TreeFile[],
  strategy: MergeStrategy,
  taken: (p: string) => boolean = () => false,
  /** whether two paths that differ only in case are one name in the folder (asked only of such pairs, only when a copy is named) */
  sameName?: SameName,
): MergePlan {
  if (!(MERGE_STRATEGIES as readonly string[]).includes(strategy)) throw new TypeError(`unknown merge strategy`);
  const B = toMap(base, 'base');
  const L = toMap(local, 'local');
  const R = toMap(remote, 'remote');
  checkNoFileDirClash(L, 'local');
  checkNoFileDirClash(R, 'remote');

  const paths = [...new Set([...B.keys(), ...L.keys(), ...R.keys()])].sort(comparePaths);
  const actions = new Map<string, MergeAction>();
  /** the files the folder will hold after applying, and which side each comes from */
  const placed = new Map<string, Origin>();
  /** 'theirs' over a local change: the paths whose local file is first copied aside */
  const aside = new Set<string>();

  let merged: ReturnType<typeof mergeContentAndMode>;
  for (const p of paths) {
    const b = B.get(p);
    const l = L.get(p);
    const r = R.get(p);
    if (same(l, r)) {
      if (l !== undefined) placed.set(p, 'local');
    } else if (same(l, b)) {
      // only the remote moved
      if (r === undefined) actions.set(p, { kind: 'delete', path: p });
      else {
        actions.set(p, { kind: 'write', path: p, file: r });
        placed.set(p, 'remote');
      }
    } else if (same(r, b)) {
      // only the local side moved: it stays, the next push uploads it
      if (l !== undefined) placed.set(p, 'local');
    } else if (l !== undefined && r !== undefined && (merged = mergeContentAndMode(b, l, r)) !== null) {
      // one side changed the content, the other the mode (git merges them apart): no conflict
      if (merged.content === 'local') {
        if (merged.mode !== l.mode) actions.set(p, { kind: 'chmod', path: p, mode: merged.mode });
        placed.set(p, 'local');
      } else {
        actions.set(p, { kind: 'write', path: p, file: { ...r, chunks: r.chunks.slice(), mode: merged.mode } });
        placed.set(p, 'remote');
      }
    } else if (l !== undefined && r !== undefined) {
      if (strategy === 'theirs') {
        actions.set(p, { kind: 'write', path: p, file: r });
        aside.add(p);
        placed.set(p, 'remote');
      } else {
        actions.set(
          p,
          strategy === 'ours'
            ? { kind: 'keep', path: p }
            : { kind: 'conflict', path: p, local: l, remote: r, conflictPath: null },
        );
        placed.set(p, 'local');
      }
    } else if (l !== undefined) {
      // local changed, remote deleted
      if (strategy === 'theirs') {
        actions.set(p, { kind: 'delete', path: p });
        aside.add(p);
      } else {
        actions.set(
          p,
          strategy === 'ours'
            ? { kind: 'keep', path: p }
            : { kind: 'conflict', path: p, local: l, remote: null, conflictPath: null },
        );
        placed.set(p, 'local');
      }
    } else if (r !== undefined) {
      // local deleted, remote changed
      if (strategy === 'ours') actions.set(p, { kind: 'keep', path: p });
      else {
        actions.set(p, { kind: 'write', path: p, file: r, restored: true });
        placed.set(p, 'remote');
      }
    }
  }

  // File/folder clashes in the tree the folder would hold. Local and remote are each valid trees,
  // so every clash pairs a local file with a remote one; the remote one moves aside.
  /** remote files that cannot go to their path; value: the local file they would sit inside, or null */
  const displaced = new Map<string, string | null>();
  for (const [p, origin] of placed) {
    for (const dir of parentDirs(p)) {
      const dirOrigin = placed.get(dir);
      if (dirOrigin === undefined) continue;
      if (dirOrigin === 'remote' && origin === 'local') displaced.set(dir, null);
      else if (dirOrigin === 'local' && origin === 'remote') displaced.set(p, dir);
      else throw new TreeError('merged tree has a file that is also a folder');
    }
  }
  for (const p of displaced.keys()) {
    placed.delete(p);
    actions.set(p, { kind: 'conflict', path: p, local: L.get(p) ?? null, remote: R.get(p) ?? null, conflictPath: null });
  }

  // Conflict paths: fresh names that no tree, no other conflict copy and no `taken` path uses,
  // and that are neither inside a file nor the name of a folder.
  const files = new Set<string>([...L.keys(), ...R.keys()]);
  const dirs = new Set<string>();
  for (const p of files) for (const d of parentDirs(p)) dirs.add(d);
  const alike = sameName === undefined ? undefined : foldedNames(() => [...files, ...dirs], sameName);
  const isTaken = (p: string): boolean =>
    files.has(p) || dirs.has(p) || parentDirs(p).some((d) => files.has(d)) || taken(p) || (alike?.alike(p) ?? false);
  const addDir = (d: string): void => {
    dirs.add(d);
    alike?.add(d);
  };
  const occupy = (p: string): void => {
    files.add(p);
    alike?.add(p);
    for (const d of parentDirs(p)) addDir(d);
  };
  const relocatedDirs = new Map<string, string>();
  /**
   * Where a local file kept aside goes: beside it, or, when a folder on its way becomes a remote
   * file (`a/b` kept while `a` turns into a file), under that folder's conflict path, as a
   * displaced remote file does.
   */
  const relocatedAside = new Map<string, string>();
  const asidePathFor = (p: string): string => {
    const outer = parentDirs(p).find((d) => files.has(d));
    if (outer === undefined) return conflictPathFor(p, isTaken);
    let dir = relocatedAside.get(outer);
    if (dir === undefined) {
      dir = conflictPathFor(outer, isTaken);
      relocatedAside.set(outer, dir);
      addDir(dir);
    }
    return dir + p.slice(outer.length);
  };

  const ordered = [...actions.values()].sort((a, b) => comparePaths(a.path, b.path));
  let conflicts = 0;
  for (const a of ordered) {
    if ((a.kind === 'write' || a.kind === 'delete') && aside.has(a.path)) {
      a.localAside = asidePathFor(a.path);
      occupy(a.localAside);
      continue;
    }
    if (a.kind !== 'conflict') continue;
    conflicts++;
    if (a.remote === null) continue;
    const outer = displaced.get(a.path);
    if (outer === undefined || outer === null) {
      a.conflictPath = conflictPathFor(a.path, isTaken);
    } else {
      let dir = relocatedDirs.get(outer);
      if (dir === undefined) {
        dir = conflictPathFor(outer, isTaken);
        relocatedDirs.set(outer, dir);
        addDir(dir);
      }
      a.conflictPath = dir + a.path.slice(outer.length);
    }
    occupy(a.conflictPath);
  }

  const deletes = ordered.filter((a) => a.kind === 'delete');
  const rest = ordered.filter((a) => a.kind !== 'delete');
  const result = remote
    .map((f) => ({ path: f.path, mode: f.mode, size: f.size, chunks: f.chunks.slice() }))
    .sort((x, y) => comparePaths(x.path, y.path));
  return { actions: [...deletes, ...rest], conflicts, result };
}
