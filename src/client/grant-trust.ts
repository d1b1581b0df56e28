/**
 * Whom a member takes a team key from (crypto/team-grant.ts checks the signature; this decides
 * whether the signer counts), and what this machine remembers of each team to decide it.
 *
 * - A grant we signed ourselves is always good.
 * - Our personal team has no other member: a grant for it from anyone else is the server's. Its
 *   id derives from our account key (crypto/team-grant.ts), so no server can pass it off as another.
 * - A member whose fingerprint this machine recorded (known-keys.json) must grant with exactly
 *   those keys.
 * - Older epochs only read history: any other granter is accepted there.
 * - The newest epoch (the key new data goes out under) is checked once, when this machine first
 *   sees it: its granter must be a confirmed owner or admin in the server's member list, with
 *   those keys; and where this machine vouched for members of the team (`team confirm` with a
 *   checked fingerprint), one of those, even once all of them are gone (removed here, or not among
 *   a rotation's recipients). The member list is the server's word; the vouched set is this
 *   machine's, so there a server cannot bring in a member of its own making.
 * - A team's newest epoch never goes down.
 *
 * - A team we created is strict from the start. A workspace stays in the team this machine first
 *   saw it in: one "moved" would come under a team of the server's making.
 *
 * `<config dir>/team-epochs.json`, per server and team: the newest epoch seen, who granted it,
 * and the members this machine vouched for in that team; per server, each workspace's team, and
 * the head it had when this machine first saw its newest key epoch (EpochMark).
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
import { openKnownKeys, type KnownKeys } from './known-keys.js';
import { normalizeUrl } from './session.js';

export interface GrantTrust {
  /** throws IntegrityFailure when `granter` may not hand us this team's key for `epoch` */
  checkGranter(team: TeamInfo, epoch: number, granter: Granter, newest: boolean): Promise<void>;
  /** throws IntegrityFailure when `newest` is below an epoch of this team seen before; else records it and its granter */
  checkNewestEpoch(team: TeamInfo, newest: number, granterId: string): void;
  /** members this machine vouched for in a team (their fingerprint checked), or no longer does (removed) */
  vouch(teamId: string, userIds: readonly string[]): void;
  unvouch(teamId: string, userId: string): void;
  /** after a rotation: only its recipients stay vouched for (a member who left is not one) */
  retainVouched(teamId: string, userIds: readonly string[]): void;
  /** a team we made: strict from the start, as if we had vouched (nobody else has granted yet) */
  createdTeam(teamId: string): void;
  /** throws IntegrityFailure when a workspace seen in one team is now said to be in another; else records it */
  checkWorkspaceTeam(workspaceId: string, teamId: string): void;
  /**
   * Records that the workspace was at key epoch `epoch` with head `head`, when `epoch` is newer
   * than the one recorded (or, with `replace`, at least as new: this machine just rotated and read
   * the head after); returns what is recorded. See EpochMark.
   */
  markEpoch(workspaceId: string, epoch: number, head: string | null, replace?: boolean): EpochMark;
  /** known-keys.json for this server: snapshot signers are held to it too (access-token.ts) */
  knownKeys(): Pick<KnownKeys, 'get' | 'userIdOf'>;
}

/**
 * The first time this machine saw a workspace at its newest key epoch, and its head then (read
 * after that epoch's keys, so every snapshot under an older epoch is the head or behind it). From
 * then on an honest server takes snapshots only under that epoch or a newer one: a newer head under
 * an older epoch was made with replaced keys (a removed member's, or a stale access token's, let in
 * by the server), and is refused (history.ts requireHeadAfterMark).
 */
export interface EpochMark {
  epoch: number;
  head: string | null;
}

const TEAMS_FILE = 'team-epochs.json';

interface TeamRecord {
  epoch?: number;
  /** who granted `epoch` */
  granter?: string;
  vouched?: string[];
  /** set once this machine vouched for anyone in the team: the vouched set decides from then on, even emptied */
  strict?: boolean;
}

interface TeamsFile {
  version: 1;
  servers: Record<string, Record<string, TeamRecord>>;
  /** per server, the team each workspace was first seen in: workspaces never move */
  workspaces?: Record<string, Record<string, string>>;
  /** per server and workspace, its newest key epoch when first seen here, and its head then */
  marks?: Record<string, Record<string, EpochMark>>;
}

