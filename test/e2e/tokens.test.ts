/**
 * Access tokens end to end (SPEC §6): the real server and real CLI processes. A "CI job" runs with
 * a fresh HOME and an environment holding nothing but PATH, INSOMNIA_SYNC_SERVER and
 * INSOMNIA_SYNC_TOKEN: it clones and pushes, and a logged-in machine pulls and verifies its
 * token-signed snapshot. Also: read-only refusal, revoke, expiry, a token on the wrong workspace,
 * tampered tokens, a token after a key rotation, and no token secret in the server's data folder.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ciJob, ROOT, machine, runCli, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.js';
import { mailedCode } from '../helpers/outbox.js';

const MARKER = 'TOKEN-E2E-MARKER-51c0';

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), content);
  }
}

function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.insomnia-sync') continue;
      if (e.isDirectory()) walk(r);
      else out[r] = readFileSync(path.join(root, r), 'utf8');
    }
  };
  walk('');
  return out;
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

const json = <T = any>(text: string): T => JSON.parse(text) as T;

const ci = ciJob;

/** The token's binary layout (src/client/access-token.ts), to tamper with it and to look for its parts. */
function tokenParts(token: string) {
  const bytes = Buffer.from(token.slice('isync_'.length), 'base64url');
  return { bytes, secret: bytes.subarray(33, 65), tokenKey: bytes.subarray(65, 97), signing: bytes.subarray(97, 129) };
}

function withChecksum(bytes: Buffer): string {
  const body = bytes.subarray(0, bytes.length - 4);
  const out = Buffer.concat([body, createHash('sha256').update(body).digest().subarray(0, 4)]);
  return 'isync_' + out.toString('base64url');
}

