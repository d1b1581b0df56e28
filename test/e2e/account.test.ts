/**
 * Account lifecycle end to end (issue 5): the real server and real CLI processes as separate
 * machines; prompts typed through tmux; the encrypted export opened by the stock `age -d`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runServerCommand, startServer, type StartedServer } from '../helpers/server-process.js';
import { CLI, PASSWORD, loginMachine, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tty.js';

const EMAIL = 'lifecycle@example.com';
const MARKER = 'MARKER-acc0un7-export';
const NEW_PASSWORD = 'a brand new passphrase 42';
const RECOVERED_PASSWORD = 'recovered password 77';
const INTERIM_PASSWORD = 'an interim passphrase 13';

const json = <T = any>(s: string): T => JSON.parse(s) as T;

function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out[r] = readFileSync(path.join(root, r), 'utf8');
    }
  };
  walk('');
  return out;
}

const serverCli = runServerCommand;

function outboxSubjects(dataDir: string): string[] {
  const dir = path.join(dataDir, 'outbox');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => /^Subject: (.*)$/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1] ?? '');
}

describe('account lifecycle, end to end', () => {
  let server: StartedServer;
  let a: Machine;
  let b: Machine;
  let ws: string;
  const sessions: TmuxSession[] = [];
  /** the account's password as the tests so far left it (a test run alone with -t sees PASSWORD) */
  let currentPassword = PASSWORD;
  const files = {
    'collections/api.json': JSON.stringify({ token: MARKER }),
    'envs/prod.json': '{"url":"https://internal.example"}',
    'notes.txt': 'v2 notes\n',
  };

  const tty = (m: Machine, args: string, cwd = tempDir(), extra: Record<string, string> = {}): TmuxSession => {
    const s = new TmuxSession(`${process.execPath} ${CLI} ${args}`, { NO_COLOR: '1', INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: m.server, ...extra }, cwd);
    sessions.push(s);
    return s;
  };

  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    b = machine(server.url);
    await signupMachine(a, EMAIL);
    ws = tempDir('isync-ws-');
    for (const [rel, content] of Object.entries({ ...files, 'notes.txt': 'v1 notes\n' })) {
      mkdirSync(path.dirname(path.join(ws, rel)), { recursive: true });
      writeFileSync(path.join(ws, rel), content);
    }
    expect((await a.run(['init', '--name', 'Team API'], { cwd: ws })).code).toBe(0);
    expect((await a.run(['push', '-m', 'v1'], { cwd: ws })).code).toBe(0);
    writeFileSync(path.join(ws, 'notes.txt'), files['notes.txt']);
    expect((await a.run(['push', '-m', 'v2'], { cwd: ws })).code).toBe(0);
    await loginMachine(b, EMAIL);
  });

  afterAll(async () => {
    for (const s of sessions) s.kill();
    await server?.stop();
  });

  it('account show --json lists the service data: email, sessions with IP and client, usage, teams, workspaces with sizes', async () => {
    const res = await a.run(['account', 'show', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const data = json(res.stdout);
    expect(data.user.email).toBe(EMAIL);
    expect(data.user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(data.user).toHaveProperty('verifiedAt');
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions.filter((s: any) => s.current)).toHaveLength(1);
    expect(data.sessions[0].ip).toBe('127.0.0.1');
    expect(data.sessions[0].client).toMatch(/^insomnia-sync\//);
    expect(data.usage).toMatchObject({ workspaces: 1, snapshots: 2 });
    expect(data.usage.bytes).toBeGreaterThan(0);
    expect(data.workspaces[0].size).toBe(data.usage.bytes);
    expect(data.teams[0]).toMatchObject({ name: 'Personal', role: 'owner', personal: true });
    expect(Object.values(data.names)).toEqual(['Team API']);
    // nothing secret: no session token, no key material of this machine
    const session = json(readFileSync(path.join(a.configDir, 'sessions', 'default.json'), 'utf8'));
    for (const secret of [session.sessionToken, session.accountKey, session.x25519Secret, session.ed25519Secret]) expect(res.stdout).not.toContain(secret);
    const human = await a.run(['account', 'show']);
    expect(human.stdout).toContain('Team API');
    expect(human.stdout).toContain('(this machine)');
  });

  it('signup with a blank --name uses the local part of the email, as with an empty one', async () => {
    for (const [blank, email] of [['   ', 'blank-name@example.com'], ['', 'empty-name@example.com']] as const) {
      const m = machine(server.url);
      const res = await m.run(['signup', '--email', email, '--name', blank, '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
      expect(res.code, res.stderr).toBe(0);
      expect(json((await m.run(['account', 'show', '--json'])).stdout).user.name).toBe(email.split('@')[0]);
    }
  });

  it('export writes the head or an older snapshot to a folder and to a .tar.gz that plain tar reads', async () => {
    const dir = path.join(tempDir(), 'out');
    const res = await a.run(['export', '--out', dir, '--json'], { cwd: ws });
    expect(res.code, res.stderr).toBe(0);
    expect(readTree(dir)).toEqual(files);

    const log = json((await a.run(['log', '--json'], { cwd: ws })).stdout);
    const first = log.snapshots.at(-1).id as string;
    const old = path.join(tempDir(), 'old');
    expect((await b.run(['export', '--workspace', 'Team API', '--snapshot', first.slice(0, 8), '--out', old])).code).toBe(0);
    expect(readTree(old)['notes.txt']).toBe('v1 notes\n');

    const tgz = path.join(tempDir(), 'team.tar.gz');
    expect((await b.run(['export', '--workspace', 'Team API', '--out', tgz])).code).toBe(0);
    const unpacked = tempDir();
    execFileSync('tar', ['-xzf', tgz, '-C', unpacked]);
    const [top] = readdirSync(unpacked);
    expect(top).toMatch(/^Team API-[0-9a-f]{8}$/);
    expect(readTree(path.join(unpacked, top!))).toEqual(files);

    // never overwrites, and --encrypt needs a file name
    expect((await b.run(['export', '--workspace', 'Team API', '--out', tgz])).code).toBe(2);
    expect((await b.run(['export', '--workspace', 'Team API', '--out', dir, '--encrypt'])).code).toBe(2);
  });

  it('export --encrypt writes FILE.tar.gz.age that the stock `age -d` opens with the passphrase', async () => {
    const out = tempDir();
    const passphrase = 'export passphrase 9';
    const res = await a.run(['export', '--out', path.join(out, 'team.tar.gz'), '--encrypt', '--json'], {
      cwd: ws,
      env: { INSOMNIA_SYNC_EXPORT_PASSPHRASE: passphrase },
    });
    expect(res.code, res.stderr).toBe(0);
    const file = path.join(out, 'team.tar.gz.age');
    expect(json(res.stdout).out).toBe(file);
    expect(readFileSync(file).subarray(0, 21).toString()).toBe('age-encryption.org/v1');
    expect(readFileSync(file).includes(Buffer.from(MARKER))).toBe(false);

    const age = existsSync('/usr/bin/age') ? '/usr/bin/age' : 'age';
    const s = new TmuxSession(`${age} -d -o ${path.join(out, 'plain.tar.gz')} ${file}`, {}, out);
    sessions.push(s);
    await s.waitFor(/passphrase/i);
    s.type(passphrase);
    s.enter();
    expect(await s.exitCode()).toBe(0);
    const unpacked = tempDir();
    execFileSync('tar', ['-xzf', path.join(out, 'plain.tar.gz'), '-C', unpacked]);
    expect(readTree(path.join(unpacked, readdirSync(unpacked)[0]!))).toEqual(files);
  });

  it('export refuses a symlink at --out, dangling or not, with one clear line (exit 2), and leaves it', async () => {
    const out = tempDir();
    const dangling = path.join(out, 'gone.tar.gz');
    symlinkSync(path.join(out, 'nowhere.tar.gz'), dangling);
    const file = await a.run(['export', '--out', dangling], { cwd: ws });
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/gone\.tar\.gz is a symbolic link to a missing file or folder/);
    const dir = path.join(out, 'dir');
    symlinkSync(path.join(out, 'missing-folder'), dir);
    const folder = await a.run(['export', '--out', dir], { cwd: ws });
    expect(folder.code).toBe(2);
    expect(folder.stderr.split('\n')[0]).toBe(`error: ${dir} is a symbolic link to a missing file or folder`);
    expect(folder.stderr).not.toMatch(/ENOENT|mkdir/);
    expect(existsSync(path.join(out, 'nowhere.tar.gz')) || existsSync(path.join(out, 'missing-folder'))).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['dir', 'gone.tar.gz']);
  });

  it('export --encrypt: a name taken while the passphrase is typed is not replaced (exit 2)', async () => {
    const out = tempDir();
    const s = tty(a, `export --out ${path.join(out, 'race.tar.gz')} --encrypt`, ws);
    await s.waitFor(/Passphrase/);
    // after the "never overwrites" check: only the last step can still notice
    symlinkSync(path.join(out, 'elsewhere'), path.join(out, 'race.tar.gz.age'));
    for (let i = 0; i < 2; i++) {
      s.type('race passphrase 1');
      s.enter();
      if (i === 0) await s.waitFor(/Repeat/);
    }
    expect(await s.exitCode()).toBe(2);
    expect(s.screen()).toMatch(/race\.tar\.gz\.age appeared while exporting/);
    expect(lstatSync(path.join(out, 'race.tar.gz.age')).isSymbolicLink()).toBe(true);
    expect(readdirSync(out)).toEqual(['race.tar.gz.age']);
  });

  it('account export refuses a file name that does not say .tar.gz (exit 2), writing nothing', async () => {
    const dir = tempDir();
    for (const name of ['me.json', 'me.zip', 'me']) {
      const res = await a.run(['account', 'export', '--out', path.join(dir, name)]);
      expect(res.code, name).toBe(2);
      expect(res.stderr).toMatch(/does not end in \.tar\.gz/);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('account export --out FILE holds the service data and every workspace, decrypted', async () => {
    const file = path.join(tempDir(), 'me.tar.gz');
    const res = await a.run(['account', 'export', '--out', file, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const unpacked = tempDir();
    execFileSync('tar', ['-xzf', file, '-C', unpacked]);
    const root = path.join(unpacked, readdirSync(unpacked)[0]!);
    const doc = json(readFileSync(path.join(root, 'account.json'), 'utf8'));
    expect(doc.serviceData.user.email).toBe(EMAIL);
    expect(doc.serviceData.sessions.length).toBeGreaterThanOrEqual(2);
    expect(doc.workspaces).toHaveLength(1);
    // the fingerprint account show prints, to compare with what teammates see
    expect(doc.fingerprint).toBe(json((await a.run(['account', 'show', '--json'])).stdout).fingerprint);
    expect(doc.fingerprint).toMatch(/^\d{5}( \d{5})+$/);
    expect(readTree(path.join(root, doc.workspaces[0].folder))).toEqual(files);
  });

  it('account export leaves out a workspace that fails its check, exports the rest, says which and why, and exits 7', async () => {
    const m = machine(server.url);
    await signupMachine(m, 'partial-export@example.com');
    const made: Record<string, string> = {};
    for (const name of ['good', 'bad blob', 'bad snapshot']) {
      const dir = tempDir('isync-partial-');
      writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ name }));
      // the biggest blob, and the last file in path order: a.json checks out before b.json fails
      writeFileSync(path.join(dir, 'b.json'), JSON.stringify({ other: name, pad: 'x'.repeat(4000) }));
      const init = await m.run(['init', '--name', name, '--json'], { cwd: dir });
      expect(init.code, init.stderr).toBe(0);
      made[name] = json(init.stdout).id;
      expect((await m.run(['push', '-m', 'first'], { cwd: dir })).code).toBe(0);
    }
    // a hostile server: one byte flipped in one blob of one workspace, and in the snapshot of another
    const flip = (data: Buffer): Buffer => {
      const copy = Buffer.from(data);
      copy[copy.length >> 1] = copy[copy.length >> 1]! ^ 0x01;
      return copy;
    };
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    const blob = db.prepare('SELECT rowid AS r, data FROM blobs WHERE workspace_id = ? ORDER BY size DESC LIMIT 1').get(made['bad blob']) as { r: number; data: Buffer };
    const snap = db.prepare('SELECT rowid AS r, data FROM snapshots WHERE workspace_id = ?').get(made['bad snapshot']) as { r: number; data: Buffer };
    db.prepare('UPDATE blobs SET data = ? WHERE rowid = ?').run(flip(blob.data), blob.r);
    db.prepare('UPDATE snapshots SET data = ? WHERE rowid = ?').run(flip(snap.data), snap.r);
    db.close();
    try {
      const dir = tempDir();
      const human = await m.run(['account', 'export', '--out', path.join(dir, 'human.tar.gz')]);
      expect(human.code, human.stderr).toBe(7);
      expect(human.stderr).toMatch(/warning: workspace bad blob \([0-9a-f]{12}\) not exported: .+/);
      expect(human.stderr).toMatch(/warning: workspace bad snapshot \([0-9a-f]{12}\) not exported: .+/);
      expect(human.stderr).toMatch(/error: 2 workspace\(s\) left out of the export \(.*\); everything else is in .*human\.tar\.gz/);
      expect(human.stdout).toMatch(/Exported your service data and 1 workspace\(s\)/);

      const file = path.join(dir, 'me.tar.gz');
      const res = await m.run(['account', 'export', '--out', file, '--json']);
      expect(res.code, res.stderr).toBe(7);
      // stdout is the result, stderr the one JSON error: a script sees both
      expect(json(res.stderr).error.code).toBe('integrity');
      const result = json(res.stdout);
      const unpacked = tempDir();
      execFileSync('tar', ['-xzf', file, '-C', unpacked]);
      const root = path.join(unpacked, readdirSync(unpacked)[0]!);
      const doc = json(readFileSync(path.join(root, 'account.json'), 'utf8'));
      expect(doc.workspaces).toEqual(result.workspaces);
      const byId = new Map(doc.workspaces.map((w: any) => [w.id, w]));
      expect(byId.get(made['bad blob'])).toMatchObject({ name: 'bad blob', folder: null, files: 0, skippedCode: 'integrity', skipped: expect.any(String) });
      expect(byId.get(made['bad snapshot'])).toMatchObject({ name: 'bad snapshot', folder: null, skippedCode: 'integrity', skipped: expect.any(String) });
      const good = byId.get(made['good']) as any;
      expect(good.skipped).toBeUndefined();
      // nothing of a skipped workspace is in the archive, not even the files that checked out before the bad one
      expect(readdirSync(path.join(root, 'workspaces'))).toEqual([good.folder.split('/')[1]]);
      expect(readTree(path.join(root, good.folder))).toEqual({ 'a.json': '{"name":"good"}', 'b.json': JSON.stringify({ other: 'good', pad: 'x'.repeat(4000) }) });
    } finally {
      const undo = new Database(path.join(server.dataDir, 'sync.db'));
      undo.prepare('UPDATE blobs SET data = ? WHERE rowid = ?').run(blob.data, blob.r);
      undo.prepare('UPDATE snapshots SET data = ? WHERE rowid = ?').run(snap.data, snap.r);
      undo.close();
    }
    const whole = await m.run(['account', 'export', '--out', path.join(tempDir(), 'again.tar.gz'), '--json']);
    expect(whole.code, whole.stderr).toBe(0);
    expect(json(whole.stdout).workspaces.filter((w: any) => w.skipped)).toEqual([]);
  });

  it('account sessions lists both machines; --revoke ends the other one (its next command exits 4)', async () => {
    const c = machine(server.url);
    await loginMachine(c, EMAIL);
    const list = json((await a.run(['account', 'sessions', '--json'])).stdout).sessions as any[];
    expect(list).toHaveLength(3);
    const cId = json(readFileSync(path.join(c.configDir, 'sessions', 'default.json'), 'utf8')).sessionId as string;
    const current = list.find((s) => s.current);
    expect((await a.run(['account', 'sessions', '--revoke', current.id])).code).toBe(2);
    // shorter than the documented 6 characters, or not an id at all: usage (2), like token ids
    for (const bad of [cId.slice(0, 3), 'not-an-id']) {
      const res = await a.run(['account', 'sessions', '--revoke', bad]);
      expect(res.code, bad).toBe(2);
      expect(res.stderr).toMatch(/at least its first 6 characters/);
    }
    expect((await a.run(['account', 'sessions', '--revoke', 'abcdef12'])).code).toBe(5);
    const revoke = await a.run(['account', 'sessions', '--revoke', cId.slice(0, 10)]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await c.run(['whoami'])).code).toBe(4);
    expect(json((await a.run(['account', 'sessions', '--json'])).stdout).sessions).toHaveLength(2);
    // logging out there warns of nothing: the session had already ended, the server has nothing to be told
    const out = await c.run(['logout']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toBe('');
    expect(out.stdout).toMatch(/had already ended/);
    expect(existsSync(path.join(c.configDir, 'sessions', 'default.json'))).toBe(false);

    // the ended session is still stored (until gc) with its IP and client: account show and export list it
    const shown = json((await a.run(['account', 'show', '--json'])).stdout);
    expect(shown.sessions.map((s: any) => s.id)).not.toContain(cId);
    expect(shown.endedSessions.find((s: any) => s.id === cId)).toMatchObject({ ip: '127.0.0.1', client: expect.stringMatching(/^insomnia-sync\//), revokedAt: expect.any(String) });
    expect(shown.invitations).toEqual([]);
    expect((await a.run(['account', 'show'])).stdout).toMatch(new RegExp(`Ended sessions[^\\n]*\\(1\\)\\n  ${cId.slice(0, 12)}  127\\.0\\.0\\.1  insomnia-sync/.* revoked `));
    // times for people as the other listings give them (token list, team members, log): to the minute, in UTC
    const minute = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d UTC`;
    const humanShow = (await a.run(['account', 'show'])).stdout;
    const humanSessions = (await a.run(['account', 'sessions'])).stdout;
    for (const text of [humanShow, humanSessions]) expect(text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    expect(humanShow).toMatch(new RegExp(`\\n  created      ${minute}\\n`));
    expect(humanShow).toMatch(new RegExp(`  ${cId.slice(0, 12)}  .* created ${minute}, revoked ${minute}\\n`));
    expect(humanShow).toMatch(new RegExp(`last seen ${minute}`));
    expect(humanSessions.trimEnd().split('\n')).toHaveLength(2);
    for (const line of humanSessions.trimEnd().split('\n')) expect(line).toMatch(new RegExp(`created ${minute}, last seen ${minute}`));
    const file = path.join(tempDir(), 'me.tar.gz');
    expect((await a.run(['account', 'export', '--out', file])).code).toBe(0);
    const unpacked = tempDir();
    execFileSync('tar', ['-xzf', file, '-C', unpacked]);
    const doc = json(readFileSync(path.join(unpacked, readdirSync(unpacked)[0]!, 'account.json'), 'utf8'));
    expect(doc.serviceData.endedSessions.map((s: any) => s.id)).toContain(cId);

    // a server that cannot be reached at logout still gets the warning
    const d = machine(server.url);
    await loginMachine(d, EMAIL);
    const dFile = path.join(d.configDir, 'sessions', 'default.json');
    const dSession = json(readFileSync(dFile, 'utf8'));
    writeFileSync(dFile, JSON.stringify({ ...dSession, server: 'http://127.0.0.1:9' }), { mode: 0o600 });
    const away = await d.run(['logout']);
    expect(away.code, away.stderr).toBe(0);
    expect(away.stderr).toMatch(/could not be told/);
    expect((await a.run(['account', 'sessions', '--revoke', dSession.sessionId])).code).toBe(0);
  });

  it('a session label stored with control characters (before the server refused them) is shown escaped, never obeyed', async () => {
    const c = machine(server.url);
    await loginMachine(c, EMAIL);
    const cId = json(readFileSync(path.join(c.configDir, 'sessions', 'default.json'), 'utf8')).sessionId as string;
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    try {
      db.prepare('UPDATE sessions SET client = ? WHERE id = ?').run('evil\u001b[2J\u001b]0;owned\u0007\nfake line\u202e', cId);
    } finally {
      db.close();
    }
    for (const args of [['account', 'sessions'], ['account', 'show']]) {
      const res = await a.run(args);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
      // quoted and escaped by shown(), as every name from the server is
      expect(res.stdout).toContain('"evil\\u001b[2J\\u001b]0;owned\\u0007\\nfake line\\u202e"');
    }
    // --json carries the stored text as it is: JSON escapes it
    const listed = json((await a.run(['account', 'sessions', '--json'])).stdout).sessions as any[];
    expect(listed.find((s) => s.id === cId).client).toBe('evil\u001b[2J\u001b]0;owned\u0007\nfake line\u202e');
    expect((await a.run(['account', 'sessions', '--revoke', cId])).code).toBe(0);
  });

  it('account password on a terminal: re-wraps only, kills the other machine, mails a notice', async () => {
    const wrong = await a.run(['account', 'password', '--password-stdin'], { input: `not the password\n${NEW_PASSWORD}\n` });
    expect(wrong.code).toBe(4);
    expect((await b.run(['whoami'])).code).toBe(0);

    const sizeBefore = json((await a.run(['account', 'show', '--json'])).stdout).usage;
    const s = tty(a, 'account password');
    await s.waitFor(/Current password/);
    s.type(PASSWORD);
    s.enter();
    await s.waitFor(/New password/);
    s.type(NEW_PASSWORD);
    s.enter();
    await s.waitFor(/Repeat the password/);
    s.type(NEW_PASSWORD);
    s.enter();
    expect(await s.exitCode(60_000)).toBe(0);
    expect(s.screen()).toMatch(/1 other session\(s\) signed out/);
    expect(s.screen()).not.toContain(NEW_PASSWORD);

    expect((await b.run(['pull'], { cwd: ws })).code).toBe(4);
    expect((await b.run(['whoami'])).code).toBe(4);
    expect((await a.run(['whoami'])).code).toBe(0);
    const old = await machine(server.url).run(['login', '--email', EMAIL, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(old.code).toBe(4);
    await loginMachine(b, EMAIL, NEW_PASSWORD);
    currentPassword = NEW_PASSWORD;
    // no data was re-encrypted: the same ciphertext, and it still decrypts
    expect(json((await a.run(['account', 'show', '--json'])).stdout).usage).toEqual(sizeBefore);
    const again = path.join(tempDir(), 'again');
    expect((await b.run(['export', '--workspace', 'Team API', '--out', again])).code).toBe(0);
    expect(readTree(again)).toEqual(files);
    expect(outboxSubjects(server.dataDir)).toContain('insomnia-sync: your password was changed');
  });

  /** a write token an intruder who knew the old password made: a password change lists it, a recovery revokes it */
  let intruderToken: { token: string; id: string };
  const withToken = (token: string, args: string[]) => machine(server.url, tempDir('isync-ci-config-')).run(args, { env: { INSOMNIA_SYNC_TOKEN: token } });

  it('account password revokes the recovery key: one made by an intruder who knew the old password no longer recovers', async () => {
    const made = await a.run(['account', 'recovery-key', '--password-stdin', '--json'], { input: `${NEW_PASSWORD}\n` });
    expect(made.code, made.stderr).toBe(0);
    const key = json(made.stdout).recoveryKey as string;
    const minted = await a.run(['token', 'create', '--workspace', 'Team API', '--name', 'intruder-ci', '--json']);
    expect(minted.code, minted.stderr).toBe(0);
    intruderToken = json(minted.stdout);

    const changed = await a.run(['account', 'password', '--password-stdin'], { input: `${NEW_PASSWORD}\n${INTERIM_PASSWORD}\n` });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/recovery key was revoked.*account recovery-key/);
    // access tokens outlive a password change (CI keeps working), so the live ones are listed to revoke
    expect(changed.stdout).toMatch(/1 access token\(s\) you created still work: a password change does not revoke them/);
    expect(changed.stdout).toContain(`${intruderToken.id.slice(0, 12)}  intruder-ci  read-write`);
    expect(changed.stdout).toContain('`insomnia-sync token revoke ID`');
    expect(json((await a.run(['account', 'show', '--json'])).stdout).recoveryKey).toEqual({ set: false, createdAt: null });
    const mails = readdirSync(path.join(server.dataDir, 'outbox')).filter((f) => f.endsWith('.eml')).sort();
    const notice = readFileSync(path.join(server.dataDir, 'outbox', mails.at(-1)!), 'utf8');
    expect(notice).toMatch(/recovery key was revoked/);
    expect(notice).toMatch(/Access tokens you created that still work: 1\. A password change does not revoke them/);
    expect(notice).not.toContain(intruderToken.token.slice(6, 30));
    expect((await withToken(intruderToken.token, ['clone', 'Team API', path.join(tempDir(), 'ci')])).code).toBe(0);

    const intruder = machine(server.url);
    const rec = await intruder.run(['account', 'recover', '--email', EMAIL, '--password-stdin'], { input: `${key}\n${RECOVERED_PASSWORD}\n` });
    expect(rec.code).toBe(4);
    expect((await a.run(['whoami'])).code).toBe(0);

    // back to the password the next steps use; no recovery key now, so nothing is revoked
    const back = await a.run(['account', 'password', '--password-stdin', '--json'], { input: `${INTERIM_PASSWORD}\n${NEW_PASSWORD}\n` });
    expect(back.code, back.stderr).toBe(0);
    expect(json(back.stdout)).toMatchObject({ changed: true, recoveryKeyRevoked: false, liveTokens: [{ id: intruderToken.id, name: 'intruder-ci', scope: 'write' }] });
  });

  it('recovery key: shown once, then `account recover` sets a new password with no data lost and the old one stops working', async () => {
    // --quiet would replace the key on the server and print the new one nowhere: refused first
    const quiet = await a.run(['account', 'recovery-key', '--quiet', '--password-stdin'], { input: `${NEW_PASSWORD}\n` });
    expect(quiet.code).toBe(2);
    expect(quiet.stderr).toMatch(/--quiet would hide the recovery key/);
    expect(json((await a.run(['account', 'show', '--json'])).stdout).recoveryKey.set).toBe(false);

    const made = await a.run(['account', 'recovery-key', '--password-stdin', '--json'], { input: `${NEW_PASSWORD}\n` });
    expect(made.code, made.stderr).toBe(0);
    const key = json(made.stdout).recoveryKey as string;
    expect(key).toMatch(/^([A-Z2-7]{4}-){12}[A-Z2-7]{4}$/);
    expect(json((await a.run(['account', 'show', '--json'])).stdout).recoveryKey.set).toBe(true);

    const c = machine(server.url);
    const typo = await c.run(['account', 'recover', '--email', EMAIL, '--password-stdin'], { input: `${key.slice(0, -5)}\n${RECOVERED_PASSWORD}\n` });
    expect(typo.code).toBe(2);
    const other = key.replace(/^.{4}/, key.startsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await c.run(['account', 'recover', '--email', EMAIL, '--password-stdin'], { input: `${other}\n${RECOVERED_PASSWORD}\n` })).code).toBe(4);

    expect((await withToken(intruderToken.token, ['clone', 'Team API', path.join(tempDir(), 'ci')])).code).toBe(0);
    const rec = await c.run(['account', 'recover', '--email', EMAIL, '--password-stdin'], { input: `${key.toLowerCase()}\n${RECOVERED_PASSWORD}\n` });
    expect(rec.code, rec.stderr).toBe(0);
    // whoever had the account may have made or seen its tokens: the recovery revoked them
    expect(rec.stdout).toMatch(/1 access token\(s\) you created were revoked/);
    const refused = await withToken(intruderToken.token, ['clone', 'Team API', path.join(tempDir(), 'ci')]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/unknown, revoked or expired/);
    const out = path.join(tempDir(), 'rec');
    expect((await c.run(['export', '--workspace', 'Team API', '--out', out])).code).toBe(0);
    expect(readTree(out)).toEqual(files);
    expect((await a.run(['whoami'])).code).toBe(4);
    expect((await machine(server.url).run(['login', '--email', EMAIL, '--password-stdin'], { input: `${NEW_PASSWORD}\n` })).code).toBe(4);
    // the key is spent: it cannot recover the account a second time
    expect(rec.stdout).toMatch(/recovery key is spent/);
    expect(json((await c.run(['account', 'show', '--json'])).stdout).recoveryKey.set).toBe(false);
    const again = await machine(server.url).run(['account', 'recover', '--email', EMAIL, '--password-stdin'], { input: `${key}\n${NEW_PASSWORD}\n` });
    expect(again.code).toBe(4);
    await loginMachine(a, EMAIL, RECOVERED_PASSWORD);
    await loginMachine(b, EMAIL, RECOVERED_PASSWORD);
    currentPassword = RECOVERED_PASSWORD;
    expect(outboxSubjects(server.dataDir)).toContain('insomnia-sync: your account was recovered with your recovery key');
    const outbox = path.join(server.dataDir, 'outbox');
    const recovered = readdirSync(outbox)
      .map((f) => readFileSync(path.join(outbox, f), 'utf8'))
      .find((text) => text.includes('Subject: insomnia-sync: your account was recovered'));
    expect(recovered).toMatch(/Access tokens you created that were revoked: 1 \(create new ones with `insomnia-sync token create`\)/);
  });

  it('operator commands: backup while running, admin export-user (ciphertext and service data only), migrate', async () => {
    const out = path.join(tempDir(), 'backup.db');
    const backup = serverCli(['backup', '--data-dir', server.dataDir, '--out', out]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(readFileSync(out).subarray(0, 15).toString()).toBe('SQLite format 3');
    expect(readFileSync(out).includes(Buffer.from(EMAIL))).toBe(true);
    expect(serverCli(['backup', '--data-dir', server.dataDir, '--out', out]).code).toBe(1);

    // This test makes its own revoked token and ended session, so it passes alone (-t) too.
    const revoked = await a.run(['token', 'create', '--workspace', 'Team API', '--name', 'ci-revoked', '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await a.run(['token', 'revoke', json(revoked.stdout).id as string])).code).toBe(0);
    const ended = machine(server.url);
    await loginMachine(ended, EMAIL, currentPassword);
    expect((await ended.run(['logout'])).code).toBe(0);
    const token = await a.run(['token', 'create', '--workspace', 'Team API', '--name', 'ci-export', '--json']);
    expect(token.code, token.stderr).toBe(0);
    const secret = json(token.stdout).token as string;
    const exp = serverCli(['admin', 'export-user', EMAIL, '--data-dir', server.dataDir]);
    expect(exp.code, exp.stderr).toBe(0);
    const doc = json(exp.stdout);
    // every piece of service data: access tokens (never their secret) and ended sessions too
    // a revoked token is still service data; its secret never is
    expect(doc.accessTokens).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'ci-revoked', revokedAt: expect.any(String) }),
      expect.objectContaining({ name: 'ci-export', createdAt: expect.any(String), lastUsedAt: null, revokedAt: null }),
    ]));
    expect(doc.accessTokens.filter((t: { revokedAt: string | null }) => t.revokedAt === null).map((t: { name: string }) => t.name)).toEqual(['ci-export']);
    expect(doc.endedSessions.length).toBeGreaterThan(0);
    expect(doc.endedSessions[0]).toMatchObject({ ip: '127.0.0.1', client: expect.any(String) });
    expect(doc).toHaveProperty('invitations', []);
    expect(exp.stdout).not.toContain(secret.slice(-20));
    expect(doc.user.email).toBe(EMAIL);
    expect(doc.workspaces).toHaveLength(1);
    expect(doc.workspaces[0].snapshots).toHaveLength(2);
    expect(doc.workspaces[0].blobs.length).toBeGreaterThan(0);
    expect(doc.sessions.length).toBeGreaterThan(0);
    expect(exp.stdout).not.toContain(MARKER);
    expect(exp.stdout).not.toContain('Team API');
    expect(exp.stdout).not.toMatch(/authKeyHash|auth_key_hash|secretHash|secret_hash|tokenHash|token_hash|sessionToken/i);
    expect(serverCli(['admin', 'export-user', 'nobody@example.com', '--data-dir', server.dataDir]).code).toBe(1);
    expect(serverCli(['migrate', '--data-dir', server.dataDir]).stdout).toMatch(/up to date/);
  });

  it('account delete: refuses without proof, then deletes everything in one go; the email appears nowhere in the database', async () => {
    // no terminal and no --yes: nothing changes (exit 2)
    expect((await a.run(['account', 'delete', '--password-stdin'], { input: `${RECOVERED_PASSWORD}\n` })).code).toBe(2);
    // a wrong password deletes nothing
    expect((await a.run(['account', 'delete', '--yes', '--password-stdin'], { input: 'wrong password here\n' })).code).toBe(4);
    expect((await a.run(['whoami'])).code).toBe(0);
    expect(json((await b.run(['workspace', 'list', '--json'])).stdout).workspaces).toHaveLength(1);

    const s = tty(a, 'account delete --json');
    await s.waitFor(/Type your email/);
    s.type(EMAIL);
    s.enter();
    await s.waitFor(/Password/);
    s.type(RECOVERED_PASSWORD);
    s.enter();
    expect(await s.exitCode(60_000)).toBe(0);
    const screen = s.screen().replace(/\n/g, '');
    expect(screen).toMatch(/"workspaces": 1/);
    expect(screen).toMatch(/"backups":/);

    expect(existsSync(path.join(a.configDir, 'sessions', 'default.json'))).toBe(false);
    expect((await a.run(['whoami'])).code).toBe(4);
    expect((await b.run(['whoami'])).code).toBe(4);
    expect((await b.run(['pull'], { cwd: ws })).code).toBe(4);
    expect((await machine(server.url).run(['login', '--email', EMAIL, '--password-stdin'], { input: `${RECOVERED_PASSWORD}\n` })).code).toBe(4);
    expect(outboxSubjects(server.dataDir)).toContain('insomnia-sync: your account was deleted');
    // the outbox keeps no other mail to the address (activation, notices with IPs and clients):
    // only the receipt, which says it is done; mail to other accounts stays
    const outbox = path.join(server.dataDir, 'outbox');
    const to = (who: string) =>
      readdirSync(outbox)
        .filter((f) => f.endsWith('.eml'))
        .map((f) => readFileSync(path.join(outbox, f), 'utf8'))
        .filter((t) => t.includes(`\r\nTo: ${who}\r\n`));
    expect(to(EMAIL).map((t) => /^Subject: (.*)$/m.exec(t)?.[1])).toEqual(['insomnia-sync: your account was deleted']);
    expect(to('partial-export@example.com').length).toBeGreaterThan(0);

    for (const f of readdirSync(server.dataDir).filter((n) => n.startsWith('sync.db'))) {
      expect(readFileSync(path.join(server.dataDir, f)).includes(Buffer.from(EMAIL)), f).toBe(false);
    }

    // the same email signs up again as a new, empty account
    const fresh = machine(server.url);
    await signupMachine(fresh, EMAIL, 'a third password 3');
    expect(json((await fresh.run(['workspace', 'list', '--json'])).stdout).workspaces).toEqual([]);
    expect(json((await fresh.run(['account', 'show', '--json'])).stdout).usage).toEqual({ workspaces: 0, snapshots: 0, blobs: 0, bytes: 0 });
  });
});
