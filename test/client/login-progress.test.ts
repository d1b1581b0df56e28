/**
 * login's (and signup's) progress says what it waits for: "Contacting SERVER" while the first request is out (a
 * server that never answers is not a slow key derivation), "Deriving keys" only once the server
 * has named the parameters.
 */
import { describe, expect, it } from 'vitest';
import type { ClientContext } from '../../src/client/context.js';
import { login, signup } from '../../src/client/services/auth.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';

const SERVER = 'http://sync.example.test:8787';

function recordingContext(prelogin: () => Promise<unknown>): { ctx: ClientContext; labels: string[]; atPrelogin: string[] } {
  const labels: string[] = [];
  const atPrelogin: string[] = [];
  const never = (what: string) => () => {
    throw new Error(`login reached ${what}`);
  };
  const ctx = {
    cwd: '/',
    profile: 'default',
    serverOverride: SERVER,
    configDir: '/nonexistent',
    // read (and the folder checked) before the server is contacted; written only after a login
    loadConfig: async () => ({ dir: '/nonexistent', getProfile: () => ({}), setProfile: never('writing the config') }),
    secrets: { read: () => null, checkWritable: () => {} } as unknown as ClientContext['secrets'],
    prompter: { password: async () => 'correct horse battery staple', confirm: never('a confirmation'), text: never('a prompt') },
    progress: { start: (t: string) => labels.push(t), update: (t: string) => labels.push(t), stop() {} },
    primitives: noblePrimitives,
    api: () =>
      ({
        prelogin: () => {
          atPrelogin.push(...labels);
          return prelogin();
        },
        login: never('the login request'),
      }) as never,
    clientLabel: 'test',
  } as ClientContext;
  return { ctx, labels, atPrelogin };
}

describe('login progress', () => {
  it('says "Contacting SERVER" while prelogin is in flight, and nothing about keys when it fails', async () => {
    const { ctx, labels, atPrelogin } = recordingContext(async () => {
      throw Object.assign(new Error('cannot reach the server'), { code: 'unreachable' });
    });
    await expect(login(ctx, { email: 'ada@example.com' })).rejects.toThrow(/cannot reach/);
    expect(atPrelogin).toEqual([`Contacting ${SERVER}`]);
    expect(labels).toEqual([`Contacting ${SERVER}`]);
  });

  it('says "Deriving keys" once the server answered', async () => {
    // parameters below the client's minimum stop it right after the label changes
    const { ctx, labels } = recordingContext(async () => ({ kdf: { alg: 'argon2id', memoryKiB: 1024, iterations: 1, parallelism: 1, salt: 'AAAAAAAAAAAAAAAAAAAAAA' } }));
    await expect(login(ctx, { email: 'ada@example.com' })).rejects.toMatchObject({ code: 'weak_kdf' });
    expect(labels).toEqual([`Contacting ${SERVER}`, 'Deriving keys from your password']);
  });

  it('signup too: "Contacting SERVER" while prelogin is out, "Deriving keys" only after', async () => {
    const failing = recordingContext(async () => {
      throw Object.assign(new Error('cannot reach the server'), { code: 'unreachable' });
    });
    await expect(signup(failing.ctx, { email: 'ada@example.com' })).rejects.toThrow(/cannot reach/);
    expect(failing.atPrelogin).toEqual([`Contacting ${SERVER}`]);
    expect(failing.labels).toEqual([`Contacting ${SERVER}`]);
    const weak = recordingContext(async () => ({ kdf: { alg: 'argon2id', memoryKiB: 1024, iterations: 1, parallelism: 1, salt: 'AAAAAAAAAAAAAAAAAAAAAA' } }));
    await expect(signup(weak.ctx, { email: 'ada@example.com' })).rejects.toMatchObject({ code: 'weak_kdf' });
    expect(weak.labels).toEqual([`Contacting ${SERVER}`, 'Deriving keys from your password']);
  });
});
