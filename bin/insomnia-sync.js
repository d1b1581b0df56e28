#!/usr/bin/env node
// The bundled CLI (scripts/bundle-cli.mjs); dist/cli/ holds the same code unbundled, for tests.
import '../dist/cli-bundle/main.js';
