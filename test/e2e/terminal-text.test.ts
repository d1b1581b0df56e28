/**
 * Text from elsewhere never drives the terminal: snapshot messages and authors in `log`, names a
 * (hostile) server holds, and the spinner's colour, which follows NO_COLOR and --no-color.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { CLI, linkedMachine, tempDir, type LinkedMachine } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tty.js';

const json = <T = any>(s: string): T => JSON.parse(s) as T;

/** a raw control character (a newline aside), DEL, a C1 control or a bidirectional override */
// eslint-disable-next-line no-control-regex
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

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
      const screen = s.screen({ escapes: true });
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
