/**
 * Whom a member takes a team key from (crypto/team-grant.ts checks the signature; this decides
 * whether the signer counts), and how far a team's key epoch has got on this machine.
 *
 * - A grant we signed ourselves is always good.
 * - Our personal team has no other member: a grant for it from anyone else is the server's.
 * - A member whose fingerprint this machine recorded (known-keys.json, at `team confirm` or a
 *   rotation) must grant with exactly those keys.
 * - Anyone else is taken on the server's word, as the member list is; `team members` shows their
 *   fingerprint to compare.
 * - A team's newest epoch never goes down: `<config dir>/team-epochs.json` keeps the highest seen
 *   per server and team, so a server cannot roll a team back to keys a removed member holds.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprint, fingerprintsEqual, type Identity } from '../crypto/keys.js';
import { constantTimeEqual } from '../crypto/encoding.js';
import type { Granter } from '../crypto/team-grant.js';
import type { TeamInfo } from '../protocol/types.js';
import { ensurePrivateDir } from './config.js';
import { IntegrityFailure, SyncError } from './errors.js';
import { openKnownKeys } from './known-keys.js';
import { normalizeUrl } from './session.js';

export interface GrantTrust {
  /** throws IntegrityFailure when `granter` may not hand us this team's key */
  checkGranter(team: TeamInfo, epoch: number, granter: Granter): void;
  /** throws IntegrityFailure when `newest` is below an epoch of this team seen before; else records it */
  checkNewestEpoch(team: TeamInfo, newest: number): void;
}

const EPOCHS_FILE = 'team-epochs.json';

interface EpochsFile {
  version: 1;
  servers: Record<string, Record<string, number>>;
}

export function grantTrust(opts: { configDir: string; server: string; userId: string; identity: Identity; personalTeamId?: string }): GrantTrust {
  const { configDir, userId, identity } = opts;
  const server = normalizeUrl(opts.server);
  const file = path.join(configDir, EPOCHS_FILE);
  let known: ReturnType<typeof openKnownKeys> | undefined;
  return {
    checkGranter(team, epoch, granter) {
      const what = `the key of team ${team.name} (epoch ${epoch})`;
      const ours = constantTimeEqual(granter.ed25519PublicKey, identity.ed25519.publicKey) && constantTimeEqual(granter.x25519PublicKey, identity.x25519.publicKey);
      if (ours && granter.userId === userId) return;
      if (granter.userId === userId) throw new IntegrityFailure(`${what} is signed in your name with keys that are not yours`);
      if (team.personal || team.id === opts.personalTeamId) {
        throw new IntegrityFailure(`${what} was not made by you, yet it is your personal team: the server may be trying to read what you push`);
      }
      const pinned = (known ??= openKnownKeys(configDir, server)).get(granter.userId);
      if (pinned && !fingerprintsEqual(pinned.fingerprint, fingerprint(granter.x25519PublicKey, granter.ed25519PublicKey))) {
        throw new IntegrityFailure(`${what} is signed by keys that do not match the fingerprint this machine recorded for ${pinned.email}`);
      }
    },
    checkNewestEpoch(team, newest) {
      const all = readEpochs(file);
      const seen = all.servers[server]?.[team.id];
      if (seen !== undefined && newest < seen) {
        throw new IntegrityFailure(`the server offers the keys of team ${team.name} up to epoch ${newest}, but this machine has seen epoch ${seen}: it rolled the team's keys back`);
      }
      if (seen === newest) return;
      all.servers[server] = { ...all.servers[server], [team.id]: newest };
      ensurePrivateDir(configDir);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(all) + '\n', { mode: 0o600 });
      renameSync(tmp, file);
    },
  };
}

function readEpochs(file: string): EpochsFile {
  if (!existsSync(file)) return { version: 1, servers: {} };
  try {
    const f = JSON.parse(readFileSync(file, 'utf8')) as EpochsFile;
    if (f?.version === 1 && f.servers !== null && typeof f.servers === 'object') return f;
  } catch {
    /* damaged: below */
  }
  throw new SyncError('bad_state', `${file} is damaged`, 'fix or remove it (it records the newest key epoch seen of each team)');
}
