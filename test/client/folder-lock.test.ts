/** The folder lock in this process: what counts as held, what as stale, and what is left behind. */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockFolder, releaseFolderLocks, tryLockFolder } from '../../src/client/local/folder-lock.js';
import { ROOT, tempDir } from '../helpers/cli.js';

async function waitFor(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (check()) return;
    } catch {
      // not there yet
    }
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function linkedRoot(): { root: string; lock: string } {
  const root = tempDir('isync-lock-');
  mkdirSync(path.join(root, '.insomnia-sync'));
  return { root, lock: path.join(root, '.insomnia-sync', 'lock') };
}

afterEach(() => releaseFolderLocks());

/** What a lock this process takes says: its pid, and its host, boot and pid namespace (this suite runs on Linux). */
const NS = readlinkSync('/proc/self/ns/pid');
const HERE = `${hostname()} ${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()} ${NS}`;
const MINE = `${process.pid}\n${HERE}\n`;

describe('folder lock', () => {
  it('is taken with this process id in it, re-entrant, and leaves no temp or stale files', () => {
    const { root, lock } = linkedRoot();
    lockFolder(root);
    lockFolder(root);
    expect(readFileSync(lock, 'utf8')).toBe(MINE);
    expect(readdirSync(path.dirname(lock))).toEqual(['lock']);
    releaseFolderLocks();
    expect(readdirSync(path.dirname(lock))).toEqual([]);
  });

  it('refuses while another running process holds it, naming it and how to clear a dead one', async () => {
    const { root, lock } = linkedRoot();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    try {
      writeFileSync(lock, `${other.pid}\n`);
      expect(() => lockFolder(root)).toThrow(`another insomnia-sync command (process ${other.pid}) is working in ${root}`);
      expect(tryLockFolder(root)).toBe(false);
      expect(readFileSync(lock, 'utf8')).toBe(`${other.pid}\n`);
      try {
        lockFolder(root);
      } catch (err) {
        expect((err as { hint?: string }).hint).toContain(`delete ${lock}`);
      }
    } finally {
      other.kill();
      await new Promise((r) => other.on('exit', r));
    }
    // once it is gone, its lock is taken over
    lockFolder(root);
    expect(readFileSync(lock, 'utf8')).toBe(MINE);
  });

  it('an empty or unreadable lock is held while young (an exclusive create before its write), taken over once old', () => {
    for (const content of ['', 'not a pid\n']) {
      const { root, lock } = linkedRoot();
      writeFileSync(lock, content);
      expect(() => lockFolder(root)).toThrow(`another insomnia-sync command is working in ${root}`);
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock, old, old);
      lockFolder(root);
      expect(readFileSync(lock, 'utf8')).toBe(MINE);
      expect(readdirSync(path.dirname(lock))).toEqual(['lock']);
      releaseFolderLocks();
    }
  });

  it("a lock naming this very pid from this pid namespace is an earlier run of ours (a killed container's pid 1): taken over", () => {
    const { root, lock } = linkedRoot();
    writeFileSync(lock, MINE);
    lockFolder(root);
    expect(readFileSync(lock, 'utf8')).toBe(MINE);
  });

  it('a lock naming this very pid without a namespace (an older version) is held: another container, also pid 1, may be running', () => {
    const { root, lock } = linkedRoot();
    writeFileSync(lock, `${process.pid}\n`);
    expect(() => lockFolder(root)).toThrow(`(process ${process.pid})`);
    expect(tryLockFolder(root)).toBe(false);
  });

  it('a lock of the same pid namespace on another machine (a network folder) is not asked about here, and is held while fresh', () => {
    for (const from of [`other-host 00000000-0000-0000-0000-000000000000 ${NS}`, NS]) {
      const { root, lock } = linkedRoot();
      writeFileSync(lock, `${process.pid}\n${from}\n`);
      expect(() => lockFolder(root)).toThrow(`(process ${process.pid})`);
    }
  });

  it('a lock from another pid namespace is held while its holder keeps it fresh, and taken over once untouched for a minute', () => {
    const { root, lock } = linkedRoot();
    writeFileSync(lock, `1\n${hostname()} ${HERE.split(' ')[1]} pid:[1]\n`); // pid 1 of another container here: cannot be asked about
    expect(() => lockFolder(root)).toThrow('(process 1)');
    const old = new Date(Date.now() - 61_000);
    utimesSync(lock, old, old);
    lockFolder(root);
    expect(readFileSync(lock, 'utf8')).toBe(MINE);
  });

  it('a held lock is kept fresh while its process runs, so another container does not take it over', async () => {
    const { root, lock } = linkedRoot();
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(path.join(ROOT, 'dist/client/local/folder-lock.js'))}); m.lockFolder(${JSON.stringify(root)}); setTimeout(() => {}, 20000);`],
      { stdio: 'ignore' },
    );
    try {
      await waitFor(() => readFileSync(lock, 'utf8').startsWith(`${child.pid}\n`));
      const old = new Date(Date.now() - 120_000);
      utimesSync(lock, old, old);
      await waitFor(() => Date.now() - statSync(lock).mtimeMs < 10_000, 12_000);
    } finally {
      child.kill();
      await new Promise((r) => child.on('exit', r));
    }
  });

  it('two processes that find the same dead lock: the takeover guard lets one remove it, and a young guard means busy', () => {
    const { root, lock } = linkedRoot();
    writeFileSync(lock, '999999999\n'); // no such process
    writeFileSync(`${lock}.takeover`, '1\n'); // another process is taking it over right now
    expect(tryLockFolder(root)).toBe(false);
    expect(readFileSync(lock, 'utf8')).toBe('999999999\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${lock}.takeover`, old, old); // ...or it died doing so
    lockFolder(root);
    expect(readFileSync(lock, 'utf8')).toBe(MINE);
    expect(readdirSync(path.dirname(lock))).toEqual(['lock']);
  });
});
