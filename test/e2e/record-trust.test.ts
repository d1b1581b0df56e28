/**
 * The verified-head record (status, log) is not a pass for pull. A snapshot forged with a leaked
 * read-only token on a compromised server, which `status` accepted while the server lied about the
 * member list (the token's key under a member this machine had no record of), is refused by `pull`
 * once this machine knows better (it confirmed the member's real fingerprint): pull checks every
 * snapshot since its base with the signers trusted now, record or not, and writes nothing.
 * The real server behind a proxy that lies on cue; the token's scope flipped in its database.
 */
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciJob, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { mailedCode } from '../helpers/outbox.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const json = <T = any>(text: string): T => JSON.parse(text) as T;

describe('the verified-head record and signer trust', () => {
  let server: StartedServer;
  let proxy: RecordingProxy;
  let db: Database.Database;
  let lie = false;
  let alice: Machine;
  let bob: Machine;
  let carol: Machine;
  let dave: Machine;
  let erin: Machine;
  let aliceDir: string;
  let bobDir: string;
  let wsId: string;
  let readToken: string;
  const must = async (m: Machine, args: string[], opts: { cwd?: string } = {}): Promise<string> => {
    const res = await m.run(args, opts);
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };

  beforeAll(async () => {
    server = await startServer();
    db = new Database(path.join(server.dataDir, 'sync.db'));
    db.pragma('busy_timeout = 5000');
    proxy = await startRecordingProxy(server.url, (method, url, body) => {
      if (!lie || method !== 'GET' || !/^\/v1\/workspaces\/[0-9a-f]{32}\/members$/.test(url)) return null;
      const res = json(body.toString('utf8'));
      const token = (res.tokens ?? []).find((t: { name: string }) => t.name === 'ci-pull');
      const creator = res.members.find((m: { userId: string }) => m.userId === token.createdBy);
      creator.ed25519PublicKey = token.publicKey;
      res.tokens = res.tokens.filter((t: { name: string }) => t.name !== 'ci-pull');
      return Buffer.from(JSON.stringify(res));
    });
    alice = machine(proxy.url);
    bob = machine(proxy.url);
    carol = machine(proxy.url);
    dave = machine(proxy.url);
    erin = machine(proxy.url);
    await Promise.all([signupMachine(erin, 'erin@example.com'), signupMachine(dave, 'dave@example.com'), signupMachine(alice, 'alice@example.com'), signupMachine(bob, 'bob@example.com'), signupMachine(carol, 'carol@example.com')]);
    await must(alice, ['account', 'verify', mailedCode(server.dataDir, 'alice@example.com', 'Verification code')]);
    await must(alice, ['team', 'create', 'Acme']);
    aliceDir = tempDir('r14-alice-');
    writeFileSync(path.join(aliceDir, 'readme.txt'), 'hello\n');
    wsId = json(await must(alice, ['init', '--team', 'Acme', '--name', 'My API', '--json'], { cwd: aliceDir })).id;
    await must(alice, ['push', '-m', 'first'], { cwd: aliceDir });
    await must(alice, ['team', 'invite', 'bob@example.com', '--team', 'Acme']);
    await must(bob, ['team', 'accept', mailedCode(server.dataDir, 'bob@example.com', 'Invite code')]);
    await must(alice, ['team', 'confirm', 'bob@example.com', '--team', 'Acme', '--yes']);
    await must(alice, ['team', 'invite', 'carol@example.com', '--team', 'Acme']);
    await must(carol, ['team', 'accept', mailedCode(server.dataDir, 'carol@example.com', 'Invite code')]);
    await must(alice, ['team', 'confirm', 'carol@example.com', '--team', 'Acme', '--yes']);
    await must(alice, ['team', 'invite', 'dave@example.com', '--team', 'Acme']);
    await must(dave, ['team', 'accept', mailedCode(server.dataDir, 'dave@example.com', 'Invite code')]);
    await must(alice, ['team', 'confirm', 'dave@example.com', '--team', 'Acme', '--yes']);
    await must(alice, ['team', 'invite', 'erin@example.com', '--team', 'Acme']);
    await must(erin, ['team', 'accept', mailedCode(server.dataDir, 'erin@example.com', 'Invite code')]);
    await must(alice, ['team', 'confirm', 'erin@example.com', '--team', 'Acme', '--yes']);
    bobDir = path.join(tempDir('r14-bob-'), 'ws');
    await must(bob, ['clone', wsId, bobDir]);
    readToken = json(await must(carol, ['token', 'create', '--workspace', wsId, '--read-only', '--name', 'ci-pull', '--json'])).token;
  }, 180_000);
  afterAll(async () => {
    db?.close();
    await proxy?.close();
    await server?.stop();
  });

  it('a forged snapshot status accepted under a lie: pull refuses it once the member is confirmed, as without the record', async () => {
    // F: pushed with the read-only token (scope flipped by the compromised server)
    db.prepare("UPDATE access_tokens SET scope = 'write' WHERE name = 'ci-pull'").run();
    const atk = tempDir('r14-atk-');
    try {
      expect((await ciJob(server.url, readToken, ['clone', wsId, 'co'], atk)).code).toBe(0);
      writeFileSync(path.join(atk, 'co', 'forged.txt'), 'forged\n');
      const pushed = await ciJob(server.url, readToken, ['push', '-m', 'routine update'], path.join(atk, 'co'));
      expect(pushed.code, pushed.stderr).toBe(0);
    } finally {
      db.prepare("UPDATE access_tokens SET scope = 'read' WHERE name = 'ci-pull'").run();
    }
    // bob's status while the server lies: records head F as descending from his base
    lie = true;
    try {
      const st = await bob.run(['status'], { cwd: bobDir });
      expect(st.code, st.stderr).toBe(0);
    } finally {
      lie = false;
    }
    expect(existsSync(path.join(bobDir, '.insomnia-sync', 'verified-head'))).toBe(true);
    // alice (honest list) refuses F and, as the hint says, pushes her files over it: H, parent F
    const ap = await alice.run(['pull'], { cwd: aliceDir });
    expect(ap.code).toBe(7);
    writeFileSync(path.join(aliceDir, 'readme.txt'), 'hello again\n');
    await must(alice, ['push', '--force', '-m', 'over'], { cwd: aliceDir });
    // bob now records alice's real fingerprint: the server can no longer lie to him
    const carolFp = json(await must(carol, ['whoami', '--json'])).fingerprint;
    await must(bob, ['team', 'confirm', 'carol@example.com', '--team', 'Acme', '--fingerprint', carolFp]);

    const control = path.join(tempDir('r14-ctl-'), 'ws');
    cpSync(bobDir, control, { recursive: true });
    rmSync(path.join(control, '.insomnia-sync', 'verified-head'));
    const c = await bob.run(['pull'], { cwd: control });
    expect(c.code).toBe(7);
    const r = await bob.run(['pull'], { cwd: bobDir });
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toMatch(/signed by a key that belongs to no member/);
    expect(existsSync(path.join(bobDir, 'forged.txt'))).toBe(false);
  }, 180_000);

  it('forged content an honest member built on (his snapshot on top of it): pull refuses it too', async () => {
    const b2 = path.join(tempDir('r14-bob2-'), 'ws');
    await must(erin, ['clone', wsId, b2]);
    const daveDir = path.join(tempDir('r14-dave-'), 'ws');
    await must(dave, ['clone', wsId, daveDir]);
    db.prepare("UPDATE access_tokens SET scope = 'write' WHERE name = 'ci-pull'").run();
    const atk = tempDir('r14-atk2-');
    try {
      expect((await ciJob(server.url, readToken, ['clone', wsId, 'co'], atk)).code).toBe(0);
      writeFileSync(path.join(atk, 'co', 'forged2.txt'), 'forged\n');
      expect((await ciJob(server.url, readToken, ['push', '-m', 'routine update'], path.join(atk, 'co'))).code).toBe(0);
    } finally {
      db.prepare("UPDATE access_tokens SET scope = 'read' WHERE name = 'ci-pull'").run();
    }
    // erin, like bob before, has no record of carol's key while the server lies
    lie = true;
    try {
      const st = await erin.run(['status'], { cwd: b2 });
      expect(st.code, st.stderr).toBe(0);
      await must(dave, ['pull'], { cwd: daveDir });
      writeFileSync(path.join(daveDir, 'dave.txt'), 'dave\n');
      await must(dave, ['push', '-m', 'dave'], { cwd: daveDir });
    } finally {
      lie = false;
    }
    const carolFp = json(await must(carol, ['whoami', '--json'])).fingerprint;
    await must(erin, ['team', 'confirm', 'carol@example.com', '--team', 'Acme', '--fingerprint', carolFp]);
    const control = path.join(tempDir('r14-ctl2-'), 'ws');
    cpSync(b2, control, { recursive: true });
    rmSync(path.join(control, '.insomnia-sync', 'verified-head'), { force: true });
    const c = await erin.run(['pull'], { cwd: control });
    expect(c.code).toBe(7);
    const r = await erin.run(['pull'], { cwd: b2 });
    expect(r.code, r.stderr).toBe(7);
    expect(existsSync(path.join(b2, 'forged2.txt'))).toBe(false);
  }, 180_000);
});
