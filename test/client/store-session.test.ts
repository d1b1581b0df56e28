/**
 * After the server made the account or opened the session, a write on this machine that fails
 * anyway (the checks before passed; then a full disk) is reported as what it is: the server's
 * part is done, this machine kept nothing, and the session just opened is ended so that none is
 * left that no machine holds. Never a bare file-system error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClientContext } from '../../src/client/context.js';
import { SyncError } from '../../src/client/errors.js';
import { storeSession } from '../../src/client/services/auth.js';
import { generateIdentity } from '../../src/crypto/keys.js';
import { noblePrimitives } from '../../src/crypto/primitives.js';
import { toB64 } from '../../src/protocol/encoding.js';
import type { AccountResponse } from '../../src/protocol/types.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';

const SERVER = 'http://sync.example.test:8787';
const p = noblePrimitives;

let configDir: string;
beforeEach(() => {
  configDir = mkdtempSync(path.join(os.tmpdir(), 'isync-store-'));
});
afterEach(() => {
  rmSync(configDir, { recursive: true, force: true });
});

function reply(identity: ReturnType<typeof generateIdentity>): AccountResponse {
  return {
    session: { id: 's'.repeat(32), token: 'new-session-token' },
    user: { id: 'a'.repeat(32), email: 'ada@example.com', name: 'ada' },
    keys: { x25519PublicKey: toB64(identity.x25519.publicKey), ed25519PublicKey: toB64(identity.ed25519.publicKey) },
    teams: [],
  } as unknown as AccountResponse;
}

describe('storeSession when this machine cannot keep the session', () => {
  it.each([
    ['the session file', { write: true, config: false }],
    ['the profile settings', { write: false, config: true }],
  ])('a failure to write %s says what the server did, ends the new session, exits 1', async (_what, fails) => {
    const ended: string[] = [];
    const written: unknown[] = [];
    const ctx = {
      cwd: '/',
      profile: 'default',
      configDir,
      loadConfig: async () => ({
        dir: configDir,
        getProfile: () => ({}),
        setProfile: () => {
          if (fails.config) throw new SyncError('local_write', `cannot write ${configDir}/config.json (no space left on device, ENOSPC)`);
        },
      }),
      secrets: {
        read: () => null,
        write: (s: unknown) => {
          if (fails.write) throw new SyncError('local_write', `cannot write ${configDir}/sessions (no space left on device, ENOSPC)`);
          written.push(s);
        },
      } as unknown as ClientContext['secrets'],
      prompter: {} as ClientContext['prompter'],
      progress: { start() {}, update() {}, stop() {} },
      primitives: p,
      api: (_server: string, token?: string) => ({ logout: async () => void ended.push(token ?? '') }) as never,
      clientLabel: 'test',
    } as ClientContext;
    const identity = generateIdentity(p);
    const err = (await storeSession(ctx, SERVER, reply(identity), p.randomBytes(32), identity.x25519.secretKey, identity.ed25519.secretKey, {
      account: { email: 'ada@example.com' },
      done: `your account ada@example.com was created on ${SERVER}`,
      then: 'fix that, then log in: `insomnia-sync login --email ada@example.com`',
    }).then(
      () => new Error('stored'),
      (e: unknown) => e,
    )) as SyncError;
    expect(err).toBeInstanceOf(SyncError);
    expect(exitCodeFor(err.code)).toBe(1);
    expect(err.message).toMatch(new RegExp(`^your account ada@example\\.com was created on ${SERVER.replace(/\./g, '\\.')}, but this machine could not keep the session: cannot write .* \\(no space left on device, ENOSPC\\)$`));
    expect(err.hint).toContain('insomnia-sync login --email ada@example.com');
    expect(ended).toEqual(['new-session-token']);
    expect(written).toEqual([]);
  });
});
