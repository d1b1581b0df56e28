/**
 * team create | list | members | invite | accept | confirm | remove | leave | rotate, and
 * account verify (docs/crypto.md §5). The server never sees a team key: confirming a member seals
 * every team key epoch we hold to their X25519 key, after the fingerprint check; removing one
 * (and `rotate` after someone left) makes a new team key and new workspace keys on this machine
 * and uploads them sealed, in one request the server applies in one transaction.
 */
import { fromB64, toB64 } from '../../protocol/encoding.js';
import type { RotateTeamRequest, TeamInfo, TeamMemberInfo, TeamRole } from '../../protocol/types.js';
import { sealEnvelope } from '../../crypto/aead.js';
import { fingerprint, fingerprintsEqual } from '../../crypto/keys.js';
import { sealToPublicKey } from '../../crypto/seal.js';
import { generateKey } from '../../crypto/workspace-keys.js';
import { toHex } from '../../crypto/hex.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, UsageError } from '../errors.js';
import { teamKeys } from '../keyring.js';
import { requireSession, type ActiveSession } from '../session.js';
import { openKnownKeys } from '../known-keys.js';
import { normalizeEmail } from './auth.js';

export interface TeamListEntry {
  id: string;
  name: string;
  role: TeamRole;
  personal: boolean;
  epoch: number;
  confirmed: boolean;
}

export interface MemberView {
  userId: string;
  email: string;
  name: string;
  role: TeamRole;
  status: 'confirmed' | 'accepted';
  fingerprint: string;
  joinedAt: string;
}

export function checkTeamName(name: string): string {
  const n = name.trim();
  if (!n || n.length > 100 || /[\x00-\x1f]/.test(n)) throw new UsageError('a team name has 1 to 100 printable characters');
  return n;
}

/** By exact id or exact name; the personal team also as "personal". */
export function findTeam(teams: TeamInfo[], wanted: string): TeamInfo {
  const hits = teams.filter((t) => t.id === wanted || t.name === wanted || (wanted === 'personal' && t.personal));
  if (hits.length === 0) throw new NotFoundError(`you are in no team ${wanted}`, 'see `insomnia-sync team list`');
  if (hits.length > 1) throw new UsageError(`${hits.length} of your teams are named ${wanted}`, 'use the team id instead');
  return hits[0]!;
}

function memberFingerprint(m: { x25519PublicKey: string; ed25519PublicKey: string }): string {
  return fingerprint(fromB64(m.x25519PublicKey, 32), fromB64(m.ed25519PublicKey, 32));
}

function view(m: TeamMemberInfo): MemberView {
  return { userId: m.userId, email: m.email, name: m.name, role: m.role, status: m.status, fingerprint: memberFingerprint(m), joinedAt: m.joinedAt };
}

export async function createTeam(ctx: ClientContext, opts: { name: string }): Promise<TeamListEntry> {
  const session = requireSession(ctx);
  const p = ctx.primitives;
  const name = checkTeamName(opts.name);
  const id = toHex(p.randomBytes(16));
  const teamKey = generateKey(p);
  const sealed = sealToPublicKey(p, session.identity.x25519.publicKey, teamKey, { kind: 'team-key', ownerId: id, epoch: 1 });
  const team = await session.api.createTeam({ id, name, sealedTeamKey: toB64(sealed) });
  return { id: team.id, name: team.name, role: 'owner', personal: false, epoch: team.epoch, confirmed: true };
}

export async function listTeams(ctx: ClientContext): Promise<TeamListEntry[]> {
  const me = await requireSession(ctx).api.me();
  return me.teams.map((t) => ({ id: t.id, name: t.name, role: t.role, personal: t.personal, epoch: t.epoch, confirmed: t.confirmed !== false }));
}

export async function teamMembers(ctx: ClientContext, opts: { team: string }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team);
  const res = await session.api.teamMembers(team.id);
  return { team: res.team, members: res.members.map(view), invitations: res.invitations };
}

/** One address a line (blank lines and `#` comments skipped): for --from-file and stdin. */
export function parseAddressList(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

export async function invite(ctx: ClientContext, opts: { team: string; emails: string[]; role?: 'admin' | 'member' }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team);
  const failed: { email: string; reason: string }[] = [];
  const valid: string[] = [];
  for (const raw of opts.emails) {
    try {
      valid.push(normalizeEmail(raw));
    } catch {
      failed.push({ email: raw, reason: 'not a valid email address' });
    }
  }
  const invited: { email: string; expiresAt: string }[] = [];
  // the server takes 100 addresses a request
  for (let i = 0; i < valid.length; i += 100) {
    const res = await session.api.inviteMembers(team.id, { emails: valid.slice(i, i + 100), role: opts.role ?? 'member' });
    invited.push(...res.invited);
    failed.push(...res.failed);
  }
  return { team: team.name, teamId: team.id, role: opts.role ?? 'member', invited, failed };
}

