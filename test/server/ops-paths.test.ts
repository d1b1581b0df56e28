/**
 * The files and folders operator commands write besides the database: `backup --out FILE`,
 * `admin export-user --out FILE` and the outbox `admin delete-unverified` cleans. One that cannot
 * be is one line naming the flag as given, the path at fault and the fix, exit 1, before any
 * work: no partial file, no raw errno, and for delete-unverified no account deleted whose mails
 * would then stay behind.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open.js';
import { newUser } from '../storage/store-contract.js';
import { runServerCommand } from '../helpers/server-process.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-ops-paths-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) {
    for (const sub of ['ro', 'shut']) rmSync(join(dir, sub), { force: true, recursive: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

/** a data dir with an unconfirmed account in its database */
let dataDir: string;
let email: string;
beforeAll(async () => {
  dataDir = join(tempDir(), 'data');
  mkdirSync(dataDir);
  const store = await openStore(undefined, dataDir);
  const user = newUser();
  await store.createUser(user);
  await store.close();
  email = user.email;
});

async function accountExists(): Promise<boolean> {
  const store = await openStore(undefined, dataDir, { migrate: false, existing: true });
  try {
    return (await store.getUserByEmail(email)) !== null;
  } finally {
    await store.close();
  }
}

/** a folder holding a file `afile`, a folder `folder`, a folder `ro` of mode 0500 and a dangling link `link` */
function place(): string {
  const root = tempDir();
  writeFileSync(join(root, 'afile'), 'keep me');
  mkdirSync(join(root, 'folder'));
  mkdirSync(join(root, 'ro'), { mode: 0o500 });
  symlinkSync('nowhere', join(root, 'link'));
  return root;
}
const PLACED = ['afile', 'folder', 'link', 'ro'];

// [the case, --out as typed in the folder place() made, the rest of the line after "--out GIVEN: " (r: that folder)]
const OUT: [string, string, (r: string) => string][] = [
  ['an existing file', 'afile', (r) => `${r}/afile exists and is never overwritten: give a new file name, or move it away`],
  ['a dangling link', 'link', (r) => `${r}/link exists and is never overwritten: give a new file name, or move it away`],
  ['a folder', 'folder', (r) => `${r}/folder is a folder, not a file: name a file in it`],
  ['in a folder that does not exist', 'nodir/copy', (r) => `folder ${r}/nodir does not exist: create it or correct the path`],
  ['inside a file', 'afile/copy', (r) => `${r}/afile is a file, not a folder: move it away or give another path`],
  ['in a folder it may not write in', 'ro/copy', (r) => `no permission to write in folder ${r}/ro as user USER: run as its owner, or change its owner or mode`],
];

describe('--out of backup and admin export-user', () => {
  for (const command of [['backup'], ['admin', 'export-user', 'EMAIL']]) {
    it.each(OUT)(`${command.filter((a) => a !== 'EMAIL').join(' ')}, %s: one line naming the flag, the path and the fix; exit 1, nothing written`, (_name, out, says) => {
      const root = place();
      const args = command.map((a) => (a === 'EMAIL' ? email : a));
      const r = runServerCommand([...args, '--out', out, '--data-dir', dataDir], root, { withoutReadOverride: true });
      expect(r.stderr.replace(/ as user \S+:/, ' as user USER:')).toBe(`insomnia-sync-server: --out ${out}: ${says(root)}\n`);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(readdirSync(root).sort()).toEqual(PLACED);
      expect(readdirSync(join(root, 'folder'))).toEqual([]);
    });
  }
});

describe('admin delete-unverified --mail-outbox', () => {
  // [the case, --mail-outbox as typed in the folder place() made, the rest of the line]
  const OUTBOX: [string, string, (r: string) => string][] = [
    ['a file', 'afile', (r) => `${r}/afile is a file, not a folder: move it away or give another path`],
    ['a folder that does not exist (a typo would keep the mails)', 'nodir', (r) => `folder ${r}/nodir does not exist: create it or correct the path`],
    ['a folder it may not delete mails in', 'ro', (r) => `no permission to write in folder ${r}/ro as user USER: run as its owner, or change its owner or mode`],
  ];
  it.each(OUTBOX)('%s: one line, exit 1, and the account is not deleted', async (_name, outbox, says) => {
    const root = place();
    const r = runServerCommand(['admin', 'delete-unverified', email, '--mail-outbox', outbox, '--data-dir', dataDir], root, { withoutReadOverride: true });
    expect(r.stderr.replace(/ as user \S+:/, ' as user USER:')).toBe(`insomnia-sync-server: --mail-outbox ${outbox}: ${says(root)}\n`);
    expect(r.code).toBe(1);
    expect(await accountExists()).toBe(true);
  });

  it('the default DATA_DIR/outbox, when there, is checked the same way and named by --data-dir', async () => {
    writeFileSync(join(dataDir, 'outbox'), 'not a folder');
    try {
      const r = runServerCommand(['admin', 'delete-unverified', email, '--data-dir', dataDir]);
      expect(r.stderr).toBe(`insomnia-sync-server: --data-dir ${dataDir}: ${dataDir}/outbox is a file, not a folder: move it away or give another path\n`);
      expect(r.code).toBe(1);
      expect(await accountExists()).toBe(true);
    } finally {
      rmSync(join(dataDir, 'outbox'));
    }
  });
});
