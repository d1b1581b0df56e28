/**
 * `team delete` end to end with the real server and real CLI processes: an owner deletes a team
 * with two workspaces, a confirmed member, an admin, an access token and an open invitation; the
 * team, its workspaces and tokens are gone from the server (checked in the database too) and from
 * every member's view, the member's linked folder keeps its files and says the workspace is gone,
 * and workspaces of other teams holding the same files are untouched. Before that: admins and
 * members are refused (exit 4), a personal team is not deletable, no terminal without --yes is
 * exit 2, and a wrongly typed name on a terminal deletes nothing. `team leave` by the last member
 * points at `team delete`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, machine, signupMachine, tempDir, type CliResult, type Machine, type RunOptions } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { TmuxSession } from '../helpers/tty.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const TEAM = 'Eps';
/** the same bytes in the doomed team and in teams that stay */
const SHARED_FILE = '{"shared":"the same file in two teams"}';

describe('team delete end to end', () => {
  let server: StartedServer;
  let db: Database.Database;
  let ann: Machine;
  let bob: Machine;
  let carl: Machine;
  let teamId: string;
  let apiId: string;
  let docsId: string;
  let keptId: string;
  let bobsId: string;
  let bobDir: string;
  let token: string;
  const sessions: TmuxSession[] = [];

  async function must(m: Machine, args: string[], opts: RunOptions = {}): Promise<CliResult> {
    const res = await m.run(args, opts);
    if (res.code !== 0) throw new Error(`${args.join(' ')} → ${res.code}: ${res.stderr}`);
    return res;
  }

  /** a folder with the shared file and one of its own, made a workspace of `team` and pushed */
  async function pushed(m: Machine, name: string, team?: string): Promise<string> {
    const dir = tempDir(`isync-${name}-`);
    writeFileSync(path.join(dir, 'shared.json'), SHARED_FILE);
    writeFileSync(path.join(dir, `${name}.json`), `{"name":"${name}"}`);
    const id = json((await must(m, ['init', '--name', name, ...(team ? ['--team', team] : []), '--json'], { cwd: dir })).stdout).id as string;
    await must(m, ['push', '-m', name], { cwd: dir });
    return id;
  }

  const rows = (sql: string, ...args: unknown[]): number => Number(db.prepare(sql).pluck().get(...args));
  /** what the server holds of the team, read from its database */
  function held() {
    const inTeam = 'IN (SELECT id FROM workspaces WHERE team_id = ?)';
    return {
      teams: rows('SELECT count(*) FROM teams WHERE id = ?', teamId),
      workspaces: rows('SELECT count(*) FROM workspaces WHERE id IN (?, ?)', apiId, docsId),
      blobs: rows('SELECT count(*) FROM blobs WHERE workspace_id IN (?, ?)', apiId, docsId),
      snapshots: rows('SELECT count(*) FROM snapshots WHERE workspace_id IN (?, ?)', apiId, docsId),
      tokens: rows('SELECT count(*) FROM access_tokens WHERE workspace_id IN (?, ?)', apiId, docsId),
      members: rows('SELECT count(*) FROM team_members WHERE team_id = ?', teamId),
      teamKeys: rows('SELECT count(*) FROM team_keys WHERE team_id = ?', teamId),
      workspaceKeys: rows('SELECT count(*) FROM workspace_keys WHERE workspace_id IN (?, ?)', apiId, docsId),
      invitations: rows('SELECT count(*) FROM team_invitations WHERE team_id = ?', teamId),
      inTeam: rows(`SELECT count(*) FROM snapshot_blobs WHERE workspace_id ${inTeam}`, teamId),
    };
  }
  let before: ReturnType<typeof held>;

  beforeAll(async () => {
    server = await startServer();
    [ann, bob, carl] = [0, 1, 2].map(() => machine(server.url)) as [Machine, Machine, Machine];
    await Promise.all([signupMachine(ann, 'ann@example.com'), signupMachine(bob, 'bob@example.com'), signupMachine(carl, 'carl@example.com')]);
    await must(ann, ['account', 'verify', mailedCode(server.dataDir, 'ann@example.com', 'Verification code')]);
    teamId = json((await must(ann, ['team', 'create', TEAM, '--json'])).stdout).id;
    apiId = await pushed(ann, 'api', TEAM);
    docsId = await pushed(ann, 'docs', TEAM);
    // the same file in a workspace of another team of ann's, and in bob's personal one
    await must(ann, ['team', 'create', 'Kept']);
    keptId = await pushed(ann, 'kept', 'Kept');
    bobsId = await pushed(bob, 'bobs');
    await must(ann, ['team', 'invite', 'bob@example.com', 'dora@example.com', '--team', TEAM]);
    await must(ann, ['team', 'invite', 'carl@example.com', '--role', 'admin', '--team', TEAM]);
    for (const [m, email] of [[bob, 'bob@example.com'], [carl, 'carl@example.com']] as const) {
      await must(m, ['team', 'accept', mailedCode(server.dataDir, email, 'Invite code')]);
      await must(ann, ['team', 'confirm', email, '--team', TEAM, '--yes']);
    }
    bobDir = path.join(tempDir('isync-bob-'), 'api');
    await must(bob, ['clone', apiId, bobDir]);
    token = json((await must(bob, ['token', 'create', '--workspace', apiId, '--read-only', '--json'])).stdout).token;
    db = new Database(path.join(server.dataDir, 'sync.db'), { readonly: true });
    before = held();
    expect(before).toMatchObject({ teams: 1, workspaces: 2, tokens: 1, members: 3, invitations: 3 });
    expect(before.blobs).toBeGreaterThanOrEqual(4);
  }, 180_000);

  afterAll(async () => {
    for (const s of sessions) s.kill();
    db?.close();
    await server?.cleanup();
  });

  it('an admin and a member are refused (exit 4), and nothing is removed', async () => {
    for (const m of [carl, bob]) {
      const res = await m.run(['team', 'delete', '--team', TEAM, '--yes', '--json']);
      expect(res.code, res.stderr).toBe(4);
      expect(json(res.stderr).error.code).toBe('forbidden');
      expect(json(res.stderr).error.message).toMatch(/only an owner of Eps can delete it/);
    }
    expect(held()).toEqual(before);
  }, 60_000);

  it('a personal team is not deletable this way; an unknown team is not found', async () => {
    const personal = await ann.run(['team', 'delete', '--team', 'personal', '--yes']);
    expect(personal.code).toBe(2);
    expect(personal.stderr).toMatch(/personal team cannot be deleted on its own: it goes with your account/);
    expect(personal.stderr).toContain('account delete');
    expect((await ann.run(['team', 'delete', '--team', 'Nope', '--yes'])).code).toBe(5);
    expect((await ann.run(['workspace', 'list', '--json'])).code).toBe(0);
  }, 60_000);

  it('with no terminal and no --yes it asks nothing and deletes nothing (exit 2)', async () => {
    const res = await ann.run(['team', 'delete', '--team', TEAM]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/Type the team name \(Eps\) to confirm — no terminal to ask on/);
    expect(res.stderr).toContain('--yes');
    expect(held()).toEqual(before);
  }, 60_000);

  it('on a terminal it says what goes and asks for the name: a wrong one deletes nothing', async () => {
    const s = new TmuxSession(`${process.execPath} ${CLI} team delete --team ${TEAM}`, { NO_COLOR: '1', INSOMNIA_SYNC_CONFIG_DIR: ann.configDir, INSOMNIA_SYNC_SERVER: ann.server }, tempDir());
    sessions.push(s);
    const screen = (await s.waitFor(/Type the team name \(Eps\) to confirm/)).replace(/\n/g, '');
    expect(screen).toMatch(/2 workspaces with all their history and access tokens/);
    expect(screen).toMatch(/the access of 2 other members/);
    expect(screen).toMatch(/1 open invitation/);
    s.type('eps');
    s.enter();
    expect(await s.exitCode()).toBe(2);
    expect(s.screen()).toMatch(/the name did not match; nothing was deleted/);
    expect(held()).toEqual(before);
  }, 60_000);

  it('the owner deletes it: team, workspaces, tokens and keys are gone for everyone; other teams keep the same files', async () => {
    // the token works before
    const ciBefore = await machine(server.url, tempDir('isync-ci-config-')).run(['clone', apiId, path.join(tempDir('isync-ci-'), 'ws')], { env: { INSOMNIA_SYNC_TOKEN: token } });
    expect(ciBefore.code, ciBefore.stderr).toBe(0);

    const res = await ann.run(['team', 'delete', '--team', TEAM, '--yes', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const receipt = json(res.stdout);
    expect(receipt).toMatchObject({ team: TEAM, teamId, removed: { workspaces: 2, snapshots: 2, blobs: before.blobs, memberships: 3, accessTokens: 1, invitations: 3 } });
    expect(Date.parse(receipt.deletedAt)).not.toBeNaN();

    // nothing of it in the database
    expect(held()).toEqual({ teams: 0, workspaces: 0, blobs: 0, snapshots: 0, tokens: 0, members: 0, teamKeys: 0, workspaceKeys: 0, invitations: 0, inTeam: 0 });
    expect(rows("SELECT count(*) FROM teams WHERE name = 'Eps'")).toBe(0);

    // nor in anyone's view of the server
    for (const m of [ann, bob, carl]) {
      expect((await must(m, ['team', 'list', '--json'])).stdout).not.toContain(teamId);
      const shown = json((await must(m, ['account', 'show', '--json'])).stdout);
      expect(JSON.stringify(shown)).not.toContain(teamId);
      expect(JSON.stringify(shown)).not.toContain(apiId);
      const listed = json((await must(m, ['workspace', 'list', '--json'])).stdout).workspaces.map((w: any) => w.id);
      expect(listed).not.toContain(apiId);
      expect(listed).not.toContain(docsId);
      expect(json((await must(m, ['token', 'list', '--json'])).stdout).tokens).toEqual([]);
    }

    // the token is refused; a clone of a deleted workspace is not found
    const ci = await machine(server.url, tempDir('isync-ci-config-')).run(['clone', apiId, path.join(tempDir('isync-ci-'), 'ws')], { env: { INSOMNIA_SYNC_TOKEN: token } });
    expect(ci.code).toBe(4);
    const clone = await bob.run(['clone', apiId, path.join(tempDir('isync-bob-'), 'again')]);
    expect(clone.code).toBe(5);

    // bob's linked folder keeps its files; pulling says the workspace is gone
    expect(readFileSync(path.join(bobDir, 'shared.json'), 'utf8')).toBe(SHARED_FILE);
    const pull = await bob.run(['pull'], { cwd: bobDir });
    expect(pull.code).toBe(5);
    expect(pull.stderr).toContain(`workspace ${apiId.slice(0, 12)} is not on the server (or not visible to this account): it was deleted, alone or with its team`);
    expect(pull.stderr).toContain('files in a folder linked to it stay as they are');
    expect((await bob.run(['status'], { cwd: bobDir })).stderr).toContain('it was deleted, alone or with its team');
    expect(existsSync(path.join(bobDir, 'api.json'))).toBe(true);

    // workspaces of other teams with the same file are whole: they verify and clone byte for byte
    for (const [m, id] of [[ann, keptId], [bob, bobsId]] as const) {
      const verify = await m.run(['verify', '--workspace', id]);
      expect(verify.code, verify.stderr).toBe(0);
      const dir = path.join(tempDir('isync-again-'), 'ws');
      await must(m, ['clone', id, dir]);
      expect(readFileSync(path.join(dir, 'shared.json'), 'utf8')).toBe(SHARED_FILE);
    }

    // the deleted team's name can be used again
    expect((await ann.run(['team', 'create', TEAM])).code).toBe(0);
  }, 120_000);

  it('team leave by the last member points at team delete', async () => {
    const res = await ann.run(['team', 'leave', '--team', TEAM, '--yes']);
    expect(res.code).toBe(3);
    expect(res.stderr).toMatch(/you are the last member of Eps: delete the team instead \(`team delete --team TEAM`\)/);
  }, 60_000);
});
