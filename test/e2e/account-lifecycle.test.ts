/**
 * What a password change, an account deletion and a signup leave behind on this machine and on
 * others: a copy of the session file (a backup of the config folder, a dotfiles sync) stops working
 * when the password changes; every profile holding the deleted account's keys is wiped; signup says
 * that an activation code is on its way. The real server and real CLI processes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkedFolder, loginMachine, machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const NEW_PASSWORD = 'a password after the theft 9';
const json = <T = any>(s: string): T => JSON.parse(s) as T;

/** A copy of the machine's whole config folder, modes kept (`cp -a`), as a backup or a synced dotfiles folder holds it. */
function copyOf(m: Machine): Machine {
  const dir = path.join(tempDir('isync-thief-'), 'config');
  execFileSync('cp', ['-a', m.configDir, dir]);
  return machine(m.server, dir);
}

function sessionFile(m: Machine, profile = 'default'): any {
  return json(readFileSync(path.join(m.configDir, 'sessions', `${profile}.json`), 'utf8'));
}

function mailsTo(dataDir: string, to: string): string[] {
  const dir = path.join(dataDir, 'outbox');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .filter((t) => t.includes(`\r\nTo: ${to}\r\n`));
}

/**
 * Forwards to the server, taking `renewSession` out of password-change requests: a client from
 * before the renewed session, which neither asks for one nor would store one. As `olderServer`, it
 * refuses a request with the field the way a server from before it does (400, nothing changed).
 */
