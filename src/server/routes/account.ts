/**
 * Account lifecycle (SPEC §1 data rights, §7; docs/protocol.md §3.22–3.29): what the server holds
 * about the caller, sessions, password change, recovery key, recovery, deletion. Every request
 * that changes credentials or deletes carries a fresh proof of the password (its auth key),
 * compared in constant time; a session alone is not enough.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromB64 } from '../../protocol/encoding.js';
import { ROUTES } from '../../protocol/routes.js';
import type * as T from '../../protocol/types.js';
import type { NewSession, UserRecord } from '../../storage/store.js';
import { accountSchemas } from '../../protocol/account-schemas.js';
import { clientLabel } from '../client-label.js';
import type { ServerContext } from '../context.js';
import { normalizeEmail } from '../email.js';
import { ApiError, badRequest, notFound, unauthorized } from '../errors.js';
import { mailFailure, type MailMessage } from '../mail/mailer.js';
import { deletionReceipt, passwordChangedNotice, recoveredNotice, recoveryKeySetNotice, type RequestFacts } from '../mail/notices.js';
import { getAuth } from '../plugins/auth.js';
import { bodyEmail, rateLimited } from '../rate-limits.js';
import { hashesEqual, newSessionId, newSessionToken, sha256 } from '../tokens.js';
import { accountView, endedSessionView, invitationView, ownAccessTokenView, sessionView } from '../views.js';
import { tokenStillWorks } from '../access-tokens.js';
import { tokenView } from './tokens.js';

export const BACKUP_POLICY =
  'Backups of the server database taken before this deletion are not altered: they hold only ciphertext and service data, ' +
  "and are kept and destroyed on the operator's backup schedule. Nothing of this account is restored from them into the live service.";

const WRONG_PASSWORD = 'wrong password';
const WRONG_RECOVERY = 'wrong email or recovery key';
/** compared against when there is nothing to compare, so every path does the same work */
const DUMMY_HASH = sha256('insomnia-sync dummy recovery key');


