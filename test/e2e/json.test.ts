/**
 * `--json` on every command (issue 4 §3): stdout is exactly one JSON document on success, and a
 * failure prints `{"error":{"code","message"}}` on stderr and nothing on stdout. The table below
 * must name every leaf command of the program, so a new command cannot skip this check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { startServer, type StartedServer } from '../helpers/server-process.js';
import { machine, PASSWORD, signupMachine, tempDir, type Machine } from '../helpers/cli.js';

interface Ctx {
  m: Machine;
  dir: string;
  out: string;
  token?: string;
  snapshot?: string;
  workspaceId?: string;
}

type Step = { args: (c: Ctx) => string[]; input?: string; expectCode?: number; cwd?: (c: Ctx) => string; after?: (json: any, c: Ctx) => void };

// Order matters: a later step may rely on an earlier one (the workspace, the token, a session).
const STEPS: [string, Step][] = [
  ['whoami', { args: () => ['whoami'] }],
  ['init', { args: () => ['init', '--name', 'json-ws'], cwd: (c) => c.dir, after: (j, c) => (c.workspaceId = j.id) }],
  ['status', { args: () => ['status'], cwd: (c) => c.dir }],
  ['push', { args: () => ['push', '-m', 'one'], cwd: (c) => c.dir, after: (j, c) => (c.snapshot = j.snapshot) }],
  ['pull', { args: () => ['pull'], cwd: (c) => c.dir }],
  ['log', { args: () => ['log'], cwd: (c) => c.dir }],
  ['verify', { args: () => ['verify'], cwd: (c) => c.dir }],
  [
    'restore',
    {
      args: (c) => ['restore', c.snapshot!, '--to', path.join(c.out, 'restored')],
      cwd: (c) => c.dir,
      // the workspace as log, verify and export name it; counts under the words the human text uses
      after: (j, c) => {
        expect(Object.keys(j).sort()).toEqual(['deleted', 'leftOut', 'root', 'snapshot', 'workspaceId', 'written']);
        expect(j).toMatchObject({ workspaceId: c.workspaceId, snapshot: c.snapshot, written: 1, deleted: 0, leftOut: [] });
      },
    },
  ],
  ['clone', { args: (c) => ['clone', 'json-ws', path.join(c.out, 'cloned')] }],
  ['export', { args: (c) => ['export', '--workspace', 'json-ws', '--out', path.join(c.out, 'export.tar.gz')] }],
  ['workspace list', { args: () => ['workspace', 'list'] }],
  ['workspace rename', { args: () => ['workspace', 'rename', 'json-ws', 'json-ws-2'] }],
  ['token create', { args: () => ['token', 'create', '--workspace', 'json-ws-2', '--name', 'ci'], after: (j, c) => (c.token = j.id) }],
  ['token list', { args: () => ['token', 'list'] }],
  ['token revoke', { args: (c) => ['token', 'revoke', c.token!] }],
  ['completion', { args: () => ['completion', 'bash'] }],
  ['team create', { args: () => ['team', 'create', 'json-team'] }],
  ['team list', { args: () => ['team', 'list'] }],
  ['team members', { args: () => ['team', 'members', '--team', 'json-team'] }],
  // inviting needs a verified address: refused, as JSON
  ['team invite', { args: () => ['team', 'invite', 'x@example.com', '--team', 'json-team'], expectCode: 4 }],
  ['team accept', { args: () => ['team', 'accept', 'AAAA-BBBB-CCCC-DDDD'], expectCode: 5 }],
  ['team confirm', { args: () => ['team', 'confirm', '--all', '--team', 'json-team'] }],
  ['team remove', { args: () => ['team', 'remove', 'nobody@example.com', '--team', 'json-team', '--yes'], expectCode: 5 }],
  ['team rotate', { args: () => ['team', 'rotate', '--team', 'json-team'] }],
  ['team role', { args: () => ['team', 'role', 'nobody@example.com', 'admin', '--team', 'json-team'], expectCode: 5 }],
  ['team leave', { args: () => ['team', 'leave', '--team', 'json-team', '--yes'], expectCode: 3 }],
  [
    'team delete',
    {
      args: () => ['team', 'delete', '--team', 'json-team', '--yes'],
      after: (j) => {
        expect(Object.keys(j).sort()).toEqual(['deletedAt', 'removed', 'team', 'teamId']);
        expect(j).toMatchObject({ team: 'json-team', removed: { workspaces: 0, memberships: 1, accessTokens: 0 } });
      },
    },
  ],
  ['account verify', { args: () => ['account', 'verify', 'AAAA-BBBB-CCCC-DDDD'], expectCode: 4 }],
  [
    'account show',
    {
      args: () => ['account', 'show'],
      // the right to know: the revoked token is listed, with what the server holds and no secret
      after: (j, c) => {
        const token = j.accessTokens.find((t: { id: string }) => t.id === c.token);
        expect(token).toMatchObject({ name: 'ci', scope: 'write' });
        expect(token.revokedAt).not.toBeNull();
        expect(Object.keys(token).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scope', 'workspaceId']);
      },
    },
  ],
  ['account sessions', { args: () => ['account', 'sessions'] }],
  ['account export', { args: (c) => ['account', 'export', '--out', path.join(c.out, 'account.tar.gz')] }],
  ['account recovery-key', { args: () => ['account', 'recovery-key', '--password-stdin'], input: `${PASSWORD}\n` }],
  ['account recover', { args: () => ['account', 'recover', '--email', 'json@example.com', '--password-stdin'], input: 'not-a-recovery-key\nnew-password-123\n', expectCode: 2 }],
  ['account password', { args: () => ['account', 'password', '--password-stdin'], input: `${PASSWORD}\nsecond-password-456\n` }],
  ['login', { args: () => ['login', '--email', 'json@example.com', '--password-stdin'], input: 'second-password-456\n' }],
  ['workspace delete', { args: () => ['workspace', 'delete', 'json-ws-2', '--yes'] }],
  ['account delete', { args: () => ['account', 'delete', '--yes', '--password-stdin'], input: 'second-password-456\n' }],
  ['logout', { args: () => ['logout'] }],
  ['signup', { args: () => ['signup', '--email', 'json2@example.com', '--password-stdin'], input: `${PASSWORD}\n` }],
];

function leafCommands(cmd: Command, prefix: string[] = []): string[] {
  if (cmd.commands.length === 0) return [prefix.join(' ')];
  return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => leafCommands(c, [...prefix, c.name()]));
}

describe('--json on every command', () => {
  let server: StartedServer;
  const ctx = {} as Ctx;

  beforeAll(async () => {
    server = await startServer();
    ctx.m = machine(server.url);
    await signupMachine(ctx.m, 'json@example.com');
    ctx.dir = tempDir('isync-json-');
    ctx.out = tempDir('isync-json-out-');
    writeFileSync(path.join(ctx.dir, 'a.json'), '{"a":1}');
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the table covers every command of the program', () => {
    const leaves = leafCommands(buildProgram(async () => {})).sort();
    expect(STEPS.map(([name]) => name).sort()).toEqual(leaves);
  });

  it.each(STEPS)('%s --json prints one JSON document', async (_name, step) => {
    const res = await ctx.m.run([...step.args(ctx), '--json'], { cwd: step.cwd?.(ctx), input: step.input });
    const expected = step.expectCode ?? 0;
    expect(res.code, res.stderr).toBe(expected);
    if (expected === 0) {
      const parsed = JSON.parse(res.stdout);
      expect(typeof parsed).toBe('object');
      step.after?.(parsed, ctx);
    } else {
      expect(res.stdout).toBe('');
      const err = JSON.parse(res.stderr);
      expect(typeof err.error.code).toBe('string');
      expect(typeof err.error.message).toBe('string');
    }
  });

  it('an error with --json is one JSON object on stderr and nothing on stdout', async () => {
    const res = await ctx.m.run(['status', '--json'], { cwd: tempDir() });
    expect(res.code).toBe(5); // not a linked folder
    expect(res.stdout).toBe('');
    expect(Object.keys(JSON.parse(res.stderr))).toEqual(['error']);
  });
});
