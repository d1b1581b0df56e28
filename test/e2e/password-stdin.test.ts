/**
 * --password-stdin reads lines, not the whole of standard input (SPEC §4: "the first line"):
 * a pipe left open after the password does not hold the command up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { CLI, PASSWORD, ROOT, machine, signupMachine, type CliResult, type Machine } from '../helpers/cli.js';

/**
 * Writes `input` to the CLI's stdin (a list: one piece a second) and leaves the pipe open until
 * the process exits (or `holdMs`).
 */
function runWithOpenStdin(m: Machine, args: string[], input: string | string[], holdMs = 30_000): Promise<CliResult & { ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: 'true', INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: m.server };
    delete env.INSOMNIA_SYNC_PASSWORD;
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => {});
    const pieces = typeof input === 'string' ? [input] : input;
    pieces.forEach((piece, i) => setTimeout(() => child.stdin.write(piece), i * 1000));
    const timer = setTimeout(() => child.stdin.end(), holdMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('--password-stdin', () => {
  let server: StartedServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('login goes on after the first line, with the pipe still open', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'open-pipe@example.com');
    const b = machine(server.url);
    const res = await runWithOpenStdin(b, ['login', '--email', 'open-pipe@example.com', '--password-stdin'], `${PASSWORD}\n`);
    expect(res.code, res.stderr).toBe(0);
    expect(res.ms).toBeLessThan(20_000);
    expect((await b.run(['whoami'])).code).toBe(0);
  });

  it('account password reads two lines and goes on with the pipe still open', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'open-pipe-2@example.com');
    const res = await runWithOpenStdin(a, ['account', 'password', '--password-stdin'], `${PASSWORD}\nthe next password 5\n`);
    expect(res.code, res.stderr).toBe(0);
    expect(res.ms).toBeLessThan(20_000);
    const login = await machine(server.url).run(['login', '--email', 'open-pipe-2@example.com', '--password-stdin'], { input: 'the next password 5\n' });
    expect(login.code, login.stderr).toBe(0);
  });

  it('lines that arrive one at a time are each waited for', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'slow-lines@example.com');
    const res = await runWithOpenStdin(a, ['account', 'password', '--password-stdin'], [`${PASSWORD}\n`, 'the slow password 6\n']);
    expect(res.code, res.stderr).toBe(0);
    const login = await machine(server.url).run(['login', '--email', 'slow-lines@example.com', '--password-stdin'], { input: 'the slow password 6\n' });
    expect(login.code, login.stderr).toBe(0);
  });

  it('a missing line is named: the new password on line 2 of account password, the password on line 1 of login', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'missing-line@example.com');
    const short = await a.run(['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('standard input has no new password on line 2');
    const none = await a.run(['account', 'password', '--password-stdin', '--json'], { input: '' });
    expect(none.code).toBe(2);
    expect(JSON.parse(none.stderr).error).toMatchObject({ code: 'missing_input', message: expect.stringContaining('no current password on line 1') });
    const login = await machine(server.url).run(['login', '--email', 'missing-line@example.com', '--password-stdin'], { input: '\n' });
    expect(login.code).toBe(2);
    expect(login.stderr).toContain('standard input has no password on line 1');
  });

  it('account password checks the current password (line 1) before it reads the new one', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'current-first@example.com');
    const res = await a.run(['account', 'password', '--password-stdin'], { input: 'not the password\n' });
    expect(res.code, res.stderr).toBe(4);
    expect(res.stderr).toContain('wrong password; nothing was changed');
  });

  it('a last line without a newline, and CRLF line ends, are read as the password', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'line-ends@example.com');
    for (const input of [PASSWORD, `${PASSWORD}\r\n`]) {
      const res = await machine(server.url).run(['login', '--email', 'line-ends@example.com', '--password-stdin'], { input });
      expect(res.code, res.stderr).toBe(0);
    }
  });

  it('account password with INSOMNIA_SYNC_PASSWORD: that is the current password, the first line of --password-stdin the new one, as the hint says', async () => {
    const a = machine(server.url);
    await signupMachine(a, 'env-current@example.com');
    const env = { INSOMNIA_SYNC_PASSWORD: PASSWORD };
    const asked = await a.run(['account', 'password'], { env });
    expect(asked.code).toBe(2);
    expect(asked.stderr).toMatch(/^error: new password: no terminal to ask on\nhint: pipe it with --password-stdin/);
    const res = await a.run(['account', 'password', '--password-stdin'], { env, input: 'the env way 8\n' });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    const login = await machine(server.url).run(['login', '--email', 'env-current@example.com', '--password-stdin'], { input: 'the env way 8\n' });
    expect(login.code, login.stderr).toBe(0);
    // a stale variable is checked as the current password: wrong, nothing changed
    const stale = await a.run(['account', 'password', '--password-stdin'], { env, input: 'yet another 9\n' });
    expect(stale.code).toBe(4);
    expect(stale.stderr).toContain('wrong password; nothing was changed');
    // with neither, the hint gives both ways
    const neither = await a.run(['account', 'password']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toBe(
      'error: current password: no terminal to ask on\nhint: pipe the current password and the new one as two lines with --password-stdin, or set INSOMNIA_SYNC_PASSWORD to the current one and pipe the new one with --password-stdin\n',
    );
  });
});
