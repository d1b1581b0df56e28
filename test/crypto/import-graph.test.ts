import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

// Static and dynamic imports and re-exports that load a module at run time. `import type` and
// `export type` are erased by tsc, so they load nothing.
const STATIC = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/**
 * Every package subpath the given src modules load, following relative imports through src;
 * with `staticOnly`, only what loads before any code runs (dynamic imports are not followed).
 */
function packagesLoadedBy(entries: string[], staticOnly = false): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = entries.map((e) => join(SRC, e));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers: string[] = [];
    for (const m of text.matchAll(STATIC)) if (!m[1]) specifiers.push(m[2]!);
    if (!staticOnly) for (const m of text.matchAll(DYNAMIC)) specifiers.push(m[1]!);
    for (const spec of specifiers) {
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        if (!existsSync(target)) throw new Error(`${relative(SRC, file)}: cannot resolve ${spec}`);
        queue.push(target);
      } else {
        packages.add(spec);
      }
    }
  }
  return packages;
}

const curves = (set: Set<string>) => [...set].filter((s) => s.startsWith('@noble/curves'));

describe('which modules load @noble/curves (about 30 ms at start-up)', () => {
  it('the native client path does not: primitives-node, keys, seal, aead, snapshot', () => {
    const loaded = packagesLoadedBy(['native/primitives-node.ts', 'crypto/keys.ts', 'crypto/seal.ts', 'crypto/aead.ts', 'sync/snapshot.ts']);
    expect(curves(loaded)).toEqual([]);
    // The walk really followed the graph: these are reached only through it.
    expect(loaded).toContain('node:crypto');
    expect(loaded).toContain('@noble/ciphers/chacha.js');
    // SHA-256 and HKDF come from node:crypto there (crypto/hash-default.ts): no noble SHA-2 tables.
    expect([...loaded].filter((s) => s.startsWith('@noble/hashes'))).toEqual([]);
  });
  it('the noble reference does, through primitives.ts → curves-noble.ts', () => {
    expect(curves(packagesLoadedBy(['crypto/primitives.ts']))).toEqual(['@noble/curves/ed25519.js', '@noble/curves/utils.js']);
  });
});

describe('what every CLI command loads before it runs (cli/main.ts and cli/context.ts, statically)', () => {
  const loaded = packagesLoadedBy(['cli/main.ts', 'cli/context.ts', 'cli/output.ts'], true);
  it('no noble hashes (kdf.ts: ~40 ms), no worker threads, no chalk, no prompts', () => {
    expect([...loaded].filter((s) => s.startsWith('@noble/hashes'))).toEqual([]);
    expect([...loaded].filter((s) => /worker_threads|chalk|@inquirer|ora|conf$/.test(s))).toEqual([]);
    // The walk really followed the graph: reached only through context.ts → api.ts / primitives-node.ts.
    expect(loaded).toContain('node:http');
    expect(loaded).toContain('node:crypto');
  });
});

describe('what a push or pull loads (statically)', () => {
  it('no Argon2, BLAKE2b or noble SHA-2: subkeys come from HKDF on node:crypto (hkdf.ts, hash-default.ts)', () => {
    const loaded = packagesLoadedBy(['client/services/push-changes.ts', 'client/services/pull.ts', 'client/services/push.ts', 'native/primitives-node.ts'], true);
    expect([...loaded].filter((s) => /argon2|blake|hash-wasm|@noble\/hashes/.test(s))).toEqual([]);
    expect(loaded).toContain('node:crypto');
  });
});
