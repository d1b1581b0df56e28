/** Members' fingerprints this machine vouched for, and the check a key rotation makes against them. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprint, identityFromSecrets } from '../../src/crypto/keys.js';
import type { ClientContext } from '../../src/client/context.js';
import { IntegrityFailure, UsageError } from '../../src/client/errors.js';
import { openKnownKeys } from '../../src/client/known-keys.js';
import type { ActiveSession } from '../../src/client/session.js';
import { checkRecipients } from '../../src/client/services/teams.js';
import { nodePrimitives } from '../../src/native/primitives-node.js';
import { toB64 } from '../../src/protocol/encoding.js';
import type { TeamMemberInfo } from '../../src/protocol/types.js';
import { seededBytes } from '../crypto/helpers.js';
import { ROOT } from '../helpers/cli.js';

const SERVER = 'https://sync.example.com/isync';
type Identity = ReturnType<typeof identityFromSecrets>;
const [me, bob, eve] = [1, 3, 5].map((n) => identityFromSecrets(seededBytes(32, n), seededBytes(32, n + 1), nodePrimitives)) as [Identity, Identity, Identity];
const fp = (id: Identity): string => fingerprint(id.x25519.publicKey, id.ed25519.publicKey).replace(/\s/g, '');

function member(userId: string, email: string, keys: Identity): TeamMemberInfo {
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
  it('records a fingerprint per server and user, with the email, in a private file', () => {
    openKnownKeys(dir, `${SERVER}/`).remember([{ userId: 'u1', email: 'bob@example.com', fingerprint: fp(bob).replace(/(\d{5})/g, '$1 '), checked: true }]);
    const known = openKnownKeys(dir, SERVER);
    expect(known.get('u1')).toEqual({ email: 'bob@example.com', fingerprint: fp(bob), checked: true });
    expect(known.userIdOf('bob@example.com')).toBe('u1');
    expect(known.get('toString')).toBeUndefined();
    expect(openKnownKeys(dir, 'https://other.example.com').get('u1')).toBeUndefined();
    expect(statSync(path.join(dir, 'known-keys.json')).mode & 0o777).toBe(0o600);
  });

  it('refuses a damaged file rather than forget what it vouched for', () => {
    writeFileSync(path.join(dir, 'known-keys.json'), '{"version":1');
    expect(() => openKnownKeys(dir, SERVER).get('u1')).toThrow(/known-keys.json is damaged/);
    writeFileSync(path.join(dir, 'known-keys.json'), JSON.stringify({ version: 1, servers: { [SERVER]: { u1: { email: 'x' } } } }));
    expect(() => openKnownKeys(dir, SERVER).get('u1')).toThrow(/damaged/);
  });

  it('two processes recording at once lose nothing (the built module, as the CLI runs it)', async () => {
    const script = `
      const { openKnownKeys } = await import(${JSON.stringify(path.join(ROOT, 'dist/client/known-keys.js'))});
      const known = openKnownKeys(process.argv[1], 'https://sync.example.com');
      for (let i = 0; i < 60; i++) known.remember([{ userId: process.argv[2] + i, email: process.argv[2] + i + '@example.com', fingerprint: '1'.repeat(40), checked: true }]);`;
    const run = promisify(execFile);
    await Promise.all(['a', 'b'].map((who) => run(process.execPath, ['--input-type=module', '-e', script, dir, who])));
    const file = JSON.parse(readFileSync(path.join(dir, 'known-keys.json'), 'utf8'));
    expect(Object.keys(file.servers['https://sync.example.com'])).toHaveLength(120);
  }, 30_000);
});

describe('the recipients of a rotation', () => {
  const session = { secrets: { userId: 'me', email: 'me@example.com', server: SERVER }, identity: me } as unknown as ActiveSession;
  const ctx = (answer: boolean, asked: string[] = []): ClientContext =>
    ({ configDir: dir, prompter: { confirm: async (m: string) => (asked.push(m), answer) } }) as unknown as ClientContext;
  const known = () => openKnownKeys(dir, SERVER);
  const recordBob = (checked = true) => known().remember([{ userId: 'bob', email: 'bob@example.com', fingerprint: fp(bob), checked }]);
  const self = member('me', 'me@example.com', me);

  it('pass when each key is the one checked on this machine, and our own entry is us', async () => {
    recordBob();
    const asked: string[] = [];
    expect(await checkRecipients(ctx(false, asked), session, known(), [self, member('bob', 'bob@example.com', bob)], {})).toEqual({ unchecked: [], vouched: [] });
    expect(asked).toEqual([]);
  });

  it('refuse, even with --yes: a swapped key, a recorded person under a new account id, our own entry changed, a member listed twice', async () => {
    recordBob();
    const refused = (recipients: TeamMemberInfo[]) => expect(checkRecipients(ctx(true), session, known(), recipients, { yes: true })).rejects.toThrow(IntegrityFailure);
    await refused([member('bob', 'bob@example.com', eve)]);
    await refused([member('bob-2', 'bob@example.com', eve)]);
    await refused([member('me', 'me@example.com', eve)]);
    await refused([member('me-2', 'me@example.com', me)]);
    await refused([member('carol', 'carol@example.com', eve), member('carol', 'carol@example.com', bob)]);
    await refused([member('carol', 'carol@example.com', eve), member('carol-2', 'carol@example.com', eve)]);
  });

  it('ask about a member never recorded, and return what to record without writing it', async () => {
    const asked: string[] = [];
    await expect(checkRecipients(ctx(false, asked), session, known(), [member('bob', 'bob@example.com', bob)], {})).rejects.toThrow(UsageError);
    expect(asked[0]).toMatch(new RegExp(`^Fingerprint ${fingerprint(bob.x25519.publicKey, bob.ed25519.publicKey)} `));
    const ok = await checkRecipients(ctx(true), session, known(), [member('bob', 'bob@example.com', bob)], {});
    expect(ok).toEqual({ unchecked: [], vouched: [{ userId: 'bob', email: 'bob@example.com', fingerprint: expect.stringMatching(/^[\d ]+$/), checked: true }] });
    expect(known().get('bob')).toBeUndefined(); // recorded by the caller once the server took the rotation
  });

  it('with --yes, trust an unknown key as shown and report it, every time until it is checked', async () => {
    const first = await checkRecipients(ctx(true), session, known(), [member('bob', 'bob@example.com', bob)], { yes: true });
    expect(first.unchecked).toEqual(['bob@example.com']);
    expect(first.vouched[0]!.checked).toBe(false);
    recordBob(false);
    expect((await checkRecipients(ctx(true), session, known(), [member('bob', 'bob@example.com', bob)], { yes: true })).unchecked).toEqual(['bob@example.com']);
    await expect(checkRecipients(ctx(true), session, known(), [member('bob', 'bob@example.com', eve)], { yes: true })).rejects.toThrow(IntegrityFailure);
    const asked: string[] = [];
    const checked = await checkRecipients(ctx(true, asked), session, known(), [member('bob', 'bob@example.com', bob)], {});
    expect(asked).toHaveLength(1);
    expect(checked.vouched[0]!.checked).toBe(true);
  });

  it('show server text without control characters in the question', async () => {
    const asked: string[] = [];
    const sly = { ...member('bob', 'bob@example.com', bob), name: 'Bob\u001b[8m\u202e' };
    await checkRecipients(ctx(true, asked), session, known(), [sly], {});
    expect(asked[0]).not.toMatch(/[\u001b\u202e]/);
  });
});
