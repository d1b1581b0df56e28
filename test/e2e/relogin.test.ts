/**
 * Logging in again as the same account on the same profile replaces the stored session: the one
 * it replaces is ended on the server, not left live with nothing on this machine able to end it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginMachine, machine, signupMachine, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';

const EMAIL = 'relogin@example.com';

describe('login again as the same account', () => {
  let server: StartedServer;
  let a: Machine;
  beforeAll(async () => {
    server = await startServer();
    a = machine(server.url);
    expect((await signupMachine(a, EMAIL)).code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  const sessionId = (): string => JSON.parse(readFileSync(path.join(a.configDir, 'sessions', 'default.json'), 'utf8')).sessionId as string;

  it('ends the session it replaces on the server; only the new one is live', async () => {
    const first = sessionId();
    const login = await loginMachine(a, EMAIL);
    expect(login.code, login.stderr).toBe(0);
    const second = sessionId();
    expect(second).not.toBe(first);
    const res = await a.run(['account', 'sessions', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as { sessions: { id: string; current: boolean }[] };
    expect(doc.sessions.map((s) => s.id)).toEqual([second]);
  }, 60_000);
});
