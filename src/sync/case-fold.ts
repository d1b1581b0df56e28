/**
 * Names that differ only in case. Linux keeps `A.yaml` and `a.yaml` apart; macOS (APFS, HFS+)
 * and Windows (NTFS) by default take them for one file, so writing both there leaves one with
 * the other's content, and the next push from there spreads the loss. These find such names in a
 * list of paths, in memory: the receiving side then asks the target folder's file system
 * (client/local/case-probe.ts), the sending side warns.
 *
 * Paths are already NFC (names not in NFC are never synced: sync/paths.ts), so only case is left.
 */

/**
 * The key two names share when some file system may take them for one: lower(upper(lower(name))).
 * Neither lower-casing nor case folding alone covers what the common case-insensitive file
 * systems join: Windows compares upper-cased names (so `ı` and `i`, `ς` and `σ` are one there),
 * Unicode case folding, as on macOS, joins `ß` with `ss` and `ẞ`. Lower-casing first brings `ẞ`
 * to `ß`, upper-casing then joins `ß` with `SS`, `ı` with `I`, `ς` with `Σ`, and the last
 * lower-casing gives one spelling. A superset on purpose: a pair found here is only a candidate
 * until the target file system is asked about that very pair.
 */
export function caseFold(name: string): string {
  const lower = name.toLowerCase();
  // ASCII (the usual name): lower-casing is the whole fold
  return NON_ASCII.test(lower) ? lower.toUpperCase().toLowerCase() : lower;
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Groups of paths whose last names fold to the same key in one folder (the same exact parent
 * path), files and folders at any depth, each group sorted and the groups in path order. A folder
 * pair (`Dir/a`, `dir/b` → [`Dir`, `dir`]) is reported once, not again for the files inside.
 * `paths` are file paths; their folders are derived. Repeats are harmless. One pass, in memory,
 * one fold per path (the fold keeps '/': a path folds segment by segment): no collision is the
 * usual answer, and it costs no system call.
 */
export function caseCollisions(paths: Iterable<string>): string[][] {
  /** folded path → the first path seen with that key */
  const first = new Map<string, string>();
  /** first path → every path folding as it does (only where a second one came) */
  const alike = new Map<string, Set<string>>();
  const seenDirs = new Set<string>();
  const visit = (rel: string): void => {
    const key = caseFold(rel);
    const prior = first.get(key);
    if (prior === undefined) first.set(key, rel);
    else if (prior !== rel) {
      let group = alike.get(prior);
      if (group === undefined) alike.set(prior, (group = new Set([prior])));
      group.add(rel);
    }
  };
  let lastDir = '';
  for (const p of paths) {
    const slash = p.lastIndexOf('/');
    if (slash !== -1) {
      const dir = p.slice(0, slash);
      // sorted input: most files share the previous one's folder, already walked
      if (dir !== lastDir) {
        lastDir = dir;
        for (let i = p.indexOf('/'); i !== -1 && i <= slash; i = p.indexOf('/', i + 1)) {
          const d = p.slice(0, i);
          if (seenDirs.has(d)) continue;
          seenDirs.add(d);
          visit(d);
        }
      }
    }
    visit(p);
  }
  // Paths that fold alike under different exact folders (`Dir/a`, `dir/a`) are the folders'
  // collision, found as such: only names sharing their exact folder are a group.
  const out: string[][] = [];
  for (const group of alike.values()) {
    const byParent = new Map<string, string[]>();
    for (const rel of group) {
      const parent = rel.slice(0, Math.max(0, rel.lastIndexOf('/')));
      const names = byParent.get(parent);
      if (names === undefined) byParent.set(parent, [rel]);
      else names.push(rel);
    }
    for (const names of byParent.values()) if (names.length > 1) out.push(names.sort(byCodeUnits));
  }
  return out.sort((x, y) => byCodeUnits(x[0]!, y[0]!));
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The groups as one line: `A.yaml and a.yaml`, `X, x and x́` …, the first `few`, then "and N more". */
export function collisionText(groups: readonly (readonly string[])[], few = 3): string {
  const pair = (g: readonly string[]): string => (g.length <= 2 ? g.join(' and ') : `${g.slice(0, -1).join(', ')} and ${g[g.length - 1]}`);
  const listed = groups.slice(0, few).map(pair).join('; ');
  return groups.length > few ? `${listed} (and ${groups.length - few} more)` : listed;
}

/**
 * Whether two different paths name one file or folder in the target folder: asked of its file
 * system only for paths that fold alike (client/local/case-probe.ts sameNameThere).
 */
export type SameName = (a: string, b: string) => boolean;

/**
 * A growing set of paths asked whether a new name is one of them under another spelling: a path
 * that folds as the name does and that `sameName` says is one name with it there. For conflict
 * copies, which take a fresh name (`NAME.conflict`, else `-2`…): on a file system that folds case,
 * a name fresh to the letter can still be one with a file of the trees (`NAME.Conflict` is not a
 * conflict copy, the suffix is case-sensitive, so it can be synced), and writing the copy there
 * would write over it, or be written over. `paths` is read and folded at the first question (most
 * pulls name no copy); `add` adds a path, before or after.
 */
export function foldedNames(paths: () => Iterable<string>, sameName: SameName): { alike(name: string): boolean; add(p: string): void } {
  let byKey: Map<string, string[]> | null = null;
  /** added before the first question */
  const early: string[] = [];
  const put = (p: string): void => {
    const key = caseFold(p);
    const list = byKey!.get(key);
    if (list === undefined) byKey!.set(key, [p]);
    else if (!list.includes(p)) list.push(p);
  };
  return {
    alike(name) {
      if (byKey === null) {
        byKey = new Map();
        for (const p of paths()) put(p);
        for (const p of early) put(p);
      }
      const list = byKey.get(caseFold(name));
      return list !== undefined && list.some((p) => p !== name && sameName(name, p));
    },
    add(p) {
      if (byKey !== null) put(p);
      else early.push(p);
    },
  };
}
