/**
 * A team member who deletes the account (docs/protocol.md §3.27) end to end, with the real server
 * and CLI processes: the snapshots they pushed stay verifiable for everyone else (the server keeps
 * their id and public keys as a former member's, with nothing personal), and so do the snapshots a
 * CI job pushed with a write token they made (the server keeps the token's key and certificate,
 * never its secret), while the token itself stops working; the team waits for a key
 * rotation before anything new is written under the key they held — new workspaces and renames
 * included (exit 3) — and their address is gone from the database files.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciJob, PASSWORD, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { mailedCode } from '../helpers/outbox.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const LEAVER = 'leaver@example.com';
const CAROL = 'carol@example.com';

const ci = ciJob;

describe('a team member deletes the account', () => {
  let server: StartedServer;
  let owner: Machine;
  let leaver: Machine;
  let carol: Machine;
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
    carol = machine(server.url);
    await Promise.all([signupMachine(owner, 'owner@example.com'), signupMachine(leaver, LEAVER), signupMachine(carol, CAROL)]);
    await must(owner, ['account', 'verify', mailedCode(server.dataDir, 'owner@example.com', 'Verification code')]);
    await must(owner, ['team', 'create', 'Acme']);
    ownerDir = tempDir('isync-owner-');
    writeFileSync(path.join(ownerDir, 'a.json'), '{"from":"owner"}');
    wsId = json(await must(owner, ['init', '--team', 'Acme', '--name', 'api', '--json'], { cwd: ownerDir })).id;
    await must(owner, ['push', '-m', 'by the owner'], { cwd: ownerDir });
    for (const [m, email] of [[leaver, LEAVER], [carol, CAROL]] as const) {
      await must(owner, ['team', 'invite', email, '--team', 'Acme']);
      await must(m, ['team', 'accept', mailedCode(server.dataDir, email, 'Invite code')]);
      await must(owner, ['team', 'confirm', email, '--team', 'Acme', '--yes']);
    }
  }, 120_000);

  afterAll(async () => {
    await server?.cleanup();
  });

  it('their snapshots, and those their write token pushed, still clone, verify, log and export for the others', async () => {
    const leaverDir = path.join(tempDir('isync-leaver-'), 'ws');
    await must(leaver, ['clone', wsId, leaverDir]);
    writeFileSync(path.join(leaverDir, 'b.json'), '{"from":"leaver"}');
    await must(leaver, ['push', '-m', 'by the leaver'], { cwd: leaverDir });
    // the leaver (a plain member) makes a write token; a CI job pushes with it
    const { token } = json(await must(leaver, ['token', 'create', '--workspace', wsId, '--name', 'leaver-ci', '--json']));
    const work = tempDir('isync-ci-');
    const cloned0 = await ci(server.url, token, ['clone', wsId, 'co'], work);
    expect(cloned0.code, cloned0.stderr).toBe(0);
    writeFileSync(path.join(work, 'co', 'generated.json'), '{"by":"ci"}');
    const pushed = await ci(server.url, token, ['push', '-m', 'by CI'], path.join(work, 'co'));
    expect(pushed.code, pushed.stderr).toBe(0);

    await must(leaver, ['account', 'delete', '--yes', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });

    const clone = path.join(tempDir('isync-after-'), 'ws');
    const cloned = await owner.run(['clone', wsId, clone]);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(readFileSync(path.join(clone, 'b.json'), 'utf8')).toBe('{"from":"leaver"}');
    expect(readFileSync(path.join(clone, 'generated.json'), 'utf8')).toBe('{"by":"ci"}');
    const verified = await owner.run(['verify'], { cwd: clone });
    expect(verified.code, verified.stderr).toBe(0);
    // the author shown comes from the signed, encrypted manifest, not from the server
    const logged = await owner.run(['log', '--json'], { cwd: clone });
    expect(logged.code, logged.stderr).toBe(0);
    const log = JSON.stringify(json(logged.stdout));
    expect(log).toContain('by the leaver');
    expect(log).toContain('by CI');
    expect(log).toContain('token leaver-ci');
    expect(log).toContain(LEAVER);
    const pulled = await owner.run(['pull'], { cwd: ownerDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    // another member, who never synced this workspace before, and the owner's account export
    const carolClone = await carol.run(['clone', wsId, path.join(tempDir('isync-carol-'), 'ws')]);
    expect(carolClone.code, carolClone.stderr).toBe(0);
    const exported = await owner.run(['account', 'export', '--out', path.join(tempDir('isync-export-'), 'me.tar.gz')]);
    expect(exported.code, exported.stderr).toBe(0);

    // the token itself went with the account: refused (exit 4), for reads as for writes
    const refused = await ci(server.url, token, ['clone', wsId, 'again'], work);
    expect(refused.code, refused.stderr).toBe(4);
    // what the server keeps of it: the signer's key and certificate, nothing that could use it
    const db = new Database(path.join(server.dataDir, 'sync.db'), { readonly: true });
    try {
      expect(db.prepare('SELECT count(*) FROM access_tokens WHERE workspace_id = ?').pluck().get(wsId)).toBe(0);
      expect(db.prepare('SELECT * FROM former_access_tokens WHERE workspace_id = ?').all(wsId)).toEqual([
        expect.objectContaining({ name: 'leaver-ci', scope: 'write' }),
      ]);
    } finally {
      db.close();
    }
  }, 180_000);

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
