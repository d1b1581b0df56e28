/** The README's quick start works when pasted (issue 2: "a quick start … that works when pasted"). */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
