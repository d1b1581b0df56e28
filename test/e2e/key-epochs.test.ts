/**
 * The server as the attacker on team keys: it holds every member's public key, so it can seal a
 * team key of its own choosing to each of them as a "new epoch", or take back an epoch to the keys
 * a removed member holds. Either would let it (or the removed member) read what is pushed next.
 * Each case edits the real server's database and drives the real CLI.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { fromB64, toB64 } from '../../src/protocol/encoding.js';
import { noblePrimitives as p } from '../../src/crypto/primitives.js';
import { sealEnvelope } from '../../src/crypto/aead.js';
import { fingerprint, generateIdentity, identityFromSecrets, type Identity } from '../../src/crypto/keys.js';
import { sealToPublicKey } from '../../src/crypto/seal.js';
import { openTeamKeyGrant, sealTeamKeyGrant, teamKeyHash } from '../../src/crypto/team-grant.js';
import { generateKey } from '../../src/crypto/workspace-keys.js';
import { encodeSnapshotUpload } from '../../src/protocol/snapshot-frames.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

describe('team key epochs the server makes up or takes back are refused', () => {
  let server: StartedServer;
  let db: Database.Database;
  let a: Machine;
  let userId: string;
  let x25519Public: Uint8Array;
  let g: Machine;
  let h: Machine;
  let i: Machine;

  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    expect((await signupMachine(a, 'epochs@example.com')).code).toBe(0);
    db = new Database(path.join(server.dataDir, 'sync.db'));
    const row = db.prepare('SELECT id, x25519_public_key FROM users WHERE email = ?').get('epochs@example.com') as { id: string; x25519_public_key: string };
    userId = row.id;
    x25519Public = fromB64(row.x25519_public_key, 32);
    g = machine(server.url);
    h = machine(server.url);
    i = machine(server.url);
    for (const [m, email] of [[g, 'g@example.com'], [h, 'h@example.com'], [i, 'i@example.com']] as const) expect((await signupMachine(m, email)).code).toBe(0);
  }, 90_000);
  afterAll(async () => {
    db?.close();
    await server?.stop();
  });

  async function linkedFolder(name: string, team?: string): Promise<{ dir: string; wsId: string; teamId: string }> {
    const dir = tempDir('isync-epochs-');
    writeFileSync(path.join(dir, 'env.json'), '{"token":"one"}');
    const init = await a.run(['init', '--name', name, ...(team ? ['--team', team] : []), '--json'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
    expect((await a.run(['push'], { cwd: dir })).code).toBe(0);
    const wsId = json(init.stdout).id as string;
    const teamId = db.prepare('SELECT team_id FROM workspaces WHERE id = ?').pluck().get(wsId) as string;
    return { dir, wsId, teamId };
  }

  /** What a server can do alone: a new epoch whose team key it chose, sealed to the member. */
  /** a's team key of `epoch`, as a member who holds it (a removed one, say) would know it */
  function heldTeamKey(teamId: string, epoch: number): Uint8Array {
    const sealed = db.prepare('SELECT sealed_key FROM team_keys WHERE team_id = ? AND user_id = ? AND epoch = ?').pluck().get(teamId, userId, epoch) as string;
    return openTeamKeyGrant(p, identityOf(a).identity, fromB64(sealed), { teamId, epoch }).teamKey;
  }

  /**
   * A new newest epoch sealed to a. Its grant names the real previous key, as a forger holding
   * it would (a removed member with the server): what is refused then is the granter.
   */
  function forgeEpoch(teamId: string, wsId: string, sealedFor: (teamKey: Uint8Array, epoch: number, previousKeyHash: Uint8Array) => Uint8Array): number {
    const epoch = (db.prepare('SELECT epoch FROM teams WHERE id = ?').pluck().get(teamId) as number) + 1;
    const teamKey = generateKey(p);
    const previousKeyHash = teamKeyHash(p, heldTeamKey(teamId, epoch - 1));
    db.prepare('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES (?, ?, ?, ?)').run(teamId, userId, epoch, toB64(sealedFor(teamKey, epoch, previousKeyHash)));
    const wrapped = sealEnvelope(p, teamKey, generateKey(p), { kind: 'workspace-key', workspaceId: wsId, epoch });
    db.prepare('INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) VALUES (?, ?, ?)').run(wsId, epoch, toB64(wrapped));
    db.prepare('UPDATE teams SET epoch = ? WHERE id = ?').run(epoch, teamId);
    return epoch;
  }

  function undoEpoch(teamId: string, wsId: string, epoch: number): void {
    db.prepare('DELETE FROM team_keys WHERE team_id = ? AND epoch = ?').run(teamId, epoch);
    db.prepare('DELETE FROM workspace_keys WHERE workspace_id = ? AND epoch = ?').run(wsId, epoch);
    db.prepare('UPDATE teams SET epoch = ? WHERE id = ?').run(epoch - 1, teamId);
  }

  const head = (wsId: string): string => db.prepare('SELECT head FROM workspaces WHERE id = ?').pluck().get(wsId) as string;

  it('an unsigned team key, or one signed by a stranger, for the personal team: push stops (exit 7) and uploads nothing', async () => {
    const { dir, wsId, teamId } = await linkedFolder('personal-forged');
    const before = head(wsId);
    const blobs = db.prepare('SELECT count(*) FROM blobs').pluck().get();
    writeFileSync(path.join(dir, 'env.json'), '{"token":"SECRET-AFTER-FORGERY"}');

    let epoch = forgeEpoch(teamId, wsId, (key, e) => sealToPublicKey(p, x25519Public, key, { kind: 'team-key', ownerId: teamId, epoch: e }));
    let push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain(`(epoch ${epoch}) carries no signature`);
    undoEpoch(teamId, wsId, epoch);

    const stranger = { userId: 'f'.repeat(32), identity: generateIdentity(p) };
    epoch = forgeEpoch(teamId, wsId, (key, e, prev) => sealTeamKeyGrant(p, stranger, x25519Public, key, { teamId, epoch: e, previousKeyHash: prev }));
    push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('it is your personal team');
    // no longer marked personal, and after a fresh login: its id still says whose it is
    db.prepare('UPDATE teams SET personal = 0 WHERE id = ?').run(teamId);
    expect((await a.run(['logout'])).code).toBe(0);
    expect((await a.run(['login', '--email', 'epochs@example.com', '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('it is your personal team');
    db.prepare('UPDATE teams SET personal = 1 WHERE id = ?').run(teamId);
    // the stranger signing in our name does no better
    undoEpoch(teamId, wsId, epoch);
    epoch = forgeEpoch(teamId, wsId, (key, e, prev) => sealTeamKeyGrant(p, { ...stranger, userId }, x25519Public, key, { teamId, epoch: e, previousKeyHash: prev }));
    push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('signed in your name with keys that are not yours');

    expect(head(wsId)).toBe(before);
    expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(blobs);
    undoEpoch(teamId, wsId, epoch);
    expect((await a.run(['push'], { cwd: dir })).code).toBe(0);
  }, 90_000);

  it('a rotation this machine made, taken back by the server before any other command: push stops (exit 7)', async () => {
    expect((await a.run(['team', 'create', 'Undone'])).code).toBe(0);
    const { dir, wsId, teamId } = await linkedFolder('team-undone', 'Undone');
    expect((await a.run(['team', 'rotate', '--team', 'Undone', '--yes'])).code).toBe(0);
    undoEpoch(teamId, wsId, 2);
    writeFileSync(path.join(dir, 'env.json'), '{"token":"after the rotation"}');
    const push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('up to epoch 1, but this machine has seen epoch 2');
  }, 60_000);

  it('a team key epoch taken back after this machine saw it: push stops (exit 7)', async () => {
    expect((await a.run(['team', 'create', 'Rollback'])).code).toBe(0);
    const { dir, wsId, teamId } = await linkedFolder('team-rollback', 'Rollback');
    const rotated = await a.run(['team', 'rotate', '--team', 'Rollback', '--yes', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const status = await a.run(['status'], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    writeFileSync(path.join(dir, 'env.json'), '{"token":"two"}');
    // this machine has opened epoch 2; the server takes it back to epoch 1
    expect((await a.run(['push'], { cwd: dir })).code).toBe(0);
    const pushedAt2 = head(wsId);
    undoEpoch(teamId, wsId, 2);
    writeFileSync(path.join(dir, 'env.json'), '{"token":"three"}');
    const push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('up to epoch 1, but this machine has seen epoch 2');
    expect(head(wsId)).toBe(pushedAt2);
    expect(readFileSync(path.join(dir, 'env.json'), 'utf8')).toBe('{"token":"three"}');
  }, 90_000);

  /** The real identity a machine's session holds, as its owner would sign with. */
  function identityOf(m: Machine): { userId: string; identity: Identity } {
    const s = json(readFileSync(path.join(m.configDir, 'sessions', 'default.json'), 'utf8'));
    return { userId: s.userId, identity: identityFromSecrets(fromB64(s.x25519Secret, 32), fromB64(s.ed25519Secret, 32), p) };
  }

  function addMember(teamId: string, m: Machine): void {
    db.prepare('INSERT INTO team_members (team_id, user_id, role, created_at, pending) VALUES (?, ?, ?, ?, 0)').run(teamId, identityOf(m).userId, 'admin', Date.now());
  }

  it('in a shared team this machine made: a key from a non-member is refused, and from an admin only once vouched for', async () => {
    expect((await a.run(['team', 'create', 'Shared'])).code).toBe(0);
    const { dir, wsId, teamId } = await linkedFolder('team-shared', 'Shared');
    writeFileSync(path.join(dir, 'env.json'), '{"token":"shared-2"}');

    // a granter the server made up, not in the member list
    const ghost = { userId: 'e'.repeat(32), identity: generateIdentity(p) };
    let epoch = forgeEpoch(teamId, wsId, (key, e, prev) => sealTeamKeyGrant(p, ghost, x25519Public, key, { teamId, epoch: e, previousKeyHash: prev }));
    let push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('signed by someone who is not an owner or admin of the team');
    undoEpoch(teamId, wsId, epoch);

    // g, an admin the server lists: this machine made the team, so it takes keys only from
    // members it vouched for; the hint's command settles it
    addMember(teamId, g);
    addMember(teamId, h);
    addMember(teamId, i);
    epoch = forgeEpoch(teamId, wsId, (key, e, prev) => sealTeamKeyGrant(p, identityOf(g), x25519Public, key, { teamId, epoch: e, previousKeyHash: prev }));
    push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('handed over by g@example.com, whose fingerprint this machine has not checked for this team');
    expect(push.stderr).toContain('team confirm g@example.com');
    const gs = identityOf(g);
    expect((await a.run(['team', 'confirm', 'g@example.com', '--team', teamId.slice(0, 12), '--fingerprint', fingerprint(gs.identity.x25519.publicKey, gs.identity.ed25519.publicKey, p)])).code).toBe(0);
    push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(0);

    // i, listed but never vouched for: refused
    writeFileSync(path.join(dir, 'env.json'), '{"token":"shared-3"}');
    epoch = forgeEpoch(teamId, wsId, (key, e, prev) => sealTeamKeyGrant(p, identityOf(i), x25519Public, key, { teamId, epoch: e, previousKeyHash: prev }));
    push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('handed over by i@example.com, whose fingerprint this machine has not checked for this team');
    undoEpoch(teamId, wsId, epoch);

    // the server moves the personal flag to this shared team: init without --team still goes to the personal one
    const personalId = db.prepare("SELECT id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ? AND t.personal = 1").pluck().get(userId) as string;
    db.prepare('UPDATE teams SET personal = 0 WHERE id = ?').run(personalId);
    db.prepare('UPDATE teams SET personal = 1 WHERE id = ?').run(teamId);
    const init = await a.run(['init', '--name', 'private-one', '--json'], { cwd: tempDir('isync-epochs-') });
    db.prepare('UPDATE teams SET personal = 1 WHERE id = ?').run(personalId);
    db.prepare('UPDATE teams SET personal = 0 WHERE id = ?').run(teamId);
    expect(init.code, init.stderr).toBe(0);
    expect(db.prepare('SELECT team_id FROM workspaces WHERE id = ?').pluck().get(json(init.stdout).id)).toBe(personalId);
  }, 120_000);

  it('a workspace the server moves to another team: push and pull refuse (exit 7), nothing sent', async () => {
    expect((await a.run(['team', 'create', 'Moved'])).code).toBe(0);
    const { dir, wsId, teamId } = await linkedFolder('team-moved', 'Moved');
    const personalId = db.prepare('SELECT t.id FROM teams t JOIN team_members m ON m.team_id = t.id WHERE m.user_id = ? AND t.personal = 1').pluck().get(userId) as string;
    db.prepare('UPDATE workspaces SET team_id = ? WHERE id = ?').run(personalId, wsId);
    const before = head(wsId);
    writeFileSync(path.join(dir, 'env.json'), '{"token":"moved"}');
    for (const cmd of ['push', 'pull']) {
      const res = await a.run([cmd], { cwd: dir });
      expect(res.code, res.stderr).toBe(7);
      expect(res.stderr).toContain('but this folder was linked to it in team');
    }
    expect(head(wsId)).toBe(before);
    // not only from the folder: wherever this machine meets the workspace
    for (const args of [['workspace', 'rename', wsId, 'renamed'], ['token', 'create', '--workspace', wsId]]) {
      const res = await a.run(args);
      expect(res.code, res.stderr).toBe(7);
      expect(res.stderr).toContain('but this machine saw it in team');
    }
    db.prepare('UPDATE workspaces SET team_id = ? WHERE id = ?').run(teamId, wsId);
  }, 60_000);

  it('a team this machine created takes a new key only from members it vouched for', async () => {
    expect((await a.run(['team', 'create', 'Solo'])).code).toBe(0);
    const { wsId, teamId } = await linkedFolder('team-solo', 'Solo');
    addMember(teamId, g);
    forgeEpoch(teamId, wsId, (key, e, prev) => sealTeamKeyGrant(p, identityOf(g), x25519Public, key, { teamId, epoch: e, previousKeyHash: prev }));
    const init = await a.run(['init', '--name', 'solo-two', '--team', 'Solo'], { cwd: tempDir('isync-epochs-') });
    expect(init.code, init.stderr).toBe(7);
    expect(init.stderr).toContain('whose fingerprint this machine has not checked for this team');
  }, 60_000);

  it("a workspace key withheld for the team's newest epoch: push and init refuse (exit 7)", async () => {
    expect((await a.run(['team', 'create', 'Withheld'])).code).toBe(0);
    const { dir, wsId, teamId } = await linkedFolder('team-withheld', 'Withheld');
    expect((await a.run(['team', 'rotate', '--team', 'Withheld', '--yes'])).code).toBe(0);
    // the server drops the new workspace key and reports the old epoch
    db.prepare('DELETE FROM workspace_keys WHERE workspace_id = ? AND epoch = 2').run(wsId);
    db.prepare('UPDATE teams SET epoch = 1 WHERE id = ?').run(teamId);
    const before = head(wsId);
    writeFileSync(path.join(dir, 'env.json'), '{"token":"under an old key"}');
    const push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain("key only up to epoch 1, but its team's key is at epoch 2");
    expect(head(wsId)).toBe(before);
    const init = await a.run(['init', '--name', 'under-old-key', '--team', 'Withheld'], { cwd: tempDir('isync-epochs-') });
    expect(init.code, init.stderr).toBe(7);
  }, 60_000);

  it('a snapshot encrypted under an epoch older than the team\'s (a push that began before a rotation) is refused (409)', async () => {
    expect((await a.run(['team', 'create', 'Race'])).code).toBe(0);
    const { wsId } = await linkedFolder('team-race', 'Race');
    expect((await a.run(['team', 'rotate', '--team', 'Race', '--yes'])).code).toBe(0);
    const token = json(readFileSync(path.join(a.configDir, 'sessions', 'default.json'), 'utf8')).sessionToken as string;
    const parent = head(wsId);
    const data = new TextEncoder().encode('ciphertext the server cannot read');
    const id = createHash('sha256').update(data).digest('hex');
    const send = (epoch: number): Promise<Response> =>
      fetch(`${server.url}/v1/workspaces/${wsId}/snapshots?epoch=${epoch}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
        body: Buffer.concat(encodeSnapshotUpload({ id, parent, data, blobIds: [] })),
      });
    const stale = await send(1);
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as any).error.message).toContain('rotated while you pushed (now epoch 2)');
    expect(head(wsId)).toBe(parent);
    expect((await send(2)).status).toBe(200);
  }, 60_000);

  it('a workspace made while its team key rotates is refused (409, exit 3, init again): nothing is created or linked', async () => {
    // team Race is at epoch 2 (above); the rotation to 3 lands between init's look at the team and its create
    const teamId = db.prepare("SELECT id FROM teams WHERE name = 'Race'").pluck().get() as string;
    let raced = false;
    const proxy = await startRecordingProxy(server.url, undefined, (method, url) => {
      if (method === 'POST' && url === '/v1/workspaces' && !raced) {
        raced = true;
        db.prepare('UPDATE teams SET epoch = epoch + 1 WHERE id = ?').run(teamId);
      }
    });
    try {
      const m = machine(proxy.url);
      expect((await loginMachine(m, 'epochs@example.com')).code).toBe(0);
      const dir = tempDir('isync-epochs-race-');
      writeFileSync(path.join(dir, 'env.json'), '{"token":"one"}');
      const before = db.prepare('SELECT count(*) FROM workspaces WHERE team_id = ?').pluck().get(teamId);
      const init = await m.run(['init', '--name', 'raced', '--team', 'Race'], { cwd: dir });
      expect(raced).toBe(true);
      expect(init.code, init.stderr).toBe(3);
      expect(init.stderr).toMatch(/rotated \(now epoch 3\)/);
      expect(init.stderr).toMatch(/nothing was created; once the team's key is current, run `insomnia-sync init` again/);
      expect(db.prepare('SELECT count(*) FROM workspaces WHERE team_id = ?').pluck().get(teamId)).toBe(before);
      expect(existsSync(path.join(dir, '.insomnia-sync', 'link.json'))).toBe(false);
    } finally {
      if (raced) db.prepare('UPDATE teams SET epoch = epoch - 1 WHERE id = ?').run(teamId);
      await proxy.close();
    }
  }, 60_000);

  it('a new epoch whose key does not name the current one is refused, even from a member this machine vouched for', async () => {
    expect((await a.run(['team', 'create', 'Chained'])).code).toBe(0);
    const { dir, wsId, teamId } = await linkedFolder('team-chained', 'Chained');
    addMember(teamId, g);
    const gs = identityOf(g);
    expect((await a.run(['team', 'confirm', 'g@example.com', '--team', teamId, '--fingerprint', fingerprint(gs.identity.x25519.publicKey, gs.identity.ed25519.publicKey, p)])).code).toBe(0);
    const before = head(wsId);
    // the server, with g's signature or not, cannot know the current key: it names another
    forgeEpoch(teamId, wsId, (key, e) => sealTeamKeyGrant(p, gs, x25519Public, key, { teamId, epoch: e, previousKeyHash: teamKeyHash(p, generateKey(p)) }));
    writeFileSync(path.join(dir, 'env.json'), '{"token":"under a key the server chose"}');
    const push = await a.run(['push'], { cwd: dir });
    expect(push.code, push.stderr).toBe(7);
    expect(push.stderr).toContain('for epoch 1 is not the one the key of epoch 2 names');
    expect(head(wsId)).toBe(before);
  }, 90_000);

  it('an old epoch\'s key replaced by the server (with a granter it made up) is refused: no history is read under it', async () => {
    expect((await a.run(['team', 'create', 'Old'])).code).toBe(0);
    const { wsId, teamId } = await linkedFolder('team-old', 'Old');
    expect((await a.run(['team', 'rotate', '--team', 'Old', '--yes'])).code).toBe(0);
    // epoch 1 is history now; the server seals a key of its own for it, signed by a made-up former
    // member, and wraps the workspace's epoch-1 key under it (what a forged snapshot would need)
    const ghost = { userId: 'd'.repeat(32), identity: generateIdentity(p) };
    const forged = generateKey(p);
    db.prepare('UPDATE team_keys SET sealed_key = ? WHERE team_id = ? AND user_id = ? AND epoch = 1').run(
      toB64(sealTeamKeyGrant(p, ghost, x25519Public, forged, { teamId, epoch: 1, previousKeyHash: null })),
      teamId,
      userId,
    );
    db.prepare('UPDATE workspace_keys SET wrapped_key = ? WHERE workspace_id = ? AND epoch = 1').run(
      toB64(sealEnvelope(p, forged, generateKey(p), { kind: 'workspace-key', workspaceId: wsId, epoch: 1 })),
      wsId,
    );
    const target = path.join(tempDir('isync-epochs-'), 'copy');
    const clone = await a.run(['clone', wsId, target]);
    expect(clone.code, clone.stderr).toBe(7);
    expect(clone.stderr).toContain('for epoch 1 is not the one the key of epoch 2 names');
    const verify = await a.run(['verify', '--workspace', wsId]);
    expect(verify.code, verify.stderr).toBe(7);
    expect(verify.stderr).toContain('for epoch 1 is not the one the key of epoch 2 names');
  }, 90_000);
});
