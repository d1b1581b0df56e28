#!/usr/bin/env node
// The bundled CLI (scripts/bundle-cli.mjs); dist/cli/ holds the same code unbundled, for tests.
require('../dist/cli-bundle/main.cjs');
