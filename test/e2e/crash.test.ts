/**
 * Crash safety (SPEC §8: a crash mid-push leaves the previous head intact): the server is SIGKILLed
 * at a random moment of a multi-megabyte push, many times over the same data directory. After each
 * restart the whole history verifies (every head a complete snapshot with all its blobs), and the
 * retried push succeeds. At the end, garbage collection removes what the killed pushes left
 * behind without touching anything a snapshot needs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, machine, signupMachine, tempDir, type Machine } from '../helpers/cli.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { mulberry32 } from '../helpers/prng.js';

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 6);
const SEED = Number(process.env.CRASH_SEED ?? 7);


function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

let server: StartedServer | undefined;
const dataDir = tempDir('isync-crash-data-');
afterAll(async () => {
  await server?.cleanup();
});

function push(m: Machine, cwd: string): { done: Promise<{ code: number | null; stderr: string }>; startedAt: number } {
  const child = m.spawn(['push', '-m', 'crash round'], { cwd });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))), startedAt: Date.now() };
}

describe('crash safety', () => {
  it(`survives ${ROUNDS} SIGKILLs during pushes: history verifies, retried pushes succeed, gc keeps what is needed`, async () => {
    const random = mulberry32(SEED);
    const port = await freePort();
    const args = ['--port', String(port)];
    const url = `http://127.0.0.1:${port}`;
    server = await startServer({ dataDir, args });
    const m = machine(url);
    await signupMachine(m, 'crash@example.com');
    const ws = tempDir('isync-crash-ws-');
    writeFileSync(path.join(ws, 'base.json'), JSON.stringify({ base: true }));
    expect((await m.run(['init', '--name', 'Crash', '--json'], { cwd: ws })).code).toBe(0);
    let t = Date.now();
    const first = push(m, ws);
    expect((await first.done).code).toBe(0);
    // a push of ~4 MB takes about this long when nothing goes wrong
    let pushMs = Math.max(200, Date.now() - t);

    const outcomes: (number | null)[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // new incompressible content, so every round uploads several MB of new blobs
      writeFileSync(path.join(ws, `data-${round}.bin`), randomBytes(3 * 1024 * 1024 + Math.floor(random() * 1024 * 1024)));
      writeFileSync(path.join(ws, 'base.json'), JSON.stringify({ base: round }));
      const attempt = push(m, ws);
      const delay = Math.floor(random() * pushMs * 1.5);
      await new Promise((r) => setTimeout(r, delay));
      server.process.kill('SIGKILL');
      await new Promise<void>((r) => (server!.process.exitCode !== null || server!.process.signalCode !== null ? r() : server!.process.once('exit', () => r())));
      const interrupted = await attempt.done;
      outcomes.push(interrupted.code);
      // a killed server is unreachable (6), a push that beat the kill succeeded (0): nothing else
      expect([0, 6], interrupted.stderr).toContain(interrupted.code);

      server = await startServer({ dataDir, args });
      const verified = await m.run(['verify', '--json'], { cwd: ws });
      expect(verified.code, verified.stderr).toBe(0);
      const before = JSON.parse(verified.stdout) as { snapshots: number };
      expect(before.snapshots).toBeGreaterThanOrEqual(1);

      t = Date.now();
      const retry = await m.run(['push', '-m', `retry ${round}`, '--json'], { cwd: ws });
      expect(retry.code, retry.stderr).toBe(0);
      pushMs = Math.max(200, Math.min(pushMs, Date.now() - t));
      const after = await m.run(['verify', '--json'], { cwd: ws });
      expect(after.code, after.stderr).toBe(0);
    }
    // the kills landed at different moments: at least one push was really cut off
    expect(outcomes).toContain(6);

    // what the killed pushes uploaded is garbage now; collecting it must not break the history
    await server.stop();
    await new Promise((r) => setTimeout(r, 1100));
    const gc = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/insomnia-sync-server.js'), 'gc', '--grace', '0.0003', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.on('exit', (code) => resolve({ code, stdout }));
    });
    expect(gc.code).toBe(0);
    expect(gc.stdout).toMatch(/^deleted \d+ unreferenced blobs? \(\d+ bytes\) in [01] workspaces?; \d+ ended sessions?, \d+ ended invitations?\n$/);
    server = await startServer({ dataDir, args });
    const final = await m.run(['verify', '--json'], { cwd: ws });
    expect(final.code, final.stderr).toBe(0);
    const clone = tempDir('isync-crash-clone-');
    const other = machine(url);
    const login = await other.run(['login', '--email', 'crash@example.com', '--password-stdin'], { input: 'correct horse battery staple ✓\n' });
    expect(login.code, login.stderr).toBe(0);
    const cloned = await other.run(['clone', 'Crash', path.join(clone, 'c')]);
    expect(cloned.code, cloned.stderr).toBe(0);
  }, 120_000);
});
