/**
 * A server reached by an IPv6 literal (`--server http://[::1]:PORT`): the URL keeps the brackets,
 * the socket must not (it looked the bracketed name up in DNS: ENOTFOUND, exit 6).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, machine, tempDir } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

let server: StartedServer;

beforeAll(async () => {
  server = await startServer({ args: ['--host', '::1'] });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

describe('a server on an IPv6 literal', () => {
  it('signup, init, push and clone through http://[::1]:PORT', async () => {
    const url = `http://[::1]:${new URL(server.url).port}`;
    const a = machine(url);
    const up = await a.run(['signup', '--email', 'six@example.com', '--password-stdin', '--json'], { input: `${PASSWORD}\n` });
    expect(up.code, up.stderr).toBe(0);
    const folder = tempDir('isync-v6-');
    writeFileSync(path.join(folder, 'env.json'), '{"over":"ipv6"}');
    const init = await a.run(['init', '--name', 'six'], { cwd: folder });
    expect(init.code, init.stderr).toBe(0);
    expect((await a.run(['push'], { cwd: folder })).code).toBe(0);
    const copy = path.join(tempDir('isync-v6-copy-'), 'six');
    const clone = await a.run(['clone', 'six', copy]);
    expect(clone.code, clone.stderr).toBe(0);
    expect(readFileSync(path.join(copy, 'env.json'), 'utf8')).toBe('{"over":"ipv6"}');
  });
});
