/**
 * What teams commands say about standing, end to end: `--team` by id prefix, the sole-owner hint of
 * `account delete`, removing a member who never held a key (no rotation, tokens keep working), a
 * returning member confirmed with `--yes` against a checked record, and `token list` naming tokens
 * that can no longer work (a key rotation since, or a creator who left).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;
const TEAM = 'Crew';

function mailedCode(dataDir: string, to: string, kind: 'Verification code' | 'Invite code'): string {
  const dir = path.join(dataDir, 'outbox');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.eml')).sort().reverse()) {
    const text = readFileSync(path.join(dir, f), 'utf8');
    if (!text.includes(`To: ${to}\r\n`)) continue;
    const m = new RegExp(`^${kind}: (\\S+)\\r?$`, 'm').exec(text);
    if (m) return m[1]!;
  }
  throw new Error(`no ${kind} mailed to ${to}`);
}

describe('team standing, end to end', () => {
  let server: StartedServer;
  let ann: Machine;
  let bob: Machine;
  let carol: Machine;
  let dave: Machine;
  let teamId: string;
  let wsId: string;

  const must = async (m: Machine, args: string[], opts: { cwd?: string; input?: string; env?: Record<string, string> } = {}) => {
    const res = await m.run(args, opts);
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res;
  };
  const fingerprintOf = async (m: Machine): Promise<string> => json((await must(m, ['whoami', '--json'])).stdout).fingerprint;
  /** invited, accepted, and (unless `confirm` is false) confirmed with the fingerprint read out */
  const join = async (m: Machine, email: string, confirm: 'fingerprint' | 'yes' | false) => {
    await must(ann, ['team', 'invite', email, '--team', TEAM]);
    await must(m, ['team', 'accept', mailedCode(server.dataDir, email, 'Invite code')]);
    if (confirm === 'fingerprint') return must(ann, ['team', 'confirm', email, '--team', TEAM, '--fingerprint', await fingerprintOf(m)]);
    if (confirm === 'yes') return must(ann, ['team', 'confirm', email, '--team', TEAM, '--yes']);
    return undefined;
  };
  const tokens = async () => json((await must(ann, ['token', 'list', '--json'])).stdout).tokens as { id: string; status: string; staleBecause?: string }[];

  beforeAll(async () => {
    server = await startServer();
    [ann, bob, carol, dave] = [0, 1, 2, 3].map(() => machine(server.url)) as [Machine, Machine, Machine, Machine];
    await Promise.all([
      signupMachine(ann, 'ann@example.com'),
      signupMachine(bob, 'bob@example.com'),
      signupMachine(carol, 'carol@example.com'),
      signupMachine(dave, 'dave@example.com'),
    ]);
    await must(ann, ['account', 'verify', mailedCode(server.dataDir, 'ann@example.com', 'Verification code')]);
    teamId = json((await must(ann, ['team', 'create', TEAM, '--json'])).stdout).id;
    const dir = tempDir('isync-standing-');
    writeFileSync(path.join(dir, 'a.json'), '{"v":1}');
    wsId = json((await must(ann, ['init', '--team', TEAM, '--name', 'api', '--json'], { cwd: dir })).stdout).id;
    await must(ann, ['push', '-m', 'first'], { cwd: dir });
    await join(bob, 'bob@example.com', 'fingerprint');
  }, 120_000);

  afterAll(async () => {
    await server?.cleanup();
  });

  it('--team takes a unique prefix of the id `team list` shows; one that matches nothing exits 5', async () => {
    const listed = (await must(ann, ['team', 'list'])).stdout;
    const shown = teamId.slice(0, 12);
    expect(listed).toContain(`${shown}  ${TEAM}`);
    expect(json((await must(ann, ['team', 'members', '--team', shown, '--json'])).stdout).team.id).toBe(teamId);
    expect(json((await must(ann, ['team', 'members', '--team', teamId.slice(0, 4).toUpperCase(), '--json'])).stdout).team.id).toBe(teamId);
    const other = teamId.startsWith('ffff') ? '0000' : 'ffff';
    const none = await ann.run(['team', 'members', '--team', other]);
    expect(none.code).toBe(5);
    expect(none.stderr).toContain(`you are in no team ${other}`);
  }, 60_000);

  it('account delete as the only owner of a team with members names a way out that exists', async () => {
    const refused = await ann.run(['account', 'delete', '--yes', '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`you are the only owner of team ${TEAM}`);
    expect(refused.stderr).toContain('`team role EMAIL owner --team TEAM`');
    // SPEC §7's other way, "be deleted": by its owner, or with the account once no one else is in it
    expect(refused.stderr).toContain('delete it (`team delete --team TEAM`)');
    expect(refused.stderr).toContain('or empty it (`team remove`, `team leave`): then it goes with your account');
    expect((await ann.run(['whoami'])).code).toBe(0);
  }, 60_000);

  let early: string;
  const ci = (token: string) => machine(server.url, tempDir('isync-ci-config-')).run(['clone', wsId, path.join(tempDir('isync-ci-'), 'ws')], { env: { INSOMNIA_SYNC_TOKEN: token } });

  it('removing a member who was never confirmed rotates nothing: the team\'s tokens keep working', async () => {
    early = json((await must(ann, ['token', 'create', '--workspace', wsId, '--name', 'early', '--json'])).stdout).token;
    await join(carol, 'carol@example.com', false);
    const removed = await must(ann, ['team', 'remove', 'carol@example.com', '--team', TEAM, '--yes', '--json']);
    expect(json(removed.stdout)).toMatchObject({ removed: 'carol@example.com', rotated: false, epoch: 1 });
    const team = json((await must(ann, ['team', 'list', '--json'])).stdout).teams.find((t: { id: string }) => t.id === teamId);
    expect(team.epoch).toBe(1);
    expect((await carol.run(['team', 'members', '--team', teamId])).code).not.toBe(0);
    const cloned = await ci(early);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect((await tokens()).map((t) => t.status)).toEqual(['active']);
  }, 90_000);

  it('a member removed here is confirmed again only with a check (--yes warns and records unchecked); older tokens show stale (key rotated)', async () => {
    await join(dave, 'dave@example.com', 'fingerprint');
    const rotated = await must(ann, ['team', 'remove', 'dave@example.com', '--team', TEAM, '--yes', '--json']);
    expect(json(rotated.stdout)).toMatchObject({ rotated: true, epoch: 2 });
    // the token made before the rotation can no longer sync, and the list says so
    expect((await ci(early)).code).toBe(4);
    expect(await tokens()).toMatchObject([{ status: 'stale', staleBecause: 'key-rotated' }]);
    expect((await must(ann, ['token', 'list'])).stdout).toMatch(/stale \(key rotated\)/);

    // removal took back the checked mark: a server listing dave again is not waved through
    const record = (): { checked: boolean } | undefined => {
      const known = json(readFileSync(path.join(ann.configDir, 'known-keys.json'), 'utf8'));
      return Object.values(known.servers)
        .flatMap((s) => Object.values(s as Record<string, { email: string; checked: boolean }>))
        .find((r) => r.email === 'dave@example.com');
    };
    expect(record()).toMatchObject({ checked: false });
    const again = (await join(dave, 'dave@example.com', 'yes'))!;
    expect(again.stderr).toMatch(/without checking fingerprints/);
    expect(record()).toMatchObject({ checked: false });
  }, 120_000);

  it('a token whose creator left the team shows stale (creator left)', async () => {
    const made = json((await must(bob, ['token', 'create', '--workspace', wsId, '--name', 'bobs', '--json'])).stdout);
    expect((await tokens()).find((t) => t.id === made.id)).toMatchObject({ status: 'active' });
    await must(bob, ['team', 'leave', '--team', TEAM, '--yes']);
    expect((await ci(made.token)).code).toBe(4);
    expect((await tokens()).find((t) => t.id === made.id)).toMatchObject({ status: 'stale', staleBecause: 'creator-left' });
    expect((await must(ann, ['token', 'list'])).stdout).toMatch(/stale \(creator left\)/);
  }, 90_000);
});
