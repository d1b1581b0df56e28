/**
 * Text from elsewhere never drives the terminal: snapshot messages and authors in `log`, names a
 * (hostile) server holds, and the spinner's colour, which follows NO_COLOR and --no-color.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, tempDir } from '../helpers/cli.js';
import { TmuxSession } from '../helpers/tty.js';

describe('text from elsewhere on a terminal', () => {
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
