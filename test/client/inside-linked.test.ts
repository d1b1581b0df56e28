/**
 * refuseInsideLinkedFolder (clone, restore --to, export, account export): a path that reaches a
 * linked folder through a symbolic link is inside it as much as one spelled out.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refuseInsideLinkedFolder, writeLink } from '../../src/client/local/link.js';
import { ConflictError } from '../../src/client/errors.js';

const WS = '0123456789abcdef0123456789abcdef';

let top: string;
let ws: string;
beforeEach(() => {
  top = mkdtempSync(path.join(os.tmpdir(), 'isync-inside-'));
  ws = path.join(top, 'ws');
  mkdirSync(path.join(ws, 'sub'), { recursive: true });
  writeLink(ws, { version: 1, server: 'http://127.0.0.1:1', workspaceId: WS, teamId: 't', profile: 'default' });
  mkdirSync(path.join(top, 'elsewhere'));
});
afterEach(() => rmSync(top, { recursive: true, force: true }));

describe('refuseInsideLinkedFolder', () => {
  it('refuses a path spelled inside the linked folder', () => {
    expect(() => refuseInsideLinkedFolder(path.join(ws, 'sub', 'copy'), 'export')).toThrow(ConflictError);
  });

  it('refuses a new path under a symbolic link to a folder inside it', () => {
    symlinkSync(path.join(ws, 'sub'), path.join(top, 'elsewhere', 'lnk'));
    const target = path.join(top, 'elsewhere', 'lnk', 'copy', 'deeper');
    expect(() => refuseInsideLinkedFolder(target, 'export')).toThrow(/inside .*ws \(through a symbolic link: it is .*ws\/sub\/copy\/deeper\), which is linked to workspace/);
  });

  it('refuses a symbolic link to the linked folder itself', () => {
    symlinkSync(ws, path.join(top, 'elsewhere', 'lnk'));
    expect(() => refuseInsideLinkedFolder(path.join(top, 'elsewhere', 'lnk'), 'restore --to')).toThrow(/already a linked folder/);
  });

  it('lets a path outside through, symbolic links on the way or not', () => {
    symlinkSync(path.join(top, 'elsewhere'), path.join(top, 'lnk'));
    expect(() => refuseInsideLinkedFolder(path.join(top, 'lnk', 'copy'), 'export')).not.toThrow();
    expect(() => refuseInsideLinkedFolder(path.join(top, 'elsewhere', 'copy'), 'export')).not.toThrow();
  });
});