export async function accept(ctx: ClientContext, opts: { code: string }) {
  const session = requireSession(ctx);
  const res = await session.api.acceptInvitation({ code: opts.code.trim() });
  return {
    ...res,
    fingerprint: fingerprint(session.identity.x25519.publicKey, session.identity.ed25519.publicKey),
  };
}

export interface ConfirmOptions {
  team: string;
  /** one member by email; or `all` */
  email?: string;
  all?: boolean;
  /** the fingerprint the member read out (scripts): mismatch refuses, exit 7 */
  fingerprint?: string;
  /** trust the fingerprint the server shows without checking (the CLI warns) */
  yes?: boolean;
}

export interface ConfirmResult {
  team: string;
  confirmed: MemberView[];
  /** members the person at the terminal did not vouch for */
  skipped: MemberView[];
  /** true when --yes confirmed without any fingerprint check */
  unchecked: boolean;
}

export async function confirm(ctx: ClientContext, opts: ConfirmOptions): Promise<ConfirmResult> {
  if (!opts.all && !opts.email) throw new UsageError('name the member to confirm (EMAIL), or pass --all');
  if (opts.all && opts.email) throw new UsageError('give an EMAIL or --all, not both');
  if (opts.all && opts.fingerprint) throw new UsageError('--fingerprint checks one member; confirm them one at a time');
  const session = requireSession(ctx);
  const p = ctx.primitives;
  const me = await session.api.me();
  const team = findTeam(me.teams, opts.team);
  const res = await session.api.teamMembers(team.id);
  let targets = res.members.filter((m) => m.status === 'accepted');
  if (opts.email) {
    const email = normalizeEmail(opts.email);
    const member = res.members.find((m) => m.email === email);
    if (!member) throw new NotFoundError(`${email} is not a member of ${team.name}`, 'they accept the invitation first: `insomnia-sync team accept CODE`');
    if (member.status === 'confirmed') throw new UsageError(`${email} is already confirmed`);
    targets = [member];
  }
  const keys = teamKeys(p, session.identity, team);
  if (!keys.has(team.epoch)) throw new AuthError(`you hold no key of ${team.name} for its current epoch`, undefined, 'forbidden');

  const result: ConfirmResult = { team: team.name, confirmed: [], skipped: [], unchecked: false };
  const known = openKnownKeys(ctx.configDir, session.secrets.server);
  for (const m of targets) {
    const v = view(m);
    if (opts.fingerprint !== undefined) {
      // a script's check: nothing is sealed unless the fingerprint is the one the member read out
      if (!fingerprintsEqual(opts.fingerprint, v.fingerprint)) {
        throw new IntegrityFailure(
          `the fingerprint of ${v.email} is ${v.fingerprint}, not the one given; nothing was sealed`,
          'ask them for `insomnia-sync whoami` again over a channel you trust; a mismatch can mean the server swapped their key',
        );
      }
    } else if (opts.yes) {
      result.unchecked = true;
    } else if (!(await ctx.prompter.confirm(`${v.email} (${v.name}) has the fingerprint ${v.fingerprint}. Does it match what they see in \`insomnia-sync whoami\`?`))) {
      result.skipped.push(v);
      continue;
    }
    // Vouched for (or, with --yes, trusted as the server shows it): later rotations hold it to this.
    known.remember(m.userId, v.fingerprint);
    const recipient = fromB64(m.x25519PublicKey, 32);
    const sealedKeys = [...keys].map(([epoch, key]) => ({
      epoch,
      sealedKey: toB64(sealToPublicKey(p, recipient, key, { kind: 'team-key', ownerId: team.id, epoch })),
    }));
    await session.api.confirmMember(team.id, m.userId, { sealedKeys });
    result.confirmed.push({ ...v, status: 'confirmed' });
  }
  if (opts.email && result.skipped.length > 0) throw new UsageError('not confirmed: the fingerprint was not vouched for');
  return result;
}

/**
 * A new team key for epoch + 1 sealed to every confirmed member but `excludeUserId`, and a new
 * content key for every workspace of the team wrapped under it. Old epochs stay as they are:
 * the remaining members hold them already, and the server drops the leaver's copies.
 *
 * The keys come from the server, so each recipient's fingerprint must be the one this machine
 * vouched for (known-keys.ts); one it has not vouched for yet is asked about like `team confirm`
 * does (with `yes`, trusted as shown, and reported). Nothing is sent if any check fails.
 */
