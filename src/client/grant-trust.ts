/**
 * Whom a member takes a team key from (crypto/team-grant.ts checks the signature; this decides
 * whether the signer counts), and how far a team's key epoch has got on this machine.
 *
 * - A grant we signed ourselves is always good.
 * - Our personal team has no other member: a grant for it from anyone else is the server's. Its
 *   id derives from our account key (crypto/team-grant.ts), so no server can pass it off as another.
 * - A member whose fingerprint this machine recorded (known-keys.json, at `team confirm`, a
 *   rotation, or an earlier grant) must grant with exactly those keys.
 * - For the newest epoch (the key new data goes out under), a granter never recorded must be a
 *   confirmed member in the server's list with those keys, and is then recorded, unchecked. Where
 *   this machine has checked fingerprints of the team's members (it confirmed them), a granter it
 *   never checked is refused until `team confirm EMAIL --fingerprint FP` records theirs: the
 *   server's list alone could name a member of its own making.
 * - Older epochs only read history: a granter never recorded is accepted there.
 * - A team's newest epoch never goes down: `<config dir>/team-epochs.json` keeps the highest seen
 *   per server and team, so a server cannot roll a team back to keys a removed member holds.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprint, fingerprintsEqual, type Identity } from '../crypto/keys.js';
import { constantTimeEqual } from '../crypto/encoding.js';
import { personalTeamIdOf, type Granter } from '../crypto/team-grant.js';
import { fromB64 } from '../protocol/encoding.js';
import type { TeamInfo, TeamMemberInfo } from '../protocol/types.js';
import { ensurePrivateDir } from './config.js';
import { IntegrityFailure, SyncError } from './errors.js';
import { openKnownKeys } from './known-keys.js';
import { normalizeUrl } from './session.js';

export interface GrantTrust {
  /** throws IntegrityFailure when `granter` may not hand us this team's key for `epoch` */
  checkGranter(team: TeamInfo, epoch: number, granter: Granter, newest: boolean): Promise<void>;
  /** throws IntegrityFailure when `newest` is below an epoch of this team seen before; else records it */
  checkNewestEpoch(team: TeamInfo, newest: number): void;
}

const EPOCHS_FILE = 'team-epochs.json';

interface EpochsFile {
  version: 1;
  servers: Record<string, Record<string, number>>;
}

export function grantTrust(opts: {
  configDir: string;
  server: string;
  userId: string;
  identity: Identity;
  accountKey: Uint8Array;
  /** the server's member list of a team, asked only for a granter never recorded here */
  membersOf: (teamId: string) => Promise<TeamMemberInfo[]>;
}): GrantTrust {
  const { configDir, userId, identity } = opts;
  const server = normalizeUrl(opts.server);
  const file = path.join(configDir, EPOCHS_FILE);
  const personalTeamId = personalTeamIdOf(opts.accountKey);
  let known: ReturnType<typeof openKnownKeys> | undefined;
  return {
    async checkGranter(team, epoch, granter, newest) {
      const what = `the key of team ${team.name} (epoch ${epoch})`;
      const ours = constantTimeEqual(granter.ed25519PublicKey, identity.ed25519.publicKey) && constantTimeEqual(granter.x25519PublicKey, identity.x25519.publicKey);
      if (ours && granter.userId === userId) return;
      if (granter.userId === userId) throw new IntegrityFailure(`${what} is signed in your name with keys that are not yours`);
      if (team.personal || team.id === personalTeamId) {
        throw new IntegrityFailure(`${what} was not made by you, yet it is your personal team: the server may be trying to read what you push`);
      }
      known ??= openKnownKeys(configDir, server);
      const print = fingerprint(granter.x25519PublicKey, granter.ed25519PublicKey);
      const pinned = known.get(granter.userId);
      if (pinned) {
        if (!fingerprintsEqual(pinned.fingerprint, print)) throw new IntegrityFailure(`${what} is signed by keys that do not match the fingerprint this machine recorded for ${pinned.email}`);
        return;
      }
      if (!newest) return;
      const members = await opts.membersOf(team.id);
      const member = members.find((m) => m.userId === granter.userId);
      if (!member || member.status !== 'confirmed' || !fingerprintsEqual(memberPrint(member), print)) {
        throw new IntegrityFailure(`${what} is signed by someone who is not a member of the team: the server may be trying to read what you push`);
      }
      if (members.some((m) => m.userId !== userId && known!.get(m.userId)?.checked === true)) {
        throw new IntegrityFailure(
          `${what} was handed over by ${printable(member.email)}, whose fingerprint this machine has not checked`,
          `compare ${print} with what they see in \`insomnia-sync whoami\`, then record it: insomnia-sync team confirm ${printable(member.email)} --team ${team.id.slice(0, 12)} --fingerprint FP`,
        );
      }
      known.remember([{ userId: member.userId, email: member.email, fingerprint: print, checked: false }]);
    },
    checkNewestEpoch(team, newest) {
      const all = readEpochs(file);
      const seen = all.servers[server]?.[team.id];
      if (seen !== undefined && newest < seen) {
        throw new IntegrityFailure(
          `the server offers the keys of team ${team.name} up to epoch ${newest}, but this machine has seen epoch ${seen}: it rolled the team's keys back`,
          'if the server was restored from a backup, an owner or admin runs `insomnia-sync team rotate --team TEAM` once that is confirmed; otherwise do not push to this team',
        );
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

function memberPrint(m: TeamMemberInfo): string {
  return fingerprint(fromB64(m.x25519PublicKey, 32), fromB64(m.ed25519PublicKey, 32));
}

/** Server-supplied text in a message: control and bidi characters could redraw the terminal. */
function printable(text: string): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}