export function registerAccountRoutes(app: FastifyInstance, ctx: ServerContext, authenticate: (r: FastifyRequest) => Promise<void>): void {
  const { store } = ctx;

  function facts(request: FastifyRequest): RequestFacts {
    const agent = request.headers['user-agent'];
    return { at: ctx.now(), ip: request.ip ?? null, client: typeof agent === 'string' ? agent.slice(0, 200) : null };
  }

  /** A notice must not undo what was done: a mail failure is logged (without the address) and swallowed. */
  async function notify(request: FastifyRequest, message: MailMessage): Promise<void> {
    try {
      await ctx.mailer.send(message);
    } catch (err) {
      request.log.error({ mail: mailFailure(ctx.mailer, err) }, 'could not send a notice');
    }
  }

  /** The caller's account, if `authKey` proves its current password. */
  async function provePassword(request: FastifyRequest, authKey: string): Promise<UserRecord> {
    const user = await store.getUserById(getAuth(request).userId);
    if (!user) throw unauthorized();
    if (!hashesEqual(sha256(fromB64(authKey, 32)), user.authKeyHash)) throw new ApiError('forbidden', WRONG_PASSWORD);
    return user;
  }

  /** A new session for `userId`: the record to store (the token's hash only) and what the caller is shown once. */
  function openSession(request: FastifyRequest, userId: string, at: Date, client: string | null): { record: NewSession; info: T.SessionInfo } {
    const token = newSessionToken();
    const id = newSessionId();
    const expiresAt = new Date(at.getTime() + ctx.sessionTtlMs);
    return {
      record: { id, userId, tokenHash: sha256(token), client, ip: request.ip, createdAt: at, expiresAt },
      info: { token, id, expiresAt: expiresAt.toISOString() },
    };
  }

  function emailOf(raw: string): string {
    const email = normalizeEmail(raw);
    if (!email) throw badRequest('invalid email address');
    return email;
  }

  /** The account behind an email, if `recoveryAuthKey` matches its recovery record. One answer for every failure. */
  async function proveRecovery(emailRaw: string, recoveryAuthKey: string): Promise<{ user: UserRecord; hash: Uint8Array; wrapped: string }> {
    const email = emailOf(emailRaw);
    const presented = sha256(fromB64(recoveryAuthKey, 32));
    const user = await store.getUserByEmail(email);
    const recovery = user ? await store.getRecovery(user.id) : null;
    const matches = hashesEqual(presented, recovery ? recovery.authKeyHash : DUMMY_HASH);
    if (!user || !recovery || !matches) throw new ApiError('unauthorized', WRONG_RECOVERY);
    return { user, hash: recovery.authKeyHash, wrapped: recovery.wrappedAccountKey };
  }

  app.route({
    method: ROUTES.accountShow.method,
    url: ROUTES.accountShow.path,
    schema: accountSchemas.accountShow,
    onRequest: authenticate,
    handler: async (request): Promise<T.AccountDataResponse> => {
      const auth = getAuth(request);
      const now = ctx.now();
      const [user, meta, sessions, ended, teams, workspaces, usage, tokens] = await Promise.all([
        store.getUserById(auth.userId),
        store.getAccountMeta(auth.userId),
        store.listSessionsOfUser(auth.userId, now),
        store.listEndedSessionsOfUser(auth.userId, now),
        store.listTeamsOfUser(auth.userId),
        store.listWorkspacesOfUser(auth.userId),
        store.workspaceUsageOfUser(auth.userId),
        store.listAccessTokensCreatedBy(auth.userId),
      ]);
      // deleted after the session check: as a request after the deletion (the error handler says so)
      if (!user || !meta) throw unauthorized();
      const invitations = await store.listInvitationsToUser(user.id, user.email);
      const counts = new Map(usage.map((u) => [u.workspaceId, u]));
      const ws = workspaces.map((w) => ({
        id: w.id,
        teamId: w.teamId,
        encryptedName: w.encryptedName,
        createdAt: w.createdAt.toISOString(),
        updatedAt: w.updatedAt.toISOString(),
        snapshots: counts.get(w.id)?.snapshots ?? 0,
        blobs: counts.get(w.id)?.blobs ?? 0,
        size: w.size,
      }));
      return {
        user: {
          id: user.id,
          email: user.email,
          name: user.name,
          createdAt: user.createdAt.toISOString(),
          verifiedAt: meta.verifiedAt?.toISOString() ?? null,
          passwordChangedAt: meta.passwordChangedAt?.toISOString() ?? null,
        },
        kdf: { ...user.kdf },
        publicKeys: { x25519PublicKey: user.keys.x25519PublicKey, ed25519PublicKey: user.keys.ed25519PublicKey },
        recoveryKey: { set: meta.recoveryCreatedAt !== null, createdAt: meta.recoveryCreatedAt?.toISOString() ?? null },
        sessions: sessions.map((s) => sessionView(s, auth.sessionId)),
        endedSessions: ended.map(endedSessionView),
        invitations: invitations.map((i) => invitationView(i, now)),
        usage: {
          workspaces: ws.length,
          snapshots: ws.reduce((n, w) => n + w.snapshots, 0),
          blobs: ws.reduce((n, w) => n + w.blobs, 0),
          bytes: ws.reduce((n, w) => n + w.size, 0),
        },
        teams: teams.map((t) => ({ id: t.id, name: t.name, personal: t.personal, role: t.role, epoch: t.epoch })),
        workspaces: ws,
        accessTokens: tokens.map(ownAccessTokenView),
      };
    },
  });

  app.route({
    method: ROUTES.listSessions.method,
    url: ROUTES.listSessions.path,
    schema: accountSchemas.listSessions,
    onRequest: authenticate,
    handler: async (request): Promise<T.SessionListResponse> => {
      const auth = getAuth(request);
      const sessions = await store.listSessionsOfUser(auth.userId, ctx.now());
      return { sessions: sessions.map((s) => sessionView(s, auth.sessionId)) };
    },
  });

  app.route<{ Params: { sessionId: string } }>({
    method: ROUTES.revokeSession.method,
    url: ROUTES.revokeSession.path,
    schema: accountSchemas.revokeSession,
    onRequest: authenticate,
    handler: async (request, reply) => {
      // another user's session id is not_found, like an unknown one
      if (!(await store.revokeSessionOfUser(getAuth(request).userId, request.params.sessionId))) throw notFound('no such session');
      return reply.code(204).send();
    },
  });

  app.route<{ Body: T.ChangePasswordRequest }>({
    method: ROUTES.changePassword.method,
    url: ROUTES.changePassword.path,
    config: rateLimited('login', (r) => getAuth(r).userId),
    schema: accountSchemas.changePassword,
    onRequest: authenticate,
    handler: async (request): Promise<T.ChangePasswordResponse> => {
      const body = request.body;
      const user = await provePassword(request, body.authKey);
      const at = ctx.now();
      // With renewSession every session ends, the caller's too: a copy of its token (a backup of
      // that machine's config) must not outlive the change. The caller gets a new one in the same
      // transaction, under the old one's client label (this request does not carry one). Without
      // it (a client from before the field, which would not store a new session) the caller's
      // session is kept, or that client would be signed out by its own change.
      const callerId = getAuth(request).sessionId;
      let fresh: { record: NewSession; info: T.SessionInfo } | null = null;
      if (body.renewSession === true) {
        const client = (await store.listSessionsOfUser(user.id, at)).find((s) => s.id === callerId)?.client ?? null;
        fresh = openSession(request, user.id, at, client);
      }
      const result = await store.changeCredentials(
        user.id,
        user.authKeyHash,
        'password',
        { kdf: { ...body.newKdf }, authKeyHash: sha256(fromB64(body.newAuthKey, 32)), wrappedAccountKey: body.wrappedAccountKey, at },
        fresh ? { replaces: callerId, opens: fresh.record } : { keeps: callerId },
      );
      if (!result.ok && result.reason === 'no_user') throw unauthorized();
      if (!result.ok) throw new ApiError('conflict', 'the password changed meanwhile; nothing was changed');
      // Like a personal access token on GitHub, a token outlives a password change (CI keeps
      // working); the user is shown the live ones to revoke any the old password's holder saw.
      const live: T.TokenInfo[] = [];
      for (const t of await store.listAccessTokensCreatedBy(user.id)) if (await tokenStillWorks(ctx, t)) live.push(tokenView(t));
      await notify(request, passwordChangedNotice(user.email, facts(request), result.revokedSessions, result.recoveryKeyRevoked, live.length, fresh !== null));
      const answer: T.ChangePasswordResponse = { revokedSessions: result.revokedSessions, recoveryKeyRevoked: result.recoveryKeyRevoked, liveTokens: live };
      if (fresh) answer.session = fresh.info;
      return answer;
    },
  });

  app.route<{ Body: T.SetRecoveryKeyRequest }>({
    method: ROUTES.setRecoveryKey.method,
    url: ROUTES.setRecoveryKey.path,
    // it checks a password proof, so it shares the guessers' budget with password change and deletion
    config: rateLimited('login', (r) => getAuth(r).userId),
    schema: accountSchemas.setRecoveryKey,
    onRequest: authenticate,
    handler: async (request): Promise<T.SetRecoveryKeyResponse> => {
      const body = request.body;
      const user = await provePassword(request, body.authKey);
      const replaced = (await store.getRecovery(user.id)) !== null;
      const createdAt = ctx.now();
      const ok = await store.setRecovery(user.id, {
        authKeyHash: sha256(fromB64(body.recoveryAuthKey, 32)),
        wrappedAccountKey: body.wrappedAccountKey,
        createdAt,
      });
      if (!ok) throw unauthorized();
      await notify(request, recoveryKeySetNotice(user.email, facts(request), replaced));
      return { createdAt: createdAt.toISOString() };
    },
  });

  app.route<{ Body: T.RecoverStartRequest }>({
    method: ROUTES.recoverStart.method,
    url: ROUTES.recoverStart.path,
    config: rateLimited('login', bodyEmail),
    schema: accountSchemas.recoverStart,
    handler: async (request): Promise<T.RecoverStartResponse> => {
      const { user, wrapped } = await proveRecovery(request.body.email, request.body.recoveryAuthKey);
      return { userId: user.id, wrappedAccountKeyByRecovery: wrapped, keys: { ...user.keys } };
    },
  });

  app.route<{ Body: T.RecoverFinishRequest }>({
    method: ROUTES.recoverFinish.method,
    url: ROUTES.recoverFinish.path,
    config: rateLimited('login', bodyEmail),
    schema: accountSchemas.recoverFinish,
    handler: async (request): Promise<T.RecoverFinishResponse> => {
      const body = request.body;
      const client = clientLabel(body.client);
      const { user, hash } = await proveRecovery(body.email, body.recoveryAuthKey);
      const at = ctx.now();
      const session = openSession(request, user.id, at, client);
      const result = await store.changeCredentials(
        user.id,
        hash,
        'recovery',
        { kdf: { ...body.newKdf }, authKeyHash: sha256(fromB64(body.newAuthKey, 32)), wrappedAccountKey: body.wrappedAccountKey, at },
        { replaces: null, opens: session.record },
      );
      if (!result.ok) throw new ApiError('unauthorized', WRONG_RECOVERY);
      await notify(request, recoveredNotice(user.email, facts(request), result.revokedSessions, result.revokedTokens));
      const fresh = (await store.getUserById(user.id)) ?? user;
      return { ...accountView(fresh, await store.listTeamsOfUser(user.id), session.info), revokedTokens: result.revokedTokens };
    },
  });

  app.route<{ Body: T.DeleteAccountRequest }>({
    method: ROUTES.deleteAccount.method,
    url: ROUTES.deleteAccount.path,
    config: rateLimited('login', (r) => getAuth(r).userId),
    schema: accountSchemas.deleteAccount,
    onRequest: authenticate,
    handler: async (request): Promise<T.DeletionReceipt> => {
      const user = await provePassword(request, request.body.authKey);
      const result = await store.deleteUser(user.id, user.authKeyHash);
      if (!result.ok) {
        if (result.reason === 'sole_owner') {
          throw new ApiError('conflict', soleOwnerMessage(result.teams.map((t) => t.name)));
        }
        if (result.reason === 'stale') throw new ApiError('conflict', 'the password changed meanwhile; nothing was removed');
        throw unauthorized();
      }
      const deletedAt = ctx.now();
      const receipt: T.DeletionReceipt = {
        userId: user.id,
        email: user.email,
        deletedAt: deletedAt.toISOString(),
        removed: { account: 1, ...result.removed },
        backups: BACKUP_POLICY,
      };
      // Mail to the address that the server still holds (the outbox: activation and invitation
      // codes, notices with IPs and client names) goes too; the receipt, written next, stays: it
      // is the mail that tells them it is done.
      let mailRemoved = 0;
      try {
        mailRemoved = (await ctx.mailer.forget?.({ to: user.email, sender: user.id, teams: result.teamIds })) ?? 0;
      } catch (err) {
        request.log.error({ mail: mailFailure(ctx.mailer, err) }, 'could not remove mail to a deleted account');
      }
      request.log.info({ removed: receipt.removed, mailRemoved }, 'account deleted');
      await notify(request, deletionReceipt(user.email, { ...facts(request), at: deletedAt }, receiptLines(receipt), BACKUP_POLICY));
      return receipt;
    },
  });
}

