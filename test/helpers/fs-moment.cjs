// Test-only preload for the CLI (NODE_OPTIONS="--require …/fs-moment.cjs"): plays another program
// that writes into the folder at one exact moment of an insomnia-sync run, so races with it are
// deterministic. Production code knows nothing of it. ISYNC_TEST_MOMENT is JSON:
//   on:      "staging" — when the CLI first creates a file in .insomnia-sync/staging/ (the
//                        download has begun: the folder was scanned, nothing applied yet);
//            "placed"  — right after the CLI renames or links a file named `name` into place;
//            "mkdir"   — right after the CLI's first mkdirSync of `name` (made or already there):
//                        with only `after` and no `write`, it holds the CLI there, as a slow disk would.
//            "readdir" — right before the CLI's first readdirSync of `name` (".": the folder itself,
//                        which a scan lists first); held there (`until` or `hold`), it plays a
//                        process the scheduler left aside between two of its checks.
//            "written" — right after the CLI's first writeFileSync of a path starting with `name`
//                        (".insomnia-sync/index.": the index's temp file, before it is renamed into place).
//   name:    for "placed", "written", "mkdir" and "readdir", the path relative to the folder (the CLI's working directory).
//   before:  milliseconds to wait first; after: milliseconds to wait once written.
//   until:   an absolute path: once written (and after `after`), wait until a file is there — the
//            test makes it when what had to happen meanwhile has happened, however slow the
//            machine. A minute at most, so a test that never makes it fails instead of hanging.
//   write:   { relative path: new content (written in place, same inode), or null to delete }.
//   hold:    { mark, release } (absolute paths): once written, create `mark` and hold the CLI (all
//            of it: the event loop too) until `release` exists, so a test can act at that very
//            moment (send a signal) and then let it go on. Bounded by 60 s.
const fs = require('node:fs');
const path = require('node:path');

const moment = JSON.parse(process.env.ISYNC_TEST_MOMENT || 'null');
if (moment) {
  const root = process.cwd();
  const staging = `${path.sep}.insomnia-sync${path.sep}staging${path.sep}`;
  let fired = false;
  const sleep = (ms) => ms > 0 && Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const fire = () => {
    fired = true;
    sleep(moment.before);
    for (const [rel, content] of Object.entries(moment.write ?? {})) {
      const abs = path.join(root, rel);
      if (content === null) fs.rmSync(abs, { force: true });
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, content);
      }
    }
    sleep(moment.after);
    if (moment.until) {
      for (const deadline = Date.now() + 60_000; !fs.existsSync(moment.until) && Date.now() < deadline; ) sleep(20);
    }
    if (moment.hold) {
      fs.writeFileSync(moment.hold.mark, String(process.pid));
      const until = Date.now() + 60_000;
      while (!fs.existsSync(moment.hold.release) && Date.now() < until) sleep(5);
    }
  };
  if (moment.on === 'staging') {
    const open = fs.openSync;
    fs.openSync = function (p, flags, ...rest) {
      if (!fired && typeof p === 'string' && p.includes(staging) && flags === 'w') fire();
      return open.call(this, p, flags, ...rest);
    };
  } else if (moment.on === 'placed') {
    const target = path.join(root, moment.name);
    for (const name of ['renameSync', 'linkSync']) {
      const orig = fs[name];
      fs[name] = function (from, to, ...rest) {
        const out = orig.call(this, from, to, ...rest);
        if (!fired && to === target) fire();
        return out;
      };
    }
  } else if (moment.on === 'mkdir') {
    const target = path.join(root, moment.name);
    const orig = fs.mkdirSync;
    fs.mkdirSync = function (p, ...rest) {
      const out = orig.call(this, p, ...rest);
      if (!fired && typeof p === 'string' && path.resolve(p) === target) fire();
      return out;
    };
  } else if (moment.on === 'written') {
    const prefix = path.join(root, moment.name);
    const orig = fs.writeFileSync;
    fs.writeFileSync = function (p, ...rest) {
      const out = orig.call(this, p, ...rest);
      if (!fired && typeof p === 'string' && path.resolve(p).startsWith(prefix)) fire();
      return out;
    };
  } else if (moment.on === 'readdir') {
    const target = path.join(root, moment.name);
    const orig = fs.readdirSync;
    fs.readdirSync = function (p, ...rest) {
      if (!fired && typeof p === 'string' && path.resolve(p) === target) fire();
      return orig.call(this, p, ...rest);
    };
  } else throw new Error(`fs-moment: unknown moment ${moment.on}`);
}
