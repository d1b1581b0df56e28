/**
 * team create | list | members | invite | accept | confirm | remove | leave | rotate | delete, and
 * account verify (docs/crypto.md §5). The server never sees a team key: confirming a member seals
 * every team key epoch we hold to their X25519 key, after the fingerprint check; removing one
 * (and `rotate` after someone left) makes a new team key and new workspace keys on this machine
 * and uploads them sealed, in one request the server applies in one transaction.
 */
import { fromB64, toB64 } from '../../protocol/encoding.js';
import { isPrintableLine } from '../../protocol/text.js';
import type { RotateTeamRequest, TeamDeletionReceipt, TeamInfo, TeamMemberInfo, TeamRole, WorkspaceInfo } from '../../protocol/types.js';
import { sealEnvelope } from '../../crypto/aead.js';
import { fingerprint, fingerprintsEqual, type Identity } from '../../crypto/keys.js';
import { personalTeamIdOf, sealTeamKeyGrant, teamKeyHash } from '../../crypto/team-grant.js';
import { generateKey } from '../../crypto/workspace-keys.js';
import { toHex } from '../../crypto/hex.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, SyncError, UsageError } from '../errors.js';
import { teamKeyChain, teamKeys } from '../keyring.js';
import { requireSession, type ActiveSession } from '../session.js';
import { openKnownKeys, type KnownKey, type KnownKeyRecord, type KnownKeys } from '../known-keys.js';
import { normalizeEmail } from './auth.js';
import { findTeam } from './find-team.js';

export interface TeamListEntry {
  id: string;
  name: string;
  role: TeamRole;
  personal: boolean;
  epoch: number;
  confirmed: boolean;
  /** a member left and the key awaits `team rotate`: the team's writes are refused until then */
  rotationPending: boolean;
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
  if (!n || n.length > 100 || !isPrintableLine(n)) throw new UsageError('a team name has 1 to 100 printable characters');
  return n;
}

function memberFingerprint(m: { x25519PublicKey: string; ed25519PublicKey: string }): string {
  return fingerprint(fromB64(m.x25519PublicKey, 32), fromB64(m.ed25519PublicKey, 32));
}

/** We sign every team key we hand out (crypto/team-grant.ts). */
function granterOf(session: ActiveSession): { userId: string; identity: Identity } {
  return { userId: session.secrets.userId, identity: session.identity };
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
  const sealed = sealTeamKeyGrant(p, granterOf(session), session.identity.x25519.publicKey, teamKey, { teamId: id, epoch: 1, previousKeyHash: null });
  const team = await session.api.createTeam({ id, name, sealedTeamKey: toB64(sealed) });
  session.trust.createdTeam(team.id);
  return { id: team.id, name: team.name, role: 'owner', personal: false, epoch: team.epoch, confirmed: true, rotationPending: false };
}

export async function listTeams(ctx: ClientContext): Promise<TeamListEntry[]> {
  const me = await requireSession(ctx).api.me();
  return me.teams.map((t) => ({
    id: t.id,
    name: t.name,
    role: t.role,
    personal: t.personal,
    epoch: t.epoch,
    confirmed: t.confirmed !== false,
    rotationPending: t.rotationPending === true,
  }));
}

export async function teamMembers(ctx: ClientContext, opts: { team: string }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team, personalTeamIdOf(session.accountKey));
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
  const team = findTeam((await session.api.me()).teams, opts.team, personalTeamIdOf(session.accountKey));
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
  /** already confirmed members whose checked fingerprint was recorded for later rotations */
  recorded: MemberView[];
  /** members the person at the terminal did not vouch for */
  skipped: MemberView[];
  /** true when --yes confirmed without any fingerprint check */
  unchecked: boolean;
}

/**
 * With no terminal to ask on: scripts check the fingerprint the member read out (--fingerprint),
 * which --all cannot take; --yes trusts whatever the server shows.
 */
const CONFIRM_ONE_HINT = "pass --fingerprint FP (what they read from `insomnia-sync whoami`), or --yes to trust the server's copy";
const CONFIRM_ALL_HINT =
  "name each member in place of --all, with --fingerprint FP (what they read from `insomnia-sync whoami`), or pass --yes to trust the server's copies";
const UNVOUCHED_ROTATION_HINT = 'check it with them (`team confirm EMAIL --team T --fingerprint FP` records it), or pass --yes to trust the key the server shows';

