/**
 * A team member who deletes the account (docs/protocol.md §3.27) end to end, with the real server
 * and CLI processes: the snapshots they pushed stay verifiable for everyone else (the server keeps
 * their id and public keys as a former member's, with nothing personal), the team waits for a key
 * rotation before anything new is written under the key they held — new workspaces and renames
 * included (exit 3) — and their address is gone from the database files.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const LEAVER = 'leaver@example.com';

/** The newest code of `kind` mailed to `to`, read from the server's outbox. */
function mailedCode(dataDir: string, to: string, kind: 'Verification code' | 'Invite code'): string {
  const dir = path.join(dataDir, 'outbox');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.eml')).sort().reverse()) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    const m = new RegExp(`^${kind}: (\\S+)\\r?$`, 'm').exec(text);
    if (text.includes(`To: ${to}\r\n`) && m) return m[1]!;
  }
  throw new Error(`no ${kind} mailed to ${to}`);
}

describe('a team member deletes the account', () => {
  let server: StartedServer;
  let owner: Machine;
  let leaver: Machine;
  let ownerDir: string;
  let wsId: string;

  const must = async (m: Machine, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<string> => {
    const res = await m.run(args, opts);
    if (res.code !== 0) throw new Error(`${args.join(' ')} → ${res.code}: ${res.stderr}`);
    return res.stdout;
  };

  beforeAll(async () => {
    server = await startServer();
    owner = machine(server.url);
    leaver = machine(server.url);
    await Promise.all([signupMachine(owner, 'owner@example.com'), signupMachine(leaver, LEAVER)]);
    await must(owner, ['account', 'verify', mailedCode(server.dataDir, 'owner@example.com', 'Verification code')]);
    await must(owner, ['team', 'create', 'Acme']);
    ownerDir = tempDir('isync-owner-');
    writeFileSync(path.join(ownerDir, 'a.json'), '{"from":"owner"}');
    wsId = json(await must(owner, ['init', '--team', 'Acme', '--name', 'api', '--json'], { cwd: ownerDir })).id;
    await must(owner, ['push', '-m', 'by the owner'], { cwd: ownerDir });
    await must(owner, ['team', 'invite', LEAVER, '--team', 'Acme']);
    await must(leaver, ['team', 'accept', mailedCode(server.dataDir, LEAVER, 'Invite code')]);
    await must(owner, ['team', 'confirm', LEAVER, '--team', 'Acme', '--yes']);
  }, 120_000);

  afterAll(async () => {
    await server?.cleanup();
  });

  it('their snapshots still clone and verify for the owner, before and after the rotation', async () => {
    const leaverDir = path.join(tempDir('isync-leaver-'), 'ws');
    await must(leaver, ['clone', wsId, leaverDir]);
    writeFileSync(path.join(leaverDir, 'b.json'), '{"from":"leaver"}');
    await must(leaver, ['push', '-m', 'by the leaver'], { cwd: leaverDir });
    await must(leaver, ['account', 'delete', '--yes', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });

    const clone = path.join(tempDir('isync-after-'), 'ws');
    const cloned = await owner.run(['clone', wsId, clone]);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(readFileSync(path.join(clone, 'b.json'), 'utf8')).toBe('{"from":"leaver"}');
    const verified = await owner.run(['verify'], { cwd: clone });
    expect(verified.code, verified.stderr).toBe(0);
    // the author shown comes from the signed, encrypted manifest, not from the server
    const log = json((await owner.run(['log', '--json'], { cwd: clone })).stdout);
    expect(JSON.stringify(log)).toContain('by the leaver');
    expect(JSON.stringify(log)).toContain(LEAVER);
    const pulled = await owner.run(['pull'], { cwd: ownerDir });
    expect(pulled.code, pulled.stderr).toBe(0);
  }, 120_000);

  it('until an owner rotates, creating or renaming a workspace is refused (exit 3) like a push', async () => {
    const dir = tempDir('isync-new-');
    const created = await owner.run(['init', '--team', 'Acme', '--name', 'new'], { cwd: dir });
    expect(created.code).toBe(3);
    expect(created.stderr).toMatch(/team rotate/);
    const renamed = await owner.run(['workspace', 'rename', 'api', 'renamed']);
    expect(renamed.code).toBe(3);
    expect(renamed.stderr).toMatch(/team rotate/);

    await must(owner, ['team', 'rotate', '--team', 'Acme', '--yes']);
    await must(owner, ['workspace', 'rename', 'api', 'renamed']);
    writeFileSync(path.join(ownerDir, 'c.json'), '{"after":"rotation"}');
    await must(owner, ['push', '-m', 'after the rotation'], { cwd: ownerDir });
    const again = path.join(tempDir('isync-again-'), 'ws');
    await must(owner, ['clone', wsId, again]);
    const verified = await owner.run(['verify'], { cwd: again });
    expect(verified.code, verified.stderr).toBe(0);
  }, 120_000);

  it('leaves the address nowhere in the database files', () => {
    for (const f of readdirSync(server.dataDir).filter((n) => n.startsWith('sync.db'))) {
      expect(readFileSync(path.join(server.dataDir, f)).includes(Buffer.from(LEAVER)), f).toBe(false);
    }
  });
});
