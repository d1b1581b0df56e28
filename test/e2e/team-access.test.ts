/**
 * Who may do what to other people's things in a team, end to end (real server, real CLI): revoking
 * another member's access token (its creator, or an owner or admin of the team; a plain member gets
 * exit 4), withdrawing a pending invitation with `team remove EMAIL` (owners and admins; its code
 * then answers as an unknown one), and what an expired or used invite code exits with (4 and 5:
 * exit 3 is for sync conflicts a script would pull and retry).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machine, runCli, signupMachine, tempDir, type CliResult, type Machine } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const TEAM = 'Acme';

describe('team access: tokens, invitations, invite codes', () => {
  let server: StartedServer;
  let ann: Machine; // owner
  let carl: Machine; // admin
  let bob: Machine; // member
  let heidi: Machine; // invited, never joins
  let dave: Machine;
  let frank: Machine;

  const must = async (m: Machine, args: string[], opts: { cwd?: string } = {}): Promise<CliResult> => {
    const res = await m.run(args, opts);
    if (res.code !== 0) throw new Error(`${args.join(' ')} → ${res.code}: ${res.stderr}`);
    return res;
  };

  /** a CI job: a fresh config dir and the token, no login */
  const ci = (token: string, args: string[], cwd: string): Promise<CliResult> =>
    runCli(args, { cwd, env: { INSOMNIA_SYNC_SERVER: server.url, INSOMNIA_SYNC_TOKEN: token, INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-ci-config-') } });

  const createToken = async (m: Machine, name: string): Promise<{ token: string; id: string }> =>
    json((await must(m, ['token', 'create', '--workspace', 'api', '--name', name, '--json'])).stdout);

  beforeAll(async () => {
    server = await startServer();
    [ann, carl, bob, heidi, dave, frank] = [0, 1, 2, 3, 4, 5].map(() => machine(server.url)) as Machine[] as [Machine, Machine, Machine, Machine, Machine, Machine];
    await Promise.all([signupMachine(ann, 'ann@example.com'), signupMachine(carl, 'carl@example.com'), signupMachine(bob, 'bob@example.com')]);
    await must(ann, ['account', 'verify', mailedCode(server.dataDir, 'ann@example.com', 'Verification code')]);
    await must(ann, ['team', 'create', TEAM]);
    const dir = tempDir('isync-access-');
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}');
    await must(ann, ['init', '--team', TEAM, '--name', 'api'], { cwd: dir });
    await must(ann, ['push'], { cwd: dir });
    await must(ann, ['team', 'invite', 'carl@example.com', '--role', 'admin', '--team', TEAM]);
    await must(ann, ['team', 'invite', 'bob@example.com', '--team', TEAM]);
    for (const [m, email] of [[carl, 'carl@example.com'], [bob, 'bob@example.com']] as const) {
      await must(m, ['team', 'accept', mailedCode(server.dataDir, email, 'Invite code')]);
      await must(ann, ['team', 'confirm', email, '--team', TEAM, '--yes']);
    }
  }, 180_000);

  afterAll(async () => {
    await server?.cleanup();
  });

  describe('token revoke', () => {
    it("a plain member cannot revoke another member's token (exit 4, one line), by id or prefix; the token keeps working", async () => {
      const owners = await createToken(ann, 'ann-ci');
      const work = tempDir('isync-ci-');
      const cloned = await ci(owners.token, ['clone', 'api', 'w'], work);
      expect(cloned.code, cloned.stderr).toBe(0);

      for (const id of [owners.id, owners.id.slice(0, 8)]) {
        const refused = await bob.run(['token', 'revoke', id]);
        expect(refused.code, refused.stderr).toBe(4);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).not.toMatch(/Revoked/);
        expect(refused.stderr.split('\n')[0]).toMatch(/^error: only the member who created this token \(ann@example\.com\) or an owner or admin of Acme can revoke it$/);
      }
      const asJson = await bob.run(['token', 'revoke', owners.id, '--json']);
      expect(asJson.code).toBe(4);
      expect(json(asJson.stderr).error.code).toBe('forbidden');

      const pulled = await ci(owners.token, ['pull'], path.join(work, 'w'));
      expect(pulled.code, pulled.stderr).toBe(0);
      const listed = json((await must(ann, ['token', 'list', '--json'])).stdout).tokens.find((t: any) => t.id === owners.id);
      expect(listed.status).toBe('active');
    }, 90_000);

    it('a member sees the team\'s tokens and who made each, never a secret, and revokes their own', async () => {
      const owners = await createToken(ann, 'ann-listed');
      const own = await createToken(bob, 'bob-own');
      const list = await must(bob, ['token', 'list', '--json']);
      const byId = new Map(json(list.stdout).tokens.map((t: any) => [t.id, t]));
      expect(byId.get(owners.id)).toMatchObject({ name: 'ann-listed', createdBy: 'ann@example.com' });
      expect(byId.get(own.id)).toMatchObject({ name: 'bob-own', createdBy: 'bob@example.com' });
      const human = await must(bob, ['token', 'list']);
      expect(human.stdout).toMatch(/STATUS\s+CREATED BY/);
      expect(human.stdout).toMatch(/ann-listed .*active\s+ann@example\.com/);
      for (const out of [list.stdout, human.stdout]) {
        expect(out).not.toContain(owners.token);
        expect(out).not.toContain(own.token);
      }
      const revoked = await bob.run(['token', 'revoke', own.id]);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stdout).toMatch(/Revoked token/);
    }, 90_000);

    it("an owner or admin of the team revokes anyone's token", async () => {
      for (const revoker of [carl, ann]) {
        const members = await createToken(bob, 'bob-ci');
        const res = await revoker.run(['token', 'revoke', members.id, '--json']);
        expect(res.code, res.stderr).toBe(0);
        expect(json(res.stdout)).toMatchObject({ id: members.id, status: 'revoked', createdBy: 'bob@example.com' });
        const refused = await ci(members.token, ['clone', 'api', 'w'], tempDir('isync-ci-'));
        expect(refused.code).toBe(4);
      }
    }, 90_000);
  });

  describe('withdrawing an invitation with team remove', () => {
    it('team members lists a pending invitation; team remove withdraws it, and its code answers as an unknown one (exit 5)', async () => {
      await must(ann, ['team', 'invite', 'heidi@example.com', '--team', TEAM]);
      const code = mailedCode(server.dataDir, 'heidi@example.com', 'Invite code');
      const members = json((await must(ann, ['team', 'members', '--team', TEAM, '--json'])).stdout);
      expect(members.invitations.map((i: any) => i.email)).toEqual(['heidi@example.com']);
      expect((await must(ann, ['team', 'members', '--team', TEAM])).stdout).toMatch(/heidi@example\.com\s+member\s+invited, expires/);

      const res = await ann.run(['team', 'remove', 'heidi@example.com', '--team', TEAM, '--yes', '--json']);
      expect(res.code, res.stderr).toBe(0);
      expect(json(res.stdout)).toMatchObject({ team: TEAM, action: 'invitation_withdrawn', email: 'heidi@example.com', rotated: false, invitation: { email: 'heidi@example.com', role: 'member' } });
      expect(json((await must(ann, ['team', 'members', '--team', TEAM, '--json'])).stdout).invitations).toEqual([]);
      // no rotation: the team is still at epoch 1
      expect(json((await must(ann, ['team', 'members', '--team', TEAM, '--json'])).stdout).team.epoch).toBe(1);

      await signupMachine(heidi, 'heidi@example.com');
      const accept = await heidi.run(['team', 'accept', code]);
      expect(accept.code, accept.stderr).toBe(5);
      expect(accept.stderr.split('\n')[0]).toBe('error: no invitation has this code');
      expect(json((await must(heidi, ['team', 'list', '--json'])).stdout).teams.map((t: any) => t.name)).not.toContain(TEAM);
    }, 90_000);

    it('says so without --json; a second time there is nothing to withdraw (exit 5)', async () => {
      await must(ann, ['team', 'invite', 'heidi@example.com', '--team', TEAM]);
      const res = await carl.run(['team', 'remove', 'heidi@example.com', '--team', TEAM, '--yes']);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toMatch(/^✓ Withdrew the invitation to heidi@example\.com to join Acme \(member\)/);
      const again = await ann.run(['team', 'remove', 'heidi@example.com', '--team', TEAM, '--yes']);
      expect(again.code).toBe(5);
      expect(again.stderr.split('\n')[0]).toBe('error: heidi@example.com is not a member of Acme, nor invited to it');
    }, 60_000);

    it('a plain member cannot withdraw one (exit 4): the invitation stays', async () => {
      await must(ann, ['team', 'invite', 'heidi@example.com', '--team', TEAM]);
      const res = await bob.run(['team', 'remove', 'heidi@example.com', '--team', TEAM, '--yes']);
      expect(res.code, res.stderr).toBe(4);
      const members = json((await must(ann, ['team', 'members', '--team', TEAM, '--json'])).stdout);
      expect(members.invitations.map((i: any) => i.email)).toEqual(['heidi@example.com']);
      const accepted = await heidi.run(['team', 'accept', mailedCode(server.dataDir, 'heidi@example.com', 'Invite code')]);
      expect(accepted.code, accepted.stderr).toBe(0);
    }, 90_000);
  });

  describe('invite code outcomes', () => {
    it('an already used code is exit 5, like an unknown one; an expired one is exit 4, like an expired token', async () => {
      await Promise.all([signupMachine(dave, 'dave@example.com'), signupMachine(frank, 'frank@example.com')]);
      await must(ann, ['team', 'invite', 'dave@example.com', 'frank@example.com', '--team', TEAM]);
      const daveCode = mailedCode(server.dataDir, 'dave@example.com', 'Invite code');
      await must(dave, ['team', 'accept', daveCode]);
      for (const m of [dave, frank]) {
        const used = await m.run(['team', 'accept', daveCode, '--json']);
        expect(used.code, used.stderr).toBe(5);
        expect(json(used.stderr).error).toMatchObject({ code: 'not_found', message: 'this invite code was already used' });
      }

      const db = new Database(path.join(server.dataDir, 'sync.db'));
      try {
        db.pragma('busy_timeout = 5000');
        db.prepare("UPDATE team_invitations SET expires_at = 1 WHERE email = 'frank@example.com'").run();
      } finally {
        db.close();
      }
      const expired = await frank.run(['team', 'accept', mailedCode(server.dataDir, 'frank@example.com', 'Invite code')]);
      expect(expired.code, expired.stderr).toBe(4);
      expect(expired.stderr.split('\n')[0]).toBe('error: this invite code has expired; ask for a new invitation');
    }, 90_000);
  });
});
