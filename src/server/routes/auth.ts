/** prelogin, signup, login, logout, me (docs/protocol.md §3). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fromB64 } from '../../protocol/encoding.js';
import { ROUTES } from '../../protocol/routes.js';
import type * as T from '../../protocol/types.js';
import type { UserRecord } from '../../storage/store.js';
import type { ServerContext } from '../context.js';
import { normalizeEmail } from '../email.js';
import { isPrintableLine } from '../../protocol/text.js';
import { clientLabel } from '../client-label.js';
import { ApiError, badRequest, unauthorized } from '../errors.js';
import { getAuth } from '../plugins/auth.js';
import { rateLimited, bodyEmail } from '../rate-limits.js';
import { schemas } from '../../protocol/schemas.js';
import { fakeSalt, hashesEqual, newSessionId, newSessionToken, sha256 } from '../tokens.js';
import { accountView } from '../views.js';
import { sendActivation } from '../teams/verification.js';

const WRONG_LOGIN = 'wrong email or password';
/** compared against when the email is unknown, so both paths do the same work */
const DUMMY_HASH = sha256('insomnia-sync dummy auth key');

export function registerAuthRoutes(app: FastifyInstance, ctx: ServerContext, authenticate: (r: FastifyRequest) => Promise<void>): void {
  const { store } = ctx;

  async function openSession(request: FastifyRequest, userId: string, client: string | null): Promise<T.SessionInfo> {
    const token = newSessionToken();
    const id = newSessionId();
    const now = ctx.now();
    const expiresAt = new Date(now.getTime() + ctx.sessionTtlMs);
    const created = await store.createSession({ id, userId, tokenHash: sha256(token), client, ip: request.ip, createdAt: now, expiresAt });
    // the account was deleted after the password check: as a login after the deletion is answered
    if (!created.ok) throw new ApiError('unauthorized', WRONG_LOGIN);
    return { token, id, expiresAt: expiresAt.toISOString() };
  }

  async function account(user: UserRecord, session?: T.SessionInfo): Promise<T.AccountResponse> {
    return accountView(user, await store.listTeamsOfUser(user.id), session);
  }

  function emailOf(raw: string): string {
    const email = normalizeEmail(raw);
    if (!email) throw badRequest('invalid email address');
    return email;
  }

  app.route<{ Body: T.PreloginRequest }>({
    method: ROUTES.prelogin.method,
    url: ROUTES.prelogin.path,
    config: rateLimited('prelogin', bodyEmail),
    schema: schemas.prelogin,
    handler: async (request): Promise<T.PreloginResponse> => {
      const email = emailOf(request.body.email);
      const user = await store.getUserByEmail(email);
      if (user) return { kdf: { ...user.kdf } };
      return { kdf: { alg: 'argon2id', ...ctx.kdfDefaults, salt: fakeSalt(ctx.serverSecret, email) } };
    },
  });

  app.route<{ Body: T.SignupRequest }>({
    method: ROUTES.signup.method,
    url: ROUTES.signup.path,
    config: rateLimited('login', bodyEmail),
    schema: schemas.signup,
    handler: async (request): Promise<T.SignupResponse> => {
      const body = request.body;
      const email = emailOf(body.email);
      const client = clientLabel(body.client);
      // the name goes into mails others receive (invitations): one line, nothing that redraws it
      const name = body.name.trim();
      if (!isPrintableLine(name)) throw badRequest('an account name is one line of printable characters');
      const now = ctx.now();
      const result = await store.createUser({
        id: body.userId,
        email,
        name,
        kdf: { ...body.kdf },
        // the auth key is a 32-byte Argon2id+HKDF output: a fast hash is enough, a slow one adds nothing
        authKeyHash: sha256(fromB64(body.authKey, 32)),
        keys: { ...body.keys },
        createdAt: now,
        personalTeam: { id: body.personalTeam.id, name: 'Personal', sealedTeamKey: body.personalTeam.sealedTeamKey },
      });
      if (!result.ok) {
        throw new ApiError(
          'already_exists',
          result.reason === 'email_taken' ? 'an account with this email already exists' : 'user or team id already in use',
        );
      }
      const user = await store.getUserById(body.userId);
      if (!user) throw new Error('user vanished right after signup');
      const activationMailSent = await sendActivation(ctx, request, user);
      return { ...(await account(user, await openSession(request, user.id, client))), activationMailSent };
    },
  });

  app.route<{ Body: T.LoginRequest }>({
    method: ROUTES.login.method,
    url: ROUTES.login.path,
    config: rateLimited('login', bodyEmail),
    schema: schemas.login,
    handler: async (request): Promise<T.AccountResponse> => {
      const email = emailOf(request.body.email);
      const client = clientLabel(request.body.client);
      const presented = sha256(fromB64(request.body.authKey, 32));
      const user = await store.getUserByEmail(email);
      const matches = hashesEqual(presented, user ? user.authKeyHash : DUMMY_HASH);
      if (!user || !matches) throw new ApiError('unauthorized', WRONG_LOGIN);
      return account(user, await openSession(request, user.id, client));
    },
  });

  app.route({
    method: ROUTES.logout.method,
    url: ROUTES.logout.path,
    schema: schemas.logout,
    onRequest: authenticate,
    handler: async (request, reply) => {
      await store.revokeSession(getAuth(request).sessionId);
      return reply.code(204).send();
    },
  });

  app.route({
    method: ROUTES.me.method,
    url: ROUTES.me.path,
    schema: schemas.me,
    onRequest: authenticate,
    handler: async (request): Promise<T.AccountResponse> => {
      const user = await store.getUserById(getAuth(request).userId);
      // deleted after the session check: as a request after the deletion (the error handler says so)
      if (!user) throw unauthorized();
      return account(user);
    },
  });
}
