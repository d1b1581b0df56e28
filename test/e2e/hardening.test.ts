/**
 * End-to-end hardening with the real server process: rate limits seen by the CLI (exit 6 and a
 * hint), TLS with a self-signed certificate, SIGTERM draining an upload that is in flight, and the
 * `gc` operator command.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeFrames } from '../../src/protocol/blob-frames.js';
import { ROOT, machine, signupMachine, tempDir } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const servers: StartedServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.cleanup();
});

async function start(args: string[] = [], dataDir?: string): Promise<StartedServer> {
  const s = await startServer(dataDir ? { args, dataDir } : { args });
  servers.push(s);
  return s;
}

const b64 = (n: number): string => randomBytes(n).toString('base64url');
const hex = (n: number): string => randomBytes(n).toString('hex');

function request(url: string, opts: { method: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method, headers: opts.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** An account and workspace made over raw HTTP (the server checks shapes, not cryptography). */
async function rawAccount(url: string): Promise<{ token: string; workspaceId: string }> {
  const teamId = hex(16);
  const signup = await request(`${url}/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      userId: hex(16),
      email: `${hex(4)}@example.com`,
      name: 'Raw',
      kdf: { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1, salt: b64(16) },
      authKey: b64(32),
      keys: { wrappedAccountKey: b64(73), x25519PublicKey: b64(32), ed25519PublicKey: b64(32), wrappedX25519Secret: b64(73), wrappedEd25519Secret: b64(73) },
      personalTeam: { id: teamId, sealedTeamKey: b64(80) },
    }),
  });
  expect(signup.status).toBe(200);
  const token = (JSON.parse(signup.body) as { session: { token: string } }).session.token;
  const workspaceId = hex(16);
  const ws = await request(`${url}/v1/workspaces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ id: workspaceId, teamId, encryptedName: b64(40), key: { epoch: 1, wrappedKey: b64(73) } }),
  });
  expect(ws.status).toBe(200);
  return { token, workspaceId };
}

describe('rate limits', () => {
  it('a limited login answers 429; the CLI exits 6 with a wait-and-retry hint', async () => {
    const server = await start(['--rate-limit-login', '2,1000']);
    const m = machine(server.url);
    await signupMachine(m, 'limited@example.com'); // 1 of 2 for this account
    const ok = await m.run(['login', '--email', 'limited@example.com', '--password-stdin'], { input: 'wrong password here\n' });
    expect(ok.code).toBe(4); // 2 of 2: a wrong password, still answered
    const limited = await m.run(['login', '--email', 'limited@example.com', '--password-stdin'], { input: 'wrong password here\n' });
    expect(limited.code).toBe(6);
    expect(limited.stderr).toMatch(/too many attempts/);
    // the seconds left of the minute the count runs for, as the server's Retry-After names them
    expect(limited.stderr).toMatch(/wait \d+ seconds and try again/);
    // --json gives it its own code: a script can tell "wait" from "no server"
    const json = await m.run(['login', '--email', 'limited@example.com', '--password-stdin', '--json'], { input: 'wrong password here\n' });
    expect(json.code).toBe(6);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(/too many attempts/) } });
    // another account is not affected
    const other = machine(server.url);
    await signupMachine(other, 'other@example.com');
  }, 60_000);

  it('recovery-key creation checks a password proof, so wrong proofs are limited like password change and deletion', async () => {
    const server = await start(['--rate-limit-login', '2,1000']);
    const m = machine(server.url);
    await signupMachine(m, 'proof@example.com');
    const attempt = () => m.run(['account', 'recovery-key', '--password-stdin'], { input: 'wrong password here\n' });
    expect((await attempt()).code).toBe(4);
    expect((await attempt()).code).toBe(4);
    const limited = await attempt();
    expect(limited.code).toBe(6);
    expect(limited.stderr).toMatch(/too many attempts/);
  }, 60_000);
});

