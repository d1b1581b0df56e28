/**
 * Teams (docs/protocol.md §3.30–3.38): create, members, invite, accept, confirm, remove, rotate,
 * leave, and account activation. Session principals only. Every team route checks the caller's
 * standing first (table in docs/protocol.md §8): outsiders get `not_found` (team ids cannot be
 * probed), former members and accepted-but-unconfirmed members `forbidden`, then the role.
 * The server never sees a team key: confirm and rotation upload keys sealed by an owner's client.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROUTES } from '../../protocol/routes.js';
import type * as T from '../../protocol/types.js';
import type { RotateTeamResult, TeamAccessRecord, TeamRole } from '../../storage/store.js';
import type { ServerContext } from '../context.js';
import { normalizeEmail } from '../email.js';
import { ApiError, badRequest, notFound, unauthorized } from '../errors.js';
import { getAuth } from '../plugins/auth.js';
import { rateLimited } from '../rate-limits.js';
import { codeHash, INVITE_CODE_TTL_MS, newCode, normalizeCode } from '../teams/codes.js';
import { mailFailure } from '../mail/mailer.js';
import { invitationMail } from '../teams/mail.js';
import { isPrintableLine } from '../../protocol/text.js';
import { teamSchemas } from '../../protocol/team-schemas.js';
import { MAIL_NOT_SENT, resendActivation } from '../teams/verification.js';

type Standing = TeamRole | 'accepted';
type TeamParams = { teamId: string };
/** invitations one account may send in an hour (each is a mail to an address of their choosing) */
export const INVITES_PER_HOUR = 100;
/** The window of INVITES_PER_HOUR (protocol §3.32). */
const INVITE_WINDOW_MS = 3_600_000;
type MemberParams = { teamId: string; userId: string };

/** Who may call each team route; the single source of the table in docs/protocol.md §8. */
export const TEAM_ROUTE_ROLES = {
  teamMembers: ['owner', 'admin', 'member'],
  inviteMembers: ['owner', 'admin'],
  withdrawInvitation: ['owner', 'admin'],
  confirmMember: ['owner', 'admin'],
  removeMember: ['owner', 'admin'],
  rotateTeam: ['owner', 'admin'],
  leaveTeam: ['owner', 'admin', 'member', 'accepted'],
  // the team and its workspaces for everyone in it: whoever owns it, as only an owner hands it over
  deleteTeam: ['owner'],
  // as only owners invite admins: an admin could otherwise make any member admin
  setMemberRole: ['owner'],
} as const satisfies Record<string, readonly Standing[]>;

