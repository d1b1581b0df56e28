/**
 * A folder linked with `--profile work` keeps acting as that profile: its commands use the profile
 * recorded in link.json unless one is named explicitly, and a different explicit one is refused
 * (exit 2) rather than signing as another account. Links without a profile mean the default.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientContext } from '../../src/client/context.js';
import { SecretStore, type SessionSecrets } from '../../src/client/secrets.js';
import { stateDir, writeLink } from '../../src/client/local/link.js';
import { openLinkedFolder } from '../../src/client/services/open-linked.js';
import type { ActiveSession } from '../../src/client/session.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';
import { buildContext } from '../../src/cli/context.js';
import type { Output } from '../../src/cli/output.js';

const SERVER = 'http://127.0.0.1:8787';
const KEY = Buffer.alloc(32, 7).toString('base64url');

function secrets(email: string): SessionSecrets {
  return {
    version: 1,
    server: SERVER,
    userId: `u-${email}`,
    email,
    name: email,
    sessionId: 's',
    sessionToken: `token-${email}`,
    accountKey: KEY,
    x25519Secret: KEY,
    ed25519Secret: KEY,
    x25519Public: KEY,
    ed25519Public: KEY,
  };
}

let configDir: string;
let folder: string;

beforeEach(() => {
  configDir = mkdtempSync(path.join(os.tmpdir(), 'isync-profile-config-'));
  folder = mkdtempSync(path.join(os.tmpdir(), 'isync-profile-ws-'));
  new SecretStore(configDir, 'default').write(secrets('home@example.com'));
  new SecretStore(configDir, 'work').write(secrets('work@example.com'));
});
afterEach(() => {
  rmSync(configDir, { recursive: true, force: true });
  rmSync(folder, { recursive: true, force: true });
});

function link(profile: unknown): void {
  writeLink(folder, { version: 1, server: SERVER, workspaceId: 'w'.repeat(32), teamId: 't', profile } as never);
}

function context(profile: string, explicit: boolean, cwd = folder, server?: { url: string; source: 'flag' | 'env' }): ClientContext {
  return {
    cwd,
    profile,
    profileExplicit: explicit,
    ...(server ? { serverOverride: server.url, serverSource: server.source } : {}),
    configDir,
    loadConfig: () => Promise.reject(new Error('not needed')),
    secrets: new SecretStore(configDir, profile),
    prompter: {} as ClientContext['prompter'],
    progress: { start() {}, update() {}, stop() {} },
    primitives: {} as ClientContext['primitives'],
    api: (server: string, token?: string) => ({ server, token }) as never,
    clientLabel: 'test',
  };
}

async function emailOf(ctx: ClientContext): Promise<string> {
  const { session } = await openLinkedFolder(ctx);
  return (session as ActiveSession).secrets.email;
}

async function failure(ctx: ClientContext): Promise<{ code: string; message: string; hint?: string }> {
  return openLinkedFolder(ctx).then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e as { code: string; message: string; hint?: string },
  );
}

describe('the profile of a linked folder', () => {
  it('is the one recorded in its link when none is named, from the folder and from a subfolder', async () => {
    link('work');
    expect(await emailOf(context('default', false))).toBe('work@example.com');
    const sub = path.join(folder, 'collections', 'deep');
    mkdirSync(sub, { recursive: true });
    expect(await emailOf(context('default', false, sub))).toBe('work@example.com');
  });

  it('is refused with exit 2, naming both, when another one is named explicitly', async () => {
    link('work');
    const err = await failure(context('default', true));
    expect(exitCodeFor(err.code)).toBe(2);
    expect(err.message).toContain('"work"');
    expect(err.message).toContain('"default"');
    expect(err.message).not.toContain('\n');
  });

  it('accepts the same profile named explicitly', async () => {
    link('work');
    expect(await emailOf(context('work', true))).toBe('work@example.com');
  });

  it('is the default profile for a link written before profiles were recorded', async () => {
    link(undefined);
    expect(await emailOf(context('default', false))).toBe('home@example.com');
    expect(exitCodeFor((await failure(context('work', true))).code)).toBe(2);
  });

  it('says which profile to log in with when that profile has no session', async () => {
    new SecretStore(configDir, 'work').wipe();
    link('work');
    const err = await failure(context('default', false));
    expect(exitCodeFor(err.code)).toBe(4);
    expect(err.hint).toContain('--profile work login');
  });

  it('refuses a profile name that would reach outside the config directory', async () => {
    mkdirSync(stateDir(folder), { recursive: true });
    for (const bad of ['../../etc/passwd', 42, '']) {
      writeFileSync(path.join(stateDir(folder), 'link.json'), JSON.stringify({ version: 1, server: SERVER, workspaceId: 'w', teamId: 't', profile: bad }));
      const err = await failure(context('default', false));
      expect(err.code).toBe('bad_state');
    }
  });
});

describe('the server of a linked folder', () => {
  const OTHER = 'http://127.0.0.1:9';
  const serverOf = async (ctx: ClientContext): Promise<string> => ((await openLinkedFolder(ctx)).session as ActiveSession).secrets.server;

  it('is the one in its link, over INSOMNIA_SYNC_SERVER naming another', async () => {
    link('work');
    expect(await serverOf(context('default', false, folder, { url: OTHER, source: 'env' }))).toBe(SERVER);
  });

  it('refuses a --server naming another, with exit 2, naming both and never hinting logout', async () => {
    link('work');
    const err = await failure(context('default', false, folder, { url: `${OTHER}/`, source: 'flag' }));
    expect(exitCodeFor(err.code)).toBe(2);
    expect(err.message).toBe(`this folder is linked to ${SERVER}, not ${OTHER}`);
    expect(err.hint).not.toContain('logout');
  });

  it('accepts a --server naming the same server, however it is spelled', async () => {
    link('work');
    expect(await serverOf(context('default', false, folder, { url: `${SERVER}/`, source: 'flag' }))).toBe(SERVER);
  });

  it("says so, without hinting logout, when the folder's profile is logged in to another server now", async () => {
    writeLink(folder, { version: 1, server: OTHER, workspaceId: 'w'.repeat(32), teamId: 't', profile: 'work' });
    const err = await failure(context('default', false));
    expect(exitCodeFor(err.code)).toBe(4);
    expect(err.message).toBe(`${folder} is linked to ${OTHER}, but profile "work" is logged in to ${SERVER}`);
    expect(err.hint).not.toContain('logout');
  });
});

describe('buildContext', () => {
  const out = { progress: () => ({ start() {}, update() {}, stop() {} }) } as unknown as Output;
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ INSOMNIA_SYNC_CONFIG_DIR: configDir, ...extra });

  it('marks the profile explicit only when --profile or INSOMNIA_SYNC_PROFILE names it', async () => {
    const none = await buildContext({}, out, env());
    expect([none.profile, none.profileExplicit]).toEqual(['default', false]);
    const flag = await buildContext({ profile: 'work' }, out, env());
    expect([flag.profile, flag.profileExplicit]).toEqual(['work', true]);
    const fromEnv = await buildContext({}, out, env({ INSOMNIA_SYNC_PROFILE: 'default' }));
    expect([fromEnv.profile, fromEnv.profileExplicit]).toEqual(['default', true]);
    const empty = await buildContext({}, out, env({ INSOMNIA_SYNC_PROFILE: '' }));
    expect([empty.profile, empty.profileExplicit]).toEqual(['default', false]);
    await Promise.all([none, flag, fromEnv, empty].map((c) => c.close()));
  });

  it('tells a --server from INSOMNIA_SYNC_SERVER, and the flag wins', async () => {
    const fromEnv = await buildContext({}, out, env({ INSOMNIA_SYNC_SERVER: 'http://127.0.0.1:1' }));
    expect([fromEnv.serverOverride, fromEnv.serverSource]).toEqual(['http://127.0.0.1:1', 'env']);
    const flag = await buildContext({ server: 'http://127.0.0.1:2' }, out, env({ INSOMNIA_SYNC_SERVER: 'http://127.0.0.1:1' }));
    expect([flag.serverOverride, flag.serverSource]).toEqual(['http://127.0.0.1:2', 'flag']);
    const none = await buildContext({}, out, env());
    expect([none.serverOverride, none.serverSource]).toEqual([undefined, undefined]);
    await Promise.all([fromEnv, flag, none].map((c) => c.close()));
  });
});
