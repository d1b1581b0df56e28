/**
 * The CLI against a real server whose TLS it cannot use: a self-signed certificate it does not
 * trust, a certificate for another host name, and the wrong scheme either way (http:// to an
 * HTTPS server, https:// to a plain HTTP one). Each says what is wrong, not "check that the
 * server is running", and exits 6.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkFailure } from '../../src/client/network-errors.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { machine, tempDir, type CliResult } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

let tlsServer: StartedServer;
let httpServer: StartedServer;
let cert: string;
let localhostOnlyCert: string;
let localhostOnlyServer: StartedServer;

function selfSigned(dir: string, san: string): { cert: string; key: string } {
  const c = path.join(dir, 'cert.pem');
  const k = path.join(dir, 'key.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', `subjectAltName=${san}`, '-keyout', k, '-out', c],
    { stdio: 'ignore' },
  );
  return { cert: c, key: k };
}

beforeAll(async () => {
  const a = selfSigned(tempDir('isync-tls-a-'), 'IP:127.0.0.1,DNS:localhost');
  cert = a.cert;
  tlsServer = await startServer({ args: ['--tls-cert', a.cert, '--tls-key', a.key] });
  const b = selfSigned(tempDir('isync-tls-b-'), 'DNS:localhost');
  localhostOnlyCert = b.cert;
  localhostOnlyServer = await startServer({ args: ['--tls-cert', b.cert, '--tls-key', b.key] });
  httpServer = await startServer();
}, 60_000);

afterAll(async () => {
  await tlsServer?.cleanup();
  await localhostOnlyServer?.cleanup();
  await httpServer?.cleanup();
});

const login = (server: string, env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  machine(server).run(['login', '--email', 'tls@example.com', '--password-stdin'], { input: 'correct horse battery staple\n', env: { NODE_EXTRA_CA_CERTS: undefined, ...env } });

const lines = (r: CliResult): string[] => r.stderr.split('\n').filter(Boolean);

describe('TLS failures as the CLI reports them', () => {
  it('a self-signed certificate: not trusted, saying why, with the NODE_EXTRA_CA_CERTS hint', async () => {
    const r = await login(tlsServer.url);
    expect(r.code).toBe(6);
    const [error, hint] = lines(r);
    expect(error).toBe(`error: the server's certificate at ${tlsServer.url} is not trusted: it is self-signed (DEPTH_ZERO_SELF_SIGNED_CERT)`);
    expect(hint).toMatch(/^hint: .*private certificate authority.*NODE_EXTRA_CA_CERTS=/);
    expect(r.stderr).not.toMatch(/is running/);

    const json = await machine(tlsServer.url).run(['login', '--email', 'tls@example.com', '--password-stdin', '--json'], { input: 'x\n', env: { NODE_EXTRA_CA_CERTS: undefined } });
    expect(json.code).toBe(6);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'unreachable', message: expect.stringMatching(/certificate .* is not trusted/) } });

    // trusted through NODE_EXTRA_CA_CERTS, the request reaches the server (which refuses the unknown login)
    const trusted = await login(tlsServer.url, { NODE_EXTRA_CA_CERTS: cert });
    expect(trusted.code, trusted.stderr).toBe(4);
  }, 30_000);

  it('a certificate for another host name: not trusted, naming the name', async () => {
    const r = await login(localhostOnlyServer.url, { NODE_EXTRA_CA_CERTS: localhostOnlyCert });
    expect(r.code).toBe(6);
    const [error, hint] = lines(r);
    expect(error).toMatch(/^error: the server's certificate at https:\/\/127\.0\.0\.1:\d+ is not trusted: it is for another host name \(.*127\.0\.0\.1.*\)$/);
    expect(hint).toMatch(/^hint: use a host name the certificate names/);
  }, 30_000);

  it('http:// to an HTTPS server: the scheme may be wrong', async () => {
    const url = tlsServer.url.replace(/^https:/, 'http:');
    const r = await login(url);
    expect(r.code).toBe(6);
    const [error, hint] = lines(r);
    expect(error).toMatch(new RegExp(`^error: cannot reach the server at ${url}: the connection closed without an HTTP answer \\((ECONNRESET|HPE_[A-Z_]+)\\)$`));
    expect(hint).toBe(`hint: if the server speaks HTTPS, the scheme is wrong: use ${tlsServer.url} in --server or INSOMNIA_SYNC_SERVER; else check that the server is running`);
  }, 30_000);

  it('https:// to a plain HTTP server: the scheme may be wrong', async () => {
    const url = httpServer.url.replace(/^http:/, 'https:');
    const r = await login(url);
    expect(r.code).toBe(6);
    const [error, hint] = lines(r);
    expect(error).toMatch(new RegExp(`^error: cannot reach the server at ${url}: it does not speak TLS \\(EPROTO\\)$`));
    expect(hint).toMatch(new RegExp(`^hint: the server may serve plain HTTP: check the scheme in --server or INSOMNIA_SYNC_SERVER \\(${httpServer.url}\\)`));
  }, 30_000);

  it('a stopped server still gets the "is it running" hint', async () => {
    const stopped = await startServer();
    await stopped.cleanup();
    const r = await login(stopped.url);
    expect(r.code).toBe(6);
    expect(lines(r)).toEqual([`error: cannot reach the server at ${stopped.url} (ECONNREFUSED)`, 'hint: check --server or INSOMNIA_SYNC_SERVER, and that the server is running']);
  }, 30_000);
});

describe('certificate errors this suite cannot stage with a real server', () => {
  it.each([
    ['CERT_HAS_EXPIRED', /is not trusted: it has expired/, /renew/],
    ['CERT_NOT_YET_VALID', /is not trusted: it is not valid yet/, /clock/],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', /is not trusted: it was issued by a certificate authority this machine does not know/, /NODE_EXTRA_CA_CERTS/],
    ['SELF_SIGNED_CERT_IN_CHAIN', /is not trusted: its chain ends in a self-signed certificate/, /NODE_EXTRA_CA_CERTS/],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', /is not trusted: it was issued by a certificate authority/, /NODE_EXTRA_CA_CERTS/],
  ])('%s', (code, message, hint) => {
    const err = networkFailure(Object.assign(new Error('x'), { code }), 'https://sync.example.com');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`(${code})`);
    expect(err.hint).toMatch(hint);
    expect(exitCodeFor(err.code)).toBe(6);
  });
});

describe("in a linked folder, whose server is its link's, not --server's or INSOMNIA_SYNC_SERVER's", () => {
  const link = '(.insomnia-sync/link.json)';
  it.each([
    ['ECONNREFUSED', 'http://127.0.0.1:9', `this folder is linked to http://127.0.0.1:9 ${link}: check that that server is running`],
    ['ECONNRESET', 'http://sync.example.com', `this folder is linked to http://sync.example.com ${link}: if that server speaks HTTPS, clone the workspace again with --server https://sync.example.com; else check that it is running`],
    ['EPROTO', 'https://sync.example.com', `this folder is linked to https://sync.example.com ${link}, and the server may serve plain HTTP: start it with --tls-cert, or clone the workspace again with --server http://sync.example.com`],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'https://sync.example.com', `this folder is linked to https://sync.example.com ${link}: have the certificate name that host, or clone the workspace again with --server and a host name the certificate names`],
  ])('%s', (code, base, hint) => {
    const err = networkFailure(Object.assign(new Error('x'), { code }), base, { linked: true });
    expect(err.hint).toBe(hint);
    expect(exitCodeFor(err.code)).toBe(6);
    // outside one, the hints name --server and INSOMNIA_SYNC_SERVER as before
    expect(networkFailure(Object.assign(new Error('x'), { code }), base).hint).toMatch(/--server or INSOMNIA_SYNC_SERVER/);
  });
});
