/**
 * Text from elsewhere never drives the terminal: snapshot messages and authors in `log`, names a
 * (hostile) server holds, and the spinner's colour, which follows NO_COLOR and --no-color.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { CLI, linkedFolder, linkedMachine, tempDir, type LinkedMachine } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { TmuxSession } from '../helpers/tty.js';

const json = <T = any>(s: string): T => JSON.parse(s) as T;

/** a raw control character (a newline aside), DEL, a C1 control or a bidirectional override */
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** A name a hostile server might hand out: clears the screen, retitles the window, forges a line. */
const EVIL = 'Acme\u001b[2J\u001b]0;owned\u0007\nfake line\u202e';
/** EVIL as shown(): quoted, every unsafe character escaped */
const EVIL_SHOWN = '"Acme\\u001b[2J\\u001b]0;owned\\u0007\\nfake line\\u202e"';

describe('text from elsewhere on a terminal', () => {
  let server: StartedServer;
  let owner: LinkedMachine;
  beforeAll(async () => {
    server = await startServer();
    owner = await linkedMachine(server.url, 'owner@example.com', { name: 'term-ws', prefix: 'isync-term-' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe('log', () => {
    it('a message with a newline cannot forge a second entry: it is shown quoted on its own line; times say UTC', async () => {
      const forged = 'ok\n0123456789ab 2026-12-06 14:09:00 bob <bob@example.com>  approved';
      writeFileSync(path.join(owner.dir, 'b.json'), '{"b":1}');
      const pushed = await owner.machine.run(['push', '-m', forged], { cwd: owner.dir });
      expect(pushed.code, pushed.stderr).toBe(0);
      const listed = json((await owner.machine.run(['log', '--json'], { cwd: owner.dir })).stdout).snapshots as any[];
      expect(listed[0].message).toBe(forged);
      const log = await owner.machine.run(['log'], { cwd: owner.dir });
      expect(log.code, log.stderr).toBe(0);
      const lines = log.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(listed.length);
      for (const line of lines) expect(line).toMatch(/^[0-9a-f]{12} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC owner <owner@example\.com>  /);
      expect(lines[0]).toContain(' UTC owner <owner@example.com>  "ok\\n0123456789ab 2026-12-06 14:09:00 bob <bob@example.com>  approved" (');
    });

    it('push -m with a carriage return, an escape or another control character is a usage error naming -m, before any work', async () => {
      const before = json((await owner.machine.run(['log', '--json'], { cwd: owner.dir })).stdout).snapshots.length;
      writeFileSync(path.join(owner.dir, 'c.json'), '{"c":1}');
      for (const bad of ['ok\r0123456789ab bob', 'a\u0001b', 'red \u001b[31mtext', 'del\u007f', 'c1\u009b', 'rtl\u202etxt.json']) {
        const res = await owner.machine.run(['push', '-m', bad], { cwd: owner.dir });
        expect(res.code, JSON.stringify(bad)).toBe(2);
        expect(res.stderr.split('\n')[0], JSON.stringify(bad)).toMatch(/^error: -m: /);
        expect(res.stderr).not.toMatch(RAW);
      }
      expect(json((await owner.machine.run(['log', '--json'], { cwd: owner.dir })).stdout).snapshots).toHaveLength(before);
      // before any work: outside a linked folder, it is still the message that is refused
      const outside = await owner.machine.run(['push', '-m', 'a\u0001b'], { cwd: tempDir('isync-term-none-') });
      expect(outside.code).toBe(2);
      expect(outside.stderr).toMatch(/^error: -m: /);
      // a tab and newlines are fine
      const ok = await owner.machine.run(['push', '-m', 'subject\n\n\tbody'], { cwd: owner.dir });
      expect(ok.code, ok.stderr).toBe(0);
    });
  });

  describe('names a hostile server holds', () => {
    let teamId: string;
    beforeAll(async () => {
      const m = owner.machine;
      expect((await m.run(['account', 'verify', mailedCode(server.dataDir, 'owner@example.com', 'Verification code')])).code).toBe(0);
      const team = await m.run(['team', 'create', 'Crew', '--json']);
      expect(team.code, team.stderr).toBe(0);
      teamId = json(team.stdout).id;
      await linkedFolder(m, 'crew-ws', { 'x.json': '{}' }, { initArgs: ['--team', teamId], prefix: 'isync-term-crew-' });
      expect((await m.run(['team', 'invite', 'bob@example.com', '--team', teamId])).code).toBe(0);
      expect((await m.run(['token', 'create', '--workspace', 'term-ws', '--name', 'ci', '--json'])).code).toBe(0);
      const db = new Database(path.join(server.dataDir, 'sync.db'));
      try {
        db.prepare('UPDATE teams SET name = ? WHERE id = ?').run(EVIL, teamId);
        db.prepare('UPDATE users SET name = ? WHERE email = ?').run(EVIL, 'owner@example.com');
        db.prepare('UPDATE access_tokens SET name = ?').run(EVIL);
        db.prepare('UPDATE team_invitations SET email = ? WHERE team_id = ?').run(`bob${EVIL}@example.com`, teamId);
      } finally {
        db.close();
      }
    });

    const commands = [['team', 'list'], ['whoami'], ['account', 'show'], ['team', 'members', '--team', 'TEAM'], ['workspace', 'list'], ['token', 'list']];
    for (const args of commands) {
      it(`${args.slice(0, 2).join(' ')} shows them quoted and escaped, never raw`, async () => {
        const res = await owner.machine.run(args.map((a) => (a === 'TEAM' ? teamId : a)));
        expect(res.code, res.stderr).toBe(0);
        expect(res.stdout).not.toMatch(RAW);
        expect(res.stdout).not.toMatch(/^fake line/m);
        expect(res.stdout).toContain(EVIL_SHOWN);
      });
    }

    it('--json keeps the stored text exactly', async () => {
      const teams = json((await owner.machine.run(['team', 'list', '--json'])).stdout).teams as any[];
      expect(teams.find((t) => t.id === teamId).name).toBe(EVIL);
      expect(json((await owner.machine.run(['whoami', '--json'])).stdout).name).toBe(EVIL);
    });

    it('an error or a question naming a team escapes it too', async () => {
      for (const args of [['team', 'confirm', 'nobody@example.com', '--team', teamId], ['team', 'leave', '--team', teamId]]) {
        const res = await owner.machine.run(args);
        expect(res.code, args.join(' ')).not.toBe(0);
        expect(res.stderr, args.join(' ')).not.toMatch(RAW);
        expect(res.stderr, args.join(' ')).not.toMatch(/^fake line/m);
        expect(res.stderr, args.join(' ')).toContain('Acme\\u001b[2J');
      }
    });

    it('account show says which names the server can read: team names, yours and tokens', async () => {
      const res = await owner.machine.run(['account', 'show']);
      expect(res.stdout).not.toContain('Names and file contents are stored encrypted');
      expect(res.stdout).toContain('Workspace names, file names and contents, and snapshot messages are stored encrypted: the server cannot read them.');
      expect(res.stdout).toContain('Your name and email, team names and access-token names are stored as they are.');
    });
  });

  describe('the spinner', () => {
    // a server that takes the connection and never answers: `login` shows its spinner until killed
    let silent: net.Server;
    const held: net.Socket[] = [];
    let url: string;
    const sessions: TmuxSession[] = [];
    beforeAll(async () => {
      silent = net.createServer((s) => void held.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const s of sessions) s.kill();
      for (const s of held) s.destroy();
      await new Promise((r) => silent.close(r));
    });

    const spinning = async (flags: string, env: Record<string, string>): Promise<string> => {
      const pw = path.join(tempDir('isync-term-pw-'), 'pw');
      writeFileSync(pw, 'correct horse battery staple\n');
      const s = new TmuxSession(
        `${process.execPath} ${CLI} ${flags} login --email spin@example.com --password-stdin < ${pw}`,
        { INSOMNIA_SYNC_CONFIG_DIR: tempDir('isync-config-'), INSOMNIA_SYNC_SERVER: url, TERM: 'xterm-256color', ...env },
        tempDir(),
      );
      sessions.push(s);
      await s.waitFor(/Contacting/);
      await new Promise((r) => setTimeout(r, 300));
      // ora clears the line and then draws the next frame: a capture between the two is blank
      let screen = s.screen({ escapes: true });
      for (const deadline = Date.now() + 10_000; !screen.includes('Contacting') && Date.now() < deadline; ) {
        await new Promise((r) => setTimeout(r, 20));
        screen = s.screen({ escapes: true });
      }
      s.kill();
      return screen;
    };

    it('is coloured on a terminal, and plain with NO_COLOR or --no-color', async () => {
      // the control: without either, the capture does show the spinner's cyan
      expect(await spinning('', {})).toContain('\u001b[36m');
      for (const [flags, env] of [['', { NO_COLOR: '1' }], ['--no-color', {}]] as const) {
        const screen = await spinning(flags, env);
        expect(screen, `${flags} ${JSON.stringify(env)}`).toContain('Contacting');
        expect(screen, `${flags} ${JSON.stringify(env)}`).not.toMatch(/\u001b\[[0-9;]*m/);
      }
    });
  });
});
