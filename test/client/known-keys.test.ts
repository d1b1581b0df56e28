/** Members' fingerprints this machine vouched for, and the check a key rotation makes against them. */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, identityFromSecrets } from '../../src/crypto/keys.js';
import type { ClientContext } from '../../src/client/context.js';
import { IntegrityFailure, UsageError } from '../../src/client/errors.js';
import { openKnownKeys } from '../../src/client/known-keys.js';
import type { ActiveSession } from '../../src/client/session.js';
import { checkRecipients } from '../../src/client/services/teams.js';
import { toB64 } from '../../src/protocol/encoding.js';
import type { TeamMemberInfo } from '../../src/protocol/types.js';
import { seededBytes } from '../crypto/helpers.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';

const SERVER = 'https://sync.example.com/isync';
const [me, bob, eve] = [1, 3, 5].map((n) => identityFromSecrets(seededBytes(32, n), seededBytes(32, n + 1), nodePrimitives)) as [
  ReturnType<typeof identityFromSecrets>,
  ReturnType<typeof identityFromSecrets>,
  ReturnType<typeof identityFromSecrets>,
];
const fp = (id: typeof me): string => fingerprint(id.x25519.publicKey, id.ed25519.publicKey);

function member(userId: string, email: string, keys: typeof me): TeamMemberInfo {
  return {
    userId,
    email,
    name: email.split('@')[0]!,
    x25519PublicKey: toB64(keys.x25519.publicKey),
    ed25519PublicKey: toB64(keys.ed25519.publicKey),
    role: 'member',
    status: 'confirmed',
    joinedAt: '2026-01-01T00:00:00.000Z',
  };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'isync-known-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('known keys', () => {
  it('remembers a fingerprint per server and user, in a private file', () => {
    const known = openKnownKeys(dir, `${SERVER}/`);
    expect(known.get('u1')).toBeUndefined();
    known.remember('u1', fp(bob).replace(/(\d{5})/g, '$1 '));
    expect(openKnownKeys(dir, SERVER).get('u1')).toBe(fp(bob).replace(/\s/g, ''));
    expect(openKnownKeys(dir, 'https://other.example.com').get('u1')).toBeUndefined();
    expect(statSync(path.join(dir, 'known-keys.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(dir, 'known-keys.json'), 'utf8')).servers[SERVER]).toEqual({ u1: fp(bob).replace(/\s/g, '') });
  });

  it('refuses a damaged file rather than forget what it vouched for', () => {
    writeFileSync(path.join(dir, 'known-keys.json'), '{"version":1');
    expect(() => openKnownKeys(dir, SERVER).get('u1')).toThrow(/known-keys.json is damaged/);
  });
});

describe('the recipients of a rotation', () => {
  const session = { secrets: { userId: 'me', server: SERVER }, identity: me } as unknown as ActiveSession;
  const ctx = (answer: boolean, asked: string[] = []): ClientContext =>
    ({ configDir: dir, prompter: { confirm: async (m: string) => (asked.push(m), answer) } }) as unknown as ClientContext;

  it('pass when each key is the one vouched for, and the own key is ours', async () => {
    openKnownKeys(dir, SERVER).remember('bob', fp(bob));
    const asked: string[] = [];
    expect(await checkRecipients(ctx(false, asked), session, [member('me', 'me@example.com', me), member('bob', 'bob@example.com', bob)], {})).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('refuse a key the server swapped, even with --yes, and our own key swapped', async () => {
    openKnownKeys(dir, SERVER).remember('bob', fp(bob));
    await expect(checkRecipients(ctx(true), session, [member('bob', 'bob@example.com', eve)], { yes: true })).rejects.toThrow(IntegrityFailure);
    await expect(checkRecipients(ctx(true), session, [member('me', 'me@example.com', eve)], { yes: true })).rejects.toThrow(/your own/);
  });

  it('ask about a member not vouched for yet, and remember the answer', async () => {
    const asked: string[] = [];
    await expect(checkRecipients(ctx(false, asked), session, [member('bob', 'bob@example.com', bob)], {})).rejects.toThrow(UsageError);
    expect(asked[0]).toContain(fp(bob));
    expect(openKnownKeys(dir, SERVER).get('bob')).toBeUndefined();
    expect(await checkRecipients(ctx(true), session, [member('bob', 'bob@example.com', bob)], {})).toEqual([]);
    expect(openKnownKeys(dir, SERVER).get('bob')).toBe(fp(bob).replace(/\s/g, ''));
  });

  it('with --yes, trust an unknown key as shown, report it, and hold later rotations to it', async () => {
    expect(await checkRecipients(ctx(true), session, [member('bob', 'bob@example.com', bob)], { yes: true })).toEqual(['bob@example.com']);
    await expect(checkRecipients(ctx(true), session, [member('bob', 'bob@example.com', eve)], { yes: true })).rejects.toThrow(IntegrityFailure);
  });
});