export function registerTeamRoutes(app: FastifyInstance, ctx: ServerContext, authenticate: (r: FastifyRequest) => Promise<void>): void {
  const { store } = ctx;

  async function requireTeam(request: FastifyRequest, teamId: string, allowed: readonly Standing[]) {
    const userId = getAuth(request).userId;
    const access: TeamAccessRecord = await store.teamAccess(teamId, userId);
    const team = access.team;
    if (!team || access.state === 'none') throw notFound('team not found');
    if (access.state === 'former') throw new ApiError('forbidden', `you are no longer a member of the team ${team.name}`);
    if (access.state === 'accepted' && !allowed.includes('accepted')) {
      throw new ApiError('forbidden', `an owner or admin of ${team.name} has not confirmed you yet`);
    }
    if (access.state === 'confirmed' && !allowed.includes(access.role!)) {
      throw new ApiError('forbidden', `your role in ${team.name} (${access.role}) does not allow this`);
    }
    return { userId, team, role: access.state === 'accepted' ? ('accepted' as const) : access.role! };
  }

  function summary(t: { id: string; name: string; personal: boolean; epoch: number; rotationPending: boolean }): T.TeamSummary {
    return { id: t.id, name: t.name, personal: t.personal, epoch: t.epoch, rotationPending: t.rotationPending };
  }

  function rotationError(result: Exclude<RotateTeamResult, { ok: true }>): ApiError {
    switch (result.reason) {
      case 'stale':
        return new ApiError('conflict', 'the team key changed meanwhile (another rotation won); run the command again');
      case 'members_changed':
      case 'workspaces_changed':
        return new ApiError('conflict', `the team's ${result.reason === 'members_changed' ? 'members' : 'workspaces'} changed meanwhile; run the command again`);
      case 'last_owner':
        return new ApiError('conflict', 'the last owner cannot be removed while others remain; make someone else owner first (`team role EMAIL owner`)');
      case 'not_member':
        return notFound('no such member');
      case 'no_team':
        return notFound('team not found');
    }
  }

  app.route<{ Body: T.CreateTeamRequest }>({
    method: ROUTES.createTeam.method,
    url: ROUTES.createTeam.path,
    schema: teamSchemas.createTeam,
    onRequest: authenticate,
    handler: async (request): Promise<T.TeamSummary> => {
      const name = request.body.name.trim();
      if (!name || !isPrintableLine(name)) throw badRequest('a team name has 1 to 100 printable characters');
      const result = await store.createTeam({
        id: request.body.id,
        name,
        ownerId: getAuth(request).userId,
        sealedTeamKey: request.body.sealedTeamKey,
        createdAt: ctx.now(),
      });
      // the account was deleted after the session check: as a request after the deletion
      if (!result.ok && result.reason === 'no_user') throw unauthorized();
      if (!result.ok) throw new ApiError('already_exists', 'a team with this id already exists');
      return { id: request.body.id, name, personal: false, epoch: 1, rotationPending: false };
    },
  });

  app.route<{ Params: TeamParams }>({
    method: ROUTES.teamMembers.method,
    url: ROUTES.teamMembers.path,
    schema: teamSchemas.teamMembers,
    onRequest: authenticate,
    handler: async (request): Promise<T.TeamMembersResponse> => {
      const { team, role } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.teamMembers);
      const members = await store.teamMembers(team.id);
      const invitations = role === 'owner' || role === 'admin' ? await store.listInvitations(team.id, ctx.now()) : [];
      return {
        team: summary(team),
        members: members.map((m) => ({
          userId: m.userId,
          email: m.email,
          name: m.name,
          x25519PublicKey: m.x25519PublicKey,
          ed25519PublicKey: m.ed25519PublicKey,
          role: m.role,
          status: m.confirmed ? 'confirmed' : 'accepted',
          joinedAt: m.joinedAt.toISOString(),
        })),
        invitations: invitations.map((i) => ({ email: i.email, role: i.role, createdAt: i.createdAt.toISOString(), expiresAt: i.expiresAt.toISOString() })),
      };
    },
  });

  app.route<{ Params: TeamParams; Body: T.InviteRequest }>({
    method: ROUTES.inviteMembers.method,
    url: ROUTES.inviteMembers.path,
    config: rateLimited('invite', (r) => getAuth(r).userId),
    schema: teamSchemas.inviteMembers,
    onRequest: authenticate,
    handler: async (request): Promise<T.InviteResponse> => {
      const { userId, team, role } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.inviteMembers);
      if (team.personal) throw new ApiError('forbidden', 'a personal team has no other members; create a team with `team create`');
      if (request.body.role === 'admin' && role !== 'owner') throw new ApiError('forbidden', 'only an owner can invite admins');
      const inviter = await store.getUserById(userId);
      const meta = await store.getAccountMeta(userId);
      if (!inviter || !meta) throw unauthorized();
      if (!meta.verifiedAt) {
        throw new ApiError('forbidden', 'confirm your email address before inviting others: `insomnia-sync account verify CODE`');
      }
      // Mail to any address, on anyone's say-so: capped per inviter and hour in the database, so it
      // holds across requests (up to 100 addresses each) and across server processes.
      const hourAgo = new Date(ctx.now().getTime() - INVITE_WINDOW_MS);
      let budget = INVITES_PER_HOUR - (await store.countInvitationsBy(userId, hourAgo));
      if (budget <= 0) throw new ApiError('rate_limited', `you sent ${INVITES_PER_HOUR} invitations in the last hour, the most an hour allows; try again later`);
      const out: T.InviteResponse = { invited: [], failed: [] };
      const seen = new Set<string>();
      for (const raw of request.body.emails) {
        const email = normalizeEmail(raw);
        if (!email) {
          out.failed.push({ email: raw.slice(0, 300), reason: 'not a valid email address' });
          continue;
        }
        if (seen.has(email)) continue;
        seen.add(email);
        const existing = await store.getUserByEmail(email);
        if (existing) {
          const state = (await store.teamAccess(team.id, existing.id)).state;
          if (state === 'confirmed' || state === 'accepted') {
            out.failed.push({ email, reason: 'already a member' });
            continue;
          }
        }
        if (budget <= 0) {
          out.failed.push({ email, reason: `not sent: at most ${INVITES_PER_HOUR} invitations an hour; try again later` });
          continue;
        }
        budget--;
        const code = newCode();
        const now = ctx.now();
        const expiresAt = new Date(now.getTime() + INVITE_CODE_TTL_MS);
        const stored = await store.createInvitation(
          { id: randomBytes(16).toString('hex'), teamId: team.id, email, role: request.body.role, codeHash: codeHash(code), invitedBy: userId, createdAt: now, expiresAt },
          { max: INVITES_PER_HOUR, since: hourAgo },
        );
        // deleted since requireTeam (the invitations this request stored went with it): as if it
        // had been gone at the start
        if (!stored.ok && stored.reason === 'no_team') throw notFound('team not found');
        // the inviter's account, likewise (it withdrew what this request stored)
        if (!stored.ok && stored.reason === 'no_user') throw unauthorized();
        if (!stored.ok) {
          // another request of the same inviter spent the budget meanwhile
          budget = 0;
          out.failed.push({ email, reason: `not sent: at most ${INVITES_PER_HOUR} invitations an hour; try again later` });
          continue;
        }
        try {
          await ctx.mailer.send({
            ...invitationMail(email, code, { teamName: team.name, inviterName: inviter.name, inviterEmail: inviter.email, role: request.body.role, expiresAt }),
            // found again when the team or the inviter's account is deleted
            about: { team: team.id, sender: userId },
          });
          out.invited.push({ email, expiresAt: expiresAt.toISOString() });
        } catch (err) {
          request.log.warn({ mail: mailFailure(ctx.mailer, err) }, 'invitation mail not sent');
          out.failed.push({ email, reason: 'the invitation mail could not be sent' });
        }
      }
      return out;
    },
  });

  app.route<{ Params: TeamParams; Body: T.WithdrawInvitationRequest }>({
    method: ROUTES.withdrawInvitation.method,
    url: ROUTES.withdrawInvitation.path,
    schema: teamSchemas.withdrawInvitation,
    onRequest: authenticate,
    handler: async (request): Promise<T.WithdrawInvitationResponse> => {
      const { team } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.withdrawInvitation);
      const email = normalizeEmail(request.body.email);
      if (!email) throw badRequest('not a valid email address');
      // Never accepted, so nobody holds a key through it: nothing to rotate. The code stops working.
      const withdrawn = await store.withdrawInvitation(team.id, email, ctx.now());
      if (!withdrawn) throw notFound(`${team.name} has no open invitation to ${email}`);
      return { email: withdrawn.email, role: withdrawn.role, createdAt: withdrawn.createdAt.toISOString(), expiresAt: withdrawn.expiresAt.toISOString() };
    },
  });

  app.route<{ Body: T.AcceptInvitationRequest }>({
    method: ROUTES.acceptInvitation.method,
    url: ROUTES.acceptInvitation.path,
    config: rateLimited('verify', (r) => getAuth(r).userId),
    schema: teamSchemas.acceptInvitation,
    onRequest: authenticate,
    handler: async (request): Promise<T.AcceptInvitationResponse> => {
      const code = normalizeCode(request.body.code);
      if (code === null) throw badRequest('that is not an invite code (16 letters and digits, e.g. ABCD-EFGH-JKMN-PQRS)');
      const user = await store.getUserById(getAuth(request).userId);
      // deleted after the session check, here or in the store: as a request after the deletion
      if (!user) throw unauthorized();
      const result = await store.acceptInvitation(codeHash(code), user.id, user.email, ctx.now());
      if (result.ok) return { teamId: result.teamId, teamName: result.teamName, role: result.role };
      switch (result.reason) {
        // Not conflicts (409, exit 3, which a script takes for "pull and retry"): a used code is
        // spent like one that never existed (404, exit 5); an expired one is refused like an expired
        // token or activation code (403, exit 4).
        case 'unknown':
          throw notFound('no invitation has this code');
        case 'used':
          throw notFound('this invite code was already used');
        case 'expired':
          throw new ApiError('forbidden', 'this invite code has expired; ask for a new invitation');
        case 'other_address':
          throw new ApiError('forbidden', `this invitation was sent to another address, not ${user.email}`);
        case 'already_member':
          throw new ApiError('conflict', 'you are already a member of this team');
        case 'no_user':
          throw unauthorized();
        // deleted while this request ran (one deleted before took its invitations: an unknown code)
        case 'no_team':
          throw notFound('the team of this invitation was deleted');
      }
    },
  });

  app.route<{ Params: MemberParams; Body: T.ConfirmMemberRequest }>({
    method: ROUTES.confirmMember.method,
    url: ROUTES.confirmMember.path,
    schema: teamSchemas.confirmMember,
    onRequest: authenticate,
    handler: async (request, reply) => {
      const { team } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.confirmMember);
      const result = await store.confirmMember(team.id, request.params.userId, request.body.sealedKeys.map((k) => ({ ...k })), ctx.now());
      if (!result.ok) {
        if (result.reason === 'not_member') throw notFound('no such member');
        if (result.reason === 'already_confirmed') throw new ApiError('conflict', 'this member is already confirmed');
        throw new ApiError('conflict', `the sealed keys must include the team's current epoch (${team.epoch}) and none newer`);
      }
      return reply.code(204).send();
    },
  });

  app.route<{ Params: MemberParams; Body: T.RemoveMemberRequest }>({
    method: ROUTES.removeMember.method,
    url: ROUTES.removeMember.path,
    schema: teamSchemas.removeMember,
    onRequest: authenticate,
    handler: async (request): Promise<T.RotateTeamResponse> => {
      const { userId, team, role } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.removeMember);
      const target = request.params.userId;
      if (target === userId) throw badRequest('to remove yourself, use `team leave`');
      const targetAccess = await store.teamAccess(team.id, target);
      if (targetAccess.state !== 'confirmed' && targetAccess.state !== 'accepted') throw notFound('no such member');
      if (targetAccess.role === 'owner' && role !== 'owner') throw new ApiError('forbidden', 'only an owner can remove an owner');
      const body = request.body;
      if (!('sealedKeys' in body) || !('workspaceKeys' in body)) {
        if ('sealedKeys' in body || 'workspaceKeys' in body) throw badRequest('a rotation needs both sealedKeys and workspaceKeys');
        // Never confirmed, so never held a key: a rotation would only break the team's access tokens.
        const removed = await store.removeUnconfirmedMember(team.id, target);
        if (removed.ok) return { epoch: team.epoch };
        if (removed.reason === 'not_member') throw notFound('no such member');
        throw new ApiError('conflict', 'this member was confirmed meanwhile and holds the team key: removing them rotates it; run the command again');
      }
      const result = await store.rotateTeam(team.id, {
        expectedEpoch: body.epoch,
        removeUserId: target,
        sealedKeys: body.sealedKeys.map((k) => ({ ...k })),
        workspaceKeys: body.workspaceKeys.map((k) => ({ ...k })),
        now: ctx.now(),
      });
      if (!result.ok) throw rotationError(result);
      return { epoch: result.epoch };
    },
  });

  app.route<{ Params: TeamParams; Body: T.RotateTeamRequest }>({
    method: ROUTES.rotateTeam.method,
    url: ROUTES.rotateTeam.path,
    schema: teamSchemas.rotateTeam,
    onRequest: authenticate,
    handler: async (request): Promise<T.RotateTeamResponse> => {
      const { team } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.rotateTeam);
      const result = await store.rotateTeam(team.id, {
        expectedEpoch: request.body.epoch,
        removeUserId: null,
        sealedKeys: request.body.sealedKeys.map((k) => ({ ...k })),
        workspaceKeys: request.body.workspaceKeys.map((k) => ({ ...k })),
        now: ctx.now(),
      });
      if (!result.ok) throw rotationError(result);
      return { epoch: result.epoch };
    },
  });

  app.route<{ Params: TeamParams }>({
    method: ROUTES.leaveTeam.method,
    url: ROUTES.leaveTeam.path,
    schema: teamSchemas.leaveTeam,
    onRequest: authenticate,
    handler: async (request): Promise<T.LeaveTeamResponse> => {
      const { userId, team } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.leaveTeam);
      const result = await store.leaveTeam(team.id, userId, ctx.now());
      if (result.ok) return { rotationPending: result.rotationPending };
      switch (result.reason) {
        case 'personal':
          throw badRequest('you cannot leave your personal team');
        case 'last_owner':
          throw new ApiError('conflict', `you are the last owner of ${team.name}: make another member owner (\`team role EMAIL owner\`), or remove the others first`);
        case 'last_member':
          throw new ApiError('conflict', `you are the last member of ${team.name}: delete the team instead (\`team delete --team TEAM\`)`);
        case 'not_member':
          throw notFound('team not found');
      }
    },
  });

  app.route<{ Params: TeamParams }>({
    method: ROUTES.deleteTeam.method,
    url: ROUTES.deleteTeam.path,
    schema: teamSchemas.deleteTeam,
    onRequest: authenticate,
    handler: async (request): Promise<T.TeamDeletionReceipt> => {
      const { userId, team } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.deleteTeam);
      if (team.personal) throw badRequest('your personal team goes only with your account (`account delete`); delete its workspaces one by one with `workspace delete`');
      // The role is checked again in the store's transaction: an owner demoted meanwhile deletes nothing.
      // the team's invitations of the last hour keep counting toward their inviters' cap (§3.40)
      const result = await store.deleteTeam(team.id, userId, new Date(ctx.now().getTime() - INVITE_WINDOW_MS));
      if (!result.ok) {
        switch (result.reason) {
          case 'personal':
            throw badRequest('your personal team goes only with your account (`account delete`)');
          case 'not_owner':
            throw new ApiError('forbidden', `only an owner of ${team.name} can delete it`);
          case 'not_member':
            throw notFound('team not found');
        }
      }
      // its invitation mails still waiting (the outbox) go too: their codes stopped working
      let mailRemoved = 0;
      try {
        mailRemoved = (await ctx.mailer.forget?.({ teams: [team.id] })) ?? 0;
      } catch (err) {
        request.log.error({ mail: mailFailure(ctx.mailer, err) }, "could not remove a deleted team's invitation mails");
      }
      request.log.info({ team: team.id, removed: result.removed, mailRemoved }, 'team deleted');
      return { teamId: team.id, name: result.name, deletedAt: ctx.now().toISOString(), removed: result.removed };
    },
  });

  app.route<{ Params: MemberParams; Body: T.SetMemberRoleRequest }>({
    method: ROUTES.setMemberRole.method,
    url: ROUTES.setMemberRole.path,
    schema: teamSchemas.setMemberRole,
    onRequest: authenticate,
    handler: async (request): Promise<T.SetMemberRoleResponse> => {
      const { team, role } = await requireTeam(request, request.params.teamId, TEAM_ROUTE_ROLES.setMemberRole);
      const wanted = request.body.role;
      const result = await store.setMemberRole(team.id, request.params.userId, wanted, { byOwner: role === 'owner' });
      if (result.ok) return { role: wanted, previous: result.previous };
      switch (result.reason) {
        case 'not_member':
          throw notFound('no such member');
        case 'owner_only':
          throw new ApiError('forbidden', 'only an owner can make someone owner or change an owner\'s role');
        case 'unconfirmed_owner':
          throw new ApiError('conflict', 'confirm this member before making them owner');
        case 'last_owner':
          throw new ApiError('conflict', `${team.name} needs an owner: make another confirmed member owner first`);
      }
    },
  });

  app.route<{ Body: T.VerifyEmailRequest }>({
    method: ROUTES.verifyEmail.method,
    url: ROUTES.verifyEmail.path,
    config: rateLimited('verify', (r) => getAuth(r).userId),
    schema: teamSchemas.verifyEmail,
    onRequest: authenticate,
    handler: async (request, reply) => {
      const user = await store.getUserById(getAuth(request).userId);
      if (!user) throw unauthorized();
      if (request.body.resend) {
        if ((await store.getAccountMeta(user.id))?.verifiedAt) throw new ApiError('conflict', 'your email address is already verified');
        // a 204 would have the CLI say "a new code was sent" to someone who will wait for nothing
        if (!(await resendActivation(ctx, request, reply, user))) throw new ApiError('unavailable', MAIL_NOT_SENT);
        return reply.code(204).send();
      }
      const code = request.body.code === undefined ? null : normalizeCode(request.body.code);
      if (code === null) throw badRequest('that is not a verification code (16 letters and digits, e.g. ABCD-EFGH-JKMN-PQRS)');
      const result = await store.verifyEmail(user.id, codeHash(code), ctx.now());
      if (!result.ok) {
        if (result.reason === 'already_verified') throw new ApiError('conflict', 'your email address is already verified');
        if (result.reason === 'expired') throw new ApiError('forbidden', 'this verification code has expired; get a new one with `account verify --resend`');
        throw new ApiError('forbidden', 'this verification code is wrong (or was sent to another address)');
      }
      return reply.code(204).send();
    },
  });
}
