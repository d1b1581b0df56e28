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

/** Rolls a frame location up to its source file, or to its package for node_modules and node: internals. */
function fileGroup(where) {
  const file = where.replace(/:\d+$/, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return `node_modules/${pkg[1]}`;
  if (file.startsWith('node:')) return 'node: internals';
  return file;
}

/**
 * Percentages are of busy time (all samples but idle).
 * @returns {{ busyMs: number, idleMs: number, top: { name: string, where: string, selfMs: number, pct: number }[], topFiles: { file: string, selfMs: number, pct: number }[] }}
 */
export function topSelfTime(profileFile, { limit = 10, root = process.cwd() } = {}) {
  const prof = JSON.parse(readFileSync(profileFile, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  // timeDeltas[i] is the gap before sample i; charge it to the sample, as DevTools does.
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
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
    let where = cf.url || '(native)';
    if (cf.url.startsWith('file://')) {
      const file = fileURLToPath(cf.url);
      const orig = originalPosition(file, cf.lineNumber, cf.columnNumber);
      where = orig ? `${path.relative(root, orig.file)}:${orig.line}` : `${path.relative(root, file)}:${cf.lineNumber + 1}`;
    } else if (cf.url) {
      where = `${cf.url}:${cf.lineNumber + 1}`;
    }
    const name = cf.functionName || '(anonymous)';
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
  return { busyMs: Math.round(busyMs), idleMs: Math.round(idleUs / 1000), top, topFiles };
}
