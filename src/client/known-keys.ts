/**
 * The members' key fingerprints this machine has vouched for, like ssh's known_hosts: `team
 * confirm` records the fingerprint it checked, and a key rotation seals the new team key only to
 * keys that still match (docs/crypto.md §5). Without it a rotation would seal the team key to
 * whatever public key the server lists for a member, and a server that swapped one in would read
 * everything pushed afterwards.
 *
 * `<config dir>/known-keys.json` (0600), per server, then per user id:
 *   { "version": 1, "servers": { "<server URL>": { "<user id>": "<fingerprint>" } } }
 * Not secret (fingerprints are public), but kept with the config: `logout` does not forget them.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeFingerprint } from '../crypto/keys.js';
import { ensurePrivateDir } from './config.js';
import { SyncError } from './errors.js';
import { normalizeUrl } from './session.js';

interface KnownKeysFile {
  version: 1;
  servers: Record<string, Record<string, string>>;
}

export interface KnownKeys {
  /** the fingerprint recorded for this user on this server, if any */
  get(userId: string): string | undefined;
  /** records (or replaces) it; written at once */
  remember(userId: string, fingerprint: string): void;
}

const FILE = 'known-keys.json';

export function openKnownKeys(configDir: string, server: string): KnownKeys {
  const file = path.join(configDir, FILE);
  const serverKey = normalizeUrl(server);
  const load = (): KnownKeysFile => {
    if (!existsSync(file)) return { version: 1, servers: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw damaged(file);
    }
    const f = parsed as Partial<KnownKeysFile> | null;
    if (f === null || typeof f !== 'object' || f.version !== 1 || f.servers === null || typeof f.servers !== 'object') throw damaged(file);
    return f as KnownKeysFile;
  };
  return {
    get(userId) {
      const known = load().servers[serverKey]?.[userId];
      return typeof known === 'string' ? known : undefined;
    },
    remember(userId, fingerprint) {
      const f = load();
      f.servers[serverKey] = { ...f.servers[serverKey], [userId]: normalizeFingerprint(fingerprint) };
      ensurePrivateDir(configDir);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(f, null, 2) + '\n', { mode: 0o600 });
      renameSync(tmp, file);
    },
  };
}

function damaged(file: string): SyncError {
  return new SyncError('bad_state', `${file} is damaged`, 'fix or remove it; the next `team confirm` or rotation asks for each fingerprint again');
}