describe('access tokens, end to end', () => {
  let server: StartedServer;
  let alice: Machine;
  let wsA: string;
  let wsB: string;
  let idA: string;
  let idB: string;
  const tokens: string[] = [];

  async function createToken(args: string[]): Promise<{ token: string; id: string; scope: string; expiresAt: string | null }> {
    const res = await alice.run(['token', 'create', ...args, '--json']);
    expect(res.code, res.stderr).toBe(0);
    const out = json(res.stdout);
    tokens.push(out.token);
    return out;
  }

  beforeAll(async () => {
    server = await startServer();
    alice = machine(server.url);
    await signupMachine(alice, 'alice@example.com');
    wsA = tempDir('isync-tok-a-');
    writeTree(wsA, { 'collections/api.json': JSON.stringify({ token: MARKER }), 'env/dev.json': '{"url":"http://dev"}' });
    const initA = await alice.run(['init', '--name', 'proj-a', '--json'], { cwd: wsA });
    expect(initA.code, initA.stderr).toBe(0);
    idA = json(initA.stdout).id;
    expect((await alice.run(['push', '-m', 'first'], { cwd: wsA })).code).toBe(0);
    wsB = tempDir('isync-tok-b-');
    writeTree(wsB, { 'b.json': '{"b":true}' });
    const initB = await alice.run(['init', '--name', 'proj-b', '--json'], { cwd: wsB });
    expect(initB.code, initB.stderr).toBe(0);
    idB = json(initB.stdout).id;
    expect((await alice.run(['push', '-m', 'b'], { cwd: wsB })).code).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('a fresh CI-like run clones and pushes with only INSOMNIA_SYNC_SERVER and INSOMNIA_SYNC_TOKEN; a member pulls and verifies it', async () => {
    const { token, scope } = await createToken(['--workspace', 'proj-a', '--name', 'ci-write', '--expires', '30d']);
    expect(scope).toBe('write');
    expect(token).toMatch(/^isync_[A-Za-z0-9_-]+$/);
    const work = tempDir('isync-ci-work-');
    const cloned = await ci(server.url, token, ['clone', 'proj-a', 'checkout'], work);
    expect(cloned.code, cloned.stderr).toBe(0);
    const dir = path.join(work, 'checkout');
    expect(readTree(dir)).toEqual(readTree(wsA));

    writeFileSync(path.join(dir, 'generated.json'), '{"built":"by CI"}');
    writeFileSync(path.join(dir, 'env/dev.json'), '{"url":"http://dev2"}');
    const status = await ci(server.url, token, ['status', '--json'], dir, cloned.home);
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout).changes.map((c: { path: string }) => c.path).sort()).toEqual(['env/dev.json', 'generated.json']);
    const pushed = await ci(server.url, token, ['push', '-m', 'from CI', '--json'], dir, cloned.home);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(json(pushed.stdout).snapshot).toMatch(/^[0-9a-f]{64}$/);
    // nothing was written outside the folder: no config, no session
    expect(filesUnder(cloned.home)).toEqual([]);

    const log = await ci(server.url, token, ['log', '--json'], dir, cloned.home);
    expect(log.code, log.stderr).toBe(0);
    expect(json(log.stdout).snapshots[0]).toMatchObject({ message: 'from CI', author: { name: 'token ci-write', email: 'alice@example.com' } });

    const pulled = await alice.run(['pull', '--json'], { cwd: wsA });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(wsA, 'generated.json'), 'utf8')).toBe('{"built":"by CI"}');
    const verify = await alice.run(['verify', '--json'], { cwd: wsA });
    expect(verify.code, verify.stderr).toBe(0);
    expect(json(verify.stdout).snapshots).toBe(2);
    const verifyByToken = await ci(server.url, token, ['verify', '--workspace', 'proj-a', '--json'], work);
    expect(verifyByToken.code, verifyByToken.stderr).toBe(0);
  });

  it('a read-only token clones and pulls but cannot push (exit 4), and the remote is unchanged', async () => {
    const { token } = await createToken(['--workspace', idA, '--read-only', '--name', 'ci-read']);
    const work = tempDir('isync-ci-ro-');
    const cloned = await ci(server.url, token, ['clone', idA, 'ro'], work);
    expect(cloned.code, cloned.stderr).toBe(0);
    const dir = path.join(work, 'ro');
    writeFileSync(path.join(wsA, 'later.json'), '{"later":1}');
    expect((await alice.run(['push', '-m', 'later'], { cwd: wsA })).code).toBe(0);
    const pulled = await ci(server.url, token, ['pull', '--json'], dir);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'later.json'), 'utf8')).toBe('{"later":1}');

    const before = json((await alice.run(['log', '--json'], { cwd: wsA })).stdout).snapshots[0].id;
    writeFileSync(path.join(dir, 'evil.json'), '{}');
    const pushed = await ci(server.url, token, ['push', '--json'], dir);
    expect(pushed.code).toBe(4);
    expect(json(pushed.stderr).error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/read-only/) });
    expect(json((await alice.run(['log', '--json'], { cwd: wsA })).stdout).snapshots[0].id).toBe(before);
  });

  it('a read-only token pushing after the remote moved is refused as read-only (exit 4), not as a conflict (exit 3)', async () => {
    const { token } = await createToken(['--workspace', idA, '--read-only', '--name', 'ci-read-moved']);
    const work = tempDir('isync-ci-ro-moved-');
    expect((await ci(server.url, token, ['clone', idA, 'ro'], work)).code).toBe(0);
    const dir = path.join(work, 'ro');
    writeFileSync(path.join(wsA, 'moved.json'), '{"moved":1}');
    expect((await alice.run(['push', '-m', 'moved'], { cwd: wsA })).code).toBe(0);
    writeFileSync(path.join(dir, 'evil.json'), '{}');
    const pushed = await ci(server.url, token, ['push', '--json'], dir);
    expect(pushed.code, pushed.stderr).toBe(4);
    expect(json(pushed.stderr).error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/read-only/) });
    expect(pushed.stderr).not.toMatch(/--force/);
    const human = await ci(server.url, token, ['push', '--force'], dir);
    expect(human.code).toBe(4);
  });

  it('a token for workspace A is refused on workspace B (exit 4), by id and by name', async () => {
    const { token } = await createToken(['--workspace', 'proj-a', '--name', 'only-a']);
    const work = tempDir('isync-ci-ab-');
    const byId = await ci(server.url, token, ['clone', idB, 'b', '--json'], work);
    expect(byId.code).toBe(4);
    expect(json(byId.stderr).error.message).toMatch(/another workspace/);
    const byName = await ci(server.url, token, ['clone', 'proj-b', 'b2'], work);
    expect(byName.code).toBe(4);
    expect(byName.stderr).toMatch(/proj-a/);
    // a folder linked to B, used with A's token
    const linkedB = await ci(server.url, token, ['pull'], wsB);
    expect(linkedB.code).toBe(4);
  });

  it('--workspace takes the id, a unique id prefix of 4 or more characters, or the name, with a session or a token; shorter or ambiguous is exit 2', async () => {
    const n = idA.slice(0, 4) === idB.slice(0, 4) ? 8 : 4; // unique at 4 but for 1 in 65,536 runs
    const verified = await alice.run(['verify', '--workspace', idA.slice(0, n).toUpperCase(), '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(json(verified.stdout).workspaceId).toBe(idA);
    const { token } = await createToken(['--workspace', idA.slice(0, n), '--read-only', '--name', 'by-prefix']);
    const work = tempDir('isync-ci-prefix-');
    const byToken = await ci(server.url, token, ['verify', '--workspace', idA.slice(0, n), '--json'], work);
    expect(byToken.code, byToken.stderr).toBe(0);

    for (const run of [() => alice.run(['verify', '--workspace', idA.slice(0, 3)]), () => ci(server.url, token, ['verify', '--workspace', idA.slice(0, 3)], work)]) {
      const short = await run();
      expect(short.code, short.stderr).toBe(2);
      expect(short.stderr.split('\n')[0]).toBe(`error: workspace id prefix ${idA.slice(0, 3)} is too short: give at least 4 characters`);
    }

    // a workspace named like the start of another's id takes neither
    const decoy = tempDir('isync-tok-decoy-');
    const init = await alice.run(['init', '--name', idB.slice(0, 4), '--json'], { cwd: decoy });
    expect(init.code, init.stderr).toBe(0);
    try {
      const ambiguous = await alice.run(['token', 'create', '--workspace', idB.slice(0, 4), '--json']);
      expect(ambiguous.code).toBe(2);
      expect(json(ambiguous.stderr).error.message).toBe(`${idB.slice(0, 4)} is both a workspace's name and the start of another's id`);
    } finally {
      expect((await alice.run(['workspace', 'delete', json(init.stdout).id, '--yes'])).code).toBe(0);
    }
  });

  it('a token pasted as an argument is never echoed back whole', async () => {
    const { token } = await createToken(['--workspace', 'proj-a', '--name', 'pasted']);
    const { secret } = tokenParts(token);
    const work = tempDir('isync-ci-pasted-');
    const results = [
      await ci(server.url, token, ['clone', token, 'dir'], work),
      await ci(server.url, token, ['clone', token, 'dir', '--json'], work),
      await ci(server.url, token, [token], work),
      await ci(server.url, token, [token, '--json'], work),
      await alice.run(['clone', token, path.join(work, 'as-alice')]),
    ];
    for (const r of results) {
      expect(r.code, r.stderr).not.toBe(0);
      for (const text of [r.stdout, r.stderr]) {
        expect(text).not.toContain(token);
        expect(text).not.toContain(token.slice(0, 24));
        expect(text).not.toContain(secret.toString('base64url'));
      }
    }
    expect(results[0]!.code).toBe(2);
    expect(results[0]!.stderr).toMatch(/isync_… is an access token, not a workspace/);
    expect(results[2]!.code).toBe(2);
    expect(results[2]!.stderr).toMatch(/unknown command 'isync_…'/);
    expect(results[2]!.stderr).toMatch(/INSOMNIA_SYNC_TOKEN/);
  });

  it('every command the docs list for tokens works with one: restore and export too; help names them and the units', async () => {
    const { token } = await createToken(['--workspace', 'proj-a', '--read-only', '--name', 'ci-docs']);
    const work = tempDir('isync-ci-docs-');
    expect((await ci(server.url, token, ['clone', idA, 'dir'], work)).code).toBe(0);
    const dir = path.join(work, 'dir');
    const head = json((await ci(server.url, token, ['log', '--json'], dir)).stdout).snapshots[0].id as string;
    const restored = await ci(server.url, token, ['restore', head, '--to', path.join(work, 'restored')], dir);
    expect(restored.code, restored.stderr).toBe(0);
    const exported = await ci(server.url, token, ['export', '--out', path.join(work, 'export.tar.gz')], dir);
    expect(exported.code, exported.stderr).toBe(0);
    for (const cmd of ['status', 'verify']) expect((await ci(server.url, token, [cmd], dir)).code).toBe(0);

    const listed = ['clone', 'pull', 'push', 'status', 'log', 'restore', 'export', 'verify'];
    const help = (await alice.run(['token', '--help'])).stdout.replace(/\s+/g, ' ');
    expect(help).toContain(listed.join(' | '));
    expect((await alice.run(['token', 'create', '--help'])).stdout).toMatch(/45s/);
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const man = readFileSync(path.join(ROOT, 'man', 'insomnia-sync.1'), 'utf8');
    for (const cmd of listed) {
      expect(/With `INSOMNIA_SYNC_TOKEN`[^]*?use the token/.exec(readme)![0]).toContain(`\`${cmd}\``);
      expect(/\.SS Access tokens[^]*?act as the token/.exec(man)![0]).toContain(`\\fB${cmd}\\fR`);
    }
  });

  it('tampered tokens are refused with exit 4: a changed character, and a changed secret with a fixed checksum', async () => {
    const { token } = await createToken(['--workspace', 'proj-a', '--name', 'tamper']);
    const work = tempDir('isync-ci-tamper-');
    const i = 40;
    const typo = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    const res1 = await ci(server.url, typo, ['clone', 'proj-a', 'x'], work);
    expect(res1.code).toBe(4);
    expect(res1.stderr).toContain('INSOMNIA_SYNC_TOKEN is not a valid token');
    const truncated = await ci(server.url, token.slice(0, -3), ['clone', 'proj-a', 'y'], work);
    expect(truncated.code).toBe(4);

    const { bytes } = tokenParts(token);
    const forged = Buffer.from(bytes);
    forged[40]! ^= 0xff; // inside the secret
    const res2 = await ci(server.url, withChecksum(forged), ['clone', 'proj-a', 'z', '--json'], work);
    expect(res2.code).toBe(4);
    expect(json(res2.stderr).error.code).toBe('unauthorized');
    expect(existsSync(path.join(work, 'z', 'collections'))).toBe(false);
  });

  it('token list shows id, name, scope, workspace, created, last used and expiry, never a secret', async () => {
    const res = await alice.run(['token', 'list', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const list = json(res.stdout).tokens as Record<string, unknown>[];
    const ciWrite = list.find((t) => t.name === 'ci-write')!;
    expect(ciWrite).toMatchObject({ scope: 'write', workspace: 'proj-a', workspaceId: idA, status: 'active', createdBy: 'alice@example.com' });
    expect(ciWrite.lastUsedAt).toEqual(expect.any(String));
    expect(ciWrite.expiresAt).toEqual(expect.any(String));
    expect(list.find((t) => t.name === 'ci-read')!.scope).toBe('read');
    const human = await alice.run(['token', 'list', '--workspace', 'proj-a']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/ID\s+NAME\s+SCOPE\s+WORKSPACE\s+CREATED \(UTC\)\s+LAST USED \(UTC\)\s+EXPIRES \(UTC\)/);
    expect(human.stdout).toMatch(/ci-read\s+read-only\s+proj-a/);
    for (const t of tokens) {
      const { secret, tokenKey } = tokenParts(t);
      for (const out of [res.stdout, human.stdout]) {
        expect(out).not.toContain(t);
        expect(out).not.toContain(secret.toString('base64url'));
        expect(out).not.toContain(tokenKey.toString('base64url'));
      }
    }
  });

  it('revoke takes effect on the next request', async () => {
    const { token, id } = await createToken(['--workspace', 'proj-a', '--name', 'to-revoke']);
    const work = tempDir('isync-ci-rev-');
    const cloned = await ci(server.url, token, ['clone', 'proj-a', 'r'], work);
    expect(cloned.code, cloned.stderr).toBe(0);
    const revoked = await alice.run(['token', 'revoke', id.slice(0, 8), '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(json(revoked.stdout)).toMatchObject({ id, status: 'revoked' });
    const pulled = await ci(server.url, token, ['pull', '--json'], path.join(work, 'r'));
    expect(pulled.code).toBe(4);
    expect(json(pulled.stderr).error.message).toMatch(/revoked/);
  });

  it('an expired token is refused (exit 4)', async () => {
    const { token, expiresAt } = await createToken(['--workspace', 'proj-a', '--name', 'short', '--expires', '6s']);
    const work = tempDir('isync-ci-exp-');
    const cloned = await ci(server.url, token, ['clone', 'proj-a', 'e'], work);
    expect(cloned.code, cloned.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(expiresAt!) - Date.now()) + 300));
    const pulled = await ci(server.url, token, ['pull'], path.join(work, 'e'));
    expect(pulled.code).toBe(4);
    expect(pulled.stderr).toMatch(/expired/);
  });

  it('bad usage is exit 2 and creates nothing: a bad duration, --quiet hiding the token', async () => {
    const before = json((await alice.run(['token', 'list', '--json'])).stdout).tokens.length;
    expect((await alice.run(['token', 'create', '--workspace', 'proj-a', '--expires', '3 days'])).code).toBe(2);
    expect((await alice.run(['token', 'create', '--workspace', 'proj-a', '--quiet'])).code).toBe(2);
    expect(json((await alice.run(['token', 'list', '--json'])).stdout).tokens.length).toBe(before);
    // token commands need a login: a token alone cannot make tokens
    const { token } = await createToken(['--workspace', 'proj-a', '--name', 'no-mint']);
    const minted = await ci(server.url, token, ['token', 'create', '--workspace', 'proj-a'], tempDir());
    expect(minted.code).toBe(4);
  });

  it("CI hints: an empty INSOMNIA_SYNC_TOKEN (a secret a fork's job does not get) is named; export --encrypt names its passphrase variable", async () => {
    const work = tempDir('isync-ci-empty-');
    const empty = await ci(server.url, '', ['clone', idA, 'dir'], work);
    expect(empty.code).toBe(4);
    expect(empty.stderr).toMatch(/^error: not logged in, and INSOMNIA_SYNC_TOKEN is set but empty$/m);
    expect(empty.stderr).toMatch(/forks get none/);
    expect(existsSync(path.join(work, 'dir'))).toBe(false);
    // unset, it is the plain "not logged in"
    const unset = await runCli(['clone', idA, 'dir2'], { cwd: work, env: { INSOMNIA_SYNC_CONFIG_DIR: tempDir(), INSOMNIA_SYNC_SERVER: server.url, INSOMNIA_SYNC_TOKEN: undefined } });
    expect(unset.code).toBe(4);
    expect(unset.stderr).toMatch(/^error: not logged in$/m);
    // no terminal, no passphrase: the hint names the variable CI can set
    const { token } = await createToken(['--workspace', 'proj-a', '--read-only', '--name', 'ci-encrypt']);
    const exported = await ci(server.url, token, ['export', '--workspace', idA, '--encrypt', '--out', path.join(work, 'a.tar.gz.age')], work);
    expect(exported.code, exported.stderr).toBe(2);
    expect(exported.stderr).toMatch(/or set INSOMNIA_SYNC_EXPORT_PASSPHRASE/);
    expect(existsSync(path.join(work, 'a.tar.gz.age'))).toBe(false);
    // and export --workspace takes the token's workspace without a clone first, as verify --workspace does
    const plain = await ci(server.url, token, ['export', '--workspace', 'proj-a', '--out', path.join(work, 'a.tar.gz')], work);
    expect(plain.code, plain.stderr).toBe(0);
    expect(existsSync(path.join(work, 'a.tar.gz'))).toBe(true);
  });

  it('after a key rotation the token fails with a hint to re-issue it, while members keep working', async () => {
    const { token } = await createToken(['--workspace', 'proj-b', '--name', 'pre-rotation']);
    const work = tempDir('isync-ci-rot-');
    const cloned = await ci(server.url, token, ['clone', 'proj-b', 'rb'], work);
    expect(cloned.code, cloned.stderr).toBe(0);
    // Teams cannot rotate keys yet: stand in for a rotation with a newer epoch on the workspace.
    const db = new Database(path.join(server.dataDir, 'sync.db'));
    db.prepare('INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) VALUES (?, 2, ?)').run(idB, 'AQ'.repeat(40));
    db.close();
    const pulled = await ci(server.url, token, ['pull'], path.join(work, 'rb'));
    expect(pulled.code).toBe(4);
    expect(pulled.stderr).toMatch(/predates a key rotation/);
    expect(pulled.stderr).toMatch(/insomnia-sync token create/);
    expect((await alice.run(['status'], { cwd: wsB })).code).toBe(0);
  });

  it('no token, secret, token key or signing key reaches the server data folder or its log', async () => {
    await server.stop();
    const files = filesUnder(server.dataDir);
    expect(files.some((f) => f.endsWith('sync.db'))).toBe(true);
    expect(files).toContain(server.logFile);
    expect(readFileSync(server.logFile, 'utf8')).toMatch(/\/v1\/workspaces\/[0-9a-f]{32}\/blobs/);
    expect(tokens.length).toBeGreaterThanOrEqual(8);
    const needles: Buffer[] = [Buffer.from(MARKER), Buffer.from('isync-token.'), Buffer.from('isync_')];
    for (const t of tokens) {
      const { secret, tokenKey, signing } = tokenParts(t);
      needles.push(Buffer.from(t), Buffer.from(t.slice(6, 40)));
      for (const part of [secret, tokenKey, signing]) needles.push(Buffer.from(part), Buffer.from(part.toString('base64url')), Buffer.from(part.toString('hex')));
    }
    for (const file of files) {
      const content = readFileSync(file);
      for (const needle of needles) expect(content.includes(needle), `${needle.toString('utf8').slice(0, 20)}… in ${file}`).toBe(false);
    }
  });
});

/**
 * A CI write token made while dave was a member, in dave's hands after his removal rotated the
 * team key. His own tooling sits between the stock CLI and the server: it hides the newer keys
 * from the token client and drops the `?epoch=` a push names, so the CLI's own refusal is out of
 * the way and only the server, then the members' clients, stand between him and the workspace.
 */
describe('a token made before a key rotation, in the hands of the member removed by it', () => {
  let server: StartedServer;
  let db: Database.Database;
  let owner: Machine;
  let ownerDir: string;
  let wsId: string;
  let token: string;
  let ciDir: string;
  let firstHead: string;

  const must = async (m: Machine, args: string[], opts: { cwd?: string } = {}): Promise<string> => {
    const res = await m.run(args, opts);
    expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0);
    return res.stdout;
  };

  /** dave's proxy: the workspace as the token held it (no newer key), and pushes naming no epoch (or `epoch`) */
  async function davesProxy(epoch?: number): Promise<RecordingProxy> {
    return startRecordingProxy(
      server.url,
      (method, url, body) => {
        if (method !== 'GET' || !/^\/v1\/workspaces\/[0-9a-f]{32}$/.test(url)) return null;
        const ws = json(body.toString('utf8'));
        if (!ws.tokenKeys) return null;
        const held = Math.min(...ws.tokenKeys.map((k: { epoch: number }) => k.epoch));
        ws.keys = ws.keys.filter((k: { epoch: number }) => k.epoch <= held);
        ws.tokenKeys = ws.tokenKeys.filter((k: { epoch: number }) => k.epoch <= held);
        return Buffer.from(JSON.stringify(ws));
      },
      (_method, url) => url.replace(/\?epoch=\d+$/, epoch === undefined ? '' : `?epoch=${epoch}`),
    );
  }

  const head = (): string => db.prepare('SELECT head FROM workspaces WHERE id = ?').pluck().get(wsId) as string;

  /**
   * The CI folder as if it had been cloned through dave's proxy: its link names the proxy, and a
   * linked folder's commands go to the server in its link (INSOMNIA_SYNC_SERVER does not redirect
   * them). Returns the undo.
   */
  const linkThrough = (proxy: RecordingProxy): (() => void) => {
    const file = path.join(ciDir, '.insomnia-sync', 'link.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, JSON.stringify({ ...json(original), server: proxy.url }, null, 2) + '\n');
    return () => writeFileSync(file, original);
  };

  beforeAll(async () => {
    server = await startServer();
    db = new Database(path.join(server.dataDir, 'sync.db'));
    db.pragma('busy_timeout = 5000');
    owner = machine(server.url);
    const dave = machine(server.url);
    await Promise.all([signupMachine(owner, 'owner@example.com'), signupMachine(dave, 'dave@example.com')]);
    await must(owner, ['account', 'verify', mailedCode(server.dataDir, 'owner@example.com', 'Verification code')]);
    await must(owner, ['team', 'create', 'Acme']);
    ownerDir = tempDir('isync-stale-owner-');
    writeTree(ownerDir, { 'x.json': '{"x":1}' });
    wsId = json(await must(owner, ['init', '--team', 'Acme', '--name', 'api', '--json'], { cwd: ownerDir })).id;
    await must(owner, ['push', '-m', 'first'], { cwd: ownerDir });
    firstHead = head();
    await must(owner, ['team', 'invite', 'dave@example.com', '--team', 'Acme']);
    await must(dave, ['team', 'accept', mailedCode(server.dataDir, 'dave@example.com', 'Invite code')]);
    await must(owner, ['team', 'confirm', 'dave@example.com', '--team', 'Acme', '--yes']);
    // the CI job dave helped set up: a write token, and a clone made with it
    token = json(await must(owner, ['token', 'create', '--workspace', wsId, '--name', 'ci', '--json'])).token;
    const work = tempDir('isync-stale-ci-');
    const cloned = await ci(server.url, token, ['clone', wsId, 'co'], work);
    expect(cloned.code, cloned.stderr).toBe(0);
    ciDir = path.join(work, 'co');
    // dave is removed: the team key rotates, and the token is stale from now on
    await must(owner, ['team', 'remove', 'dave@example.com', '--team', 'Acme', '--yes']);
  }, 180_000);

  afterAll(async () => {
    db?.close();
    await server?.stop();
  });

  it('the server refuses it (exit 4) for reads and writes, even with the new key hidden and no ?epoch=; the head stays', async () => {
    const proxy = await davesProxy();
    const unlink = linkThrough(proxy);
    try {
      writeFileSync(path.join(ciDir, 'x.json'), '{"x":"INJECTED BY THE REMOVED MEMBER"}');
      const pushed = await ci(proxy.url, token, ['push', '-m', 'looks like CI'], ciDir);
      expect(pushed.code, pushed.stderr).toBe(4);
      expect(pushed.stderr).toMatch(/predates a key rotation/);
      const cloned = await ci(proxy.url, token, ['clone', wsId, 'again'], tempDir('isync-stale-ci2-'));
      expect(cloned.code, cloned.stderr).toBe(4);
      // both went through the proxy
      expect(proxy.responses.filter((r) => r.method === 'GET' && r.url === `/v1/workspaces/${wsId}`)).toHaveLength(2);
    } finally {
      unlink();
      await proxy.close();
    }
    expect(head()).toBe(firstHead);
    // and the routes themselves, called by hand
    const bytes = Buffer.from(token.slice('isync_'.length), 'base64url');
    const auth = { authorization: `Bearer isync-token.${bytes.subarray(1, 17).toString('hex')}.${bytes.subarray(33, 65).toString('base64url')}` };
    expect((await fetch(`${server.url}/v1/workspaces/${wsId}`, { headers: auth })).status).toBe(401);
    expect((await fetch(`${server.url}/v1/workspaces/${wsId}/snapshots`, { headers: auth })).status).toBe(401);
    const data = Buffer.alloc(200, 7);
    const post = await fetch(`${server.url}/v1/workspaces/${wsId}/snapshots`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: createHash('sha256').update(data).digest('hex'), parent: firstHead, data: data.toString('base64url'), blobIds: [] }),
    });
    expect(post.status).toBe(401);
    expect(head()).toBe(firstHead);
    const pulled = await owner.run(['pull'], { cwd: ownerDir });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(path.join(ownerDir, 'x.json'), 'utf8')).toBe('{"x":1}');
    expect(json(await must(owner, ['token', 'list', '--json'])).tokens[0]).toMatchObject({ name: 'ci', status: 'stale', staleBecause: 'key-rotated' });
  }, 60_000);

  it("a server that lets it in anyway: the owner's machine, which saw the rotation, refuses the snapshot (exit 7) and keeps its files", async () => {
    // The server plays along: it lists a key of the new epoch for the token, so it passes the check,
    // and the push claims the new epoch, so it passes that one too.
    const tokenId = Buffer.from(token.slice('isync_'.length), 'base64url').subarray(1, 17).toString('hex');
    const epoch = db.prepare('SELECT max(epoch) FROM workspace_keys WHERE workspace_id = ?').pluck().get(wsId) as number;
    expect(epoch).toBe(2);
    db.prepare('INSERT INTO access_token_keys (token_id, epoch, wrapped_key) VALUES (?, ?, ?)').run(tokenId, epoch, 'AQ'.repeat(40));
    const proxy = await davesProxy(epoch);
    const unlink = linkThrough(proxy);
    try {
      writeFileSync(path.join(ciDir, 'x.json'), '{"x":"INJECTED BY THE REMOVED MEMBER"}');
      const pushed = await ci(proxy.url, token, ['push', '-m', 'looks like CI'], ciDir);
      expect(pushed.code, pushed.stderr).toBe(0);
    } finally {
      unlink();
      await proxy.close();
      db.prepare('DELETE FROM access_token_keys WHERE token_id = ? AND epoch = ?').run(tokenId, epoch);
    }
    expect(head()).not.toBe(firstHead);

    const pulled = await owner.run(['pull'], { cwd: ownerDir });
    expect(pulled.code, pulled.stderr).toBe(7);
    expect(pulled.stderr).toMatch(/under key epoch 1, but this machine saw the workspace at epoch 2/);
    expect(readFileSync(path.join(ownerDir, 'x.json'), 'utf8')).toBe('{"x":1}');
    expect((await owner.run(['log'], { cwd: ownerDir })).code).toBe(7);
    expect((await owner.run(['verify'], { cwd: ownerDir })).code).toBe(7);
    const cloneDir = path.join(tempDir('isync-stale-clone-'), 'ws');
    expect((await owner.run(['clone', wsId, cloneDir])).code).toBe(7);
  }, 60_000);
});
