/**
 * The teams part of the SQLite store (issue 3): team creation, membership states, invitations,
 * confirmation, key rotation and email verification. SqliteStore delegates here; these are rare
 * operations, so statements are prepared per call.
 */
import type Database from 'better-sqlite3';
import type {
  AcceptInvitationResult,
  ConfirmMemberResult,
  CreateInvitationResult,
  CreateTeamResult,
  DeleteTeamResult,
  InvitationRecord,
  LeaveTeamResult,
  RemoveUnconfirmedResult,
  NewInvitation,
  NewTeam,
  RotateTeamResult,
  SealedKeyRecord,
  SetMemberRoleResult,
  TeamAccessRecord,
  TeamMemberRecord,
  TeamRole,
  TeamRotation,
  VerifyEmailResult,
  RecordActivationMailResult,
  SetEmailVerificationResult,
} from '../store.js';
import { roleChangeRefusal } from '../store.js';
import { overwritingDeletes } from './account-store.js';

type Row = Record<string, unknown>;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export function createTeam(db: Database.Database, t: NewTeam): CreateTeamResult {
  const run = db.transaction((): CreateTeamResult => {
    // deleted since the route checked the session (the insert would fail its foreign key)
    if (!db.prepare('SELECT 1 FROM users WHERE id = ?').get(t.ownerId)) return { ok: false, reason: 'no_user' };
    if (db.prepare('SELECT 1 FROM teams WHERE id = ?').get(t.id)) return { ok: false, reason: 'id_taken' };
    const at = t.createdAt.getTime();
    db.prepare('INSERT INTO teams (id, name, personal, epoch, created_at) VALUES (?, ?, 0, 1, ?)').run(t.id, t.name, at);
    db.prepare("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)").run(t.id, t.ownerId, at);
    db.prepare('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES (?, ?, 1, ?)').run(t.id, t.ownerId, t.sealedTeamKey);
    return { ok: true };
  });
  return run.immediate();
}

export function teamAccess(db: Database.Database, teamId: string, userId: string): TeamAccessRecord {
  const team = db.prepare('SELECT id, name, personal, epoch, rotation_pending FROM teams WHERE id = ?').get(teamId) as Row | undefined;
  if (!team) return { team: null, state: 'none', role: null };
  const teamRecord = {
    id: String(team.id),
    name: String(team.name),
    personal: Number(team.personal) === 1,
    epoch: Number(team.epoch),
    rotationPending: Number(team.rotation_pending) === 1,
  };
  const m = db.prepare('SELECT role, pending FROM team_members WHERE team_id = ? AND user_id = ?').get(teamId, userId) as Row | undefined;
  if (m) return { team: teamRecord, state: Number(m.pending) === 1 ? 'accepted' : 'confirmed', role: m.role as TeamRole };
  const former = db.prepare('SELECT 1 FROM team_former_members WHERE team_id = ? AND user_id = ?').get(teamId, userId);
  return { team: teamRecord, state: former ? 'former' : 'none', role: null };
}

export function teamMembers(db: Database.Database, teamId: string): TeamMemberRecord[] {
  const rows = db
    .prepare(
      `SELECT u.id, u.email, u.name, m.role, m.pending, m.created_at, u.x25519_public_key, u.ed25519_public_key
       FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = ? ORDER BY m.created_at, u.id`,
    )
    .all(teamId) as Row[];
  return rows.map((r) => ({
    userId: String(r.id),
    email: String(r.email),
    name: String(r.name),
    role: r.role as TeamRole,
    x25519PublicKey: String(r.x25519_public_key),
    ed25519PublicKey: String(r.ed25519_public_key),
    confirmed: Number(r.pending) === 0,
    joinedAt: new Date(Number(r.created_at)),
  }));
}

export function listInvitations(db: Database.Database, teamId: string, now: Date): InvitationRecord[] {
  const rows = db
    .prepare(
      `SELECT id, team_id, email, role, invited_by, created_at, expires_at FROM team_invitations
       WHERE team_id = ? AND accepted_at IS NULL AND expires_at > ? ORDER BY created_at, id`,
    )
    .all(teamId, now.getTime()) as Row[];
  return rows.map(invitationRecord);
}

