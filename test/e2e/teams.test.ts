/**
 * Teams end to end (issue 3) with the real server and real CLI processes: activation, invite →
 * accept → confirm (fingerprint) → clone → push → pull → remove (key rotation) → refused; what a
 * removed member can still decrypt with the keys they held (nothing new); misuse of codes (other
 * account, reuse, expiry, a wrong fingerprint); leaving, pending rotation, last owner; a token made
 * before a removal, and one whose creator leaves; role changes and handing a team over.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { fromB64 } from '../../src/protocol/encoding.js';
import { noblePrimitives as p } from '../../src/crypto/primitives.js';
import { openTeamKeyGrant } from '../../src/crypto/team-grant.js';
import { x25519PublicKey } from '../../src/crypto/keys.js';
import { openEnvelope } from '../../src/crypto/aead.js';
import { deriveWorkspaceSubkeys } from '../../src/crypto/workspace-keys.js';
import { openSnapshot } from '../../src/sync/snapshot.js';
import { mailedCode } from '../helpers/outbox.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

function sessionOf(m: Machine): { userId: string; x25519Secret: string } {
  const dir = path.join(m.configDir, 'sessions');
  return json(readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('.json'))!), 'utf8'));
}

describe('teams end to end', () => {
  let server: StartedServer;
  let db: Database.Database;
  let ann: Machine;
  let bob: Machine;
  let carol: Machine;
  let mallory: Machine;
  let dave: Machine;
  let annDir: string;
  let wsId: string;
  const team = 'Acme';

  beforeAll(async () => {
    server = await startServer();
    db = new Database(path.join(server.dataDir, 'sync.db'), { readonly: false });
    db.pragma('busy_timeout = 5000');
    [ann, bob, carol, mallory, dave] = [0, 1, 2, 3, 4].map(() => machine(server.url)) as [Machine, Machine, Machine, Machine, Machine];
    await Promise.all([
      signupMachine(ann!, 'ann@example.com'),
      signupMachine(bob!, 'bob@example.com'),
      signupMachine(carol!, 'carol@example.com'),
      signupMachine(mallory!, 'mallory@example.com'),
      signupMachine(dave!, 'dave@example.com'),
    ]);
  }, 120_000);

  afterAll(async () => {
    db?.close();
    await server?.cleanup();
  });

  it('activation: the signup mail carries a single-use code; a wrong one is refused', async () => {
    const code = mailedCode(server.dataDir, 'ann@example.com', 'Verification code');
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    // inviting needs a verified address
    expect((await ann.run(['team', 'create', team])).code).toBe(0);
    const early = await ann.run(['team', 'invite', 'bob@example.com', '--team', team]);
    expect(early.stderr).toMatch(/confirm your email address/);
    expect(early.code).toBe(4);
    expect((await ann.run(['account', 'verify', 'AAAA-AAAA-AAAA-AAAA'])).code).toBe(4);
    // another account's code does not verify this one
    expect((await mallory.run(['account', 'verify', code])).code).toBe(4);
    const ok = await ann.run(['account', 'verify', code.toLowerCase()]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await ann.run(['account', 'verify', code])).code).toBe(3);
    const shown = json((await ann.run(['account', 'show', '--json'])).stdout);
    expect(shown.user.verifiedAt).not.toBeNull();
  }, 60_000);

  it('init --team makes a workspace in the team; invite reports a bad address and sends the rest', async () => {
    annDir = tempDir('isync-ann-');
    writeFileSync(path.join(annDir, 'a.json'), '{"v":1}');
    writeFileSync(path.join(annDir, 'b.yaml'), 'b: 1\n');
    const init = await ann.run(['init', '--team', team, '--name', 'api', '--json'], { cwd: annDir });
    expect(init.code, init.stderr).toBe(0);
    wsId = json(init.stdout).id;
    expect(json(init.stdout).team).toBe(team);
    expect((await ann.run(['push'], { cwd: annDir })).code).toBe(0);

    const inv = await ann.run(['team', 'invite', 'bob@example.com', 'not-an-address', 'carol@example.com', '--team', team, '--json']);
    expect(inv.code).toBe(1);
    const res = json(inv.stdout);
    expect(res.invited.map((i: any) => i.email).sort()).toEqual(['bob@example.com', 'carol@example.com']);
    expect(res.failed).toEqual([{ email: 'not-an-address', reason: 'not a valid email address' }]);
    expect(mailedCode(server.dataDir, 'bob@example.com', 'Invite code')).toMatch(/^[0-9A-Z-]{19}$/);
    // from standard input, one a line
    const stdin = await ann.run(['team', 'invite', '-', '--team', team], { input: 'dave@example.com\n\nbad@@x\n' });
    expect(stdin.code).toBe(1);
    expect(stdin.stderr).toContain('bad@@x');
    mailedCode(server.dataDir, 'dave@example.com', 'Invite code');
  }, 60_000);

  it('codes: refused for another account (and not used up), single use, expiring', async () => {
    const bobCode = mailedCode(server.dataDir, 'bob@example.com', 'Invite code');
    const wrong = await mallory.run(['team', 'accept', bobCode]);
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/another address/);
    const ok = await bob.run(['team', 'accept', bobCode, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok.stdout)).toMatchObject({ teamName: team, role: 'member' });
    // a used code is spent like one that never existed (exit 5), not a conflict (exit 3)
    expect((await bob.run(['team', 'accept', bobCode])).code).toBe(5);
    expect((await carol.run(['team', 'accept', bobCode])).code).toBe(5);

    db.prepare("UPDATE team_invitations SET expires_at = 1 WHERE email = 'dave@example.com'").run();
    const expired = await dave.run(['team', 'accept', mailedCode(server.dataDir, 'dave@example.com', 'Invite code')]);
    // refused like an expired token (exit 4)
    expect(expired.code).toBe(4);
    expect(expired.stderr).toMatch(/expired/);

    expect((await carol.run(['team', 'accept', mailedCode(server.dataDir, 'carol@example.com', 'Invite code')])).code).toBe(0);
  }, 60_000);

  it('until confirmed the member reads nothing; a wrong fingerprint refuses (exit 7) and seals nothing', async () => {
    const dir = tempDir('isync-bob-early-');
    // by id, the server says why (exit 4); by name, the workspace is not among those bob can read
    // (exit 5), and the hint says which team has yet to confirm him
    const early = await bob.run(['clone', wsId, dir]);
    expect(early.code).toBe(4);
    expect(early.stderr).toMatch(/^error: an owner or admin of this team has not confirmed you yet$/m);
    expect(existsSync(path.join(dir, 'a.json'))).toBe(false);
    const teamId = json((await bob.run(['team', 'list', '--json'])).stdout).teams.find((t: { name: string }) => t.name === team).id as string;
    const waiting = `hint: an owner or admin of ${team} has not confirmed you yet; its workspaces show once they run \`insomnia-sync team confirm bob@example.com --team ${teamId.slice(0, 12)}\``;
    const byName = await bob.run(['clone', 'api', dir]);
    expect(byName.code).toBe(5);
    expect(byName.stderr).toContain('error: no workspace api among the workspaces you can read');
    expect(byName.stderr).toContain(waiting);
    const bobInit = tempDir('isync-bob-init-');
    const init = await bob.run(['init', '--team', team, '--name', 'too-early'], { cwd: bobInit });
    expect(init.code).toBe(4);
    expect(init.stderr).toContain(`error: you hold no key of team ${team} yet`);
    expect(init.stderr).toContain(waiting);
    expect(existsSync(path.join(bobInit, '.insomnia-sync'))).toBe(false);

    const bad = await ann.run(['team', 'confirm', 'bob@example.com', '--team', team, '--fingerprint', '12345 67890 12345 67890 12345 67890 12345 67890']);
    expect(bad.code).toBe(7);
    const sealedToBob = db.prepare(
      "SELECT count(*) FROM team_keys k JOIN users u ON u.id = k.user_id JOIN teams t ON t.id = k.team_id WHERE u.email = 'bob@example.com' AND t.name = ?",
    );
    expect(sealedToBob.pluck().get(team)).toBe(0);
    // no terminal, no --yes, no --fingerprint: nothing to check against
    const unasked = await ann.run(['team', 'confirm', 'bob@example.com', '--team', team]);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toMatch(/\nhint: pass --fingerprint FP \(what they read from `insomnia-sync whoami`\), or --yes to trust the server's copy\n$/);
    // --all checks no fingerprint given: one member at a time does, or --yes trusts them all
    const all = await ann.run(['team', 'confirm', '--all', '--team', team]);
    expect(all.code).toBe(2);
    expect(all.stderr).toMatch(/\nhint: name each member in place of --all, with --fingerprint FP \(what they read from `insomnia-sync whoami`\), or pass --yes to trust the server's copies\n$/);
    expect(sealedToBob.pluck().get(team)).toBe(0);

    const fp = json((await bob.run(['whoami', '--json'])).stdout).fingerprint as string;
    const good = await ann.run(['team', 'confirm', 'bob@example.com', '--team', team, '--fingerprint', fp]);
    expect(good.code, good.stderr).toBe(0);
    const yes = await ann.run(['team', 'confirm', 'carol@example.com', '--team', team, '--yes']);
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stderr).toMatch(/without checking fingerprints/);
    const members = json((await ann.run(['team', 'members', '--team', team, '--json'])).stdout);
    expect(members.members.map((m: any) => [m.email, m.status]).sort()).toEqual([
      ['ann@example.com', 'confirmed'],
      ['bob@example.com', 'confirmed'],
      ['carol@example.com', 'confirmed'],
    ]);
  }, 60_000);

  let bobDir: string;
  let carolDir: string;
  let token: string;
  let bobHeld: { teamKeys: { epoch: number; sealed: string }[]; x25519Secret: string; userId: string; membership: Record<string, unknown> };

  it('confirmed members clone, push and pull', async () => {
    bobDir = path.join(tempDir('isync-bob-'), 'ws');
    const clone = await bob.run(['clone', wsId, bobDir]);
    expect(clone.code, clone.stderr).toBe(0);
    expect(readFileSync(path.join(bobDir, 'a.json'), 'utf8')).toBe('{"v":1}');
    writeFileSync(path.join(bobDir, 'bob.txt'), 'from bob');
    expect((await bob.run(['push', '-m', 'bob was here'], { cwd: bobDir })).code).toBe(0);
    expect((await ann.run(['pull'], { cwd: annDir })).code).toBe(0);
    expect(readFileSync(path.join(annDir, 'bob.txt'), 'utf8')).toBe('from bob');
    carolDir = path.join(tempDir('isync-carol-'), 'ws');
    expect((await carol.run(['clone', wsId, carolDir])).code).toBe(0);

    const t = await ann.run(['token', 'create', '--workspace', wsId, '--read-only', '--json']);
    expect(t.code, t.stderr).toBe(0);
    token = json(t.stdout).token;

    const s = sessionOf(bob);
    bobHeld = {
      userId: s.userId,
      x25519Secret: s.x25519Secret,
      teamKeys: (db.prepare('SELECT epoch, sealed_key FROM team_keys WHERE user_id = ? AND team_id = (SELECT team_id FROM workspaces WHERE id = ?)').all(s.userId, wsId) as any[]).map((r) => ({ epoch: r.epoch, sealed: r.sealed_key })),
      membership: db.prepare('SELECT * FROM team_members WHERE user_id = ? AND team_id = (SELECT team_id FROM workspaces WHERE id = ?)').get(s.userId, wsId) as Record<string, unknown>,
    };
    expect(bobHeld.teamKeys.map((k) => k.epoch)).toEqual([1]);
  }, 90_000);

  it('a rotation seals only to the fingerprints this machine confirmed: a key the server swapped refuses (exit 7)', async () => {
    // Ann on a second machine, through a proxy that can swap carol's key in the member list for
    // bob's (a key the server could hand out as anyone's).
    let swap = true;
    const proxy = await startRecordingProxy(server.url, (method, url, body) => {
      if (!swap || method !== 'GET' || !/^\/v1\/teams\/[0-9a-f]+\/members$/.test(url)) return null;
      const res = json(body.toString('utf8'));
      const bobKey = res.members.find((m: any) => m.email === 'bob@example.com').x25519PublicKey;
      for (const m of res.members) if (m.email === 'carol@example.com') m.x25519PublicKey = bobKey;
      return Buffer.from(JSON.stringify(res));
    });
    try {
      const annElsewhere = machine(proxy.url);
      expect((await annElsewhere.run(['login', '--email', 'ann@example.com', '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
      const epoch = db.prepare('SELECT epoch FROM teams WHERE name = ?').pluck();
      const before = epoch.get(team);

      // Never confirmed anyone from here: each fingerprint must be vouched for first.
      const unvouched = await annElsewhere.run(['team', 'rotate', '--team', team]);
      expect(unvouched.code, unvouched.stderr).toBe(2);
      expect(unvouched.stderr).toMatch(/Fingerprint \d{5}/);
      expect(unvouched.stderr).toMatch(/\nhint: check it with them \(`team confirm EMAIL --team T --fingerprint FP` records it\), or pass --yes to trust the key the server shows\n$/);

      // The fingerprints ann confirmed on her first machine, brought over: the swap is caught.
      const pins = json(readFileSync(path.join(ann.configDir, 'known-keys.json'), 'utf8'));
      expect(Object.keys(pins.servers[server.url])).toHaveLength(2);
      writeFileSync(path.join(annElsewhere.configDir, 'known-keys.json'), JSON.stringify({ version: 1, servers: { [proxy.url]: pins.servers[server.url] } }));
      const swapped = await annElsewhere.run(['team', 'rotate', '--team', team, '--yes']);
      expect(swapped.code).toBe(7);
      expect(swapped.stderr).toMatch(/carol@example\.com with the fingerprint .* nothing was sealed/);
      expect(epoch.get(team)).toBe(before);
      expect(proxy.requests.some((r) => r.toString('latin1').startsWith('POST /v1/teams/'))).toBe(false);
    } finally {
      swap = false;
      await proxy.close();
    }
  }, 60_000);

  it('remove rotates the key: the removed member is refused at once and cannot read what is pushed afterwards', async () => {
    const removed = await ann.run(['team', 'remove', 'bob@example.com', '--team', team, '--yes', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(json(removed.stdout)).toMatchObject({ epoch: 2, members: 2, workspaces: 1 });
    // A touched file still hashes under the key it was synced with: no change after the rotation.
    const later = new Date(Date.now() + 5_000);
    utimesSync(path.join(annDir, 'a.json'), later, later);
    const touched = await ann.run(['status', '--json'], { cwd: annDir });
    expect(touched.code, touched.stderr).toBe(0);
    expect(json(touched.stdout).changes).toEqual([]);

    const pull = await bob.run(['pull'], { cwd: bobDir });
    expect(pull.code).toBe(4);
    expect(pull.stderr).toMatch(/removed/);
    writeFileSync(path.join(bobDir, 'late.txt'), 'too late');
    expect((await bob.run(['push'], { cwd: bobDir })).code).toBe(4);

    // the next push re-encrypts everything under epoch 2; the other member reads it
    writeFileSync(path.join(annDir, 'a.json'), '{"v":2,"secret":"after removal"}');
    const push = await ann.run(['push', '--json'], { cwd: annDir });
    expect(push.code, push.stderr).toBe(0);
    const pulled = await carol.run(['pull'], { cwd: carolDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(carolDir, 'a.json'), 'utf8')).toBe('{"v":2,"secret":"after removal"}');
    expect(readFileSync(path.join(carolDir, 'bob.txt'), 'utf8')).toBe('from bob');
    // history stays verifiable, bob's own snapshot included
    const verify = await carol.run(['verify'], { cwd: carolDir });
    expect(verify.code, verify.stderr).toBe(0);
    const log = await carol.run(['log', '--json'], { cwd: carolDir });
    expect(log.stdout).toContain('bob was here');

    // with every key bob held, the new snapshot and its blobs do not open; the old ones still do
    const held = bobHeld.teamKeys.map(({ epoch, sealed }) => {
      const secretKey = fromB64(bobHeld.x25519Secret, 32);
      const bob = { x25519: { secretKey, publicKey: x25519PublicKey(secretKey, p) }, ed25519: { secretKey: new Uint8Array(32), publicKey: new Uint8Array(32) } };
      const teamId = db.prepare('SELECT team_id FROM workspaces WHERE id = ?').pluck().get(wsId) as string;
      const { teamKey } = openTeamKeyGrant(p, bob, fromB64(sealed), { teamId, epoch });
      const wrapped = db.prepare('SELECT wrapped_key FROM workspace_keys WHERE workspace_id = ? AND epoch = ?').pluck().get(wsId, epoch) as string;
      return { epoch, keys: deriveWorkspaceSubkeys(openEnvelope(p, teamKey, fromB64(wrapped), { kind: 'workspace-key', workspaceId: wsId, epoch })) };
    });
    const snaps = db.prepare('SELECT id, parent, data FROM snapshots WHERE workspace_id = ? ORDER BY seq').all(wsId) as { id: string; parent: string | null; data: Buffer }[];
    const newest = snaps[snaps.length - 1]!;
    const oldest = snaps[0]!;
    const opens = (s: typeof newest, epochs: number[]): boolean =>
      held.some(({ keys }) =>
        epochs.some((epoch) => {
          try {
            openSnapshot(p, keys.manifestKey, { id: s.id, workspaceId: wsId, parent: s.parent, epoch }, new Uint8Array(s.data));
            return true;
          } catch {
            return false;
          }
        }),
      );
    expect(opens(oldest, [1])).toBe(true);
    expect(opens(newest, [1, 2, 3])).toBe(false);
    const newBlobs = db.prepare('SELECT b.id, b.data FROM blobs b JOIN snapshot_blobs s ON s.blob_id = b.id AND s.workspace_id = b.workspace_id WHERE s.snapshot_id = ?').all(newest.id) as { id: Buffer; data: Buffer }[];
    expect(newBlobs.length).toBeGreaterThan(0);
    for (const blob of newBlobs) {
      for (const { keys } of held) {
        for (const epoch of [1, 2]) {
          expect(() => openEnvelope(p, keys.blobKey, new Uint8Array(blob.data), { kind: 'blob', workspaceId: wsId, objectId: blob.id.toString('hex'), epoch })).toThrow();
        }
      }
    }
  }, 90_000);

  it('a snapshot the removed member makes with the keys he kept, let in by the server, is refused (exit 7)', async () => {
    // The server gives bob his seat back for one push: his old keys, on top of ann's epoch-2 snapshot.
    const teamId = db.prepare('SELECT team_id FROM workspaces WHERE id = ?').pluck().get(wsId) as string;
    const m = bobHeld.membership;
    db.prepare(`INSERT INTO team_members (${Object.keys(m).join(', ')}) VALUES (${Object.keys(m).map(() => '?').join(', ')})`).run(...Object.values(m));
    for (const k of bobHeld.teamKeys) db.prepare('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES (?, ?, ?, ?)').run(teamId, bobHeld.userId, k.epoch, k.sealed);
    // and, for that push, passes off the team's epoch as bob's (an honest server refuses his stale one)
    db.prepare('UPDATE teams SET epoch = 1 WHERE id = ?').run(teamId);
    writeFileSync(path.join(bobDir, 'a.json'), '{"baseUrl":"https://evil.example.net"}');
    const injected = await bob.run(['push', '--force', '-m', 'after removal'], { cwd: bobDir });
    db.prepare('UPDATE teams SET epoch = 2 WHERE id = ?').run(teamId);
    db.prepare('DELETE FROM team_members WHERE team_id = ? AND user_id = ?').run(teamId, bobHeld.userId);
    expect(injected.code, injected.stderr).toBe(0);

    const pulled = await carol.run(['pull'], { cwd: carolDir });
    expect(pulled.code, pulled.stderr).toBe(7);
    // carol saw epoch 2 before bob's snapshot came: it is refused as a head under a replaced key
    // (a machine that had not would refuse it for its epoch-2 parent: 'older than its parent's 2')
    expect(pulled.stderr).toContain('under key epoch 1, but this machine saw the workspace at epoch 2');
    expect(readFileSync(path.join(carolDir, 'a.json'), 'utf8')).toBe('{"v":2,"secret":"after removal"}');
    const verify = await carol.run(['verify'], { cwd: carolDir });
    expect(verify.code).toBe(7);
    // a machine that never saw epoch 2 refuses it for its parent's epoch, a clone too (it reads the head and that parent)
    const fresh = machine(server.url);
    expect((await loginMachine(fresh, 'carol@example.com')).code).toBe(0);
    const cloned = await fresh.run(['clone', wsId, path.join(tempDir('isync-carol2-'), 'ws')]);
    expect(cloned.code, cloned.stderr).toBe(7);
    expect(cloned.stderr).toContain('under key epoch 1, older than its parent\'s 2');
    // the operator puts the head back; the workspace goes on
    const snaps = db.prepare('SELECT id, parent FROM snapshots WHERE workspace_id = ? ORDER BY seq DESC LIMIT 1').get(wsId) as { id: string; parent: string };
    db.prepare('UPDATE workspaces SET head = ? WHERE id = ?').run(snaps.parent, wsId);
    expect((await carol.run(['pull'], { cwd: carolDir })).code).toBe(0);
  }, 60_000);

  it('a token created before the removal fails after the rotation (exit 4)', async () => {
    const dir = tempDir('isync-ci-');
    const res = await machine(server.url, tempDir('isync-ci-config-')).run(['clone', wsId, path.join(dir, 'ws')], { env: { INSOMNIA_SYNC_TOKEN: token } });
    expect(res.code).toBe(4);
  }, 30_000);

  it("leaving: the last owner cannot; a member can, her tokens stop at once, and writes wait for a rotation", async () => {
    const last = await ann.run(['team', 'leave', '--team', team, '--yes']);
    expect(last.code).toBe(3);
    expect(last.stderr).toMatch(/last owner/);
    expect(json((await ann.run(['team', 'members', '--team', team, '--json'])).stdout).members).toHaveLength(2);
    // bob's seat is gone: not removable twice
    expect((await ann.run(['team', 'remove', 'bob@example.com', '--team', team, '--yes'])).code).toBe(5);

    // A token carol made works until she leaves, then fails at once: before any rotation, so on
    // her lost membership, not on a newer key.
    const made = await carol.run(['token', 'create', '--workspace', wsId, '--json']);
    expect(made.code, made.stderr).toBe(0);
    const carolToken = json(made.stdout).token as string;
    const ciConfig = tempDir('isync-ci-config-');
    const ciDir = path.join(tempDir('isync-ci-'), 'ws');
    const ciClone = await machine(server.url, ciConfig).run(['clone', wsId, ciDir], { env: { INSOMNIA_SYNC_TOKEN: carolToken } });
    expect(ciClone.code, ciClone.stderr).toBe(0);

    const left = await carol.run(['team', 'leave', '--team', team, '--yes', '--json']);
    expect(left.code, left.stderr).toBe(0);
    expect(json(left.stdout).rotationPending).toBe(true);
    expect((await carol.run(['pull'], { cwd: carolDir })).code).toBe(4);
    const ciPull = await machine(server.url, ciConfig).run(['pull'], { cwd: ciDir, env: { INSOMNIA_SYNC_TOKEN: carolToken } });
    expect(ciPull.code).toBe(4);
    expect(ciPull.stderr).toMatch(/created this access token no longer has this access/);
    writeFileSync(path.join(ciDir, 'from-ci.txt'), 'pushed by a token whose creator left');
    const ciPush = await machine(server.url, ciConfig).run(['push'], { cwd: ciDir, env: { INSOMNIA_SYNC_TOKEN: carolToken } });
    expect(ciPush.code).toBe(4);

    // where owners look: the team list says a rotation waits, and which command does it
    const teamId = json((await ann.run(['team', 'list', '--json'])).stdout).teams.find((t: { name: string }) => t.name === team).id as string;
    const pending = json((await ann.run(['team', 'list', '--json'])).stdout).teams.find((t: { id: string }) => t.id === teamId);
    expect(pending.rotationPending).toBe(true);
    expect((await ann.run(['team', 'list'])).stdout).toContain(`(key rotation pending: run \`team rotate --team ${teamId.slice(0, 12)}\`)`);
    writeFileSync(path.join(annDir, 'c.txt'), 'after carol left');
    const refused = await ann.run(['push'], { cwd: annDir });
    expect(refused.code).toBe(3);
    // taking access away encrypts nothing: the owner revokes carol's token while the rotation waits
    const revoked = await ann.run(['token', 'revoke', json(made.stdout).id as string, '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(json(revoked.stdout).status).toBe('revoked');
    // the refusal names the team and a command that pastes as it is
    expect(refused.stderr).toContain(`a member left team ${team} and its key has not been rotated yet; an owner or admin must run \`insomnia-sync team rotate --team ${teamId.slice(0, 12)}\``);
    const rotated = await ann.run(['team', 'rotate', '--team', team, '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(json(rotated.stdout).epoch).toBe(3);
    expect(json((await ann.run(['team', 'list', '--json'])).stdout).teams.find((t: { id: string }) => t.id === teamId).rotationPending).toBe(false);
    expect((await ann.run(['team', 'list'])).stdout).not.toContain('rotation pending');
    const pushed = await ann.run(['push'], { cwd: annDir });
    expect(pushed.code, pushed.stderr).toBe(0);
    // a fresh clone by the owner reads all three epochs' history
    const again = path.join(tempDir('isync-ann2-'), 'ws');
    expect((await ann.run(['clone', wsId, again])).code).toBe(0);
    expect(readFileSync(path.join(again, 'c.txt'), 'utf8')).toBe('after carol left');
    expect((await ann.run(['verify'], { cwd: again })).code).toBe(0);
  }, 90_000);

  it('roles: owners change them, only confirmed members become owners, and an owner can hand over and leave', async () => {
    const roles = 'Roles';
    expect((await ann.run(['team', 'create', roles])).code).toBe(0);
    expect((await ann.run(['team', 'invite', 'dave@example.com', '--team', roles])).code).toBe(0);
    expect((await dave.run(['team', 'accept', mailedCode(server.dataDir, 'dave@example.com', 'Invite code')])).code).toBe(0);
    const role = (m: Machine, email: string, r: string) => m.run(['team', 'role', email, r, '--team', roles, '--json']);

    expect((await role(ann, 'dave@example.com', 'boss')).code).toBe(2);
    expect((await role(ann, 'nobody@example.com', 'admin')).code).toBe(5);
    const early = await role(ann, 'dave@example.com', 'owner');
    expect(early.code).toBe(3);
    expect(early.stderr).toMatch(/confirm this member/);
    const admin = await role(ann, 'dave@example.com', 'admin');
    expect(admin.code, admin.stderr).toBe(0);
    expect(json(admin.stdout)).toEqual({ team: roles, email: 'dave@example.com', role: 'admin', previous: 'member' });
    expect((await ann.run(['team', 'confirm', 'dave@example.com', '--team', roles, '--yes'])).code).toBe(0);

    // an admin changes no role (only owners invite admins, so only owners make them)
    const upward = await role(dave, 'dave@example.com', 'owner');
    expect(upward.code).toBe(4);
    expect(upward.stderr).toMatch(/\(admin\) does not allow this/);
    expect((await role(dave, 'ann@example.com', 'member')).code).toBe(4);
    // the last owner stays owner, and cannot leave
    expect((await role(ann, 'ann@example.com', 'admin')).code).toBe(3);
    expect((await ann.run(['team', 'leave', '--team', roles, '--yes'])).stderr).toMatch(/team role EMAIL owner/);

    const owner = await ann.run(['team', 'role', 'dave@example.com', 'owner', '--team', roles]);
    expect(owner.code, owner.stderr).toBe(0);
    expect(owner.stdout).toContain('dave@example.com is now owner of Roles (was admin)');
    const again = await ann.run(['team', 'role', 'dave@example.com', 'owner', '--team', roles]);
    expect(again.stdout).toContain('dave@example.com is already owner of Roles');
    const members = json((await dave.run(['team', 'members', '--team', roles, '--json'])).stdout).members as { email: string; role: string }[];
    expect(members.map((m) => [m.email, m.role]).sort()).toEqual([
      ['ann@example.com', 'owner'],
      ['dave@example.com', 'owner'],
    ]);
    const left = await ann.run(['team', 'leave', '--team', roles, '--yes']);
    expect(left.code, left.stderr).toBe(0);
    expect((await role(dave, 'dave@example.com', 'member')).code).toBe(3);
  }, 60_000);

  it('the personal team cannot be left and takes no invitations', async () => {
    expect((await bob.run(['team', 'leave', '--team', 'personal', '--yes'])).code).toBe(2);
    expect((await ann.run(['team', 'invite', 'x@example.com', '--team', 'personal'])).code).toBe(4);
  }, 30_000);
});
