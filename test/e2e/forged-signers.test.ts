/**
 * A leaked read-only access token plus a compromised server (docs/crypto.md §9, "Who may sign"):
 * the token holds the workspace key and its own signing key, so with the server's help it can push
 * a snapshot. The server then passes it off as the token creator's by listing the token's key as a
 * member key of the creator: a second entry of the same account (as review 13 did), or in place of
 * the creator's real key. Every machine that knows something the server cannot change refuses that
 * member list (exit 7) and changes nothing: the creator's own machine, one that recorded the
 * creator's fingerprint, and (for the duplicate entry) a fresh CI clone. Real server, real CLI
 * processes; the compromised server is the real one with the token's scope flipped in its database
 * (so it takes the push) behind a proxy that rewrites the members answer.
 */
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciJob, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

const ci = ciJob;

/** How the proxy lies about the members: not at all, a second entry of the creator, or the creator's key swapped. */
type Lie = 'none' | 'duplicate' | 'replace';

describe('a read-only token and a compromised server cannot pass snapshots off as a member', () => {
  let server: StartedServer;
  let proxy: RecordingProxy;
  let db: Database.Database;
  let lie: Lie = 'none';
  let alice: Machine;
  let bob: Machine;
  let aliceDir: string;
  let bobDir: string;
  let wsId: string;
  let readToken: string;
  let writeToken: string;
  const ORIGINAL = '{"url":"https://api.example.com"}';
  const FORGED = '{"url":"https://evil.example.com"}';

  const must = async (m: Machine, args: string[], opts: { cwd?: string } = {}): Promise<string> => {
    const res = await m.run(args, opts);
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };
  const prod = (dir: string): string => readFileSync(path.join(dir, 'envs/prod.json'), 'utf8');
  /** A copy of a member's folder as it was before the attack, so each check starts from there. */
  const fresh = (dir: string): string => {
    const copy = path.join(tempDir('isync-forge-copy-'), 'ws');
    cpSync(dir, copy, { recursive: true });
    return copy;
  };

  beforeAll(async () => {
    server = await startServer();
    db = new Database(path.join(server.dataDir, 'sync.db'));
    db.pragma('busy_timeout = 5000');
    // Everyone talks to the server through the proxy (sessions and known keys are per server URL),
    // which tells the truth until a test sets `lie`.
    proxy = await startRecordingProxy(server.url, (method, url, body) => {
      if (lie === 'none' || method !== 'GET' || !/^\/v1\/workspaces\/[0-9a-f]{32}\/members$/.test(url)) return null;
      const res = json(body.toString('utf8'));
      const token = (res.tokens ?? []).find((t: { name: string }) => t.name === 'ci-pull');
      const creator = res.members.find((m: { userId: string }) => m.userId === token.createdBy);
      if (lie === 'duplicate') res.members.unshift({ ...creator, ed25519PublicKey: token.publicKey });
      else creator.ed25519PublicKey = token.publicKey;
      return Buffer.from(JSON.stringify(res));
    });
    alice = machine(proxy.url);
    bob = machine(proxy.url);
    await Promise.all([signupMachine(alice, 'alice@example.com'), signupMachine(bob, 'bob@example.com')]);
    await must(alice, ['account', 'verify', mailedCode(server.dataDir, 'alice@example.com', 'Verification code')]);
    await must(alice, ['team', 'create', 'Acme']);
    aliceDir = tempDir('isync-forge-alice-');
    writeFileSync(path.join(aliceDir, 'readme.txt'), 'hello\n');
    const envs = path.join(aliceDir, 'envs');
    mkdirSync(envs);
    writeFileSync(path.join(envs, 'prod.json'), ORIGINAL);
    wsId = json(await must(alice, ['init', '--team', 'Acme', '--name', 'My API', '--json'], { cwd: aliceDir })).id;
    await must(alice, ['push', '-m', 'first'], { cwd: aliceDir });
    await must(alice, ['team', 'invite', 'bob@example.com', '--team', 'Acme']);
    await must(bob, ['team', 'accept', mailedCode(server.dataDir, 'bob@example.com', 'Invite code')]);
    await must(alice, ['team', 'confirm', 'bob@example.com', '--team', 'Acme', '--yes']);
    // bob checked alice's fingerprint with her, as the README asks: known-keys.json records it
    const aliceFp = json(await must(alice, ['whoami', '--json'])).fingerprint;
    await must(bob, ['team', 'confirm', 'alice@example.com', '--team', 'Acme', '--fingerprint', aliceFp]);
    bobDir = path.join(tempDir('isync-forge-bob-'), 'ws');
    await must(bob, ['clone', wsId, bobDir]);
    readToken = json(await must(alice, ['token', 'create', '--workspace', wsId, '--read-only', '--name', 'ci-pull', '--json'])).token;
    writeToken = json(await must(alice, ['token', 'create', '--workspace', wsId, '--name', 'ci-push', '--json'])).token;
  }, 180_000);

  afterAll(async () => {
    db?.close();
    await proxy?.close();
    await server?.stop();
  });

  it('with the honest member list, a write token pushes and both members pull and verify it', async () => {
    const work = tempDir('isync-forge-ci-');
    expect((await ci(proxy.url, writeToken, ['clone', wsId, 'co'], work)).code).toBe(0);
    writeFileSync(path.join(work, 'co', 'generated.json'), '{"by":"ci"}');
    const pushed = await ci(proxy.url, writeToken, ['push', '-m', 'from CI'], path.join(work, 'co'));
    expect(pushed.code, pushed.stderr).toBe(0);
    for (const [m, dir] of [[alice, aliceDir], [bob, bobDir]] as const) {
      await must(m, ['pull'], { cwd: dir });
      await must(m, ['verify'], { cwd: dir });
      expect(readFileSync(path.join(dir, 'generated.json'), 'utf8')).toBe('{"by":"ci"}');
    }
  }, 120_000);

  it("refuses a forged creator's key: the creator's machine, a machine that recorded her fingerprint, a CI clone (exit 7), nothing changed", async () => {
    // The compromised server takes the read-only token's push (its scope flipped in the database,
    // then back), straight from the attacker: the push itself is no part of what clients check.
    db.prepare("UPDATE access_tokens SET scope = 'write' WHERE name = 'ci-pull'").run();
    const atk = tempDir('isync-forge-atk-');
    try {
      expect((await ci(server.url, readToken, ['clone', wsId, 'co'], atk)).code).toBe(0);
      writeFileSync(path.join(atk, 'co', 'envs/prod.json'), FORGED);
      const pushed = await ci(server.url, readToken, ['push', '-m', 'routine update'], path.join(atk, 'co'));
      expect(pushed.code, pushed.stderr).toBe(0);
    } finally {
      db.prepare("UPDATE access_tokens SET scope = 'read' WHERE name = 'ci-pull'").run();
    }

    // The honest member list already refuses it: the token's key belongs to no member.
    const honest = await alice.run(['pull'], { cwd: aliceDir });
    expect(honest.code, honest.stderr).toBe(7);
    expect(honest.stderr).toMatch(/belongs to no member/);

    // A second entry of alice holding the token's key (review 13's proxy).
    lie = 'duplicate';
    try {
      for (const [m, folder] of [[alice, aliceDir], [bob, bobDir]] as const) {
        const dir = fresh(folder);
        const pulled = await m.run(['pull'], { cwd: dir });
        expect(pulled.code, pulled.stderr).toBe(7);
        expect(pulled.stderr).toMatch(/the server lists alice@example\.com twice among the members of this workspace/);
        expect(prod(dir)).toBe(ORIGINAL);
        const verified = await m.run(['verify'], { cwd: dir });
        expect(verified.code, verified.stderr).toBe(7);
      }
      // a fresh CI job with the legitimate write token knows nothing but what the list says of itself
      const victim = await ci(proxy.url, writeToken, ['clone', wsId, 'victim'], tempDir('isync-forge-victim-'));
      expect(victim.code, victim.stderr).toBe(7);
    } finally {
      lie = 'none';
    }

    // Alice's real key replaced by the token's: no duplicate, but alice knows her own keys, and bob
    // recorded her fingerprint.
    lie = 'replace';
    try {
      const ownDir = fresh(aliceDir);
      const own = await alice.run(['pull'], { cwd: ownDir });
      expect(own.code, own.stderr).toBe(7);
      expect(own.stderr).toMatch(/lists your own account .* with keys or an account id that are not yours/);
      expect(prod(ownDir)).toBe(ORIGINAL);
      const recordedDir = fresh(bobDir);
      const recorded = await bob.run(['pull'], { cwd: recordedDir });
      expect(recorded.code, recorded.stderr).toBe(7);
      expect(recorded.stderr).toMatch(/lists alice@example\.com .* do not match the fingerprint this machine recorded/);
      expect(prod(recordedDir)).toBe(ORIGINAL);
      expect((await bob.run(['verify'], { cwd: recordedDir })).code).toBe(7);
    } finally {
      lie = 'none';
    }
  }, 180_000);
});
