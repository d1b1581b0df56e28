/**
 * A CLI and a server of versions that cannot talk: the server names its protocol revision on every
 * answer, and the CLI says which side to upgrade instead of failing on an answer it cannot read.
 * A proxy plays a newer server, an older one, and one from before the header (which answered
 * snapshot lists as JSON).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_REVISION, PROTOCOL_REVISION_HEADER } from '../../src/protocol/revision.js';
import { machine, ROOT, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

type Mode = { revision: string | null; jsonSnapshots?: boolean };

async function startRevisionProxy(target: string): Promise<{ url: string; mode: Mode; close(): Promise<void> }> {
  const upstream = new URL(target);
  const state = { url: '', mode: { revision: String(PROTOCOL_REVISION) } as Mode };
  const server = http.createServer((req, res) => {
    const { revision, jsonSnapshots } = state.mode;
    if (jsonSnapshots && req.method === 'GET' && /\/snapshots(\/|\?|$)/.test(req.url ?? '')) {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (revision !== null) headers[PROTOCOL_REVISION_HEADER] = revision;
      res.writeHead(200, headers).end('{"snapshots":[]}');
      return;
    }
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const headers = { ...up.headers };
      if (revision === null) delete headers[PROTOCOL_REVISION_HEADER];
      else headers[PROTOCOL_REVISION_HEADER] = revision;
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: state.url,
    get mode() {
      return state.mode;
    },
    set mode(m: Mode) {
      state.mode = m;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('protocol revisions', () => {
  let server: StartedServer;
  let proxy: Awaited<ReturnType<typeof startRevisionProxy>>;
  let a: Machine;
  let ws: string;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startRevisionProxy(server.url);
    a = machine(proxy.url);
    await signupMachine(a, 'revision@example.com');
    ws = tempDir('isync-revision-ws-');
    mkdirSync(path.join(ws, 'envs'));
    writeFileSync(path.join(ws, 'envs/prod.json'), '{"token":"revisions"}');
    expect((await a.run(['init', '--name', 'Revisions'], { cwd: ws })).code).toBe(0);
    const pushed = await a.run(['push', '-m', 'first'], { cwd: ws });
    expect(pushed.code, pushed.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('the server names its revision in healthz and on every answer', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.headers.get(PROTOCOL_REVISION_HEADER)).toBe(String(PROTOCOL_REVISION));
    expect(await res.json()).toEqual({ ok: true, protocol: PROTOCOL_REVISION });
    const denied = await fetch(`${server.url}/v1/me`);
    expect(denied.status).toBe(401);
    expect(denied.headers.get(PROTOCOL_REVISION_HEADER)).toBe(String(PROTOCOL_REVISION));
    // The docs name the same revision.
    for (const doc of ['docs/protocol.md', 'README.md', 'man/insomnia-sync-server.1']) {
      expect(readFileSync(path.join(ROOT, doc), 'utf8').replaceAll('\\-', '-'), doc).toContain(`insomnia-sync-protocol: ${PROTOCOL_REVISION}`);
    }
  });

  it('a newer server: exit 1, says to upgrade the CLI, and the folder stays as it was', async () => {
    proxy.mode = { revision: String(PROTOCOL_REVISION + 1) };
    writeFileSync(path.join(ws, 'envs/dev.json'), '{"token":"not pushed"}');
    const res = await a.run(['push', '-m', 'second'], { cwd: ws });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`speaks sync protocol ${PROTOCOL_REVISION + 1}, this insomnia-sync ${PROTOCOL_REVISION}`);
    expect(res.stderr).toContain('hint: upgrade insomnia-sync');
    expect(res.stderr.trim().split('\n')).toHaveLength(2);

    const json = await a.run(['status', '--json'], { cwd: ws });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr).error.code).toBe('protocol_mismatch');

    proxy.mode = { revision: String(PROTOCOL_REVISION) };
    const status = await a.run(['status', '--json'], { cwd: ws });
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(status.stdout))).toContain('envs/dev.json');
  }, 60_000);

  it('an older server: says to upgrade the server', async () => {
    proxy.mode = { revision: String(PROTOCOL_REVISION - 1) };
    const res = await a.run(['log'], { cwd: ws });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`speaks sync protocol ${PROTOCOL_REVISION - 1}, this insomnia-sync ${PROTOCOL_REVISION}`);
    expect(res.stderr).toContain('hint: upgrade the server');
  }, 30_000);

  it('a server from before the header, answering snapshot lists as JSON: the hint names the likely cause', async () => {
    proxy.mode = { revision: null, jsonSnapshots: true };
    const res = await a.run(['log'], { cwd: ws });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('did not answer with snapshot frames');
    expect(res.stderr).toContain('names no sync protocol');

    // The same answer from a server that does name this revision is not blamed on versions.
    proxy.mode = { revision: String(PROTOCOL_REVISION), jsonSnapshots: true };
    const named = await a.run(['log'], { cwd: ws });
    expect(named.code).toBe(1);
    expect(named.stderr).toContain('did not answer with snapshot frames');
    expect(named.stderr).not.toContain('names no sync protocol');
    proxy.mode = { revision: String(PROTOCOL_REVISION) };
    expect((await a.run(['log'], { cwd: ws })).code).toBe(0);
  }, 30_000);
});
