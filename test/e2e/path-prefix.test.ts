/**
 * A server behind a reverse proxy that serves it under a path (`https://host/isync/`): the client
 * keeps the path of its server URL and sends every route under it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, signupMachine, tempDir } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const PREFIX = '/isync';

/** Forwards `/isync/...` to the server as `/...`; anything else is a 404 from the proxy itself. */
async function startPrefixProxy(target: string): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? '';
    paths.push(url);
    if (!url.startsWith(`${PREFIX}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not under the prefix');
      return;
    }
    const fwd = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: url.slice(PREFIX.length), headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    fwd.on('error', () => res.writeHead(502).end());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, paths, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('a server under a path prefix', () => {
  let server: StartedServer;
  let proxy: Awaited<ReturnType<typeof startPrefixProxy>>;

  beforeAll(async () => {
    server = await startServer();
    proxy = await startPrefixProxy(server.url);
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('signs up, pushes and clones through it, every request under the prefix', async () => {
    // With and without the trailing slash: one server, one session.
    const a = machine(`${proxy.url}${PREFIX}/`);
    await signupMachine(a, 'prefix@example.com');
    const ws = tempDir('isync-prefix-ws-');
    mkdirSync(path.join(ws, 'envs'));
    writeFileSync(path.join(ws, 'envs/prod.json'), '{"token":"behind a proxy"}');
    expect((await a.run(['init', '--name', 'Proxied'], { cwd: ws })).code).toBe(0);
    const pushed = await a.run(['push'], { cwd: ws });
    expect(pushed.code, pushed.stderr).toBe(0);
    const whoami = await a.run(['whoami', '--json']);
    expect(JSON.parse(whoami.stdout).server).toBe(`${proxy.url}${PREFIX}`);

    const b = machine(`${proxy.url}${PREFIX}`);
    await loginMachine(b, 'prefix@example.com');
    const copy = path.join(tempDir('isync-prefix-clone-'), 'copy');
    const cloned = await b.run(['clone', 'Proxied', copy]);
    expect(cloned.code, cloned.stderr).toBe(0);
    expect(readFileSync(path.join(copy, 'envs/prod.json'), 'utf8')).toBe('{"token":"behind a proxy"}');
    expect((await b.run(['status'], { cwd: copy })).code).toBe(0);

    expect(proxy.paths.length).toBeGreaterThan(10);
    expect(proxy.paths.filter((p) => !p.startsWith(`${PREFIX}/`))).toEqual([]);
  }, 60_000);

  it('a path the server does not serve: says the path is wrong, exit 1, and names the URL to try', async () => {
    // the server itself, not the proxy: it gets /isync/v1/… and has no such route
    const m = machine(`${server.url}${PREFIX}`);
    const res = await m.run(['login', '--email', 'prefix@example.com', '--password-stdin'], { input: 'whatever password\n' });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(
      `error: the insomnia-sync server at ${server.url} has no routes under ${PREFIX}: the path in the server URL is wrong\n` +
        `hint: check --server or INSOMNIA_SYNC_SERVER: the server got ${PREFIX}/v1/… as it was sent, so try ${server.url} (or strip the path in the reverse proxy)\n`,
    );
    const json = await m.run(['login', '--email', 'prefix@example.com', '--password-stdin', '--json'], { input: 'whatever password\n' });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr).error.code).toBe('unknown_route');
    // a missing workspace on the right URL is still "not found" (exit 5), not a wrong path
    const right = machine(server.url);
    await loginMachine(right, 'prefix@example.com');
    const missing = await right.run(['team', 'accept', 'AAAA-BBBB-CCCC-DDDD']);
    expect(missing.code, missing.stderr).toBe(5);
  }, 30_000);
});