export async function confirm(ctx: ClientContext, opts: ConfirmOptions): Promise<ConfirmResult> {
  if (!opts.all && !opts.email) throw new UsageError('name the member to confirm (EMAIL), or pass --all');
  if (opts.all && opts.email) throw new UsageError('give an EMAIL or --all, not both');
  if (opts.all && opts.fingerprint) throw new UsageError('--fingerprint checks one member; confirm them one at a time');
  const session = requireSession(ctx);
  const p = ctx.primitives;
  const me = await session.api.me();
  const team = findTeam(me.teams, opts.team, personalTeamIdOf(session.accountKey));
  const res = await session.api.teamMembers(team.id);
  const known = openKnownKeys(ctx.configDir, session.secrets.server);
  const result: ConfirmResult = { team: team.name, confirmed: [], recorded: [], skipped: [], unchecked: false };
  let targets = res.members.filter((m) => m.status === 'accepted');
  if (opts.email) {
    const email = normalizeEmail(opts.email);
    const member = res.members.find((m) => m.email === email);
    if (!member) throw new NotFoundError(`${email} is not a member of ${team.name}`, 'they accept the invitation first: `insomnia-sync team accept CODE`');
    if (member.status === 'confirmed') {
      // Already holds the keys: a checked fingerprint is only recorded, for later rotations.
      if (opts.fingerprint === undefined) throw new UsageError(`${email} is already confirmed`, 'to record their fingerprint for key rotations, pass --fingerprint FP');
      checkGivenFingerprint(view(member), opts.fingerprint, 'nothing was recorded');
      known.remember([{ userId: member.userId, email: member.email, fingerprint: view(member).fingerprint, checked: true }]);
      session.trust.vouch(team.id, [member.userId]);
      result.recorded.push(view(member));
      return result;
    }
    targets = [member];
  }
  const { keys, previousKeyHash } = await teamKeyChain(p, session, team);
  if (!keys.has(team.epoch)) throw new AuthError(`you hold no key of ${team.name} for its current epoch`, undefined, 'forbidden');

  for (const m of targets) {
    const v = view(m);
    let checked = opts.fingerprint !== undefined;
    if (opts.fingerprint !== undefined) {
      // a script's check: nothing is sealed unless the fingerprint is the one the member read out
      checkGivenFingerprint(v, opts.fingerprint, 'nothing was sealed');
    } else {
      // Without a fingerprint read out, a key must not differ from one recorded for this person;
      // one that matches a checked record (a returning member) was vouched for already.
      checked = checkAgainstRecord(known, v, 'nothing was sealed')?.checked === true;
      if (checked) {
        /* no question, no warning: as a rotation does (checkRecipients) */
      } else if (opts.yes) result.unchecked = true;
      else if (!(await ctx.prompter.confirm(fingerprintQuestion(v), { noInputHint: opts.email ? CONFIRM_ONE_HINT : CONFIRM_ALL_HINT }))) {
        result.skipped.push(v);
        continue;
      }
    }
    const recipient = fromB64(m.x25519PublicKey, 32);
    const sealedKeys = [...keys].map(([epoch, key]) => ({
      epoch,
      sealedKey: toB64(sealTeamKeyGrant(p, granterOf(session), recipient, key, { teamId: team.id, epoch, previousKeyHash: previousKeyHash.get(epoch)! })),
    }));
    await session.api.confirmMember(team.id, m.userId, { sealedKeys });
    // Later rotations hold this member to this key (unchecked when --yes trusted the server's copy).
    known.remember([{ userId: m.userId, email: m.email, fingerprint: v.fingerprint, checked: checked || !opts.yes }]);
    // Keys this member hands out for this team are taken from here on (grant-trust.ts).
    if (checked || !opts.yes) session.trust.vouch(team.id, [m.userId]);
    result.confirmed.push({ ...v, status: 'confirmed' });
  }
  if (opts.email && result.skipped.length > 0) throw new UsageError('not confirmed: the fingerprint was not vouched for');
  return result;
}

function checkGivenFingerprint(v: MemberView, given: string, outcome: string): void {
  if (!fingerprintsEqual(given, v.fingerprint)) {
    throw new IntegrityFailure(
      `the fingerprint of ${printable(v.email)} is ${v.fingerprint}, not the one given; ${outcome}`,
      'ask them for `insomnia-sync whoami` again over a channel you trust; a mismatch can mean the server swapped their key',
    );
  }
}

