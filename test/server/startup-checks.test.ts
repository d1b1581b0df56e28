/**
 * What the real server process says when it starts or stops in a way an operator should hear
 * about: plain HTTP beyond loopback, TLS files given the wrong way round or readable by others, a
 * --log-file it cannot open, and a shutdown that had to cut requests off. Each is one line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeSignupBody } from '../helpers/fake-signup.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { runServerCommand, startServer, type StartedServer } from '../helpers/server-process.js';

let server: StartedServer | undefined;
afterEach(async () => {
  await server?.cleanup();
  server = undefined;
});

async function waitFor(check: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

const warnings = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes('warning:'));

function selfSigned(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
    { stdio: 'ignore' },
  );
  chmodSync(key, 0o600);
  return { cert, key };
}

/** The error startServer rejects with: the server exited before listening, with its stderr. */
async function startFailure(args: string[], withoutReadOverride = false): Promise<string> {
  try {
    server = await startServer({ args, timeoutMs: 10_000, withoutReadOverride });
  } catch (err) {
    return String(err);
  }
  throw new Error(`the server started (${server.url}) although it should not have`);
}

/** The lines the server wrote to stderr in the error startServer reported. */
const stderrLines = (failure: string): string[] =>
  failure
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '');

describe('listening beyond loopback', () => {
  it('without TLS, warns once that logins and tokens travel in clear, naming a TLS proxy as the alternative', async () => {
    server = await startServer({ args: ['--host', '0.0.0.0'] });
    await waitFor(() => warnings(server!.stderr()).length > 0);
    const lines = warnings(server.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^insomnia-sync-server: warning: listening on 0\.0\.0\.0 .*plain HTTP.*--tls-cert.*TLS-terminating/);
  });

  it('behind a proxy --trust-proxy names, one note that the proxy must terminate TLS, no warning', async () => {
    server = await startServer({ args: ['--host', '0.0.0.0', '--trust-proxy', '10.0.0.2'] });
    await waitFor(() => server!.stderr().includes('note:'));
    expect(warnings(server.stderr())).toEqual([]);
    const notes = server.stderr().split('\n').filter((l) => l.includes('note:'));
    expect(notes).toEqual(['insomnia-sync-server: note: plain HTTP on 0.0.0.0 behind the proxy --trust-proxy names: it must terminate TLS']);
  });

  it('on loopback, or with TLS, says nothing', async () => {
    server = await startServer();
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings(server.stderr())).toEqual([]);
    await server.cleanup();
    const { cert, key } = selfSigned(tempDir('isync-tls-'));
    server = await startServer({ args: ['--host', '0.0.0.0', '--tls-cert', cert, '--tls-key', key] });
    await new Promise((r) => setTimeout(r, 300));
    expect(warnings(server.stderr())).toEqual([]);
  });
});

describe('TLS files', () => {
  it('swapped --tls-cert and --tls-key: one line naming the flag and the file', async () => {
    const { cert, key } = selfSigned(tempDir('isync-tls-'));
    const failure = await startFailure(['--tls-cert', key, '--tls-key', cert]);
    const lines = stderrLines(failure);
    expect(lines, failure).toHaveLength(1);
    expect(lines[0]).toMatch(/^insomnia-sync-server: --tls-cert: .*key\.pem.* (is not|holds no) .*certificate/);
    expect(failure).not.toMatch(/PEM routines|0480006C/);
  });

  it('a key that does not belong to the certificate: one line naming both files', async () => {
    const one = selfSigned(tempDir('isync-tls-'));
    const other = selfSigned(tempDir('isync-tls-'));
    const failure = await startFailure(['--tls-cert', one.cert, '--tls-key', other.key]);
    const lines = stderrLines(failure);
    expect(lines, failure).toHaveLength(1);
    expect(lines[0]).toMatch(/^insomnia-sync-server: --tls-key: .* does not match the certificate in .*cert\.pem/);
  });

  it('a key file others can read: starts, with one warning like ssh', async () => {
    const { cert, key } = selfSigned(tempDir('isync-tls-'));
    chmodSync(key, 0o644);
    server = await startServer({ args: ['--tls-cert', cert, '--tls-key', key] });
    expect(server.url).toMatch(/^https:/);
    await waitFor(() => warnings(server!.stderr()).length > 0);
    const lines = warnings(server.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^insomnia-sync-server: warning: --tls-key .*key\.pem is readable by every user \(mode 0644\); chmod 600 /);
  });
});

describe('--log-file', () => {
  it('a directory: one line naming the flag, exit 1, before it listens', async () => {
    const dir = tempDir('isync-logdir-');
    mkdirSync(path.join(dir, 'sub'));
    const failure = await startFailure(['--log-file', path.join(dir, 'sub')]);
    expect(failure).toMatch(/code 1,/);
    expect(failure).not.toMatch(/listening on/);
    const lines = stderrLines(failure);
    expect(lines, failure).toHaveLength(1);
    expect(lines[0]).toMatch(/^insomnia-sync-server: --log-file: cannot open .*sub .*EISDIR/);
  });
});