function invitationRecord(r: Row): InvitationRecord {
  return {
    id: String(r.id),
    teamId: String(r.team_id),
    email: String(r.email),
    role: r.role === 'admin' ? 'admin' : 'member',
    invitedBy: r.invited_by === null ? null : String(r.invited_by),
    createdAt: new Date(Number(r.created_at)),
    expiresAt: new Date(Number(r.expires_at)),
  };
}

export function countInvitationsBy(db: Database.Database, userId: string, since: Date): number {
  // those of deleted teams too (deleteTeam keeps who sent them and when)
  return Number(
    db
      .prepare(
        `SELECT (SELECT count(*) FROM team_invitations WHERE invited_by = ? AND created_at >= ?)
              + (SELECT count(*) FROM deleted_team_invitations WHERE invited_by = ? AND created_at >= ?)`,
      )
      .pluck()
      .get(userId, since.getTime(), userId, since.getTime()),
  );
}

export function createInvitation(db: Database.Database, inv: NewInvitation, limit?: { max: number; since: Date }): CreateInvitationResult {
  const run = db.transaction((): CreateInvitationResult => {
    // deleted since the route looked them up (the insert would fail its foreign key): the inviter first, as on PostgreSQL
    if (!db.prepare('SELECT 1 FROM users WHERE id = ?').get(inv.invitedBy)) return { ok: false, reason: 'no_user' };
    if (!db.prepare('SELECT 1 FROM teams WHERE id = ?').get(inv.teamId)) return { ok: false, reason: 'no_team' };
    if (limit && countInvitationsBy(db, inv.invitedBy, limit.since) >= limit.max) return { ok: false, reason: 'limit' };
    // One open invitation per address and team: the old code stops working (a random hash no code
    // has) and expires now; the row stays for the hourly count until purged.
    const at = inv.createdAt.getTime();
    db.prepare(
      'UPDATE team_invitations SET code_hash = randomblob(32), expires_at = ? WHERE team_id = ? AND email = ? AND accepted_at IS NULL AND expires_at > ?',
    ).run(at, inv.teamId, inv.email, at);
    db.prepare(
      `INSERT INTO team_invitations (id, team_id, email, role, code_hash, invited_by, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(inv.id, inv.teamId, inv.email, inv.role, Buffer.from(inv.codeHash), inv.invitedBy, inv.createdAt.getTime(), inv.expiresAt.getTime());
    return { ok: true };
  });
  return run.immediate();
}

export function withdrawInvitation(db: Database.Database, teamId: string, email: string, now: Date): InvitationRecord | null {
  const run = db.transaction((): InvitationRecord | null => {
    const at = now.getTime();
    const open = `team_id = ? AND email = ? AND accepted_at IS NULL AND expires_at > ?`;
    const row = db
      .prepare(`SELECT id, team_id, email, role, invited_by, created_at, expires_at FROM team_invitations WHERE ${open} ORDER BY created_at DESC, id LIMIT 1`)
      .get(teamId, email, at) as Row | undefined;
    if (!row) return null;
    // as createInvitation cancels a replaced one: a random hash no code has, ended now
    db.prepare(`UPDATE team_invitations SET code_hash = randomblob(32), expires_at = ? WHERE ${open}`).run(at, teamId, email, at);
    return invitationRecord(row);
  });
  return run.immediate();
}

export function acceptInvitation(db: Database.Database, codeHash: Uint8Array, userId: string, email: string, now: Date): AcceptInvitationResult {
  const run = db.transaction((): AcceptInvitationResult => {
    // deleted since the route looked it up (the insert would fail its foreign key): checked first, as on PostgreSQL
    if (!db.prepare('SELECT 1 FROM users WHERE id = ?').get(userId)) return { ok: false, reason: 'no_user' };
    const inv = db
      .prepare(
        `SELECT i.id, i.team_id, i.email, i.role, i.expires_at, i.accepted_at, t.name FROM team_invitations i
         JOIN teams t ON t.id = i.team_id WHERE i.code_hash = ?`,
      )
      .get(Buffer.from(codeHash)) as Row | undefined;
    if (!inv) return { ok: false, reason: 'unknown' };
    if (inv.accepted_at !== null) return { ok: false, reason: 'used' };
    if (Number(inv.expires_at) <= now.getTime()) return { ok: false, reason: 'expired' };
    if (String(inv.email) !== email) return { ok: false, reason: 'other_address' };
    const teamId = String(inv.team_id);
    if (db.prepare('SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?').get(teamId, userId)) {
      return { ok: false, reason: 'already_member' };
    }
    const at = now.getTime();
    // A former record stays: until confirmed again (or if removed before that) it is what keeps the
    // snapshots of their earlier membership verifiable.
    db.prepare('INSERT INTO team_members (team_id, user_id, role, created_at, pending) VALUES (?, ?, ?, ?, 1)').run(teamId, userId, inv.role, at);
    db.prepare('UPDATE team_invitations SET accepted_at = ?, accepted_by = ? WHERE id = ?').run(at, userId, inv.id);
    // the code reached this address: that proves it as well as an activation code would
    db.prepare('UPDATE users SET verified_at = ? WHERE id = ? AND verified_at IS NULL').run(at, userId);
    db.prepare('DELETE FROM email_verifications WHERE user_id = ?').run(userId);
    return { ok: true, teamId, teamName: String(inv.name), role: inv.role as TeamRole };
  });
  return run.immediate();
}

export function confirmMember(db: Database.Database, teamId: string, userId: string, keys: SealedKeyRecord[], now: Date): ConfirmMemberResult {
  const run = db.transaction((): ConfirmMemberResult => {
    const m = db.prepare('SELECT pending FROM team_members WHERE team_id = ? AND user_id = ?').get(teamId, userId) as Row | undefined;
    if (!m) return { ok: false, reason: 'not_member' };
    if (Number(m.pending) === 0) return { ok: false, reason: 'already_confirmed' };
    const epoch = Number((db.prepare('SELECT epoch FROM teams WHERE id = ?').get(teamId) as Row).epoch);
    if (!keys.some((k) => k.epoch === epoch) || keys.some((k) => k.epoch > epoch)) return { ok: false, reason: 'missing_epoch' };
    const insert = db.prepare('INSERT OR REPLACE INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES (?, ?, ?, ?)');
    for (const k of keys) insert.run(teamId, userId, k.epoch, k.sealedKey);
    db.prepare('UPDATE team_members SET pending = 0 WHERE team_id = ? AND user_id = ?').run(teamId, userId);
    return { ok: true };
  });
  return run.immediate();
}

/**
 * Records (or extends) a former membership with a copy of the user's public keys, so that it
 * outlives the account (docs/protocol.md §3.27).
 */
function recordFormer(db: Database.Database, teamId: string, userId: string, untilEpoch: number, at: number): void {
  db.prepare(
    `INSERT INTO team_former_members (team_id, user_id, x25519_public_key, ed25519_public_key, until_epoch, removed_at)
     SELECT ?, id, x25519_public_key, ed25519_public_key, ?, ? FROM users WHERE id = ?
     ON CONFLICT (team_id, user_id) DO UPDATE SET until_epoch = excluded.until_epoch, removed_at = excluded.removed_at`,
  ).run(teamId, untilEpoch, at, userId);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === a.length && a.length === b.length && b.every((x) => sa.has(x));
}

export function rotateTeam(db: Database.Database, teamId: string, r: TeamRotation): RotateTeamResult {
  const run = db.transaction((): RotateTeamResult => {
    const team = db.prepare('SELECT epoch FROM teams WHERE id = ?').get(teamId) as Row | undefined;
    if (!team) return { ok: false, reason: 'no_team' };
    const epoch = Number(team.epoch);
    if (epoch !== r.expectedEpoch) return { ok: false, reason: 'stale' };
    const members = db.prepare('SELECT user_id, role, pending FROM team_members WHERE team_id = ?').all(teamId) as Row[];
    let removed: Row | undefined;
    if (r.removeUserId !== null) {
      removed = members.find((m) => m.user_id === r.removeUserId);
      if (!removed) return { ok: false, reason: 'not_member' };
      const others = members.filter((m) => m !== removed);
      if (removed.role === 'owner' && others.length > 0 && !others.some((m) => m.role === 'owner' && Number(m.pending) === 0)) {
        return { ok: false, reason: 'last_owner' };
      }
    }
    const remaining = members.filter((m) => m !== removed && Number(m.pending) === 0).map((m) => String(m.user_id));
    if (!sameSet(remaining, r.sealedKeys.map((k) => k.userId))) return { ok: false, reason: 'members_changed' };
    const workspaces = (db.prepare('SELECT id FROM workspaces WHERE team_id = ?').pluck().all(teamId) as string[]).map(String);
    if (!sameSet(workspaces, r.workspaceKeys.map((k) => k.workspaceId))) return { ok: false, reason: 'workspaces_changed' };

    const at = r.now.getTime();
    if (removed) {
      // an unconfirmed member signed nothing new; a former record from before stays as it is
      if (Number(removed.pending) === 0) recordFormer(db, teamId, String(removed.user_id), epoch, at);
      // cascades to the member's sealed team keys
      db.prepare('DELETE FROM team_members WHERE team_id = ? AND user_id = ?').run(teamId, r.removeUserId);
    }
    const next = epoch + 1;
    const sealKey = db.prepare('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES (?, ?, ?, ?)');
    for (const k of r.sealedKeys) sealKey.run(teamId, k.userId, next, k.sealedKey);
    const wrapKey = db.prepare('INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) VALUES (?, ?, ?)');
    for (const k of r.workspaceKeys) wrapKey.run(k.workspaceId, next, k.wrappedKey);
    db.prepare('UPDATE teams SET epoch = ?, rotation_pending = 0 WHERE id = ?').run(next, teamId);
    return { ok: true, epoch: next };
  });
  return run.immediate();
}

export function removeUnconfirmedMember(db: Database.Database, teamId: string, userId: string): RemoveUnconfirmedResult {
  // one statement: a confirmation that lands first leaves the row alone
  if (db.prepare('DELETE FROM team_members WHERE team_id = ? AND user_id = ? AND pending = 1').run(teamId, userId).changes > 0) return { ok: true };
  return db.prepare('SELECT 1 FROM team_members WHERE team_id = ? AND user_id = ?').get(teamId, userId) ? { ok: false, reason: 'confirmed' } : { ok: false, reason: 'not_member' };
}

export function leaveTeam(db: Database.Database, teamId: string, userId: string, now: Date): LeaveTeamResult {
  const run = db.transaction((): LeaveTeamResult => {
    const team = db.prepare('SELECT personal, epoch FROM teams WHERE id = ?').get(teamId) as Row | undefined;
    const members = db.prepare('SELECT user_id, role, pending FROM team_members WHERE team_id = ?').all(teamId) as Row[];
    const me = members.find((m) => m.user_id === userId);
    if (!team || !me) return { ok: false, reason: 'not_member' };
    if (Number(team.personal) === 1) return { ok: false, reason: 'personal' };
    const others = members.filter((m) => m !== me);
    if (others.length === 0) return { ok: false, reason: 'last_member' };
    if (me.role === 'owner' && !others.some((m) => m.role === 'owner' && Number(m.pending) === 0)) return { ok: false, reason: 'last_owner' };
    const heldKeys = Number(me.pending) === 0;
    if (heldKeys) {
      recordFormer(db, teamId, userId, Number(team.epoch), now.getTime());
      db.prepare('UPDATE teams SET rotation_pending = 1 WHERE id = ?').run(teamId);
    }
    db.prepare('DELETE FROM team_members WHERE team_id = ? AND user_id = ?').run(teamId, userId);
    return { ok: true, rotationPending: heldKeys };
  });
  return run.immediate();
}

export function deleteTeam(db: Database.Database, teamId: string, userId: string, countedSince: Date): DeleteTeamResult {
  const count = (sql: string): number => Number(db.prepare(sql).pluck().get(teamId) ?? 0);
  const run = db.transaction((): DeleteTeamResult => {
    const team = db.prepare('SELECT name, personal FROM teams WHERE id = ?').get(teamId) as Row | undefined;
    const me = db.prepare('SELECT role, pending FROM team_members WHERE team_id = ? AND user_id = ?').get(teamId, userId) as Row | undefined;
    if (!team || !me || Number(me.pending) === 1) return { ok: false, reason: 'not_member' };
    if (Number(team.personal) === 1) return { ok: false, reason: 'personal' };
    if (me.role !== 'owner') return { ok: false, reason: 'not_owner' };
    const inTeam = 'IN (SELECT id FROM workspaces WHERE team_id = ?)';
    const removed = {
      workspaces: count('SELECT count(*) FROM workspaces WHERE team_id = ?'),
      snapshots: count(`SELECT count(*) FROM snapshots WHERE workspace_id ${inTeam}`),
      blobs: count(`SELECT count(*) FROM blobs WHERE workspace_id ${inTeam}`),
      memberships: count('SELECT count(*) FROM team_members WHERE team_id = ?'),
      accessTokens: count(`SELECT count(*) FROM access_tokens WHERE workspace_id ${inTeam}`),
      invitations: count('SELECT count(*) FROM team_invitations WHERE team_id = ?'),
    };
    // Workspaces cascade to their keys, blobs (each belongs to one workspace), snapshots, snapshot
    // links, access tokens with their keys and signer-only token records; the team to its members
    // with their sealed keys, former members and invitations.
    // Invitations sent since countedSince keep counting toward their inviter's hourly cap: only who
    // sent each and when stays, not the address, the team or the code. Older ones no longer count.
    const since = countedSince.getTime();
    db.prepare('DELETE FROM deleted_team_invitations WHERE created_at < ?').run(since);
    db.prepare(
      `INSERT INTO deleted_team_invitations (invited_by, created_at)
       SELECT invited_by, created_at FROM team_invitations WHERE team_id = ? AND invited_by IS NOT NULL AND created_at >= ?`,
    ).run(teamId, since);
    db.prepare('DELETE FROM workspaces WHERE team_id = ?').run(teamId);
    db.prepare('DELETE FROM teams WHERE id = ?').run(teamId);
    return { ok: true, name: String(team.name), removed };
  });
  return overwritingDeletes(db, () => run.immediate());
}

export function setMemberRole(db: Database.Database, teamId: string, userId: string, role: TeamRole, opts: { byOwner: boolean }): SetMemberRoleResult {
  const run = db.transaction((): SetMemberRoleResult => {
    const members = db.prepare('SELECT user_id, role, pending FROM team_members WHERE team_id = ?').all(teamId) as Row[];
    const member = members.find((m) => m.user_id === userId);
    if (!member) return { ok: false, reason: 'not_member' };
    const previous = String(member.role) as TeamRole;
    const check = roleChangeRefusal(members.map((m) => ({ target: m === member, role: String(m.role) as TeamRole, confirmed: Number(m.pending) === 0 })), role, opts);
    if (check) return { ok: false, reason: check };
    if (previous !== role) db.prepare('UPDATE team_members SET role = ? WHERE team_id = ? AND user_id = ?').run(role, teamId, userId);
    return { ok: true, previous };
  });
  return run.immediate();
}

export function setEmailVerification(db: Database.Database, userId: string, email: string, codeHash: Uint8Array, expiresAt: Date): SetEmailVerificationResult {
  // synchronous: no deletion can come between the check and the insert
  if (!db.prepare('SELECT 1 FROM users WHERE id = ?').get(userId)) return { ok: false, reason: 'no_user' };
  db.prepare(
    `INSERT INTO email_verifications (user_id, email, code_hash, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, code_hash = excluded.code_hash, expires_at = excluded.expires_at`,
  ).run(userId, email, Buffer.from(codeHash), expiresAt.getTime());
  return { ok: true };
}

export function recordActivationMail(
  db: Database.Database,
  userId: string,
  at: Date,
  caps: readonly { max: number; since: Date }[],
): RecordActivationMailResult {
  const run = db.transaction((): RecordActivationMailResult => {
    // deleted since the route looked it up: no mail to record or send
    if (!db.prepare('SELECT 1 FROM users WHERE id = ?').get(userId)) return { ok: false, reason: 'no_user' };
    if (caps.length > 0) {
      db.prepare('DELETE FROM activation_mails WHERE sent_at < ?').run(Math.min(...caps.map((c) => c.since.getTime())));
    }
    for (const [i, cap] of caps.entries()) {
      const row = db
        .prepare('SELECT count(*) AS n, min(sent_at) AS oldest FROM activation_mails WHERE user_id = ? AND sent_at >= ?')
        .get(userId, cap.since.getTime()) as Row;
      if (Number(row.n) >= cap.max) return { ok: false, reason: 'limit', cap: i, oldest: new Date(Number(row.oldest)) };
    }
    db.prepare('INSERT INTO activation_mails (user_id, sent_at) VALUES (?, ?)').run(userId, at.getTime());
    return { ok: true };
  });
  return run.immediate();
}

/** One record of the account at `at` (two at the same instant are alike: either goes). */
export function releaseActivationMail(db: Database.Database, userId: string, at: Date): boolean {
  return (
    db
      .prepare('DELETE FROM activation_mails WHERE rowid = (SELECT rowid FROM activation_mails WHERE user_id = ? AND sent_at = ? LIMIT 1)')
      .run(userId, at.getTime()).changes > 0
  );
}

export function verifyEmail(db: Database.Database, userId: string, codeHash: Uint8Array, now: Date): VerifyEmailResult {
  const run = db.transaction((): VerifyEmailResult => {
    const user = db.prepare('SELECT email, verified_at FROM users WHERE id = ?').get(userId) as Row | undefined;
    if (!user) return { ok: false, reason: 'wrong_code' };
    if (user.verified_at !== null) return { ok: false, reason: 'already_verified' };
    const v = db.prepare('SELECT email, code_hash, expires_at FROM email_verifications WHERE user_id = ?').get(userId) as Row | undefined;
    if (!v || String(v.email) !== String(user.email) || !sameBytes(v.code_hash as Buffer, codeHash)) return { ok: false, reason: 'wrong_code' };
    if (Number(v.expires_at) <= now.getTime()) return { ok: false, reason: 'expired' };
    db.prepare('UPDATE users SET verified_at = ? WHERE id = ?').run(now.getTime(), userId);
    db.prepare('DELETE FROM email_verifications WHERE user_id = ?').run(userId);
    db.prepare('DELETE FROM activation_mails WHERE user_id = ?').run(userId);
    return { ok: true };
  });
  return run.immediate();
}

/**
 * Account deletion's part (called inside its transaction, before the user row goes): every
 * invitation to the address or accepted by the account (each names the address), the open ones it
 * sent (withdrawn), and the shared teams it held keys in, which keep it as a former member and must rotate.
 */
export function forgetUserInTeams(db: Database.Database, userId: string, email: string, now: Date): number {
  const invitations = db.prepare('DELETE FROM team_invitations WHERE email = ? OR accepted_by = ?').run(email, userId).changes;
  // Those the account sent, still open, in teams that stay: withdrawn as withdrawInvitation does (their
  // mails, which name the account, are removed too); kept until purged, without the inviter.
  db.prepare('UPDATE team_invitations SET code_hash = randomblob(32), expires_at = ? WHERE invited_by = ? AND accepted_at IS NULL AND expires_at > ?').run(
    now.getTime(),
    userId,
    now.getTime(),
  );
  const heldKeys = db
    .prepare(
      `SELECT t.id, t.epoch FROM team_members m JOIN teams t ON t.id = m.team_id
       WHERE m.user_id = ? AND m.pending = 0 AND t.personal = 0
         AND EXISTS (SELECT 1 FROM team_members o WHERE o.team_id = m.team_id AND o.user_id <> m.user_id)`,
    )
    .all(userId) as Row[];
  for (const t of heldKeys) {
    recordFormer(db, String(t.id), userId, Number(t.epoch), now.getTime());
    // the others must rotate before anyone writes again
    db.prepare('UPDATE teams SET rotation_pending = 1 WHERE id = ?').run(t.id);
  }
  return invitations;
}