/** A key that differs from the one recorded for this account, or a recorded person under another account id. */
function checkAgainstRecord(known: KnownKeys, v: MemberView, outcome: string): KnownKey | undefined {
  const record = known.get(v.userId);
  if (record !== undefined && !fingerprintsEqual(record.fingerprint, v.fingerprint)) {
    throw new IntegrityFailure(
      `the server shows ${printable(v.email)} with the fingerprint ${v.fingerprint}, not the ${record.fingerprint} recorded on this machine; ${outcome}`,
      'ask them for `insomnia-sync whoami` over a channel you trust: a changed key the person did not make means the server swapped it',
    );
  }
  const other = record === undefined ? known.userIdOf(v.email) : undefined;
  if (other !== undefined && other !== v.userId) {
    throw new IntegrityFailure(
      `the server shows ${printable(v.email)} under another account than the one recorded on this machine; ${outcome}`,
      'if they really made a new account, check its fingerprint with them and record it: `team confirm EMAIL --team T --fingerprint FP`',
    );
  }
  return record;
}

/** The fingerprint first: what follows is the server's text (made printable, but still its words). */
function fingerprintQuestion(v: MemberView, after = ''): string {
  return `Fingerprint ${v.fingerprint} is the key the server shows for ${printable(v.email)} (${printable(v.name)})${after}. Does it match what they see in \`insomnia-sync whoami\`?`;
}