describe('--shutdown-timeout', () => {
  it('running out logs one line with the number of requests cut off, then exits 1', async () => {
    server = await startServer({ args: ['--shutdown-timeout', '1', '--upload-stall-timeout', '0'] });
    const teamId = randomBytes(16).toString('hex');
    const signup = await fetch(`${server.url}/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fakeSignupBody({ teamId })) });
    const token = ((await signup.json()) as { session: { token: string } }).session.token;
    const workspaceId = randomBytes(16).toString('hex');
    const ws = await fetch(`${server.url}/v1/workspaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ id: workspaceId, teamId, encryptedName: randomBytes(40).toString('base64url'), key: { epoch: 1, wrappedKey: randomBytes(73).toString('base64url') } }),
    });
    expect(ws.status).toBe(200);
    // two uploads that send half their body and then nothing
    const u = new URL(server.url);
    const stuck = [0, 1].map(() => {
      const req = http.request({
        host: u.hostname,
        port: u.port,
        method: 'PUT',
        path: `/v1/workspaces/${workspaceId}/blobs`,
        // the server's "100 Continue" says it has parsed the request and begun serving it
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': '100000', expect: '100-continue' },
      });
      req.on('error', () => {});
      req.flushHeaders();
      return req;
    });
    // SIGTERM before the server has read a request would close its connection as idle: nothing in
    // flight. A fixed wait lost that race on a loaded machine; the server's answer cannot.
    await Promise.all(
      stuck.map(
        (req) =>
          new Promise<void>((resolve, reject) => {
            req.once('continue', () => req.write(Buffer.alloc(50_000), () => resolve()));
            req.once('response', (res) => reject(new Error(`the upload was answered ${res.statusCode} instead of being held`)));
          }),
      ),
    );
    const exited = new Promise<number | null>((resolve) => server!.process.once('exit', (code) => resolve(code)));
    server.process.kill('SIGTERM');
    expect(await exited).toBe(1);
    for (const req of stuck) req.destroy();
    const lines = readFileSync(server.logFile, 'utf8').split('\n').filter((l) => l.includes('shutdown'));
    const last = JSON.parse(lines.at(-1)!) as { level: number; msg: string; inFlight: number };
    expect(last.level).toBeGreaterThanOrEqual(40);
    expect(last.inFlight).toBe(2);
    expect(last.msg).toMatch(/--shutdown-timeout \(1 s\) ran out with 2 requests still in flight/);
  }, 30_000);
});