async function olderClientProxy(target: string, olderServer = false): Promise<{ url: string; close(): Promise<void>; refused: number }> {
  let refused = 0;
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url === '/v1/account/password') {
        const { renewSession, ...rest } = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        if (olderServer && renewSession !== undefined) {
          refused += 1;
          const error = JSON.stringify({ error: { code: 'bad_request', message: 'body must NOT have additional properties' } });
          res.writeHead(400, { 'content-type': 'application/json', 'insomnia-sync-protocol': '2' }).end(error);
          return;
        }
        body = Buffer.from(JSON.stringify(rest));
      }
      const headers = { ...req.headers, 'content-length': String(body.length) };
      const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => res.writeHead(502).end());
      fwd.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('account lifecycle: what is left behind', () => {
  let server: StartedServer;

  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('a password change ends a copied session file; the machine that changed it goes on with a new session', async () => {
    const email = 'stolen@example.com';
    const a = machine(server.url);
    await signupMachine(a, email);
    await linkedFolder(a, 'Stolen', { 'envs/prod.json': '{"token":"secret"}' });
    const thief = copyOf(a);
    expect((await thief.run(['whoami'])).code).toBe(0);
    const before = json((await a.run(['account', 'sessions', '--json'])).stdout).sessions as { id: string; current: boolean }[];
    const oldId = before.find((s) => s.current)!.id;
    expect(sessionFile(a).sessionId).toBe(oldId);

    const changed = await a.run(['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n${NEW_PASSWORD}\n` });
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toContain('0 other session(s) signed out');
    expect(changed.stdout).toContain('This machine has a new session: a copy of its old one');

    // the copy is shut out: it holds the old session, which ended with the change
    const who = await thief.run(['whoami']);
    expect(who.code).toBe(4);
    expect(who.stderr).toContain('insomnia-sync login');
    expect((await thief.run(['clone', 'Stolen', path.join(tempDir(), 'loot')])).code).toBe(4);

    // this machine goes on without logging in again, under a new session id
    expect((await a.run(['whoami'])).code).toBe(0);
    const clone = path.join(tempDir(), 'mine');
    expect((await a.run(['clone', 'Stolen', clone])).code).toBe(0);
    expect(readFileSync(path.join(clone, 'envs/prod.json'), 'utf8')).toBe('{"token":"secret"}');
    const after = json((await a.run(['account', 'sessions', '--json'])).stdout).sessions as { id: string; current: boolean }[];
    expect(after).toHaveLength(1);
    expect(after[0]!.current).toBe(true);
    expect(after[0]!.id).not.toBe(oldId);
    const stored = sessionFile(a);
    expect(stored.sessionId).toBe(after[0]!.id);
    expect(stored.accountKey).toBe(sessionFile(thief).accountKey);
    expect(statSync(path.join(a.configDir, 'sessions', 'default.json')).mode & 0o777).toBe(0o600);

    // a second machine is signed out as before; --json says this one was renewed
    const b = machine(server.url);
    await loginMachine(b, email, NEW_PASSWORD);
    const again = await a.run(['account', 'password', '--password-stdin', '--json'], { input: `${NEW_PASSWORD}\n${PASSWORD}\n` });
    expect(again.code, again.stderr).toBe(0);
    expect(json(again.stdout)).toMatchObject({ changed: true, revokedSessions: 1, sessionRenewed: true });
    expect((await b.run(['whoami'])).code).toBe(4);
    expect((await a.run(['whoami'])).code).toBe(0);

    const notice = mailsTo(server.dataDir, email).filter((t) => t.includes('your password was changed')).at(-1)!;
    expect(notice).toContain('Every session was signed out: 1 on other machines, and the one the change was made from,');
  });

  it("a client from before the renewed session (it does not ask for one) keeps its session and goes on; the others are signed out", async () => {
    const proxy = await olderClientProxy(server.url);
    try {
      const email = 'older-client@example.com';
      const a = machine(proxy.url);
      await signupMachine(a, email);
      const b = machine(server.url);
      await loginMachine(b, email);
      const before = sessionFile(a).sessionId;
      const changed = await a.run(['account', 'password', '--password-stdin', '--json'], { input: `${PASSWORD}\n${NEW_PASSWORD}\n` });
      expect(changed.code, changed.stderr).toBe(0);
      // what an older CLI gets: no `session` in the answer, one other session signed out
      expect(json(changed.stdout)).toMatchObject({ changed: true, revokedSessions: 1, sessionRenewed: false });
      expect(sessionFile(a).sessionId).toBe(before);
      const who = await a.run(['whoami']);
      expect(who.code, who.stderr).toBe(0);
      expect((await b.run(['whoami'])).code).toBe(4);
      const notice = mailsTo(server.dataDir, email).filter((t) => t.includes('your password was changed')).at(-1)!;
      expect(notice).toContain('Other sessions signed out: 1. The one the change was made from was kept');
    } finally {
      await proxy.close();
    }
  });

  it("on a server from before renewSession, which refuses the field, the CLI asks again without it and keeps its session", async () => {
    const proxy = await olderClientProxy(server.url, true);
    try {
      const email = 'older-server@example.com';
      const a = machine(proxy.url);
      await signupMachine(a, email);
      const before = sessionFile(a).sessionId;
      const human = await a.run(['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n${NEW_PASSWORD}\n` });
      expect(human.code, human.stderr).toBe(0);
      expect(proxy.refused).toBe(1);
      expect(human.stdout).toContain('This machine kept its session (the server is older)');
      expect(sessionFile(a).sessionId).toBe(before);
      expect((await a.run(['whoami'])).code).toBe(0);
      await loginMachine(a, email, NEW_PASSWORD);
    } finally {
      await proxy.close();
    }
  });

  it("account delete wipes every profile of this config folder logged in to the deleted account, and no other", async () => {
    const email = 'two-profiles@example.com';
    const a = machine(server.url);
    await signupMachine(a, email);
    expect((await a.run(['--profile', 'second', 'login', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    // another account in a third profile, and the same account on another server, stay
    expect((await a.run(['--profile', 'other', 'signup', '--email', 'bystander@example.com', '--password-stdin'], { input: `${PASSWORD}\n` })).code).toBe(0);
    const elsewhere = await startServer();
    try {
      const far = await a.run(['--profile', 'far', '--server', elsewhere.url, 'signup', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(far.code, far.stderr).toBe(0);
      const sessions = path.join(a.configDir, 'sessions');
      expect(sessionFile(a, 'second').accountKey).toBe(sessionFile(a).accountKey);

      const deleted = await a.run(['--yes', 'account', 'delete', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(deleted.code, deleted.stderr).toBe(0);
      expect(deleted.stdout).toContain('Local keys and sessions were wiped from 2 profiles on this machine: default, second.');
      expect(existsSync(path.join(sessions, 'default.json'))).toBe(false);
      expect(existsSync(path.join(sessions, 'second.json'))).toBe(false);
      expect(readdirSync(sessions).sort()).toEqual(['far.json', 'other.json']);
      expect((await a.run(['--profile', 'second', 'whoami'])).stderr).toContain('not logged in');
      expect((await a.run(['--profile', 'other', 'whoami'])).code).toBe(0);
      expect((await a.run(['--profile', 'far', '--server', elsewhere.url, 'whoami'])).code).toBe(0);

      // alone in its config folder: --json names the one profile wiped
      const solo = machine(server.url);
      await signupMachine(solo, 'solo@example.com');
      const receipt = await solo.run(['--yes', 'account', 'delete', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
      expect(receipt.code, receipt.stderr).toBe(0);
      expect(json(receipt.stdout)).toMatchObject({ email: 'solo@example.com', wipedProfiles: ['default'] });
    } finally {
      await elsewhere.stop();
    }
  });

  it('signup says a verification code was mailed, and the command that takes it', async () => {
    const email = 'activate-me@example.com';
    const a = machine(server.url);
    const res = await a.run(['--profile', 'work', 'signup', '--email', email, '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`A verification code was mailed to ${email}: run \`insomnia-sync --profile work account verify CODE\` within 24 hours`);
    expect(res.stdout).toContain('`insomnia-sync --profile work account verify --resend` mails a new code');
    const verified = await a.run(['--profile', 'work', 'account', 'verify', mailedCode(server.dataDir, email, 'Verification code')]);
    expect(verified.code, verified.stderr).toBe(0);

    const piped = await machine(server.url).run(['signup', '--email', 'activate-json@example.com', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
    expect(piped.code, piped.stderr).toBe(0);
    expect(json(piped.stdout)).toMatchObject({ email: 'activate-json@example.com', activationMailSent: true });
  });
});
