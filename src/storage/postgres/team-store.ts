/**
 * The teams part of the PostgreSQL store (issue 3), the same rules as sqlite/team-store.ts. Every
 * change that depends on the team's state locks the team row first (SELECT … FOR UPDATE), so
 * rotations, confirmations and departures on different servers apply one after another.
 */
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
import type { PgDb, Row, Tx } from './db.js';
import { asRole, bytes, date } from './rows.js';

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const sa = new Set(a);
  return sa.size === a.length && a.length === b.length && b.every((x) => sa.has(x));
}

export async function createTeam(db: PgDb, t: NewTeam): Promise<CreateTeamResult> {
  return db.tx(async (tx): Promise<CreateTeamResult> => {
    // The owner's row, held FOR KEY SHARE (what the membership's foreign key takes) until this
    // commits: an account deletion then waits, or committed first and the row is found gone.
    if (!(await tx.query('SELECT 1 FROM users WHERE id = $1 FOR KEY SHARE', [t.ownerId])).length) return { ok: false, reason: 'no_user' };
    if ((await tx.query('SELECT 1 FROM teams WHERE id = $1', [t.id])).length) return { ok: false, reason: 'id_taken' };
    await tx.exec('INSERT INTO teams (id, name, personal, epoch, created_at) VALUES ($1, $2, false, 1, $3)', [t.id, t.name, t.createdAt]);
    await tx.exec("INSERT INTO team_members (team_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3)", [t.id, t.ownerId, t.createdAt]);
    await tx.exec('INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES ($1, $2, 1, $3)', [t.id, t.ownerId, t.sealedTeamKey]);
    return { ok: true };
  });
}

export async function teamAccess(db: PgDb, teamId: string, userId: string): Promise<TeamAccessRecord> {
  const [row] = await db.query(
    `SELECT t.id, t.name, t.personal, t.epoch, t.rotation_pending, m.role, m.pending, (m.user_id IS NOT NULL) AS member,
       EXISTS (SELECT 1 FROM team_former_members f WHERE f.team_id = t.id AND f.user_id = $2) AS former
     FROM teams t LEFT JOIN team_members m ON m.team_id = t.id AND m.user_id = $2 WHERE t.id = $1`,
    [teamId, userId],
  );
  if (!row) return { team: null, state: 'none', role: null };
  const team = {
    id: String(row.id),
    name: String(row.name),
    personal: row.personal === true,
    epoch: Number(row.epoch),
    rotationPending: row.rotation_pending === true,
  };
  if (row.member === true) return { team, state: row.pending === true ? 'accepted' : 'confirmed', role: asRole(row.role) };
  return { team, state: row.former === true ? 'former' : 'none', role: null };
}

export async function teamMembers(db: PgDb, teamId: string): Promise<TeamMemberRecord[]> {
  const rows = await db.query(
    `SELECT u.id, u.email, u.name, m.role, m.pending, m.created_at, u.x25519_public_key, u.ed25519_public_key
     FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 ORDER BY m.created_at, u.id`,
    [teamId],
  );
  return rows.map((r) => ({
    userId: String(r.id),
    email: String(r.email),
    name: String(r.name),
    role: asRole(r.role),
    x25519PublicKey: String(r.x25519_public_key),
    ed25519PublicKey: String(r.ed25519_public_key),
    confirmed: r.pending === false,
    joinedAt: date(r.created_at),
  }));
}

export async function listInvitations(db: PgDb, teamId: string, now: Date): Promise<InvitationRecord[]> {
  const rows = await db.query(
    `SELECT id, team_id, email, role, invited_by, created_at, expires_at FROM team_invitations
     WHERE team_id = $1 AND accepted_at IS NULL AND expires_at > $2 ORDER BY created_at, id`,
    [teamId, now],
  );
  return rows.map(invitationRecord);
}

function invitationRecord(r: Row): InvitationRecord {
  return {
    id: String(r.id),
    teamId: String(r.team_id),
    email: String(r.email),
    role: r.role === 'admin' ? 'admin' : 'member',
    invitedBy: r.invited_by === null ? null : String(r.invited_by),
    createdAt: date(r.created_at),
    expiresAt: date(r.expires_at),
  };
}