describe('a data directory or SQLite file that cannot be', () => {
  /** a folder holding a file `afile`, a folder `folder` and a folder `ro` of mode 0500 */
  function place(): string {
    const root = tempDir('isync-paths-');
    writeFileSync(path.join(root, 'afile'), 'not a folder');
    mkdirSync(path.join(root, 'folder'));
    mkdirSync(path.join(root, 'ro'), { mode: 0o500 });
    return root;
  }
  const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const raw = /EEXIST|ENOTDIR|EACCES|unable to open|Cannot open database|readonly database|at .*\.js:\d/;

  // [the case, the flag and value given in the folder place() made, what the one line says after the flag (given that folder as a pattern)]
  const cases: [string, (root: string) => string[], (root: string) => RegExp][] = [
    ['--data-dir naming a file', (r) => ['--data-dir', `${r}/afile`], (r) => new RegExp(`^--data-dir ${r}/afile: ${r}/afile is a file, not a folder: move it away or give another path$`)],
    ['--data-dir inside a file', (r) => ['--data-dir', `${r}/afile/sub`], (r) => new RegExp(`^--data-dir ${r}/afile/sub: ${r}/afile is a file, not a folder: `)],
    ['--db in a folder that does not exist', (r) => ['--db', `sqlite:${r}/nodir/x.db`], (r) => new RegExp(`^--db sqlite:${r}/nodir/x\\.db: folder ${r}/nodir does not exist: create it or correct the path$`)],
    ['--db inside a file', (r) => ['--db', `sqlite:${r}/afile/x.db`], (r) => new RegExp(`^--db sqlite:${r}/afile/x\\.db: ${r}/afile is a file, not a folder: `)],
    ['--db naming a folder', (r) => ['--db', `sqlite:${r}/folder`], (r) => new RegExp(`^--db sqlite:${r}/folder: ${r}/folder is a folder, not a database file: name a file in it, e.g. sqlite:${r}/folder/sync\\.db$`)],
    ['--data-dir in a folder it may not write in', (r) => ['--data-dir', `${r}/ro/data`], (r) => new RegExp(`^--data-dir ${r}/ro/data: no permission to write in folder ${r}/ro as user \\S+: run as its owner, or change its owner or mode$`)],
    ['--data-dir it may not write in', (r) => ['--data-dir', `${r}/ro`], (r) => new RegExp(`^--data-dir ${r}/ro: no permission to write in folder ${r}/ro as user \\S+: `)],
    ['--db in a folder it may not write in', (r) => ['--db', `sqlite:${r}/ro/x.db`], (r) => new RegExp(`^--db sqlite:${r}/ro/x\\.db: no permission to write in folder ${r}/ro as user \\S+: `)],
  ];

  it.each(cases)('%s: one line naming the flag, the path at fault and the fix; exit 1, not listening', async (_name, args, says) => {
    const root = place();
    const failure = await startFailure(args(root), true);
    expect(failure).toMatch(/code 1,/);
    const lines = stderrLines(failure);
    expect(lines, failure).toHaveLength(1);
    expect(lines[0]!.startsWith('insomnia-sync-server: '), lines[0]).toBe(true);
    expect(lines[0]!.slice('insomnia-sync-server: '.length)).toMatch(says(esc(root)));
    expect(failure).not.toMatch(raw);
  });

  it('a database file it may not read and write: names the file, exit 1', async () => {
    const root = place();
    const data = path.join(root, 'data');
    expect(runServerCommand(['migrate', '--data-dir', data]).code).toBe(0);
    chmodSync(path.join(data, 'sync.db'), 0o000);
    const failure = await startFailure(['--data-dir', data], true);
    const lines = stderrLines(failure);
    expect(lines, failure).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^insomnia-sync-server: --data-dir ${esc(data)}: no permission to read and write ${esc(data)}/sync\\.db as user \\S+: run as its owner`));
  });

  it('INSOMNIA_SYNC_DB is named as the source when it gave the path', async () => {
    const root = place();
    try {
      server = await startServer({ env: { INSOMNIA_SYNC_DB: `sqlite:${root}/nodir/x.db` }, timeoutMs: 10_000 });
    } catch (err) {
      expect(stderrLines(String(err))).toEqual([`insomnia-sync-server: INSOMNIA_SYNC_DB=sqlite:${root}/nodir/x.db: folder ${root}/nodir does not exist: create it or correct the path`]);
      return;
    }
    throw new Error('the server started');
  });
});

describe('a --mail-outbox the server cannot write mails in', () => {
  /** a folder holding a file `afile` and a folder `ro` of mode 0500 */
  function place(): string {
    const root = tempDir('isync-outbox-paths-');
    writeFileSync(path.join(root, 'afile'), 'not a folder');
    mkdirSync(path.join(root, 'ro'), { mode: 0o500 });
    return root;
  }

  // [the case, --mail-outbox in the folder place() made, the rest of the line after the flag and path (r: that folder)]
  const cases: [string, string, (r: string) => string][] = [
    ['a file', 'afile', (r) => `${r}/afile is a file, not a folder: move it away or give another path`],
    ['inside a file', 'afile/outbox', (r) => `${r}/afile is a file, not a folder: move it away or give another path`],
    ['inside a folder that does not exist (only the outbox itself is made)', 'nodir/outbox', (r) => `folder ${r}/nodir does not exist: create it or correct the path`],
    ['a folder it may not write in', 'ro', (r) => `no permission to write in folder ${r}/ro as user USER: run as its owner, or change its owner or mode`],
    ['in a folder it may not write in', 'ro/outbox', (r) => `no permission to write in folder ${r}/ro as user USER: run as its owner, or change its owner or mode`],
  ];

  it.each(cases)('%s: one line naming the flag, the path and the fix; exit 1 at start, the data dir not made', async (_name, outbox, says) => {
    const root = place();
    const dataDir = path.join(root, 'data');
    let failure: string;
    try {
      server = await startServer({ dataDir, args: ['--mail-outbox', path.join(root, outbox)], timeoutMs: 10_000, withoutReadOverride: true });
      throw new Error(`the server started (${server.url}) although it should not have`);
    } catch (err) {
      failure = String(err);
    }
    expect(failure).toMatch(/code 1,/);
    const lines = stderrLines(failure).map((l) => l.replace(/ as user \S+:/, ' as user USER:'));
    expect(lines).toEqual([`insomnia-sync-server: --mail-outbox ${path.join(root, outbox)}: ${says(root)}`]);
    expect(readdirSync(root).sort()).toEqual(['afile', 'ro']);
  });

  it('the default DATA_DIR/outbox: a file there, or a folder it may not write in, names --data-dir', async () => {
    const root = place();
    const dataDir = path.join(root, 'data');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'outbox'), 'not a folder');
    expect(stderrLines(await startFailure(['--data-dir', dataDir], true))).toEqual([
      `insomnia-sync-server: --data-dir ${dataDir}: ${dataDir}/outbox is a file, not a folder: move it away or give another path`,
    ]);
    rmSync(path.join(dataDir, 'outbox'));
    mkdirSync(path.join(dataDir, 'outbox'), { mode: 0o500 });
    const lines = stderrLines(await startFailure(['--data-dir', dataDir], true)).map((l) => l.replace(/ as user \S+:/, ' as user USER:'));
    expect(lines).toEqual([`insomnia-sync-server: --data-dir ${dataDir}: no permission to write in folder ${dataDir}/outbox as user USER: run as its owner, or change its owner or mode`]);
  });

  it('--smtp mistakes keep their own line (no outbox is made for them)', async () => {
    expect(stderrLines(await startFailure(['--smtp', 'ftp://mail.example']))).toEqual(['insomnia-sync-server: --smtp URL must start with smtp:// or smtps://']);
    expect(stderrLines(await startFailure(['--smtp', 'smtp://127.0.0.1:2525', '--mail-outbox', tempDir('isync-outbox-')]))).toEqual([
      'insomnia-sync-server: give either --mail-outbox or --smtp, not both',
    ]);
  });

  it('inside a data dir not made yet (a first start that spells out the default outbox): both made, the server starts', async () => {
    const root = place();
    const dataDir = path.join(root, 'd1');
    server = await startServer({ dataDir, args: ['--mail-outbox', path.join(dataDir, 'outbox')] });
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(dataDir, 'outbox')).mode & 0o777).toBe(0o700);
  });

  it('deeper inside a data dir not made yet: the folder missing below the data dir is named, nothing made', async () => {
    const root = place();
    const dataDir = path.join(root, 'd1');
    const failure = await startFailure(['--data-dir', dataDir, '--mail-outbox', path.join(dataDir, 'mail', 'outbox')]);
    expect(failure).toMatch(/code 1,/);
    expect(stderrLines(failure)).toEqual([`insomnia-sync-server: --mail-outbox ${path.join(dataDir, 'mail', 'outbox')}: folder ${dataDir}/mail does not exist: create it or correct the path`]);
    expect(readdirSync(root).sort()).toEqual(['afile', 'ro']);
  });

  it('a new outbox folder in an existing one is made, mode 0700, and the server starts', async () => {
    const root = place();
    server = await startServer({ args: ['--mail-outbox', path.join(root, 'outbox')] });
    expect(statSync(path.join(root, 'outbox')).mode & 0o777).toBe(0o700);
  });
});

describe('an address the server cannot listen on', () => {
  it('a port another process listens on: one line naming --port and the fix, exit 1', async () => {
    const other = net.createServer();
    await new Promise<void>((ok) => other.listen(0, '127.0.0.1', ok));
    const port = (other.address() as net.AddressInfo).port;
    try {
      const failure = await startFailure(['--port', String(port)]);
      expect(failure).toMatch(/code 1,/);
      expect(stderrLines(failure)).toEqual([`insomnia-sync-server: --port ${port}: another process listens on 127.0.0.1:${port}: stop it, or give another --port`]);
    } finally {
      other.close();
    }
  });

  it('an address no interface of this machine has (TEST-NET-1): one line naming --host', async () => {
    expect(stderrLines(await startFailure(['--host', '192.0.2.1']))).toEqual([
      'insomnia-sync-server: --host 192.0.2.1: no network interface of this machine has this address: give one it has, 127.0.0.1, or 0.0.0.0 for all',
    ]);
  });

  it('a port below 1024 without the right to bind it: one line naming --port and the ways out', () => {
    // as root, without CAP_NET_BIND_SERVICE, as any other user is
    expect(Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8')), 'this machine lets every user bind low ports').toBeGreaterThan(443);
    const dataDir = tempDir('isync-lowport-');
    const bin = path.join(ROOT, 'bin', 'insomnia-sync-server.js');
    const argv = [bin, '--port', '443', '--data-dir', dataDir];
    const r = process.getuid?.() === 0 ? spawnSync('setpriv', ['--bounding-set', '-net_bind_service', '--', process.execPath, ...argv], { encoding: 'utf8', env: { ...process.env, INSOMNIA_SYNC_DB: '' } }) : spawnSync(process.execPath, argv, { encoding: 'utf8', env: { ...process.env, INSOMNIA_SYNC_DB: '' } });
    expect(r.stderr).toBe('insomnia-sync-server: --port 443: ports below 1024 need root or CAP_NET_BIND_SERVICE: give a port from 1024 up (behind a reverse proxy on 443), or grant the capability\n');
    expect(r.status).toBe(1);
  });
});