export function receiptLines(r: T.DeletionReceipt): string[] {
  const n = r.removed;
  return [
    'the account (email, name, key material, password verifier)',
    `${n.sessions} session(s)`,
    `${n.accessTokens} access token(s)`,
    `${n.recoveryKeys} recovery key(s)`,
    `${n.memberships} team membership(s), ${n.teams} team(s) no one else belonged to`,
    `${n.workspaces} workspace(s) with ${n.snapshots} snapshot(s) and ${n.blobs} blob(s)`,
    `${n.invitations} invitation(s) to your address, pending or accepted`,
  ];
}

/**
 * Why an only owner's account deletion was refused, and every way out: hand the team over, delete
 * it, or have it left to them alone (a team no one else is in is deleted with the account). The client keeps
 * 300 characters of a message, so long team names are cut rather than the way out.
 */
export function soleOwnerMessage(teamNames: string[]): string {
  const one = teamNames.length === 1;
  const all = teamNames.join(', ');
  const names = all.length > 36 ? `${all.slice(0, 35)}…` : all;
  return (
    `you are the only owner of ${one ? 'team' : 'teams'} ${names}, which ${one ? 'has' : 'have'} other members; nothing was removed. ` +
    'Make a confirmed member owner (`team role EMAIL owner --team TEAM`), delete it (`team delete --team TEAM`), ' +
    'or empty it (`team remove`, `team leave`): then it goes with your account'
  );
}
