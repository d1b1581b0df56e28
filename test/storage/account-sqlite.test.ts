/**
 * SQLite specifics of the account lifecycle: the sole-owner refusal (teams with other members can
 * only be built with SQL until team membership has Store methods), secure deletion down to the
 * file bytes, access tokens removed with the account, and online backup.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { newUser } from './store-contract.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'insomnia-sync-account-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const hex = (n: number): string => randomBytes(n).toString('hex');
const b64 = (n: number): string => randomBytes(n).toString('base64url');

function fileHas(path: string, needle: string): boolean {
  return existsSync(path) && readFileSync(path).includes(Buffer.from(needle));
}

describe('account deletion on SQLite', () => {
  it('refuses the sole owner of a team with other members and removes nothing; a co-owner may go', async () => {
    const path = join(tempDir(), 's.db');
    const store = openSqliteStore(path);
    const owner = newUser('owner@example.com');
    const member = newUser('member@example.com');
    await store.createUser(owner);
    await store.createUser(member);
    const teamId = hex(16);
    const raw = new Database(path);
    raw.prepare('INSERT INTO teams (id, name, personal, epoch, created_at) VALUES (?, ?, 0, 1, 0)').run(teamId, 'Platform');
    raw.prepare("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', 0)").run(teamId, owner.id);
    raw.prepare("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'member', 0)").run(teamId, member.id);
    const wsId = hex(16);
    await store.createWorkspace({ id: wsId, teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: new Date(0) });

    expect(await store.deleteUser(owner.id, owner.authKeyHash)).toEqual({ ok: false, reason: 'sole_owner', teams: [{ id: teamId, name: 'Platform' }] });
    expect(await store.getUserById(owner.id)).not.toBeNull();
    expect(await store.getTeam(owner.personalTeam.id)).not.toBeNull();
    expect(await store.getTeamRole(teamId, owner.id)).toBe('owner');

    // a plain member leaves the shared team: membership gone, team and workspace stay
    const res = await store.deleteUser(member.id, member.authKeyHash);
    expect(res.ok && res.removed).toMatchObject({ memberships: 2, teams: 1, workspaces: 0 });
    expect(await store.getWorkspace(wsId)).not.toBeNull();
    expect(await store.getTeamRole(teamId, member.id)).toBeNull();

    // with the other member gone, the owner is alone in the team: it goes with the account
    const second = newUser('second@example.com');
    await store.createUser(second);
    raw.prepare("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', 0)").run(teamId, second.id);
    const ownerGone = await store.deleteUser(owner.id, owner.authKeyHash);
    expect(ownerGone.ok && ownerGone.removed).toMatchObject({ memberships: 2, teams: 1, workspaces: 0 });
    expect(await store.getWorkspace(wsId)).not.toBeNull();
    raw.close();
    await store.close();
  });

  it('removes access tokens the user made, and leaves no byte of the email in the database or WAL', async () => {
    const dir = tempDir();
    const path = join(dir, 's.db');
    const store = openSqliteStore(path);
    const email = `unique-${hex(6)}@example.com`;
    const user = newUser(email);
    await store.createUser(user);
    const wsId = hex(16);
    await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: new Date(0) });
    const raw = new Database(path);
    raw
      .prepare(
        `INSERT INTO access_tokens (id, workspace_id, created_by, name, scope, secret_hash, public_key, certificate, created_at)
         VALUES (?, ?, ?, 'ci', 'read', ?, ?, ?, 0)`,
      )
      .run(hex(16), wsId, user.id, randomBytes(32), b64(32), b64(64));
    raw.close();
    expect(fileHas(path, email) || fileHas(`${path}-wal`, email)).toBe(true);
    const res = await store.deleteUser(user.id, user.authKeyHash);
    expect(res.ok && res.removed.accessTokens).toBe(1);
    expect(fileHas(path, email)).toBe(false);
    expect(fileHas(`${path}-wal`, email)).toBe(false);
    expect(fileHas(path, user.keys.wrappedAccountKey)).toBe(false);
    await store.close();
    expect(fileHas(path, email)).toBe(false);
  });

  it('after signup, verification, an accepted invitation and deletion, the email is in neither file, not even in free space', async () => {
    const path = join(tempDir(), 's.db');
    const store = openSqliteStore(path);
    const owner = newUser('owner@example.com');
    await store.createUser(owner);
    const teamId = hex(16);
    await store.createTeam({ id: teamId, name: 'Acme', ownerId: owner.id, sealedTeamKey: b64(80), createdAt: new Date() });
    const email = `verified-${hex(6)}@example.com`;
    const user = newUser(email);
    await store.createUser(user);
    // each of these rows names the address and is deleted long before the account
    const activation = randomBytes(32);
    await store.setEmailVerification(user.id, email, activation, new Date(Date.now() + 60_000));
    expect(await store.verifyEmail(user.id, activation, new Date())).toEqual({ ok: true });
    const invite = randomBytes(32);
    const soon = new Date(Date.now() + 60_000);
    await store.createInvitation({ id: hex(16), teamId, email, role: 'member', codeHash: invite, invitedBy: owner.id, createdAt: new Date(), expiresAt: soon });
    expect((await store.acceptInvitation(invite, user.id, email, new Date())).ok).toBe(true);
    expect((await store.confirmMember(teamId, user.id, [{ epoch: 1, sealedKey: b64(80) }], new Date())).ok).toBe(true);

    const res = await store.deleteUser(user.id, user.authKeyHash);
    expect(res.ok && res.removed.invitations).toBe(1);
    expect(fileHas(path, email)).toBe(false);
    expect(fileHas(`${path}-wal`, email)).toBe(false);
    // what verification needs stays: the id and public keys, as a former member's
    expect(fileHas(path, user.keys.ed25519PublicKey) || fileHas(`${path}-wal`, user.keys.ed25519PublicKey)).toBe(true);
    await store.close();
    expect(fileHas(path, email)).toBe(false);
  });

  it('while another process reads (a backup), the deletion does not wait, and the WAL is truncated once the reader is gone, the store still open', async () => {
    const path = join(tempDir(), 's.db');
    const store = openSqliteStore(path);
    const email = `read-during-deletion-${hex(6)}@example.com`;
    const user = newUser(email);
    await store.createUser(user);
    for (let i = 0; i < 5; i++) await store.createUser(newUser());
    // the page with the email, in the database file as a long-running server would have it
    const raw = new Database(path);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    expect(fileHas(path, email)).toBe(true);
    // another process in a read transaction: a checkpoint cannot complete past its snapshot
    const rows = raw.prepare('SELECT id FROM users').iterate();
    rows.next();
    try {
      const started = performance.now();
      expect((await store.deleteUser(user.id, user.authKeyHash)).ok).toBe(true);
      // no wait for the busy timeout (5 s) on the event loop
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      rows.return?.();
    }
    raw.close();
    for (let waited = 0; waited < 5000 && (fileHas(path, email) || fileHas(`${path}-wal`, email)); waited += 100) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(fileHas(path, email)).toBe(false);
    expect(fileHas(`${path}-wal`, email)).toBe(false);
    await store.close();
  });

  it('keeps collecting garbage with secure deletion on: unreferenced blobs go, their bytes too', async () => {
    const path = join(tempDir(), 's.db');
    const store = openSqliteStore(path);
    const user = newUser();
    await store.createUser(user);
    const wsId = hex(16);
    await store.createWorkspace({ id: wsId, teamId: user.personalTeam.id, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) }, createdAt: new Date(0) });
    const marker = Buffer.from(`unreferenced-${hex(8)}`);
    const data = new Uint8Array(Buffer.concat([marker, randomBytes(20_000)]));
    expect(await store.putBlobs(wsId, [{ id: hex(32), data }])).toEqual({ ok: true, stored: 1 });
    const report = await store.collectGarbage({ olderThan: new Date(Date.now() + 60_000) });
    expect(report).toMatchObject({ workspaces: 1, blobs: 1, bytes: data.length });
    expect((await store.getWorkspace(wsId))!.size).toBe(0);
    const raw = new Database(path);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    raw.close();
    expect(fileHas(path, marker.toString())).toBe(false);
    await store.close();
  });

  it('backs up online to a file that opens with the same data', async () => {
    const dir = tempDir();
    const store = openSqliteStore(join(dir, 's.db'));
    const user = newUser();
    await store.createUser(user);
    const file = join(dir, 'copy.db');
    await store.backup(file);
    // the source stays usable while and after copying
    await store.createUser(newUser());
    const copy = openSqliteStore(file, { migrate: false });
    expect((await copy.getUserById(user.id))!.email).toBe(user.email);
    expect(await copy.migrate()).toEqual([]);
    await copy.close();
    await store.close();
  });

  it('finishes a backup while another connection commits between every step: one snapshot, never restarted', async () => {
    const dir = tempDir();
    const path = join(dir, 's.db');
    const store = openSqliteStore(path);
    const user = newUser();
    await store.createUser(user);
    // ~30 MB of pages: many steps of the online backup, whatever its step size
    const raw = new Database(path);
    raw.exec('CREATE TABLE filler (x BLOB); CREATE TABLE ticks (n INTEGER)');
    raw.prepare('INSERT INTO filler SELECT randomblob(15000) FROM (WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000) SELECT i FROM c)').run();
    // a server writing all the time (session stamps, rate-limit counts): one commit per turn of
    // the event loop, i.e. between any two steps of the backup, until it has written `cap` rows
    const tick = raw.prepare('INSERT INTO ticks VALUES (?)');
    const cap = 1000;
    let ticks = 0;
    const writing = new Promise<void>((done) => {
      const write = (): void => {
        tick.run(++ticks);
        if (ticks < cap) setImmediate(write);
        else done();
      };
      setImmediate(write);
    });
    const file = join(dir, 'copy.db');
    await store.backup(file);
    const ticksWhenDone = ticks;
    await writing;
    // an online backup that starts over at every commit finishes only once the writer stops
    expect(ticksWhenDone).toBeLessThan(cap);
    raw.close();
    await store.close();

    const copy = new Database(file, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    // a page-for-page copy: the page size and WAL mode of the live file come along
    expect(copy.pragma('page_size', { simple: true })).toBe(16384);
    expect(copy.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(copy.prepare('SELECT count(*) FROM filler').pluck().get()).toBe(2000);
    // the moment the copy was taken: every tick up to some n, nothing after it
    const copied = copy.prepare('SELECT count(*) AS rows, coalesce(max(n), 0) AS top FROM ticks').get() as { rows: number; top: number };
    expect(copied.rows).toBe(copied.top);
    expect(copied.top).toBeLessThanOrEqual(ticksWhenDone);
    copy.close();
    const reopened = openSqliteStore(file, { migrate: false, existing: true });
    expect((await reopened.getUserById(user.id))!.email).toBe(user.email);
    await reopened.close();
  });
});