/** Server-supplied text for the terminal: control and bidi characters could redraw what the question shows. */
function printable(text: string): string {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/**
 * A new team key for epoch + 1 sealed to every confirmed member but `excludeUserId`, and a new
 * content key for every workspace of the team wrapped under it. Old epochs stay as they are:
 * the remaining members hold them already, and the server drops the leaver's copies.
 *
 * The keys come from the server, so each recipient is checked first (checkRecipients); the
 * fingerprints it vouched for are recorded only once the server has taken the rotation.
 */
async function rotate(
  ctx: ClientContext,
  session: ActiveSession,
  team: TeamInfo,
  excludeUserId: string | null,
  opts: { yes?: boolean; onUnchecked?: (emails: string[]) => void },
  send: (rotation: RotateTeamRequest) => Promise<{ epoch: number }>,
): Promise<{ epoch: number; workspaces: number; members: number; unchecked: string[] }> {
  const p = ctx.primitives;
  const [members, workspaces] = await Promise.all([session.api.teamMembers(team.id), session.api.listWorkspaces()]);
  const epoch = members.team.epoch + 1;
  // The new key names the current one (crypto/team-grant.ts): whoever trusts it trusts the history.
  const current = (await teamKeys(p, session, team)).get(epoch - 1);
  if (current === undefined) throw new AuthError(`you hold no key of ${team.name} for its current epoch ${epoch - 1}, so you cannot make the next one`, undefined, 'forbidden');
  const recipients = members.members.filter((m) => m.status === 'confirmed' && m.userId !== excludeUserId);
  const known = openKnownKeys(ctx.configDir, session.secrets.server);
  const { unchecked, vouched } = await checkRecipients(ctx, session, known, recipients, opts);
  // Said before the key goes out: an answer that never comes must not hide it.
  if (unchecked.length > 0) opts.onUnchecked?.(unchecked);
  const teamKey = generateKey(p);
  const sealedKeys = recipients.map((m) => ({
    userId: m.userId,
    sealedKey: toB64(sealTeamKeyGrant(p, granterOf(session), fromB64(m.x25519PublicKey, 32), teamKey, { teamId: team.id, epoch, previousKeyHash: teamKeyHash(p, current) })),
  }));
  const workspaceKeys = workspaces
    .filter((w) => w.teamId === team.id)
    .map((w) => ({
      workspaceId: w.id,
      wrappedKey: toB64(sealEnvelope(p, teamKey, generateKey(p), { kind: 'workspace-key', workspaceId: w.id, epoch })),
    }));
  const res = await send({ epoch: members.team.epoch, sealedKeys, workspaceKeys });
  // The epoch we made is the floor from now on, here first: a server that takes it back (say
  // after a removal) must not have our next push go out under the removed member's key.
  session.trust.checkNewestEpoch(team, res.epoch, session.secrets.userId);
  await markRotatedHeads(session, team.id, res.epoch);
  known.remember(vouched);
  session.trust.vouch(team.id, vouched.filter((r) => r.checked).map((r) => r.userId));
  session.trust.retainVouched(team.id, recipients.map((m) => m.userId));
  return { epoch: res.epoch, workspaces: workspaceKeys.length, members: sealedKeys.length, unchecked };
}

/**
 * The heads of the team's workspaces as the rotation left them, read after it: from now on an honest
 * server takes no snapshot under an older epoch, so this machine refuses a newer head under one
 * (grant-trust.ts EpochMark) — a removed member's, or a stale token's, that the server let in.
 * Best effort: the rotation is done; failing here leaves the mark to the next command that opens
 * each workspace.
 */
async function markRotatedHeads(session: ActiveSession, teamId: string, epoch: number): Promise<void> {
  let workspaces: WorkspaceInfo[];
  try {
    workspaces = await session.api.listWorkspaces();
  } catch (err) {
    if (err instanceof SyncError) return;
    throw err;
  }
  for (const w of workspaces) {
    if (w.teamId === teamId && w.keys.some((k) => k.epoch === epoch)) session.trust.markEpoch(w.id, epoch, w.head, true);
  }
}

/**
 * Checks every recipient of a new team key before anything is sealed: the user's own entry
 * against its identity; each other member against the record of this machine (the same
 * fingerprint, and a recorded person not reappearing under another account id: both refused
 * whatever `yes` says); a member never recorded, or recorded under --yes, is asked about like a
 * confirmation, or with `yes` trusted as shown and reported in `unchecked`. Returns what to record
 * once the rotation is taken. A member listed twice is refused: one of the two keys is not theirs.
 */
export async function checkRecipients(
  ctx: ClientContext,
  session: ActiveSession,
  known: KnownKeys,
  recipients: TeamMemberInfo[],
  opts: { yes?: boolean },
): Promise<{ unchecked: string[]; vouched: KnownKeyRecord[] }> {
  const unchecked: string[] = [];
  const vouched: KnownKeyRecord[] = [];
  const seen = new Set<string>();
  const mine = fingerprint(session.identity.x25519.publicKey, session.identity.ed25519.publicKey);
  for (const m of recipients) {
    if (typeof m.userId !== 'string' || typeof m.email !== 'string') throw new IntegrityFailure('the server listed a team member without an account id or email; nothing was sealed');
    for (const key of [`id:${m.userId}`, `email:${m.email}`]) {
      if (seen.has(key)) throw new IntegrityFailure(`the server listed ${printable(m.email)} twice; nothing was sealed`);
      seen.add(key);
    }
    const v = view(m);
    if (m.userId === session.secrets.userId || m.email === session.secrets.email) {
      if (m.userId !== session.secrets.userId || m.email !== session.secrets.email || !fingerprintsEqual(v.fingerprint, mine)) {
        throw new IntegrityFailure(`the server shows your own membership with another account or key (fingerprint ${v.fingerprint}, yours is ${mine}); nothing was sealed`);
      }
      continue;
    }
    const record = checkAgainstRecord(known, v, 'nothing was sealed');
    if (record?.checked) continue;
    if (opts.yes) unchecked.push(m.email);
    else if (!(await ctx.prompter.confirm(fingerprintQuestion(v, ', who gets the new team key'), { noInputHint: UNVOUCHED_ROTATION_HINT }))) {
      throw new UsageError(`not rotated: the fingerprint of ${printable(m.email)} was not vouched for`, UNVOUCHED_ROTATION_HINT);
    }
    vouched.push({ userId: m.userId, email: m.email, fingerprint: v.fingerprint, checked: !opts.yes });
  }
  return { unchecked, vouched };
}

export async function removeMember(ctx: ClientContext, opts: { team: string; email: string; yes?: boolean; onUnchecked?: (emails: string[]) => void }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team, personalTeamIdOf(session.accountKey));
  const email = normalizeEmail(opts.email);
  const members = await session.api.teamMembers(team.id);
  const target = members.members.find((m) => m.email === email);
  if (!target) return withdrawInvitation(session, team, email);
  if (target.userId === session.secrets.userId) throw new UsageError('to remove yourself, use `insomnia-sync team leave`');
  if (target.status === 'accepted') {
    // Never confirmed, so never held a key: nothing to rotate (as when they leave), tokens keep working.
    const res = await session.api.removeMember(team.id, target.userId, { epoch: members.team.epoch });
    return { team: team.name, action: 'member_removed' as const, email, removed: email, rotated: false, epoch: res.epoch, workspaces: 0, members: 0, unchecked: [] as string[] };
  }
  const res = await rotate(ctx, session, team, target.userId, opts, (rotation) => session.api.removeMember(team.id, target.userId, rotation));
  session.trust.unvouch(team.id, target.userId);
  // Were they to be listed as accepted again, `team confirm` must ask, not wave them through as a
  // returning member: the record stays, unchecked.
  const known = openKnownKeys(ctx.configDir, session.secrets.server);
  const record = known.get(target.userId);
  if (record?.checked) known.remember([{ userId: target.userId, ...record, checked: false }]);
  return { team: team.name, action: 'member_removed' as const, email, removed: email, rotated: true, ...res };
}

