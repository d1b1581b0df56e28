/**
 * The README's scripts work when pasted (issue 2: "a quick start … that works when pasted"): the
 * quick start, and the CI example's read-only step run as GitHub Actions runs it (`sh -e`).
 */
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, machine, signupMachine, tempDir } from '../helpers/cli.js';
import { startServer } from '../helpers/server-process.js';

describe('README quick start', () => {
  it('runs as pasted and shows the file on the second machine, and no plaintext on the server', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Quick start'));
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block).toBeDefined();
    expect(block).toContain('--port 8787');
    // The same script on a free port, so a server already on 8787 cannot interfere.
    const port = await freePort();
    const script = block!.replaceAll('--port 8787', `--port ${port}`);
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
      delete env.INSOMNIA_SYNC_CONFIG_DIR;
      env.INSOMNIA_SYNC_SERVER = `http://127.0.0.1:${port}`;
      execFile('bash', ['-e', '-c', script], { cwd: ROOT, env, timeout: 90_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('{"token":"s3cret"}');
    expect(out.stdout).toContain('server holds ciphertext only');
  });
});

describe('README quick start, port taken', () => {
  it('stops waiting when the server dies (the port is taken) and prints its log, instead of looping forever', async () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Quick start')))![1]!;
    // the lines up to the end of the wait loop: start the server, wait for it
    const lines = block.split('\n');
    const loop = lines.findIndex((l) => l.startsWith('until '));
    const done = lines.findIndex((l, i) => i >= loop && /(^|;\s*)done\b/.test(l));
    expect(loop).toBeGreaterThan(0);
    expect(done).toBeGreaterThanOrEqual(loop);
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const script = `${lines.slice(0, done + 1).join('\n').replaceAll('--port 8787', `--port ${port}`)}\necho after the wait\n`;
      const out = await new Promise<{ code: number; stdout: string; stderr: string; killed: boolean }>((resolve) => {
        execFile('bash', ['-e', '-c', script], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 30_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, killed: Boolean(err?.killed) }),
        );
      });
      expect(out.killed, 'the wait loop never ended').toBe(false);
      expect(out.stdout).toContain(`--port ${port}: another process listens on 127.0.0.1:${port}`);
      expect(out.stderr).toContain('the server did not start');
      expect(out.stdout).toContain('after the wait');
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 40_000);
});

/** The `run: |` script of the CI example's step named `step`, unindented. */
function ciStep(readme: string, step: string): string {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('GitHub Actions')))?.[1] ?? '';
  const lines = yaml.split('\n');
  const at = lines.findIndex((l) => l.includes(`name: ${step}`));
  const run = lines.findIndex((l, i) => i > at && /^\s*run: \|$/.test(l));
  const indent = /^\s*/.exec(lines[run]!)![0].length;
  const body: string[] = [];
  for (const l of lines.slice(run + 1)) {
    if (l.trim() && /^\s*/.exec(l)![0].length <= indent) break;
    body.push(l.trim());
  }
  return body.join('\n');
}

describe('README CI example', () => {
  it('the read-only fetch step runs under sh -e with only the server and a read-only token', async () => {
    const server = await startServer();
    try {
      const alice = machine(server.url);
      await signupMachine(alice, 'readme-ci@example.com');
      const ws = tempDir('isync-readme-ws-');
      writeFileSync(path.join(ws, 'api.json'), '{"smoke":true}');
      expect((await alice.run(['init', '--name', 'My API'], { cwd: ws })).code).toBe(0);
      expect((await alice.run(['push', '-m', 'first'], { cwd: ws })).code).toBe(0);
      const created = await alice.run(['token', 'create', '--workspace', 'My API', '--read-only', '--json']);
      expect(created.code, created.stderr).toBe(0);

      const script = ciStep(readFileSync(path.join(ROOT, 'README.md'), 'utf8'), 'Fetch the collections');
      expect(script).toContain('insomnia-sync clone');
      // the installed command, as `npm install -g` would put it on PATH
      const bin = tempDir('isync-readme-bin-');
      writeFileSync(path.join(bin, 'insomnia-sync'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(path.join(bin, 'insomnia-sync'), 0o755);
      const env = { PATH: `${bin}:${process.env.PATH}`, HOME: tempDir('isync-readme-home-'), INSOMNIA_SYNC_SERVER: server.url, INSOMNIA_SYNC_TOKEN: JSON.parse(created.stdout).token };
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('sh', ['-e', '-c', script], { cwd: tempDir('isync-readme-checkout-'), env, timeout: 60_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
      expect(out.code, out.stderr).toBe(0);
      // the clone's report, then log's JSON document
      expect(JSON.parse(out.stdout.slice(out.stdout.search(/^\{/m))).snapshots[0].message).toBe('first');
    } finally {
      await server.stop();
    }
  }, 60_000);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