export async function countInvitationsBy(db: PgDb | Tx, userId: string, since: Date): Promise<number> {
  // those of deleted teams too (deleteTeam keeps who sent them and when); one statement, one
  // snapshot, so an invitation moved by a deleteTeam committing meanwhile is counted once
  const [row] = await db.query(
    `SELECT (SELECT count(*) FROM team_invitations WHERE invited_by = $1 AND created_at >= $2)
          + (SELECT count(*) FROM deleted_team_invitations WHERE invited_by = $1 AND created_at >= $2) AS n`,
    [userId, since],
  );
  return Number(row?.n ?? 0);
}

export async function createInvitation(db: PgDb, inv: NewInvitation, limit?: { max: number; since: Date }): Promise<CreateInvitationResult> {
  return db.tx(async (tx): Promise<CreateInvitationResult> => {
    // The inviter's row, held until this commits (invited_by refers to it): an account deletion
    // then waits, or committed first and the row is found gone. With a limit FOR UPDATE, which
    // also serialises their invitations: two requests cannot both spend the budget.
    const inviter = await tx.query(`SELECT 1 FROM users WHERE id = $1 ${limit ? 'FOR UPDATE' : 'FOR KEY SHARE'}`, [inv.invitedBy]);
    if (inviter.length === 0) return { ok: false, reason: 'no_user' };
    // Then the team, as the insert's foreign key would (user before team, as deleteUser locks them):
    // a deleteTeam holding it finishes first and its row is gone (the insert would fail its foreign
    // key), or it waits for this transaction.
    if (!(await tx.query('SELECT 1 FROM teams WHERE id = $1 FOR KEY SHARE', [inv.teamId])).length) return { ok: false, reason: 'no_team' };
    if (limit && (await countInvitationsBy(tx, inv.invitedBy, limit.since)) >= limit.max) return { ok: false, reason: 'limit' };
    // One open invitation per address and team: the old code stops working (a hash no code has)
    // and expires now; the row stays for the hourly count until purged.
    await tx.exec(
      `UPDATE team_invitations SET code_hash = sha256(code_hash || convert_to(id, 'UTF8')), expires_at = $3
       WHERE team_id = $1 AND email = $2 AND accepted_at IS NULL AND expires_at > $3`,
      [inv.teamId, inv.email, inv.createdAt],
    );
    await tx.exec(
      `INSERT INTO team_invitations (id, team_id, email, role, code_hash, invited_by, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [inv.id, inv.teamId, inv.email, inv.role, Buffer.from(inv.codeHash), inv.invitedBy, inv.createdAt, inv.expiresAt],
    );
    return { ok: true };
  });
}

export async function withdrawInvitation(db: PgDb, teamId: string, email: string, now: Date): Promise<InvitationRecord | null> {
  return db.tx(async (tx): Promise<InvitationRecord | null> => {
    const open = 'team_id = $1 AND email = $2 AND accepted_at IS NULL AND expires_at > $3';
    // locked, so an accept racing this either wins before it (then nothing is open) or finds no code
    const [row] = await tx.query(
      `SELECT id, team_id, email, role, invited_by, created_at, expires_at FROM team_invitations WHERE ${open}
       ORDER BY created_at DESC, id FOR UPDATE`,
      [teamId, email, now],
    );
    if (!row) return null;
    // as createInvitation cancels a replaced one: a hash no code has, ended now
    await tx.exec(`UPDATE team_invitations SET code_hash = sha256(code_hash || convert_to(id, 'UTF8')), expires_at = $3 WHERE ${open}`, [teamId, email, now]);
    return invitationRecord(row);
  });
}

export async function acceptInvitation(db: PgDb, codeHash: Uint8Array, userId: string, email: string, now: Date): Promise<AcceptInvitationResult> {
  return db.tx(async (tx): Promise<AcceptInvitationResult> => {
    // Locked in the order the deletions lock them: the account (deleteUser: account, then its teams,
    // then invitations), the team (deleteTeam: team, then workspaces, members, invitations), the
    // invitation. Locking the invitation first and then waiting on the team or account (the
    // membership's foreign keys) deadlocked with a deletion holding them and waiting for it.
    // The account FOR NO KEY UPDATE, the lock the verified_at update below takes: an account
    // deletion waits, or committed first and the row is gone.
    if (!(await tx.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId])).length) return { ok: false, reason: 'no_user' };
    const [found] = await tx.query('SELECT id, team_id FROM team_invitations WHERE code_hash = $1', [Buffer.from(codeHash)]);
    if (!found) return { ok: false, reason: 'unknown' };
    // The team FOR KEY SHARE (what the membership's foreign key takes): a deleteTeam holding it
    // finishes first and the team is gone (its invitations with it), or it waits for this.
    const [team] = await tx.query('SELECT name FROM teams WHERE id = $1 FOR KEY SHARE', [found.team_id]);
    if (!team) return { ok: false, reason: 'no_team' };
    // Then the invitation, as it is now: one withdrawn or replaced meanwhile (an inviter's account
    // deletion withdraws theirs) has another code_hash and is not found.
    const [inv] = await tx.query('SELECT id, team_id, email, role, expires_at, accepted_at FROM team_invitations WHERE id = $1 AND code_hash = $2 FOR UPDATE', [
      found.id,
      Buffer.from(codeHash),
    ]);
    if (!inv) return { ok: false, reason: 'unknown' };
    if (inv.accepted_at !== null) return { ok: false, reason: 'used' };
    if (date(inv.expires_at).getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
    if (String(inv.email) !== email) return { ok: false, reason: 'other_address' };
    const teamId = String(inv.team_id);
    if ((await tx.query('SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2', [teamId, userId])).length) {
      return { ok: false, reason: 'already_member' };
    }
    // A former record stays: until confirmed again (or if removed before that) it is what keeps the
    // snapshots of their earlier membership verifiable.
    await tx.exec('INSERT INTO team_members (team_id, user_id, role, created_at, pending) VALUES ($1, $2, $3, $4, true)', [
      teamId,
      userId,
      inv.role,
      now,
    ]);
    await tx.exec('UPDATE team_invitations SET accepted_at = $1, accepted_by = $2 WHERE id = $3', [now, userId, inv.id]);
    // the code reached this address: that proves it as well as an activation code would
    await tx.exec('UPDATE users SET verified_at = $1 WHERE id = $2 AND verified_at IS NULL', [now, userId]);
    await tx.exec('DELETE FROM email_verifications WHERE user_id = $1', [userId]);
    return { ok: true, teamId, teamName: String(team.name), role: asRole(inv.role) };
  });
}

export async function confirmMember(db: PgDb, teamId: string, userId: string, keys: SealedKeyRecord[], now: Date): Promise<ConfirmMemberResult> {
  return db.tx(async (tx): Promise<ConfirmMemberResult> => {
    const [team] = await tx.query('SELECT epoch FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
    // The membership the keys refer to, held FOR KEY SHARE: a removal of the unconfirmed member
    // (which takes no team lock) then waits, and finds them confirmed, or committed first.
    const [m] = await tx.query('SELECT pending FROM team_members WHERE team_id = $1 AND user_id = $2 FOR KEY SHARE', [teamId, userId]);
    if (!team || !m) return { ok: false, reason: 'not_member' };
    if (m.pending !== true) return { ok: false, reason: 'already_confirmed' };
    const epoch = Number(team.epoch);
    if (!keys.some((k) => k.epoch === epoch) || keys.some((k) => k.epoch > epoch)) return { ok: false, reason: 'missing_epoch' };
    for (const k of keys) {
      await tx.exec(
        `INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) VALUES ($1, $2, $3, $4)
         ON CONFLICT (team_id, user_id, epoch) DO UPDATE SET sealed_key = excluded.sealed_key`,
        [teamId, userId, k.epoch, k.sealedKey],
      );
    }
    await tx.exec('UPDATE team_members SET pending = false WHERE team_id = $1 AND user_id = $2', [teamId, userId]);
    return { ok: true };
  });
}

/**
 * Records (or extends) a former membership with a copy of the user's public keys, so that it
 * outlives the account (docs/protocol.md §3.27).
 */
async function recordFormer(tx: Tx, teamId: string, userId: string, untilEpoch: number, at: Date): Promise<void> {
  await tx.exec(
    `INSERT INTO team_former_members (team_id, user_id, x25519_public_key, ed25519_public_key, until_epoch, removed_at)
     SELECT $1, id, x25519_public_key, ed25519_public_key, $2, $3 FROM users WHERE id = $4
     ON CONFLICT (team_id, user_id) DO UPDATE SET until_epoch = excluded.until_epoch, removed_at = excluded.removed_at`,
    [teamId, untilEpoch, at, userId],
  );
}

export async function rotateTeam(db: PgDb, teamId: string, r: TeamRotation): Promise<RotateTeamResult> {
  return db.tx(async (tx): Promise<RotateTeamResult> => {
    const [team] = await tx.query('SELECT epoch FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
    if (!team) return { ok: false, reason: 'no_team' };
    const epoch = Number(team.epoch);
    if (epoch !== r.expectedEpoch) return { ok: false, reason: 'stale' };
    const members = await tx.query('SELECT user_id, role, pending FROM team_members WHERE team_id = $1', [teamId]);
    let removed: Row | undefined;
    if (r.removeUserId !== null) {
      removed = members.find((m) => m.user_id === r.removeUserId);
      if (!removed) return { ok: false, reason: 'not_member' };
      const others = members.filter((m) => m !== removed);
      if (removed.role === 'owner' && others.length > 0 && !others.some((m) => m.role === 'owner' && m.pending === false)) {
        return { ok: false, reason: 'last_owner' };
      }
    }
    const remaining = members.filter((m) => m !== removed && m.pending === false).map((m) => String(m.user_id));
    if (!sameSet(remaining, r.sealedKeys.map((k) => k.userId))) return { ok: false, reason: 'members_changed' };
    // Held FOR KEY SHARE (the new keys refer to them): a workspace deletion, which takes no team
    // lock, then waits, or committed first and the workspace is not listed (workspaces_changed).
    const workspaces = (await tx.query('SELECT id FROM workspaces WHERE team_id = $1 FOR KEY SHARE', [teamId])).map((w) => String(w.id));
    if (!sameSet(workspaces, r.workspaceKeys.map((k) => k.workspaceId))) return { ok: false, reason: 'workspaces_changed' };

    if (removed) {
      // an unconfirmed member signed nothing new; a former record from before stays as it is
      if (removed.pending === false) await recordFormer(tx, teamId, String(removed.user_id), epoch, r.now);
      // cascades to the member's sealed team keys
      await tx.exec('DELETE FROM team_members WHERE team_id = $1 AND user_id = $2', [teamId, r.removeUserId]);
    }
    const next = epoch + 1;
    if (r.sealedKeys.length > 0) {
      await tx.exec(
        'INSERT INTO team_keys (team_id, user_id, epoch, sealed_key) SELECT $1, u, $2, k FROM unnest($3::text[], $4::text[]) AS x(u, k)',
        [teamId, next, r.sealedKeys.map((k) => k.userId), r.sealedKeys.map((k) => k.sealedKey)],
      );
    }
    if (r.workspaceKeys.length > 0) {
      await tx.exec(
        'INSERT INTO workspace_keys (workspace_id, epoch, wrapped_key) SELECT w, $1, k FROM unnest($2::text[], $3::text[]) AS x(w, k)',
        [next, r.workspaceKeys.map((k) => k.workspaceId), r.workspaceKeys.map((k) => k.wrappedKey)],
      );
    }
    await tx.exec('UPDATE teams SET epoch = $1, rotation_pending = false WHERE id = $2', [next, teamId]);
    return { ok: true, epoch: next };
  });
}

export async function removeUnconfirmedMember(db: PgDb, teamId: string, userId: string): Promise<RemoveUnconfirmedResult> {
  // one statement: a confirmation that lands first leaves the row alone
  if ((await db.exec('DELETE FROM team_members WHERE team_id = $1 AND user_id = $2 AND pending = true', [teamId, userId])) > 0) return { ok: true };
  const [row] = await db.query('SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2', [teamId, userId]);
  return row ? { ok: false, reason: 'confirmed' } : { ok: false, reason: 'not_member' };
}

export async function leaveTeam(db: PgDb, teamId: string, userId: string, now: Date): Promise<LeaveTeamResult> {
  return db.tx(async (tx): Promise<LeaveTeamResult> => {
    const [team] = await tx.query('SELECT personal, epoch FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
    const members = await tx.query('SELECT user_id, role, pending FROM team_members WHERE team_id = $1', [teamId]);
    const me = members.find((m) => m.user_id === userId);
    if (!team || !me) return { ok: false, reason: 'not_member' };
    if (team.personal === true) return { ok: false, reason: 'personal' };
    const others = members.filter((m) => m !== me);
    if (others.length === 0) return { ok: false, reason: 'last_member' };
    if (me.role === 'owner' && !others.some((m) => m.role === 'owner' && m.pending === false)) return { ok: false, reason: 'last_owner' };
    const heldKeys = me.pending === false;
    if (heldKeys) {
      await recordFormer(tx, teamId, userId, Number(team.epoch), now);
      await tx.exec('UPDATE teams SET rotation_pending = true WHERE id = $1', [teamId]);
    }
    await tx.exec('DELETE FROM team_members WHERE team_id = $1 AND user_id = $2', [teamId, userId]);
    return { ok: true, rotationPending: heldKeys };
  });
}

export async function deleteTeam(db: PgDb, teamId: string, userId: string, countedSince: Date): Promise<DeleteTeamResult> {
  return db.tx(async (tx): Promise<DeleteTeamResult> => {
    // Locked first, as role changes, departures and rotations lock it: an owner demoted at the same
    // moment is seen here, and a workspace created meanwhile (its foreign key waits on this lock)
    // either comes before, and goes with the team, or fails after.
    const [team] = await tx.query('SELECT name, personal FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
    const [me] = team ? await tx.query('SELECT role, pending FROM team_members WHERE team_id = $1 AND user_id = $2', [teamId, userId]) : [];
    if (!team || !me || me.pending === true) return { ok: false, reason: 'not_member' };
    if (team.personal === true) return { ok: false, reason: 'personal' };
    if (me.role !== 'owner') return { ok: false, reason: 'not_owner' };
    // Its workspaces next, by id, as an account deletion locks those its write tokens are kept for:
    // deleted as the DELETE below finds them, two such could be taken in the other order (a deadlock).
    await tx.query('SELECT 1 FROM workspaces WHERE team_id = $1 ORDER BY id FOR UPDATE', [teamId]);
    const count = async (sql: string): Promise<number> => Number((await tx.query(`SELECT count(*) AS n ${sql}`, [teamId]))[0]?.n ?? 0);
    const inTeam = 'IN (SELECT id FROM workspaces WHERE team_id = $1)';
    const removed = {
      workspaces: await count('FROM workspaces WHERE team_id = $1'),
      snapshots: await count(`FROM snapshots WHERE workspace_id ${inTeam}`),
      blobs: await count(`FROM blobs WHERE workspace_id ${inTeam}`),
      memberships: await count('FROM team_members WHERE team_id = $1'),
      accessTokens: await count(`FROM access_tokens WHERE workspace_id ${inTeam}`),
      invitations: await count('FROM team_invitations WHERE team_id = $1'),
    };
    // as in SQLite: workspaces cascade to keys, blobs, snapshots, links and tokens; the team to
    // members with their sealed keys, former members and invitations
    // as in SQLite: who sent each invitation since countedSince, and when, keeps counting for the cap
    await tx.exec('DELETE FROM deleted_team_invitations WHERE created_at < $1', [countedSince]);
    await tx.exec(
      `INSERT INTO deleted_team_invitations (invited_by, created_at)
       SELECT invited_by, created_at FROM team_invitations WHERE team_id = $1 AND invited_by IS NOT NULL AND created_at >= $2`,
      [teamId, countedSince],
    );
    await tx.exec('DELETE FROM workspaces WHERE team_id = $1', [teamId]);
    await tx.exec('DELETE FROM teams WHERE id = $1', [teamId]);
    return { ok: true, name: String(team.name), removed };
  });
}

export async function setMemberRole(db: PgDb, teamId: string, userId: string, role: TeamRole, opts: { byOwner: boolean }): Promise<SetMemberRoleResult> {
  return db.tx(async (tx): Promise<SetMemberRoleResult> => {
    // Two owners demoting each other at once: the second waits here and then sees the first.
    await tx.query('SELECT 1 FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
    const members = await tx.query('SELECT user_id, role, pending FROM team_members WHERE team_id = $1', [teamId]);
    const member = members.find((m) => m.user_id === userId);
    if (!member) return { ok: false, reason: 'not_member' };
    const previous = asRole(member.role);
    const check = roleChangeRefusal(members.map((m) => ({ target: m === member, role: asRole(m.role), confirmed: m.pending === false })), role, opts);
    if (check) return { ok: false, reason: check };
    if (previous !== role) await tx.exec('UPDATE team_members SET role = $1 WHERE team_id = $2 AND user_id = $3', [role, teamId, userId]);
    return { ok: true, previous };
  });
}

export async function setEmailVerification(db: PgDb, userId: string, email: string, codeHash: Uint8Array, expiresAt: Date): Promise<SetEmailVerificationResult> {
  // One statement, as createSession: written only if the account row is there, held FOR KEY SHARE,
  // so an account deletion committing meanwhile makes it write nothing.
  const written = await db.exec(
    `INSERT INTO email_verifications (user_id, email, code_hash, expires_at)
     SELECT u.id, $2, $3, $4 FROM (SELECT id FROM users WHERE id = $1 FOR KEY SHARE) u
     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, code_hash = excluded.code_hash, expires_at = excluded.expires_at`,
    [userId, email, Buffer.from(codeHash), expiresAt],
  );
  return written > 0 ? { ok: true } : { ok: false, reason: 'no_user' };
}

export async function recordActivationMail(
  db: PgDb,
  userId: string,
  at: Date,
  caps: readonly { max: number; since: Date }[],
): Promise<RecordActivationMailResult> {
  return db.tx(async (tx): Promise<RecordActivationMailResult> => {
    // the account's row serialises its mails: two requests cannot both take the last one; gone
    // (deleted, meanwhile too): no mail to record or send
    if (!(await tx.query('SELECT 1 FROM users WHERE id = $1 FOR UPDATE', [userId])).length) return { ok: false, reason: 'no_user' };
    if (caps.length > 0) await tx.exec('DELETE FROM activation_mails WHERE sent_at < $1', [new Date(Math.min(...caps.map((c) => c.since.getTime())))]);
    for (const [i, cap] of caps.entries()) {
      const [row] = await tx.query('SELECT count(*) AS n, min(sent_at) AS oldest FROM activation_mails WHERE user_id = $1 AND sent_at >= $2', [userId, cap.since]);
      if (Number(row?.n ?? 0) >= cap.max) return { ok: false, reason: 'limit', cap: i, oldest: date(row!.oldest) };
    }
    await tx.exec('INSERT INTO activation_mails (user_id, sent_at) VALUES ($1, $2)', [userId, at]);
    return { ok: true };
  });
}

/** One record of the account at `at` (two at the same instant are alike: either goes). */
export async function releaseActivationMail(db: PgDb, userId: string, at: Date): Promise<boolean> {
  const n = await db.exec('DELETE FROM activation_mails WHERE ctid = (SELECT ctid FROM activation_mails WHERE user_id = $1 AND sent_at = $2 LIMIT 1)', [userId, at]);
  return n > 0;
}

export async function verifyEmail(db: PgDb, userId: string, codeHash: Uint8Array, now: Date): Promise<VerifyEmailResult> {
  return db.tx(async (tx): Promise<VerifyEmailResult> => {
    const [user] = await tx.query('SELECT email, verified_at FROM users WHERE id = $1 FOR UPDATE', [userId]);
    if (!user) return { ok: false, reason: 'wrong_code' };
    if (user.verified_at !== null) return { ok: false, reason: 'already_verified' };
    const [v] = await tx.query('SELECT email, code_hash, expires_at FROM email_verifications WHERE user_id = $1', [userId]);
    if (!v || String(v.email) !== String(user.email) || !sameBytes(bytes(v.code_hash), codeHash)) return { ok: false, reason: 'wrong_code' };
    if (date(v.expires_at).getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
    await tx.exec('UPDATE users SET verified_at = $1 WHERE id = $2', [now, userId]);
    await tx.exec('DELETE FROM email_verifications WHERE user_id = $1', [userId]);
    await tx.exec('DELETE FROM activation_mails WHERE user_id = $1', [userId]);
    return { ok: true };
  });
}

/**
 * Account deletion's part (inside its transaction, before the user row goes): every invitation to
 * the address or accepted by the account (each names the address), the open ones it sent
 * (withdrawn), and the shared teams it held keys in, which keep it as a former member and must rotate.
 */
export async function forgetUserInTeams(tx: Tx, userId: string, email: string, now: Date): Promise<number> {
  const invitations = await tx.exec('DELETE FROM team_invitations WHERE email = $1 OR accepted_by = $2', [email, userId]);
  // those it sent, still open, in teams that stay: withdrawn (as in SQLite)
  await tx.exec(
    `UPDATE team_invitations SET code_hash = sha256(code_hash || convert_to(id, 'UTF8')), expires_at = $2
     WHERE invited_by = $1 AND accepted_at IS NULL AND expires_at > $2`,
    [userId, now],
  );
  const heldKeys = await tx.query(
    `SELECT t.id, t.epoch FROM team_members m JOIN teams t ON t.id = m.team_id
     WHERE m.user_id = $1 AND NOT m.pending AND NOT t.personal
       AND EXISTS (SELECT 1 FROM team_members o WHERE o.team_id = m.team_id AND o.user_id <> m.user_id)
     ORDER BY t.id FOR UPDATE OF t`,
    [userId],
  );
  for (const t of heldKeys) {
    await recordFormer(tx, String(t.id), userId, Number(t.epoch), now);
    // the others must rotate before anyone writes again
    await tx.exec('UPDATE teams SET rotation_pending = true WHERE id = $1', [t.id]);
  }
  return invitations;
}