/**
 * `team remove EMAIL` for an address that is not a member: withdraws the open invitation to it, if
 * any (owners and admins, as inviting). Never accepted, so nobody holds a key through it: nothing
 * rotates; its code then answers as an unknown one.
 */
async function withdrawInvitation(session: ActiveSession, team: TeamInfo, email: string) {
  try {
    const inv = await session.api.withdrawInvitation(team.id, { email });
    return { team: team.name, action: 'invitation_withdrawn' as const, email, rotated: false, invitation: inv };
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new NotFoundError(`${email} is not a member of ${team.name}, nor invited to it`, `see \`insomnia-sync team members --team ${JSON.stringify(team.name)}\``);
    }
    throw err;
  }
}

export async function rotateTeam(ctx: ClientContext, opts: { team: string; yes?: boolean; onUnchecked?: (emails: string[]) => void }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team, personalTeamIdOf(session.accountKey));
  const res = await rotate(ctx, session, team, null, opts, (rotation) => session.api.rotateTeam(team.id, rotation));
  return { team: team.name, ...res };
}

export async function setMemberRole(ctx: ClientContext, opts: { team: string; email: string; role: TeamRole }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team, personalTeamIdOf(session.accountKey));
  const email = normalizeEmail(opts.email);
  const target = (await session.api.teamMembers(team.id)).members.find((m) => m.email === email);
  if (!target) throw new NotFoundError(`${email} is not a member of ${team.name}`);
  const res = await session.api.setMemberRole(team.id, target.userId, { role: opts.role });
  return { team: team.name, email, role: res.role, previous: res.previous };
}

export async function leaveTeam(ctx: ClientContext, opts: { team: string }) {
  const session = requireSession(ctx);
  const team = findTeam((await session.api.me()).teams, opts.team, personalTeamIdOf(session.accountKey));
  if (team.personal) throw new UsageError('you cannot leave your personal team');
  const ok = await ctx.prompter.confirm(`Leave the team ${team.name}? You lose access to its workspaces at once.`);
  if (!ok) throw new UsageError('not left');
  const res = await session.api.leaveTeam(team.id);
  return { team: team.name, left: true, rotationPending: res.rotationPending };
}

export interface TeamDeletionResult {
  team: string;
  teamId: string;
  deletedAt: string;
  removed: TeamDeletionReceipt['removed'];
}

/**
 * Deletes a team with its workspaces and their history for every member (owners only; never the
 * personal team, which goes with the account). Says first what goes, and unless `yes`, the team's
 * name must be typed back. Folders linked to its workspaces, here or elsewhere, keep their files.
 */
export async function deleteTeam(ctx: ClientContext, opts: { team: string; yes: boolean }): Promise<TeamDeletionResult> {
  const session = requireSession(ctx);
  const personalId = personalTeamIdOf(session.accountKey);
  const team = findTeam((await session.api.me()).teams, opts.team, personalId);
  if (team.personal || team.id === personalId) {
    throw new UsageError(
      'your personal team cannot be deleted on its own: it goes with your account',
      'delete its workspaces one by one (`insomnia-sync workspace delete W`), or the account (`insomnia-sync account delete`)',
    );
  }
  const name = printable(team.name);
  if (team.role !== 'owner' || team.confirmed === false) {
    throw new AuthError(`only an owner of ${name} can delete it; your role is ${team.role}`, 'ask an owner of the team (`insomnia-sync team members --team TEAM` lists them)', 'forbidden');
  }
  if (!opts.yes) {
    const [members, workspaces] = await Promise.all([session.api.teamMembers(team.id), session.api.listWorkspaces()]);
    const count = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
    const others = members.members.filter((m) => m.userId !== session.secrets.userId).length;
    const open = members.invitations.length;
    const what = [
      `${count(workspaces.filter((w) => w.teamId === team.id).length, 'workspace')} with all their history and access tokens`,
      `the access of ${count(others, 'other member')}`,
      ...(open > 0 ? [`${count(open, 'open invitation')}`] : []),
    ];
    const typed = await ctx.prompter.text(
      `This deletes the team ${name} for everyone, for good: ${what.join(', ')}. Linked folders keep their files. Type the team name (${name}) to confirm`,
    );
    if (typed.trim() !== team.name) throw new UsageError('the name did not match; nothing was deleted');
  }
  const receipt = await session.api.deleteTeam(team.id);
  return { team: team.name, teamId: team.id, deletedAt: receipt.deletedAt, removed: receipt.removed };
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
