// Test-only preload for the CLI (NODE_OPTIONS="--require …/git-unaware.cjs"): plays a version of
// insomnia-sync from before `.git` was a built-in rule, which pushed git's folder like any other
// and wrote what a snapshot held there. Production code knows nothing of it: it rewrites the
// bundled CLI's isGitPath (src/sync/paths.ts) to answer false as it is loaded, and fails the run
// if it never finds it, so a renamed function cannot turn the tests that use it into no-ops.
const Module = require('node:module');

const SIGNATURE = 'function isGitPath(p) {';
let patched = false;
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  if (typeof content === 'string' && content.includes(SIGNATURE)) {
    content = content.replace(SIGNATURE, `${SIGNATURE}\n\treturn false;`);
    patched = true;
  }
  return compile.call(this, content, filename);
};
process.on('exit', (code) => {
  if (!patched && code === 0) {
    process.stderr.write('git-unaware: isGitPath was never loaded\n');
    process.exitCode = 99;
  }
});
