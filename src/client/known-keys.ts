/**
 * The members' key fingerprints this machine has vouched for, like ssh's known_hosts: `team
 * confirm` records the fingerprint it checked, and a key rotation seals the new team key only to
 * keys that still match (docs/crypto.md §5.1). Without it a rotation would seal the team key to
 * whatever public key the server lists for a member, and a server that swapped one in would read
 * everything pushed afterwards. Snapshot signers are held to it too (access-token.ts
 * trustedSignersOf): a member listed with other keys signs nothing this machine accepts.
 *
 * `<config dir>/known-keys.json` (0600), per server, then per user id:
 *   { "version": 1, "servers": { "<server URL>": { "<user id>": { "email", "fingerprint", "checked" } } } }
 * The email lets a rotation notice the server listing a known person under another account id;
 * `checked` is false for a key recorded under `--yes` (trusted as the server showed it).
 * Not secret (fingerprints are public), but kept with the config: `logout` does not forget them.
 * Writes are read-modify-write under a lock file, so two processes do not lose each other's pins.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeFingerprint } from '../crypto/keys.js';
import { ensurePrivateDir } from './config.js';
import { SyncError } from './errors.js';
import { normalizeUrl } from './session.js';

export interface KnownKey {
  email: string;
  /** 40 digits, no spaces */
  fingerprint: string;
  /** false when recorded under --yes without a comparison */
  checked: boolean;
}

export interface KnownKeyRecord extends KnownKey {
  userId: string;
}

export interface KnownKeys {
  /** what is recorded for this user on this server, if anything */
  get(userId: string): KnownKey | undefined;
  /** the user id another record on this server has for this email, if any */
  userIdOf(email: string): string | undefined;
  /** records (or replaces) these, in one locked write */
  remember(records: readonly KnownKeyRecord[]): void;
}

interface KnownKeysFile {
  version: 1;
  servers: Record<string, Record<string, KnownKey>>;
}

const FILE = 'known-keys.json';
/** A lock older than this was left by a process that died. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

export function openKnownKeys(configDir: string, server: string): KnownKeys {
  const file = path.join(configDir, FILE);
  const serverKey = normalizeUrl(server);
  // Read once per command; a write re-reads under the lock, so another process's records survive.
  let cached: Record<string, KnownKey> | null = null;
  const records = (): Record<string, KnownKey> => (cached ??= load(file).servers[serverKey] ?? {});
  return {
    get(userId) {
      const all = records();
      return Object.hasOwn(all, userId) ? all[userId] : undefined;
    },
    userIdOf(email) {
      return Object.entries(records()).find(([, r]) => r.email === email)?.[0];
    },
    remember(list) {
      if (list.length === 0) return;
      ensurePrivateDir(configDir);
      withLock(`${file}.lock`, () => {
        const f = load(file);
        const mine = { ...f.servers[serverKey] };
        for (const { userId, email, fingerprint, checked } of list) mine[userId] = { email, fingerprint: normalizeFingerprint(fingerprint), checked };
        f.servers[serverKey] = mine;
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
        renameSync(tmp, file);
        cached = mine;
      });
    },
  };
}

function load(file: string): KnownKeysFile {
  if (!existsSync(file)) return { version: 1, servers: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw damaged(file);
  }
  const f = parsed as Partial<KnownKeysFile> | null;
  if (f === null || typeof f !== 'object' || f.version !== 1 || f.servers === null || typeof f.servers !== 'object') throw damaged(file);
  for (const server of Object.values(f.servers)) {
    for (const r of Object.values(server ?? {})) {
      if (typeof r?.email !== 'string' || typeof r.fingerprint !== 'string' || typeof r.checked !== 'boolean') throw damaged(file);
    }
  }
  return f as KnownKeysFile;
}

function withLock(lock: string, fn: () => void): void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(lock).mtimeMs > STALE_LOCK_MS) rmSync(lock, { force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > deadline) throw new SyncError('bad_state', `${lock} is held by another insomnia-sync`, 'wait for it, or remove the file if none is running');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  try {
    fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function damaged(file: string): SyncError {
  return new SyncError('bad_state', `${file} is damaged`, 'fix or remove it; the next `team confirm` or rotation asks for each fingerprint again');
}
