/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time. Frames in dist/ are
 * mapped back to src/*.ts through the compiler's source maps, so the report names the line to fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

function decodeVlq(segment) {
  const out = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64_INDEX.get(ch);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/** Source map v3 → per generated line, sorted [generatedColumn, sourceIndex, sourceLine]. */
function parseSourceMap(file) {
  const map = JSON.parse(readFileSync(file, 'utf8'));
  const lines = [];
  let src = 0;
  let srcLine = 0;
  let srcCol = 0;
  for (const lineText of map.mappings.split(';')) {
    const segs = [];
    let col = 0;
    for (const seg of lineText.split(',')) {
      if (!seg) continue;
      const v = decodeVlq(seg);
      col += v[0];
      if (v.length >= 4) {
        src += v[1];
        srcLine += v[2];
        srcCol += v[3];
        segs.push([col, src, srcLine]);
      }
    }
    lines.push(segs);
  }
  const base = path.dirname(file);
  return { sources: map.sources.map((s) => path.resolve(base, map.sourceRoot ?? '', s)), lines };
}

const mapCache = new Map();

/** dist file + 0-based line/column → { file, line } (1-based line) in the original source, if mapped. */
function originalPosition(file, line, column) {
  if (!mapCache.has(file)) mapCache.set(file, existsSync(`${file}.map`) ? parseSourceMap(`${file}.map`) : null);
  const map = mapCache.get(file);
  const segs = map?.lines[line];
  if (!segs || segs.length === 0) return null;
  let best = segs[0];
  for (const s of segs) if (s[0] <= column) best = s;
  return { file: map.sources[best[1]], line: best[2] + 1 };
}

/** A frame's function name and source location (src/*.ts:line when a source map covers it). */
function locate(cf, root) {
  const name = cf.functionName || '(anonymous)';
  if (cf.url.startsWith('file://')) {
    const file = fileURLToPath(cf.url);
    const orig = originalPosition(file, cf.lineNumber, cf.columnNumber);
    return { name, where: orig ? `${path.relative(root, orig.file)}:${orig.line}` : `${path.relative(root, file)}:${cf.lineNumber + 1}` };
  }
  return { name, where: cf.url ? `${cf.url}:${cf.lineNumber + 1}` : '(native)' };
}

/** Rolls a frame location up to its source file, or to its package for node_modules and node: internals. */
function fileGroup(where) {
  const file = where.replace(/:\d+$/, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return `node_modules/${pkg[1]}`;
  if (file.startsWith('node:')) return 'node: internals';
  return file;
}

/**
 * Percentages are of busy time (all samples but idle). `topOwn` charges every sample to the innermost
 * frame under `ownDir` (our compiled code) on its stack, i.e. inclusive time of our leaf-most functions.
 * @returns {{ busyMs: number, idleMs: number, top: { name: string, where: string, selfMs: number, pct: number }[], topFiles: { file: string, selfMs: number, pct: number }[], topOwn: { name: string, where: string, selfMs: number, pct: number }[] }}
 */
export function topSelfTime(profileFile, { limit = 10, root = process.cwd(), ownDir = '/dist' } = {}) {
  const prof = JSON.parse(readFileSync(profileFile, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // timeDeltas[i] is the gap before sample i; charge it to the sample, as DevTools does.
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const parentOf = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const ownCache = new Map();
  // The innermost frame of our own code (dist/ → src/) on a sample's stack: what to fix when the
  // time itself is spent in node internals or a dependency.
  const ownFrame = (id) => {
    if (ownCache.has(id)) return ownCache.get(id);
    const { callFrame: cf } = byId.get(id);
    let found = null;
    if (cf.url.startsWith('file://') && cf.url.includes(`${ownDir}/`)) found = locate(cf, root);
    else if (parentOf.has(id)) found = ownFrame(parentOf.get(id));
    ownCache.set(id, found);
    return found;
  };
  const byOwn = new Map();
  const agg = new Map();
  const byFile = new Map();
  let busyUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame: cf } = byId.get(id);
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = locate(cf, root).where;
    const name = cf.functionName || '(anonymous)';
    const own = ownFrame(id);
    const ownKey = own ? `${own.name}\u0000${own.where}` : '(no frame of ours on the stack: GC, module loading, idle callbacks)\u0000';
    const ownRow = byOwn.get(ownKey) ?? { name: own?.name ?? '(none of ours)', where: own?.where ?? 'GC, start-up, event loop', selfMs: 0 };
    ownRow.selfMs += us / 1000;
    byOwn.set(ownKey, ownRow);
    const key = `${name}\u0000${where}`;
    const row = agg.get(key) ?? { name, where, selfMs: 0 };
    row.selfMs += us / 1000;
    agg.set(key, row);
    const file = fileGroup(where);
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
  }
  const busyMs = busyUs / 1000;
  const pct = (ms) => Math.round((ms / busyMs) * 1000) / 10;
  const top = [...agg.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit)
    .map((r) => ({ ...r, selfMs: Math.round(r.selfMs), pct: pct(r.selfMs) }));
  const topFiles = [...byFile.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([file, ms]) => ({ file, selfMs: Math.round(ms), pct: pct(ms) }));
  const topOwn = [...byOwn.values()]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, limit)
    .map((r) => ({ ...r, selfMs: Math.round(r.selfMs), pct: pct(r.selfMs) }));
  return { busyMs: Math.round(busyMs), idleMs: Math.round(idleUs / 1000), top, topFiles, topOwn };
}