export function grantTrust(opts: {
  configDir: string;
  server: string;
  userId: string;
  identity: Identity;
  accountKey: Uint8Array;
  /** the server's member list of a team, asked only for a newest epoch not seen here before */
  membersOf: (teamId: string) => Promise<TeamMemberInfo[]>;
}): GrantTrust {
  const { configDir, userId, identity } = opts;
  const server = normalizeUrl(opts.server);
  const file = path.join(configDir, TEAMS_FILE);
  const personalTeamId = personalTeamIdOf(opts.accountKey);
  let known: ReturnType<typeof openKnownKeys> | undefined;
  // Read once per command; a write reads the file again first, so another process's records survive.
  let cached: TeamsFile | undefined;
  const current = (): TeamsFile => (cached ??= readTeams(file));
  const recordOf = (teamId: string): TeamRecord => current().servers[server]?.[teamId] ?? {};
  const write = (all: TeamsFile): void => {
    ensurePrivateDir(configDir);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(all) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
    cached = all;
  };
  const update = (teamId: string, change: (r: TeamRecord) => TeamRecord): void => {
    const all = readTeams(file);
    all.servers[server] = { ...all.servers[server], [teamId]: change(all.servers[server]?.[teamId] ?? {}) };
    write(all);
  };
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
      if (pinned && !fingerprintsEqual(pinned.fingerprint, print)) {
        throw new IntegrityFailure(`${what} is signed by keys that do not match the fingerprint this machine recorded for ${pinned.email}`);
      }
      if (!newest) return;
      const record = recordOf(team.id);
      if (record.epoch === epoch && record.granter === granter.userId) return; // checked when first seen
      const members = await opts.membersOf(team.id);
      const member = members.find((m) => m.userId === granter.userId);
      if (!member || member.status !== 'confirmed' || member.role === 'member' || !fingerprintsEqual(memberPrint(member), print)) {
        throw new IntegrityFailure(`${what} is signed by someone who is not an owner or admin of the team: the server may be trying to read what you push`);
      }
      if (record.strict === true && !(record.vouched ?? []).includes(granter.userId)) {
        throw new IntegrityFailure(
          `${what} was handed over by ${printable(member.email)}, whose fingerprint this machine has not checked for this team`,
          `compare ${print} with what they see in \`insomnia-sync whoami\`, then record it: insomnia-sync team confirm ${printable(member.email)} --team ${team.id} --fingerprint FP`,
        );
      }
      if (!pinned) known.remember([{ userId: member.userId, email: member.email, fingerprint: print, checked: false }]);
    },
    checkNewestEpoch(team, newest, granterId) {
      const record = recordOf(team.id);
      const seen = record.epoch;
      if (seen !== undefined && newest < seen) {
        throw new IntegrityFailure(
          `the server offers the keys of team ${team.name} up to epoch ${newest}, but this machine has seen epoch ${seen}: it rolled the team's keys back`,
          'if the server was restored from a backup, an owner or admin runs `insomnia-sync team rotate --team TEAM` once that is confirmed; otherwise do not push to this team',
        );
      }
      if (record.epoch === newest && record.granter === granterId) return;
      update(team.id, (r) => ({ ...r, epoch: newest, granter: granterId }));
    },
    vouch(teamId, userIds) {
      if (userIds.length === 0) return;
      update(teamId, (r) => ({ ...r, strict: true, vouched: [...new Set([...(r.vouched ?? []), ...userIds])] }));
    },
    createdTeam(teamId) {
      update(teamId, (r) => ({ ...r, strict: true, epoch: 1, granter: userId }));
    },
    checkWorkspaceTeam(workspaceId, teamId) {
      const seen = current().workspaces?.[server]?.[workspaceId];
      if (seen === teamId) return;
      if (seen !== undefined) {
        throw new IntegrityFailure(
          `the server says workspace ${workspaceId.slice(0, 12)} belongs to team ${teamId.slice(0, 12)}, but this machine saw it in team ${seen.slice(0, 12)}`,
          'nothing was sent or changed; workspaces do not move between teams',
        );
      }
      const all = readTeams(file);
      all.workspaces = { ...all.workspaces, [server]: { ...all.workspaces?.[server], [workspaceId]: teamId } };
      write(all);
    },
    markEpoch(workspaceId, epoch, head, replace = false) {
      const seen = current().marks?.[server]?.[workspaceId];
      if (seen !== undefined && (replace ? epoch < seen.epoch : epoch <= seen.epoch)) return seen;
      if (seen !== undefined && seen.epoch === epoch && seen.head === head) return seen;
      const all = readTeams(file);
      const mark: EpochMark = { epoch, head };
      all.marks = { ...all.marks, [server]: { ...all.marks?.[server], [workspaceId]: mark } };
      write(all);
      return mark;
    },
    knownKeys() {
      return (known ??= openKnownKeys(configDir, server));
    },
    retainVouched(teamId, userIds) {
      const keep = new Set(userIds);
      const vouched = recordOf(teamId).vouched ?? [];
      if (vouched.every((u) => keep.has(u))) return;
      update(teamId, (r) => ({ ...r, vouched: (r.vouched ?? []).filter((u) => keep.has(u)) }));
    },
    unvouch(teamId, gone) {
      if (!(recordOf(teamId).vouched ?? []).includes(gone)) return;
      update(teamId, (r) => ({ ...r, vouched: (r.vouched ?? []).filter((u) => u !== gone) }));
    },
  };
}

function readTeams(file: string): TeamsFile {
  if (!existsSync(file)) return { version: 1, servers: {} };
  try {
    const f = JSON.parse(readFileSync(file, 'utf8')) as TeamsFile;
    if (f?.version === 1 && f.servers !== null && typeof f.servers === 'object') return f;
  } catch {
    /* damaged: below */
  }
  throw new SyncError('bad_state', `${file} is damaged`, 'fix or remove it (it records, per team, the newest key epoch seen and the members vouched for)');
}

function memberPrint(m: TeamMemberInfo): string {
  return fingerprint(fromB64(m.x25519PublicKey, 32), fromB64(m.ed25519PublicKey, 32));
}

/** Server-supplied text in a message: control and bidi characters could redraw the terminal. */
function printable(text: string): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}
