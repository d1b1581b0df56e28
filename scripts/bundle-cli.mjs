#!/usr/bin/env node
/**
 * Bundles the CLI (`npm run build` runs it after tsc): src/cli/main.ts and everything it imports
 * become a few CommonJS chunks in dist/cli-bundle/, one per lazily loaded part (each command,
 * the crypto, the prompts), so a run loads a handful of files instead of ~80 modules through
 * Node's ES module loader. Measured on the 10,000-file benchmark: ~50 ms off every command, and
 * CommonJS another ~15 ms (Node 20's require is synchronous and links nothing; bin/ is a .cjs
 * file for the same reason). The server is not bundled: it starts once and runs for days.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'cli-bundle');

rmSync(OUT, { recursive: true, force: true });
await build({
  input: { main: path.join(ROOT, 'src', 'cli', 'main.ts') },
  // Sources import each other as './x.js' (NodeNext); the files are './x.ts'.
  resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
  platform: 'node',
  logLevel: 'warn',
  output: {
    dir: OUT,
    format: 'cjs',
    sourcemap: true,
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
  },
});
