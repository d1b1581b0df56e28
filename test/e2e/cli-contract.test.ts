/**
 * The command-line contract of SPEC §4 as the built CLI keeps it: a linked folder acts as the
 * profile it was linked with; parsing errors are usage errors (exit 2), as JSON with --json, never
 * echoing a password typed as an option; input the server refuses as malformed is exit 2; no
 * command is exit 2 while help asked for is 0; a server URL without a scheme is refused up front.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { machine, PASSWORD, runCli, signupMachine, tempDir, type CliResult, type Machine } from '../helpers/cli.js';
import { buildProgram } from '../../src/cli/program.js';

const json = <T = any>(s: string): T => JSON.parse(s) as T;

function expectJsonUsage(res: CliResult, what: string): void {
  expect(res.code, `${what}: ${res.stderr}`).toBe(2);
  expect(res.stdout, what).toBe('');
  const err = json(res.stderr);
  expect(Object.keys(err), what).toEqual(['error']);
  expect(err.error.code, what).toBe('usage');
  expect(typeof err.error.message, what).toBe('string');
}

describe('command-line contract', () => {
  let server: StartedServer;
  let m: Machine;
  let dir: string;

  beforeAll(async () => {
    server = await startServer();
    m = machine(server.url);
    await signupMachine(m, 'home@example.com');
    const work = await m.run(['--profile', 'work', 'signup', '--email', 'work@example.com', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
    expect(work.code, work.stderr).toBe(0);
    dir = tempDir('isync-contract-');
    writeFileSync(path.join(dir, 'a.json'), '{"a":1}');
    const init = await m.run(['--profile', 'work', 'init', '--name', 'work-ws'], { cwd: dir });
    expect(init.code, init.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  describe('a folder linked with --profile', () => {
    it('acts as that profile without --profile: the snapshot is signed by its account', async () => {
      const push = await m.run(['push', '-m', 'as work', '--json'], { cwd: dir });
      expect(push.code, push.stderr).toBe(0);
      const log = await m.run(['log', '--json'], { cwd: dir });
      expect(log.code, log.stderr).toBe(0);
      expect(json(log.stdout).snapshots[0].author.email).toBe('work@example.com');
    });

    it('does so from a subfolder too', async () => {
      const sub = path.join(dir, 'collections', 'deep');
      mkdirSync(sub, { recursive: true });
      const status = await m.run(['status', '--json'], { cwd: sub });
      expect(status.code, status.stderr).toBe(0);
    });

    it('refuses another profile named explicitly, by flag or environment, naming both (exit 2)', async () => {
      for (const res of [
        await m.run(['--profile', 'default', 'push'], { cwd: dir }),
        await m.run(['push'], { cwd: dir, env: { INSOMNIA_SYNC_PROFILE: 'default' } }),
      ]) {
        expect(res.code, res.stderr).toBe(2);
        const first = res.stderr.split('\n')[0]!;
        expect(first).toContain('"work"');
        expect(first).toContain('"default"');
      }
      expect((await m.run(['--profile', 'work', 'status'], { cwd: dir })).code).toBe(0);
    });
  });

  describe('parsing errors', () => {
    it.each([
      [['--json', 'push', '--bogus']],
      [['push', '--bogus', '--json']],
      [['--json', 'clone']],
      [['--json', 'pull', '--ours', '--theirs']],
      [['--json', 'frobnicate']],
      [['--json']],
      [['--json', 'workspace']],
    ])('%j prints one JSON error on stderr, exit 2', async (args) => {
      expectJsonUsage(await runCli(args), args.join(' '));
    });

    it('without --json: one error line and a hint', async () => {
      const res = await runCli(['push', '--bogus']);
      expect(res.code).toBe(2);
      expect(res.stderr).toBe("error: unknown option '--bogus'\nhint: run with --help for usage\n");
    });

    it('an unknown --password=… is not repeated, and the hint points at --password-stdin', async () => {
      const res = await runCli(['login', '--email', 'a@example.com', '--password=hunter2']);
      expect(res.code).toBe(2);
      expect(res.stdout + res.stderr).not.toContain('hunter2');
      expect(res.stderr).toContain('hint: secrets never go on the command line: use --password-stdin');
      const asJson = await runCli(['login', '--email', 'a@example.com', '--password=hunter2', '--json']);
      expectJsonUsage(asJson, 'login --password=… --json');
      expect(asJson.stderr).not.toContain('hunter2');
    });
  });

  describe('no command', () => {
    it('shows the help on stderr and exits 2', async () => {
      for (const args of [[], ['workspace']]) {
        const res = await runCli(args);
        expect(res.code, args.join(' ')).toBe(2);
        expect(res.stderr).toMatch(/Usage:/);
        expect(res.stdout).toBe('');
      }
    });

    it('help asked for exits 0 and lists exit status 130', async () => {
      for (const args of [['--help'], ['help'], ['workspace', '--help'], ['help', 'workspace']]) {
        const res = await runCli(args);
        expect(res.code, args.join(' ')).toBe(0);
        expect(res.stdout).toMatch(/Usage:/);
      }
      expect((await runCli(['--help'])).stdout).toMatch(/130 cancelled/);
    });

    it('--version with --json (before or after it) prints one JSON document; without, the bare version', async () => {
      const plain = await runCli(['--version']);
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
      for (const args of [['--json', '--version'], ['--version', '--json'], ['-V', '--json'], ['--json', '-V']]) {
        const res = await runCli(args);
        expect(res.code, args.join(' ')).toBe(0);
        expect(res.stderr, args.join(' ')).toBe('');
        expect(json(res.stdout), args.join(' ')).toEqual({ version: plain.stdout.trim() });
      }
    });

    it("help takes a command's whole path: `help team confirm` shows confirm's help, not team's", async () => {
      const want = (await runCli(['team', 'confirm', '--help'])).stdout;
      expect(want).toMatch(/^Usage: insomnia-sync team confirm /);
      for (const args of [['help', 'team', 'confirm'], ['team', 'help', 'confirm'], ['--json', 'help', 'team', 'confirm']]) {
        const res = await runCli(args);
        expect(res.code, args.join(' ')).toBe(0);
        expect(res.stdout, args.join(' ')).toBe(want);
      }
      const unknown = await runCli(['help', 'team', 'frob']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain("error: unknown command 'frob'");
    });

    it("the team summary names every team command, and that a leave is followed by an owner's or admin's rotate", () => {
      const team = buildProgram(async () => {}).commands.find((c) => c.name() === 'team')!;
      const summary = team.description();
      for (const c of team.commands.filter((c) => c.name() !== 'help')) expect(summary, c.name()).toMatch(new RegExp(`\\b${c.name()}\\b`));
      expect(summary).toContain('remove (rotates the key; withdraws a pending invitation), leave (an owner or admin then runs rotate)');
    });
  });

  describe('input the server refuses as malformed', () => {
    it.each([
      [['token', 'create', '--workspace', 'work-ws', '--expires', '2000d']],
      [['team', 'accept', 'NOTACODE']],
      [['account', 'verify', 'BADCODE']],
    ])('%j exits 2', async (args) => {
      const res = await m.run(['--profile', 'work', ...args, '--json']);
      expect(res.code, res.stderr).toBe(2);
      expect(res.stdout).toBe('');
    });
  });

  describe('values that would be silently reinterpreted', () => {
    it('an empty -m is refused (exit 2), not replaced by an automatic message; nothing is pushed', async () => {
      writeFileSync(path.join(dir, 'b.json'), '{"b":1}');
      const res = await m.run(['push', '-m', '  '], { cwd: dir });
      expect(res.code).toBe(2);
      expect(res.stderr).toContain("option '-m, --message <msg>' is empty");
      expect(JSON.parse((await m.run(['status', '--json'], { cwd: dir })).stdout).changes).toHaveLength(1);
    });

    it('an empty --to, --out or --workspace is refused (exit 2), not taken for none given: nothing is restored over, written or checked', async () => {
      // b.json from the test above is still unpushed
      const push = await m.run(['push', '-m', 'two', '--json'], { cwd: dir });
      expect(push.code, push.stderr).toBe(0);
      const first = json((await m.run(['log', '--json'], { cwd: dir })).stdout).snapshots.at(-1).id as string;
      writeFileSync(path.join(dir, 'a.json'), '{"a":"unpushed edit"}');
      const before = readdirSync(dir).sort();
      for (const args of [
        ['restore', first, '--to', '', '--yes'],
        ['restore', first, '--to', '   ', '--yes'],
        ['export', '--out', ''],
        ['verify', '--workspace', ''],
        ['token', 'create', '--workspace', ' '],
      ]) {
        const res = await m.run(args, { cwd: dir });
        expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
        expect(res.stderr.split('\n')[0]).toMatch(/^error: option '--(to|out|workspace) <\w+>' is empty$/);
        expectJsonUsage(await m.run([...args, '--json'], { cwd: dir }), args.join(' '));
      }
      expect(readFileSync(path.join(dir, 'a.json'), 'utf8')).toBe('{"a":"unpushed edit"}');
      expect(readdirSync(dir).sort()).toEqual(before);
    });

    it('log -n takes plain whole numbers from 1 up (1e2 is not 100, nor 99999999999999999999 a number); a count of one is singular', async () => {
      for (const bad of ['1e2', '99999999999999999999', '2147483648', '1.5', '0', '0x10', '+3']) {
        const res = await m.run(['log', '-n', bad], { cwd: dir });
        expect(res.code, bad).toBe(2);
        expect(res.stderr.split('\n')[0], bad).toBe(`error: --limit takes a whole number from 1 to 2147483647, not ${bad}`);
      }
      const all = json((await m.run(['log', '--json'], { cwd: dir })).stdout).snapshots;
      const most = await m.run(['log', '-n', '2147483647', '--json'], { cwd: dir });
      expect(most.code, most.stderr).toBe(0);
      expect(json(most.stdout).snapshots).toHaveLength(all.length);
      // the first snapshot holds a.json alone: 7 bytes
      const human = await m.run(['log'], { cwd: dir });
      expect(human.stdout.trimEnd().split('\n').at(-1)).toMatch(/ \(1 file, 7 bytes\)$/);
    });

    it('export --out NAME.zip (or .tar) is refused (exit 2) instead of becoming a folder of that name', async () => {
      for (const name of ['x.zip', 'y.tar']) {
        const out = path.join(tempDir('isync-contract-out-'), name);
        const res = await m.run(['export', '--out', out], { cwd: dir });
        expect(res.code, name).toBe(2);
        expect(res.stderr).toContain('names an archive this tool does not write');
        expect(existsSync(out)).toBe(false);
      }
    });
  });

  describe('outside a linked folder', () => {
    it('export and verify hint --workspace W, not init (which would make a new, empty workspace); push hints init or clone', async () => {
      const dir = tempDir();
      for (const args of [['verify'], ['export', '--out', path.join(tempDir(), 'x')]]) {
        const res = await m.run(args, { cwd: dir });
        expect(res.code, res.stderr).toBe(5);
        expect(res.stderr).toContain('error: this folder is not linked to a workspace');
        expect(res.stderr).toContain('hint: give --workspace W (see `insomnia-sync workspace list`), or run it in a linked folder');
      }
      const push = await m.run(['push'], { cwd: dir });
      expect(push.code).toBe(5);
      expect(push.stderr).toContain('hint: run `insomnia-sync init` here, or `insomnia-sync clone WORKSPACE DIR`');
    });
  });

  describe('server URLs and login hints', () => {
    it('a URL without a scheme is a usage error with a guess, before anything else', async () => {
      const local = await m.run(['--server', 'localhost:39350', 'whoami']);
      expect(local.code, local.stderr).toBe(2);
      expect(local.stderr).toContain('did you mean http://localhost:39350?');
      const ip = await m.run(['--server', '127.0.0.1:39350', 'whoami']);
      expect(ip.code, ip.stderr).toBe(2);
      expect(ip.stderr).toContain('did you mean http://127.0.0.1:39350?');
      // the message names where the URL came from: a flag, or a variable set long ago
      expect(local.stderr).toContain('error: --server: the server URL must start with http:// or https://');
      const fromEnv = await m.run(['whoami'], { env: { INSOMNIA_SYNC_SERVER: 'garbage' } });
      expect(fromEnv.code, fromEnv.stderr).toBe(2);
      expect(fromEnv.stderr).toContain('error: INSOMNIA_SYNC_SERVER: the server URL must start with http:// or https://');
    });

    it('whoami with --server naming a server it is not logged in to exits 4 and says so, like team list', async () => {
      for (const args of [['whoami'], ['team', 'list']]) {
        const res = await m.run(['--server', 'http://127.0.0.1:1', ...args]);
        expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(4);
        expect(res.stderr).toContain("not logged in to http://127.0.0.1:1 (this profile's session is for ");
      }
      const here = await m.run(['--server', server.url, 'whoami', '--json']);
      expect(here.code, here.stderr).toBe(0);
      expect(json(here.stdout).email).toBe('home@example.com');
    });

    it('a wrong password at login exits 4 without hinting to log in', async () => {
      const res = await m.run(['login', '--email', 'home@example.com', '--password-stdin'], { input: 'not the password at all\n', cwd: tempDir() });
      expect(res.code, res.stderr).toBe(4);
      expect(res.stderr).not.toMatch(/run `insomnia-sync login`/);
    });
  });

  describe('a profile already logged in', () => {
    it('signup, login and recover as another account are refused (exit 2, nothing asked); login again as the same one refreshes', async () => {
      const p = machine(server.url);
      await signupMachine(p, 'first@example.com');
      const refused = [
        await p.run(['signup', '--email', 'second@example.com', '--password-stdin'], { input: `${PASSWORD}\n` }),
        await p.run(['login', '--email', 'home@example.com', '--password-stdin'], { input: `${PASSWORD}\n` }),
        await p.run(['account', 'recover', '--email', 'home@example.com', '--password-stdin'], { input: 'AAAA-BBBB\nanother password 1\n' }),
        // the same email on another server is another account: nothing is sent there
        await p.run(['--server', 'http://127.0.0.1:9', 'login', '--email', 'first@example.com', '--password-stdin'], { input: `${PASSWORD}\n` }),
      ];
      for (const res of refused) {
        expect(res.code, res.stderr).toBe(2);
        expect(res.stderr).toMatch(/^error: already logged in as first@example\.com( on http:\/\/127\.0\.0\.1:\d+)? on this profile$/m);
        expect(res.stderr).toContain('hint: run `insomnia-sync logout` first, or use `--profile NAME` for a second account');
      }
      expect(refused[3]!.stderr).toContain(`already logged in as first@example.com on ${server.url}`);
      const asJson = await p.run(['login', '--email', 'home@example.com', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
      expectJsonUsage(asJson, 'login as another account --json');
      // signup never reached the server
      expect((await machine(server.url).run(['login', '--email', 'second@example.com', '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(4);
      expect(json((await p.run(['whoami', '--json'])).stdout).email).toBe('first@example.com');

      const again = await p.run(['login', '--email', 'FIRST@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(again.code, again.stderr).toBe(0);
      expect((await p.run(['logout'])).code).toBe(0);
      const other = await p.run(['login', '--email', 'home@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(other.code, other.stderr).toBe(0);
      expect(json((await p.run(['whoami', '--json'])).stdout).email).toBe('home@example.com');
      // a second account beside it, as the hint says
      const side = await p.run(['--profile', 'side', 'login', '--email', 'first@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(side.code, side.stderr).toBe(0);
      // on a profile of its own, the hints name it: a bare `logout` would end the default profile's session
      const again2 = await p.run(['--profile', 'side', 'login', '--email', 'home@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(again2.code).toBe(2);
      expect(again2.stderr).toContain('hint: run `insomnia-sync --profile side logout` first');
      expect((await p.run(['--profile', 'side', 'logout'])).code).toBe(0);
      const out = await p.run(['--profile', 'side', 'whoami']);
      expect(out.code).toBe(4);
      expect(out.stderr).toContain('hint: run `insomnia-sync --profile side login --email EMAIL` (or `signup`)');
    });
  });
});