describe('TLS', () => {
  it('serves HTTPS with --tls-cert/--tls-key; the CLI connects when it trusts the certificate', async () => {
    const dir = tempDir('isync-tls-');
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    const server = await start(['--tls-cert', cert, '--tls-key', key]);
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const headers = await new Promise<http.IncomingHttpHeaders>((resolve, reject) => {
      https.get(`${server.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
        res.resume();
        resolve(res.headers);
      }).on('error', reject);
    });
    expect(headers['strict-transport-security']).toBe('max-age=31536000');
    expect(headers['x-content-type-options']).toBe('nosniff');

    const m = machine(server.url);
    const untrusted = await m.run(['signup', '--email', 'tls@example.com', '--name', 'tls', '--password-stdin'], { input: 'correct horse battery staple\n' });
    expect(untrusted.code).toBe(6);
    const trusted = await m.run(['signup', '--email', 'tls@example.com', '--name', 'tls', '--password-stdin', '--json'], {
      input: 'correct horse battery staple\n',
      env: { NODE_EXTRA_CA_CERTS: cert },
    });
    expect(trusted.code, trusted.stderr).toBe(0);
    const ws = tempDir('isync-tls-ws-');
    writeFileSync(path.join(ws, 'a.json'), '{"over":"tls"}');
    expect((await m.run(['init', '--name', 'TLS', '--json'], { cwd: ws, env: { NODE_EXTRA_CA_CERTS: cert } })).code).toBe(0);
    expect((await m.run(['push'], { cwd: ws, env: { NODE_EXTRA_CA_CERTS: cert } })).code).toBe(0);
  }, 60_000);

  it('refuses to start with only one of --tls-cert and --tls-key', async () => {
    await expect(startServer({ args: ['--tls-cert', path.join(ROOT, 'package.json')], timeoutMs: 10_000 })).rejects.toThrow(/--tls-cert and --tls-key go together/);
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM lets an upload in flight finish, refuses new work, and exits 0', async () => {
    const server = await start(['--shutdown-timeout', '20']);
    const { token, workspaceId } = await rawAccount(server.url);
    const frames = Array.from({ length: 8 }, () => ({ id: hex(32), data: new Uint8Array(randomBytes(1024 * 1024)) }));
    const body = Buffer.from(encodeFrames(frames));

    const exited = new Promise<{ code: number | null; at: number }>((resolve) => server.process.once('exit', (code) => resolve({ code, at: Date.now() })));
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${server.url}/v1/workspaces/${workspaceId}/blobs`,
        { method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length), authorization: `Bearer ${token}` } },
        (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (d: string) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      // half the body, then the signal, then the rest: the request is in flight when SIGTERM lands
      req.write(body.subarray(0, body.length / 2));
      setTimeout(() => {
        const signalled = Date.now();
        server.process.kill('SIGTERM');
        setTimeout(() => {
          req.end(body.subarray(body.length / 2));
          void exited.then(({ at }) => expect(at - signalled).toBeLessThan(20_000));
        }, 500);
      }, 300);
    });

    const res = await answer;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ stored: 8 });
    const { code } = await exited;
    expect(code).toBe(0);
    // new connections are refused once it is gone
    await expect(request(`${server.url}/healthz`, { method: 'GET' })).rejects.toThrow();
    // and what was uploaded during the drain is there after a restart
    const again = await start([], server.dataDir);
    const missing = await request(`${again.url}/v1/workspaces/${workspaceId}/blobs/missing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ ids: frames.map((f) => f.id) }),
    });
    expect(JSON.parse(missing.body)).toEqual({ missing: [] });
  }, 60_000);
});

describe('gc', () => {
  it('counts with --dry-run, then deletes only unreferenced blobs, while the server runs', async () => {
    const server = await start();
    const { token, workspaceId } = await rawAccount(server.url);
    const frames = Array.from({ length: 3 }, () => ({ id: hex(32), data: new Uint8Array(randomBytes(1000)) }));
    const put = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        `${server.url}/v1/workspaces/${workspaceId}/blobs`,
        { method: 'PUT', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(Buffer.from(encodeFrames(frames)));
    });
    expect(put).toBe(200);
    const gc = (args: string[]) =>
      new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'bin/insomnia-sync-server.js'), 'gc', '--data-dir', server.dataDir, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.on('exit', (code) => resolve({ code, stdout }));
      });
    // within the grace period nothing is touched
    expect(await gc(['--dry-run'])).toEqual({ code: 0, stdout: 'would delete 0 unreferenced blobs (0 bytes) in 0 workspaces; 0 ended sessions, 0 ended invitations\n' });
    await new Promise((r) => setTimeout(r, 1200));
    expect(await gc(['--dry-run', '--grace', '0.0003'])).toEqual({ code: 0, stdout: 'would delete 3 unreferenced blobs (3000 bytes) in 1 workspace; 0 ended sessions, 0 ended invitations\n' });
    expect(await gc(['--grace', '0.0003'])).toEqual({ code: 0, stdout: 'deleted 3 unreferenced blobs (3000 bytes) in 1 workspace; 0 ended sessions, 0 ended invitations\n' });
    const missing = await request(`${server.url}/v1/workspaces/${workspaceId}/blobs/missing`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ ids: frames.map((f) => f.id) }),
    });
    expect(JSON.parse(missing.body)).toEqual({ missing: frames.map((f) => f.id) });
  }, 60_000);
});

