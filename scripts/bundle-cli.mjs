#!/usr/bin/env node
/**
 * Bundles the CLI (`npm run build` runs it after tsc): src/cli/main.ts and everything it imports
 * become a few CommonJS chunks in dist/cli-bundle/, one per lazily loaded part (each command,
 * the crypto, the prompts), so a run loads a handful of files instead of ~80 modules through
 * Node's ES module loader. Measured on the 10,000-file benchmark: ~50 ms off every command, and
 * CommonJS another ~15 ms (Node 20's require is synchronous and links nothing; bin/ is a .cjs
 * file for the same reason). The server is not bundled: it starts once and runs for days.
 *
 * commander loads node:child_process (~5 ms) for executable subcommands, which this CLI has none
 * of: its one `require` of it is made lazy (spawnOnDemand), so every run skips it.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist', 'cli-bundle');

rmSync(OUT, { recursive: true, force: true });
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";

/** commander's child_process, loaded only if it ever spawns (it does not: no executable subcommands). */
const spawnOnDemand = {
  name: 'spawn-on-demand',
  transform(code, id) {
    if (!/[\\/]commander[\\/]lib[\\/]command\.js$/.test(id)) return null;
    // Fail the build if commander changes, rather than silently stop applying.
    if (!code.includes(COMMANDER_CHILD_PROCESS)) throw new Error('commander no longer requires node:child_process as expected; update scripts/bundle-cli.mjs');
    // One line for one line: nothing moves, so the existing mappings hold (map: null says so).
    return { code: code.replace(COMMANDER_CHILD_PROCESS, "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };"), map: null };
  },
};

await build({
  input: { main: path.join(ROOT, 'src', 'cli', 'main.ts') },
  plugins: [spawnOnDemand],
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
