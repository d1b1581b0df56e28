/**
 * Ctrl-C in the middle of a clone or an export: the command takes back what it started (the
 * cloned folder, the decrypted staging folder, the partial archive) and exits 130. A proxy holds
 * each blob download for a while, so the signal lands while files are half placed.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const HOLD_MS = 400;

/** Forwards everything; holds each blob download's answer for HOLD_MS. */
async function startSlowFetchProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server = http.createServer((req, res) => {
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const send = () => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      if (/\/blobs\/fetch$/.test(req.url ?? '')) setTimeout(send, HOLD_MS);
      else send();
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every file under `dir` but the link folder's. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !path.join(e.parentPath, e.name).includes(`${path.sep}.insomnia-sync`))
    .map((e) => path.join(e.parentPath, e.name));
}

/** Runs the CLI, sends SIGINT once `ready()` holds, and gives its exit code and stderr. */
function interrupted(m: Machine, args: string[], ready: () => boolean, env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string; sawReady: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, INSOMNIA_SYNC_CONFIG_DIR: m.configDir, INSOMNIA_SYNC_SERVER: m.server, NO_COLOR: '1', CI: 'true', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sawReady = false;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      if (!sawReady && ready()) {
        sawReady = true;
        child.kill('SIGINT');
      }
    }, 5);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stderr, sawReady });
    });
  });
}

describe('Ctrl-C takes back what a command started', () => {
  let server: StartedServer;
  let proxy: Awaited<ReturnType<typeof startSlowFetchProxy>>;
  let m: Machine;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startSlowFetchProxy(server.url);
    m = machine(proxy.url);
    await signupMachine(m, 'cancel@example.com');
    const ws = tempDir('isync-cancel-ws-');
    // ~12 MB in files of 40 KB: three blob downloads of ~4 MiB, each held by the proxy.
    for (let i = 0; i < 300; i++) {
      mkdirSync(path.join(ws, `d${i % 10}`), { recursive: true });
      writeFileSync(path.join(ws, `d${i % 10}`, `f${i}.json`), randomBytes(20_000).toString('hex'));
    }
    expect((await m.run(['init', '--name', 'Cancel'], { cwd: ws })).code).toBe(0);
    const pushed = await m.run(['push'], { cwd: ws });
    expect(pushed.code, pushed.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('clone: exit 130 and no folder left, not even the one it made', async () => {
    const dir = path.join(tempDir('isync-cancel-clone-'), 'copy');
    const res = await interrupted(m, ['clone', 'Cancel', dir], () => filesUnder(dir).length > 0);
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(res.stderr).toMatch(/cancelled/);
    expect(existsSync(dir)).toBe(false);
    // and it can simply be run again
    const again = await m.run(['clone', 'Cancel', dir]);
    expect(again.code, again.stderr).toBe(0);
    expect(filesUnder(dir)).toHaveLength(300);
  }, 60_000);

  it('export: exit 130, the decrypted staging folder and the partial archive removed', async () => {
    const tmp = tempDir('isync-cancel-tmp-');
    const out = path.join(tempDir('isync-cancel-out-'), 'cancel.tar.gz');
    const res = await interrupted(m, ['export', '--workspace', 'Cancel', '--out', out], () => filesUnder(tmp).length > 0, { TMPDIR: tmp });
    expect(res.sawReady).toBe(true);
    expect(res.code, res.stderr).toBe(130);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(path.dirname(out))).toEqual([]);
  }, 60_000);
});
