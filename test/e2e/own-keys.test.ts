/**
 * "Your fingerprint" is the one of the keys on your machine, never the server's copy (docs/crypto.md
 * §5.1, §6). A server that swaps a member's public keys in its database must not get that member
 * to read out its fingerprint (whoami, account show, team accept), so the owner's
 * `team confirm --fingerprint` catches the swap and seals nothing. A signup reply rewritten on the
 * way must not put someone else's keys into the new session. Real server, real CLI processes.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startRecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { toB64 } from '../../src/protocol/encoding.js';
import { noblePrimitives as p } from '../../src/crypto/primitives.js';
import { fingerprint, generateIdentity } from '../../src/crypto/keys.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

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

/** The same 40 digits, however spaced, anywhere in the text. */
function shows(text: string, fp: string): boolean {
  return text.replace(/[\s-]+/g, '').includes(fp.replace(/\s+/g, ''));
}

const MISMATCH = /server's copy of your public keys differs from yours/;

describe("your own fingerprint comes from your keys, not the server's copy", () => {
  let server: StartedServer;
  let db: Database.Database;
  let ann: Machine;
  let bob: Machine;
  let bobFp: string;
  const team = 'Keys';
  const forged = generateIdentity(p);
  const forgedFp = fingerprint(forged.x25519.publicKey, forged.ed25519.publicKey);
  let realKeys: { x25519_public_key: string; ed25519_public_key: string };

  const sealedToBob = (): number =>
    db
      .prepare("SELECT count(*) FROM team_keys k JOIN users u ON u.id = k.user_id JOIN teams t ON t.id = k.team_id WHERE u.email = 'bob@example.com' AND t.name = ?")
      .pluck()
      .get(team) as number;
  const swapBobsKeys = (): void => {
    db.prepare("UPDATE users SET x25519_public_key = ?, ed25519_public_key = ? WHERE email = 'bob@example.com'").run(toB64(forged.x25519.publicKey), toB64(forged.ed25519.publicKey));
  };
  const restoreBobsKeys = (): void => {
    db.prepare("UPDATE users SET x25519_public_key = ?, ed25519_public_key = ? WHERE email = 'bob@example.com'").run(realKeys.x25519_public_key, realKeys.ed25519_public_key);
  };

  beforeAll(async () => {
    server = await startServer();
    db = new Database(path.join(server.dataDir, 'sync.db'));
    db.pragma('busy_timeout = 5000');
    ann = machine(server.url);
    bob = machine(server.url);
    await signupMachine(ann, 'ann@example.com');
    bobFp = json((await signupMachine(bob, 'bob@example.com')).stdout).fingerprint as string;
    realKeys = db.prepare("SELECT x25519_public_key, ed25519_public_key FROM users WHERE email = 'bob@example.com'").get() as typeof realKeys;
    expect((await ann.run(['account', 'verify', mailedCode(server.dataDir, 'ann@example.com', 'Verification code')])).code).toBe(0);
    expect((await ann.run(['team', 'create', team])).code).toBe(0);
    expect((await ann.run(['team', 'invite', 'bob@example.com', '--team', team])).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    db?.close();
    await server?.cleanup();
  });

  it('keys swapped in the database: whoami and account show refuse (exit 7) without showing the forged fingerprint', async () => {
    swapBobsKeys();
    try {
      for (const args of [['whoami'], ['whoami', '--json'], ['account', 'show'], ['account', 'show', '--json']]) {
        const res = await bob.run(args);
        expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(7);
        expect(res.stderr).toMatch(MISMATCH);
        expect(shows(res.stdout + res.stderr, forgedFp)).toBe(false);
        if (args.includes('--json')) {
          expect(res.stdout).toBe('');
          expect(json(res.stderr).error.code).toBe('integrity');
        }
      }
      // logging in again on another machine is refused the same way (the check login always made)
      const elsewhere = machine(server.url);
      const login = await elsewhere.run(['login', '--email', 'bob@example.com', '--password-stdin'], { input: `${PASSWORD}\n` });
      expect(login.code).toBe(7);
      expect(login.stderr).toMatch(MISMATCH);
      expect(existsSync(path.join(elsewhere.configDir, 'sessions', 'default.json'))).toBe(false);
    } finally {
      restoreBobsKeys();
    }
    const ok = await bob.run(['whoami', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok.stdout).fingerprint).toBe(bobFp);
  }, 60_000);

  it("team accept reads out the real fingerprint even from an old session file holding the server's keys; confirm with it seals nothing to them (exit 7)", async () => {
    // The server swapped bob's keys, and bob's session file holds the same forged pair, as one
    // stored by a signup that kept the server's reply unchecked would.
    swapBobsKeys();
    const file = path.join(bob.configDir, 'sessions', 'default.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, JSON.stringify({ ...json(original), x25519Public: toB64(forged.x25519.publicKey), ed25519Public: toB64(forged.ed25519.publicKey) }), { mode: 0o600 });
    try {
      const accept = await bob.run(['team', 'accept', mailedCode(server.dataDir, 'bob@example.com', 'Invite code')]);
      expect(accept.code, accept.stderr).toBe(0);
      expect(shows(accept.stdout + accept.stderr, forgedFp)).toBe(false);
      // what bob reads out to ann
      const readOut = /(\d{5}(?: \d{5}){7})/.exec(accept.stdout)?.[1];
      expect(readOut).toBe(bobFp);

      const confirm = await ann.run(['team', 'confirm', 'bob@example.com', '--team', team, '--fingerprint', readOut!]);
      expect(confirm.code, confirm.stderr).toBe(7);
      expect(confirm.stderr).toMatch(/nothing was sealed/);
      expect(sealedToBob()).toBe(0);
    } finally {
      restoreBobsKeys();
      writeFileSync(file, original, { mode: 0o600 });
    }
    const confirm = await ann.run(['team', 'confirm', 'bob@example.com', '--team', team, '--fingerprint', bobFp]);
    expect(confirm.code, confirm.stderr).toBe(0);
    expect(sealedToBob()).toBeGreaterThan(0);
  }, 60_000);

  it('a signup reply with other public keys: exit 7, nothing stored, the forged fingerprint never printed', async () => {
    const proxy = await startRecordingProxy(server.url, (method, url, body) => {
      if (method !== 'POST' || url !== '/v1/auth/signup') return null;
      const res = json(body.toString('utf8'));
      if (!res.keys) return null;
      res.keys.x25519PublicKey = toB64(forged.x25519.publicKey);
      res.keys.ed25519PublicKey = toB64(forged.ed25519.publicKey);
      return Buffer.from(JSON.stringify(res));
    });
    try {
      const carol = machine(proxy.url);
      for (const extra of [[], ['--json']]) {
        const email = `carol${extra.length}@example.com`;
        const res = await carol.run(['signup', '--email', email, '--password-stdin', ...extra], { input: `${PASSWORD}\n` });
        expect(res.code, res.stderr).toBe(7);
        expect(res.stderr).toMatch(MISMATCH);
        expect(shows(res.stdout + res.stderr, forgedFp)).toBe(false);
        expect(existsSync(path.join(carol.configDir, 'sessions', 'default.json'))).toBe(false);
        // the server kept the real keys: a login straight to it works and shows them
        const direct = machine(server.url);
        const login = await direct.run(['login', '--email', email, '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
        expect(login.code, login.stderr).toBe(0);
        const stored = db.prepare('SELECT x25519_public_key, ed25519_public_key FROM users WHERE email = ?').get(email) as typeof realKeys;
        expect(stored.x25519_public_key).not.toBe(toB64(forged.x25519.publicKey));
        expect(json(login.stdout).fingerprint).not.toBe(forgedFp);
      }
    } finally {
      await proxy.close();
    }
  }, 90_000);

  it("account export whose service data holds other public keys than yours: exit 7, nothing written", async () => {
    let forge = true;
    const proxy = await startRecordingProxy(server.url, (method, url, body) => {
      if (method !== 'GET' || url !== '/v1/account' || !forge) return null;
      const res = json(body.toString('utf8'));
      res.publicKeys = { x25519PublicKey: toB64(forged.x25519.publicKey), ed25519PublicKey: toB64(forged.ed25519.publicKey) };
      return Buffer.from(JSON.stringify(res));
    });
    try {
      const annHere = machine(proxy.url);
      await loginMachine(annHere, 'ann@example.com');
      const dir = tempDir('isync-own-export-');
      for (const extra of [[], ['--json']]) {
        const out = path.join(dir, `account${extra.length}.tar.gz`);
        const res = await annHere.run(['account', 'export', '--out', out, ...extra]);
        expect(res.code, res.stderr).toBe(7);
        expect(res.stdout).toBe('');
        expect(res.stderr).toMatch(MISMATCH);
        expect(shows(res.stderr, forgedFp)).toBe(false);
        if (extra.length > 0) expect(json(res.stderr).error.code).toBe('integrity');
        else expect(res.stderr.trim().split('\n')).toHaveLength(2); // the error and its hint
      }
      expect(readdirSync(dir)).toEqual([]);
      forge = false;
      const ok = await annHere.run(['account', 'export', '--out', path.join(dir, 'account.tar.gz'), '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(readdirSync(dir)).toEqual(['account.tar.gz']);
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a signup reply naming another account (email, user id): exit 7; a malformed id: bad_response (exit 1); nothing stored', async () => {
    let change: ((user: { id: string; email: string }) => void) | null = null;
    const proxy = await startRecordingProxy(server.url, (method, url, body) => {
      if (method !== 'POST' || (url !== '/v1/auth/signup' && url !== '/v1/auth/login') || change === null) return null;
      const res = json(body.toString('utf8'));
      if (!res.user) return null;
      change(res.user);
      return Buffer.from(JSON.stringify(res));
    });
    try {
      const cases: [string, (user: { id: string; email: string }) => void][] = [
        ['email', (u) => (u.email = 'mallory@example.com')],
        ['id', (u) => (u.id = 'ab'.repeat(16))],
        ['malformed', (u) => (u.id = '../../x')],
      ];
      for (const [what, rewrite] of cases) {
        // an id that is no id is not of the protocol's form: refused with the answer, before use
        const malformed = what === 'malformed';
        for (const extra of [[], ['--json']]) {
          const dave = machine(proxy.url);
          const email = `dave-${what}${extra.length}@example.com`;
          change = rewrite;
          const res = await dave.run(['signup', '--email', email, '--password-stdin', ...extra], { input: `${PASSWORD}\n` });
          expect(res.code, `${what}: ${res.stderr}`).toBe(malformed ? 1 : 7);
          expect(res.stdout).toBe('');
          if (malformed) {
            const said = "the server's answer to POST /v1/auth/signup does not follow the protocol (user.id: must match ^[0-9a-f]{32}$)";
            if (extra.length > 0) expect(json(res.stderr).error).toMatchObject({ code: 'bad_response', message: said });
            else expect(res.stderr.split('\n')[0]).toBe(`error: ${said}`);
            expect(res.stderr).not.toContain('../../x');
          } else if (extra.length > 0) expect(json(res.stderr).error).toMatchObject({ code: 'integrity', message: expect.stringContaining(`names another account than ${email}`) });
          else expect(res.stderr).toMatch(new RegExp(`^error: the server's reply names another account than ${email} \\(.*\\)\nhint: the account was created, but nothing was stored on this machine`));
          expect(res.stderr).not.toContain('mallory');
          expect(existsSync(path.join(dave.configDir, 'sessions', 'default.json'))).toBe(false);
          // the account was made as asked: a login through the same proxy, its reply rewritten, is refused too
          const login = await dave.run(['login', '--email', email, '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
          expect(login.code, login.stderr).toBe(malformed ? 1 : 7);
          expect(existsSync(path.join(dave.configDir, 'sessions', 'default.json'))).toBe(false);
          // and one answered as it is works
          change = null;
          const ok = await dave.run(['login', '--email', email, '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
          expect(ok.code, ok.stderr).toBe(0);
          expect(json(ok.stdout).email).toBe(email);
        }
      }
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