async function buildRotation(
  ctx: ClientContext,
  session: ActiveSession,
  team: TeamInfo,
  excludeUserId: string | null,
  opts: { yes?: boolean },
): Promise<{ rotation: RotateTeamRequest; unchecked: string[] }> {
  const p = ctx.primitives;
  const [members, workspaces] = await Promise.all([session.api.teamMembers(team.id), session.api.listWorkspaces()]);
  const epoch = members.team.epoch + 1;
  const recipients = members.members.filter((m) => m.status === 'confirmed' && m.userId !== excludeUserId);
  const unchecked = await checkRecipients(ctx, session, recipients, opts);
  const teamKey = generateKey(p);
  const sealedKeys = recipients.map((m) => ({
    userId: m.userId,
    sealedKey: toB64(sealToPublicKey(p, fromB64(m.x25519PublicKey, 32), teamKey, { kind: 'team-key', ownerId: team.id, epoch })),
  }));
  const workspaceKeys = workspaces
    .filter((w) => w.teamId === team.id)
    .map((w) => ({
      workspaceId: w.id,
      wrappedKey: toB64(sealEnvelope(p, teamKey, generateKey(p), { kind: 'workspace-key', workspaceId: w.id, epoch })),
    }));
  return { rotation: { epoch: members.team.epoch, sealedKeys, workspaceKeys }, unchecked };
}

/** Emails of the recipients trusted without a check (`yes`); throws before anything is sealed. */
export async function checkRecipients(ctx: ClientContext, session: ActiveSession, recipients: TeamMemberInfo[], opts: { yes?: boolean }): Promise<string[]> {
  const known = openKnownKeys(ctx.configDir, session.secrets.server);
  const unchecked: string[] = [];
  const swapped = (email: string, shown: string, expected: string) =>
    new IntegrityFailure(
      `the server shows ${email} with the fingerprint ${shown}, not ${expected}; nothing was sealed`,
      'ask them for `insomnia-sync whoami` over a channel you trust: a changed key the person did not make means the server swapped it',
    );
  for (const m of recipients) {
    const shown = memberFingerprint(m);
    if (m.userId === session.secrets.userId) {
      const mine = fingerprint(session.identity.x25519.publicKey, session.identity.ed25519.publicKey);
      if (!fingerprintsEqual(shown, mine)) throw swapped(m.email, shown, `your own ${mine}`);
      continue;
    }
    const expected = known.get(m.userId);
    if (expected !== undefined) {
      if (!fingerprintsEqual(shown, expected)) throw swapped(m.email, shown, `the ${expected} you confirmed`);
      continue;
    }
    if (opts.yes) unchecked.push(m.email);
    else if (!(await ctx.prompter.confirm(`${m.email} (${m.name}) gets the new key; their fingerprint is ${shown}. Does it match what they see in \`insomnia-sync whoami\`?`))) {
      throw new UsageError(`not rotated: the fingerprint of ${m.email} was not vouched for`, 'check it with them, or pass --yes to trust the key the server shows');
    }
    known.remember(m.userId, shown);
  }
  return unchecked;
}

export async function removeMember(ctx: ClientContext, opts: { team: string; email: string; yes?: boolean }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team);
  const email = normalizeEmail(opts.email);
  const members = await session.api.teamMembers(team.id);
  const target = members.members.find((m) => m.email === email);
  if (!target) throw new NotFoundError(`${email} is not a member of ${team.name}`);
  if (target.userId === session.secrets.userId) throw new UsageError('to remove yourself, use `insomnia-sync team leave`');
  const { rotation, unchecked } = await buildRotation(ctx, session, team, target.userId, opts);
  const res = await session.api.removeMember(team.id, target.userId, rotation);
  return { team: team.name, removed: email, epoch: res.epoch, workspaces: rotation.workspaceKeys.length, members: rotation.sealedKeys.length, unchecked };
}

export async function rotateTeam(ctx: ClientContext, opts: { team: string; yes?: boolean }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team);
  const { rotation, unchecked } = await buildRotation(ctx, session, team, null, opts);
  const res = await session.api.rotateTeam(team.id, rotation);
  return { team: team.name, epoch: res.epoch, workspaces: rotation.workspaceKeys.length, members: rotation.sealedKeys.length, unchecked };
}

export async function leaveTeam(ctx: ClientContext, opts: { team: string }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team);
  if (team.personal) throw new UsageError('you cannot leave your personal team');
  const ok = await ctx.prompter.confirm(`Leave the team ${team.name}? You lose access to its workspaces at once.`);
  if (!ok) throw new UsageError('not left');
  const res = await session.api.leaveTeam(team.id);
  return { team: team.name, left: true, rotationPending: res.rotationPending };
}

export async function verifyAccount(ctx: ClientContext, opts: { code?: string; resend?: boolean }) {
  const session = requireSession(ctx);
  if (opts.resend) {
    await session.api.verifyEmail({ resend: true });
    return { email: session.secrets.email, verified: false, resent: true };
  }
  if (!opts.code) throw new UsageError('give the code from the activation mail, or --resend');
  await session.api.verifyEmail({ code: opts.code.trim() });
  return { email: session.secrets.email, verified: true, resent: false };
}
