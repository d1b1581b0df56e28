/**
 * Answers of an older server of the same protocol revision (2): fields added to an answer since
 * the revision header (docs/protocol.md §1.1) are absent, and the CLI reads their absence as §3
 * says instead of refusing the answer as broken (§7.2). A proxy in front of the real server plays
 * a server from before `endedSessions` and `invitations` (§3.22), and before `recoveryKeyRevoked`,
 * `liveTokens` and `renewSession` (§3.25): it takes those fields out of the real answers, and
 * refuses a password change that asks for a new session as such a server does (400, nothing
 * changed). The real server and real CLI processes.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { loginMachine, machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { startHostileProxy, type HostileProxy } from '../helpers/hostile-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const EMAIL = 'older-answers@example.com';
const NEW_PASSWORD = 'a password for an older server 5';
const json = <T = any>(s: string): T => JSON.parse(s) as T;

/** what the older server leaves out of each answer */
const ABSENT: Record<string, string[]> = {
  'GET /v1/account': ['endedSessions', 'invitations'],
  'POST /v1/account/password': ['recoveryKeyRevoked', 'liveTokens'],
};

let server: StartedServer;
let proxy: HostileProxy;
let a: Machine;
/** answers the proxy took fields out of, by request line */
const rewritten: Record<string, number> = {};
let refusedRenewals = 0;
/** the proxy plays the older server (else it passes the real server's answers on) */
let older = true;

beforeAll(async () => {
  server = await startServer();
  proxy = await startHostileProxy(server.url);
  a = machine(proxy.url);
  await signupMachine(a, EMAIL);
  // something for each list the older server does not send: an ended session, an invitation
  const other = machine(server.url);
  await loginMachine(other, EMAIL);
  expect((await other.run(['logout'])).code).toBe(0);
  const inviter = machine(server.url);
  await signupMachine(inviter, 'inviter-older@example.com');
  expect((await inviter.run(['account', 'verify', mailedCode(server.dataDir, 'inviter-older@example.com', 'Verification code')])).code).toBe(0);
  expect((await inviter.run(['team', 'create', 'Older'])).code).toBe(0);
  const invite = await inviter.run(['team', 'invite', EMAIL, '--team', 'Older']);
  expect(invite.code, invite.stderr).toBe(0);
  const key = await a.run(['account', 'recovery-key', '--password-stdin'], { input: `${PASSWORD}\n` });
  expect(key.code, key.stderr).toBe(0);

  proxy.rewrite = (method, url, body) => {
    const fields = ABSENT[`${method} ${url.split('?')[0]}`];
    if (!older || fields === undefined) return null;
    const answer = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (typeof answer !== 'object' || answer === null || 'error' in answer) return null;
    for (const field of fields) delete answer[field];
    rewritten[`${method} ${url}`] = (rewritten[`${method} ${url}`] ?? 0) + 1;
    return Buffer.from(JSON.stringify(answer));
  };
  proxy.answer = (req, res, body) => {
    if (!older || req.method !== 'POST' || req.url !== '/v1/account/password' || !('renewSession' in JSON.parse(body.toString('utf8')))) return false;
    refusedRenewals += 1;
    const error = JSON.stringify({ error: { code: 'bad_request', message: 'body must NOT have additional properties' } });
    res.writeHead(400, { 'content-type': 'application/json', [PROTOCOL_REVISION_HEADER]: '2' }).end(error);
    return true;
  };
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.cleanup();
});

describe('an older server of protocol revision 2: fields added since are absent, and the CLI goes on', () => {
  it('account show --json: no ended sessions, no invitations (the server does not list them)', async () => {
    const r = await a.run(['account', 'show', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(rewritten['GET /v1/account']).toBeGreaterThan(0);
    const shown = json(r.stdout);
    expect(shown).toMatchObject({ endedSessions: [], invitations: [], unlisted: ['endedSessions', 'invitations'] });
    expect(shown.user.email).toBe(EMAIL);
    expect(shown.recoveryKey.set).toBe(true);
    // the real server has both lists, and the proxy is what took them out
    older = false;
    try {
      const direct = json((await a.run(['account', 'show', '--json'])).stdout);
      expect(direct.endedSessions.length).toBeGreaterThan(0);
      expect(direct.invitations.length).toBeGreaterThan(0);
      expect(direct).not.toHaveProperty('unlisted');
    } finally {
      older = true;
    }
  });

  it('account show: the two lists are said not to be listed by this server, not "(0)"', async () => {
    const r = await a.run(['account', 'show']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${EMAIL}`);
    expect(r.stdout).toContain("Ended sessions still stored until the server's cleanup: ended sessions not listed by this server (older)");
    expect(r.stdout).toContain('Invitations to your address: invitations not listed by this server (older)');
    expect(r.stdout).not.toMatch(/Ended sessions.*\(0\)|Invitations to your address \(0\)/);
  });

  it('account recovery-key replaces the key', async () => {
    const r = await a.run(['account', 'recovery-key', '--password-stdin', '--yes', '--json'], { input: `${PASSWORD}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout)).toMatchObject({ replaced: true });
  });

  it('account export writes the service data, the lists the server does not send empty', async () => {
    const file = path.join(tempDir('isync-older-export-'), 'me.tar.gz');
    const r = await a.run(['account', 'export', '--out', file, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const unpacked = tempDir('isync-older-unpacked-');
    execFileSync('tar', ['-xzf', file, '-C', unpacked]);
    const doc = json(readFileSync(path.join(unpacked, readdirSync(unpacked)[0]!, 'account.json'), 'utf8'));
    expect(doc.serviceData).toMatchObject({ endedSessions: [], invitations: [], unlisted: ['endedSessions', 'invitations'] });
    expect(doc.serviceData.user.email).toBe(EMAIL);
  });

  it('account password: the password is changed, this machine keeps its session, nothing said of a recovery key or live tokens', async () => {
    const before = refusedRenewals;
    const r = await a.run(['account', 'password', '--password-stdin'], { input: `${PASSWORD}\n${NEW_PASSWORD}\n` });
    expect(r.code, r.stderr).toBe(0);
    expect(refusedRenewals).toBe(before + 1);
    expect(rewritten['POST /v1/account/password']).toBe(1);
    expect(r.stdout).toContain('Password changed.');
    expect(r.stdout).toContain('This machine kept its session (the server is older)');
    expect(r.stdout).not.toContain('recovery key was revoked');
    expect(r.stdout).not.toContain('access token(s) you created still work');
    expect(r.stderr).toBe('');
    expect((await a.run(['whoami'])).code).toBe(0);

    // --json: recoveryKeyRevoked false, liveTokens null (the server does not say)
    const back = await a.run(['account', 'password', '--password-stdin', '--json'], { input: `${NEW_PASSWORD}\n${PASSWORD}\n` });
    expect(back.code, back.stderr).toBe(0);
    expect(json(back.stdout)).toEqual({ changed: true, revokedSessions: 0, recoveryKeyRevoked: false, liveTokens: null, sessionRenewed: false });
    expect(refusedRenewals).toBe(before + 2);
    await loginMachine(machine(server.url), EMAIL, PASSWORD);
  });
});
