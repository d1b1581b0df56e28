/**
 * signup, login, logout, whoami (SPEC §3, §4). The password is normalised and stretched with
 * Argon2id locally; only the HKDF-derived auth key is sent. The wrap key never leaves this process.
 */
import { fromB64, toB64 } from '../../protocol/encoding.js';
import { isPrintableLine } from '../../protocol/text.js';
import { ID_PATTERN, type AccountResponse, type KdfParams as WireKdf } from '../../protocol/types.js';
import { deriveAccountSecrets, deriveMasterKey, type KdfParams } from '../../crypto/kdf.js';
import { openEnvelope, sealEnvelope } from '../../crypto/aead.js';
import { generateIdentity, identityFromSecrets } from '../../crypto/keys.js';
import { personalTeamIdOf, sealTeamKeyGrant } from '../../crypto/team-grant.js';
import { generateKey } from '../../crypto/workspace-keys.js';
import { toHex } from '../../crypto/hex.js';
import { IntegrityError, KdfParamsError } from '../../crypto/errors.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, SyncError, UsageError } from '../errors.js';
import { normalizeUrl, refuseOtherAccount, requireSession, resolveServer } from '../session.js';
import type { SessionSecrets } from '../secrets.js';
import { checkServerCopyOfOwnKeys, ownFingerprint } from '../own-keys.js';
import { fsReason } from '../private-files.js';

export interface AccountSummary {
  userId: string;
  email: string;
  name: string;
  server: string;
  fingerprint: string;
  profile: string;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normalizeEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (!EMAIL.test(e) || e.length > 254) throw new UsageError(`not a valid email address: ${email.trim()}`);
  return e;
}

function toCryptoKdf(wire: WireKdf): KdfParams {
  return { alg: wire.alg, memoryKiB: wire.memoryKiB, iterations: wire.iterations, parallelism: wire.parallelism, salt: fromB64(wire.salt) };
}

/** Argon2id with the client's floor: a server offering less is refused like tampering (exit 7). */
async function stretch(password: string, kdf: KdfParams, p: ClientContext['primitives']): Promise<Uint8Array> {
  try {
    return await deriveMasterKey(password, kdf, p);
  } catch (err) {
    if (err instanceof KdfParamsError) {
      throw new SyncError('weak_kdf', `the server asked for key-derivation parameters below this client's minimum (${err.message}); refusing`, 'the server may be misconfigured or hostile; nothing was sent');
    }
    throw err;
  }
}

export interface SignupSummary extends AccountSummary {
  /** false when the server could not send the activation mail (absent: an older server said nothing) */
  activationMailSent?: boolean;
}

export async function signup(ctx: ClientContext, opts: { email: string; name?: string }): Promise<SignupSummary> {
  const email = normalizeEmail(opts.email);
  // a blank name is no name, as an empty one is: the email's local part stands in
  const name = (opts.name?.trim() || email.split('@')[0] || '').trim().slice(0, 200);
  // the server refuses it too, but only after the password prompt and the key derivation
  if (!isPrintableLine(name)) throw new UsageError('an account name is one line of printable characters (no newline or control character)');
  await refuseOtherAccount(ctx, null);
  await checkLocalState(ctx);
  const password = await ctx.prompter.password('Choose a password', { confirm: true, minLength: 8 });
  if (password.length < 8) throw new UsageError('the password must have at least 8 characters');
  const server = await resolveServer(ctx);
  const api = ctx.api(server);
  const p = ctx.primitives;

  // Said apart, as login does: a server that never answers must not look like a slow derivation.
  ctx.progress.start(`Contacting ${server}`);
  // The operator chooses the cost for new accounts (prelogin answers it for an unknown email);
  // deriveMasterKey refuses anything below the client's minimum, whatever the server says.
  const offered = await api.prelogin({ email });
  ctx.progress.update('Deriving keys from your password');
  const kdf: KdfParams = {
    alg: 'argon2id',
    memoryKiB: offered.kdf.memoryKiB,
    iterations: offered.kdf.iterations,
    parallelism: offered.kdf.parallelism,
    salt: p.randomBytes(16),
  };
  const master = await stretch(password, kdf, p);
  const { authKey, wrapKey } = deriveAccountSecrets(master);

  const userId = toHex(p.randomBytes(16));
  const accountKey = generateKey(p);
  const teamId = personalTeamIdOf(accountKey);
  const identity = generateIdentity(p);
  const teamKey = generateKey(p);
  ctx.progress.update('Creating your account');
  const res = await api.signup({
    userId,
    email,
    name,
    kdf: { alg: 'argon2id', memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism, salt: toB64(kdf.salt) },
    authKey: toB64(authKey),
    keys: {
      wrappedAccountKey: toB64(sealEnvelope(p, wrapKey, accountKey, { kind: 'account-key', ownerId: userId })),
      x25519PublicKey: toB64(identity.x25519.publicKey),
      ed25519PublicKey: toB64(identity.ed25519.publicKey),
      wrappedX25519Secret: toB64(sealEnvelope(p, accountKey, identity.x25519.secretKey, { kind: 'x25519-secret', ownerId: userId })),
      wrappedEd25519Secret: toB64(sealEnvelope(p, accountKey, identity.ed25519.secretKey, { kind: 'ed25519-secret', ownerId: userId })),
    },
    personalTeam: {
      id: teamId,
      sealedTeamKey: toB64(sealTeamKeyGrant(p, { userId, identity }, identity.x25519.publicKey, teamKey, { teamId, epoch: 1, previousKeyHash: null })),
    },
    client: ctx.clientLabel,
  });
  ctx.progress.stop();
  // The reply's public keys are checked like login's: a reply rewritten on the way must not put
  // someone else's keys (and fingerprint) in this machine's session.
  // So are the account it names: the id this client chose and the email it asked for.
  const summary = await storeSession(ctx, server, res, accountKey, identity.x25519.secretKey, identity.ed25519.secretKey, {
    account: { email, userId },
    hint: 'the account was created, but nothing was stored on this machine; `insomnia-sync login` checks the keys again; if it fails too, contact the server operator',
    done: `your account ${email} was created on ${normalizeUrl(server)}`,
    then: `fix that, then log in: \`insomnia-sync login --email ${email}\``,
  });
  return typeof res.activationMailSent === 'boolean' ? { ...summary, activationMailSent: res.activationMailSent } : summary;
}

export async function login(ctx: ClientContext, opts: { email: string }): Promise<AccountSummary> {
  const email = normalizeEmail(opts.email);
  await refuseOtherAccount(ctx, email);
  await checkLocalState(ctx);
  const password = await ctx.prompter.password('Password');
  const server = await resolveServer(ctx);
  const api = ctx.api(server);
  const p = ctx.primitives;
  // Until the server answers, say so: a server that does not answer is not a slow key derivation.
  ctx.progress.start(`Contacting ${server}`);
  const pre = await api.prelogin({ email });
  ctx.progress.update('Deriving keys from your password');
  // deriveMasterKey refuses parameters below the client minimum, whatever the server says.
  const master = await stretch(password, toCryptoKdf(pre.kdf), p);
  const { authKey, wrapKey } = deriveAccountSecrets(master);
  ctx.progress.update('Logging in');
  const res = await api.login({ email, authKey: toB64(authKey), client: ctx.clientLabel });
  ctx.progress.stop();
  let accountKey: Uint8Array;
  let xSecret: Uint8Array;
  let edSecret: Uint8Array;
  try {
    accountKey = openEnvelope(p, wrapKey, fromB64(res.keys.wrappedAccountKey), { kind: 'account-key', ownerId: res.user.id });
    xSecret = openEnvelope(p, accountKey, fromB64(res.keys.wrappedX25519Secret), { kind: 'x25519-secret', ownerId: res.user.id });
    edSecret = openEnvelope(p, accountKey, fromB64(res.keys.wrappedEd25519Secret), { kind: 'ed25519-secret', ownerId: res.user.id });
  } catch (err) {
    if (err instanceof IntegrityError) {
      throw new IntegrityFailure('your account keys from the server do not decrypt', 'the server may have been tampered with; contact its operator');
    }
    throw err;
  }
  // The session this login replaces (same account: refuseOtherAccount let it through) would stay
  // live on the server with nothing here able to end it.
  const replaced = ctx.secrets.read()?.sessionToken;
  // storeSession checks the public keys the server holds against ours before anything is kept
  const summary = await storeSession(ctx, server, res, accountKey, xSecret, edSecret, {
    account: { email },
    done: `the server logged you in as ${email}`,
    then: 'fix that and log in again',
  });
  if (replaced !== undefined && replaced !== res.session?.token) await endReplacedSession(ctx, server, replaced);
  return summary;
}

/**
 * What signup, login and `account recover` check on this machine before they ask for a password
 * or send anything: that the config folder can take the session (it is a folder, or can be made
 * one, and it can be written) and that config.json, if there is one, can be read. A server would
 * otherwise make the account or open the session, and the command then fail with no machine
 * holding it.
 */
export async function checkLocalState(ctx: ClientContext): Promise<void> {
  await ctx.loadConfig();
  ctx.secrets.checkWritable();
}

/** Best effort: the new session is stored already, and an old one the server ended meanwhile is fine. */
async function endReplacedSession(ctx: ClientContext, server: string, token: string): Promise<void> {
  try {
    await ctx.api(server, token).logout();
  } catch {
    /* it expires on its own; `account sessions --revoke` ends it */
  }
}

const USER_ID = new RegExp(ID_PATTERN);

/**
 * Refuses (exit 7) a reply that names another account than the one asked for: another email
 * (`email` as normalizeEmail gives it, as the server normalises it too), another user id than
 * `userId` when this client knows it (signup chose it, recovery was told it), or an id that is not
 * one. The session would otherwise stand for an account this machine did not sign up or log in as.
 */
function checkReplyAccount(res: AccountResponse, wanted: { email: string; userId?: string }, hint?: string): void {
  const { id, email } = res.user ?? {};
  const idOk = typeof id === 'string' && USER_ID.test(id) && (wanted.userId === undefined || id === wanted.userId);
  if (idOk && email === wanted.email) return;
  throw new IntegrityFailure(
    `the server's reply names another account than ${wanted.email} (${idOk ? 'another email' : 'another or a malformed user id'})`,
    hint ?? 'nothing was stored on this machine; contact the server operator: the server, or something between you and it, has been tampered with',
  );
}

/**
 * Keeps the new session and unwrapped keys on this machine and remembers the server for the profile.
 * The reply must name the account asked for (`opts.account`). The public keys kept (and the
 * fingerprint shown) are derived from the secret keys here; the server's copy in `res` must equal
 * them. Otherwise nothing is stored (IntegrityFailure, exit 7): others seal team keys to the
 * server's copy, so a swapped one would hand them to someone else.
 */
export async function storeSession(
  ctx: ClientContext,
  server: string,
  res: AccountResponse,
  accountKey: Uint8Array,
  xSecret: Uint8Array,
  edSecret: Uint8Array,
  opts: {
    account: { email: string; userId?: string };
    hint?: string;
    /** what the server did, for the error when this machine then cannot keep the session */
    done: string;
    /** what to do then */
    then: string;
  },
): Promise<AccountSummary> {
  if (!res.session) throw new AuthError('the server did not open a session');
  checkReplyAccount(res, opts.account, opts.hint);
  const identity = identityFromSecrets(xSecret, edSecret, ctx.primitives);
  checkServerCopyOfOwnKeys(identity, res.keys, opts.hint);
  const secrets: SessionSecrets = {
    version: 1,
    server: normalizeUrl(server),
    userId: res.user.id,
    email: res.user.email,
    name: res.user.name,
    sessionId: res.session.id,
    sessionToken: res.session.token,
    accountKey: toB64(accountKey),
    x25519Secret: toB64(xSecret),
    ed25519Secret: toB64(edSecret),
    x25519Public: toB64(identity.x25519.publicKey),
    ed25519Public: toB64(identity.ed25519.publicKey),
  };
  // checkLocalState saw both writable; should a write fail even so (a full disk), the session the
  // server just opened is ended, so that none is left that no machine holds. The profile's
  // settings go first: without the session file they are harmless.
  try {
    (await ctx.loadConfig()).setProfile(ctx.profile, { server: secrets.server, email: secrets.email });
    ctx.secrets.write(secrets);
  } catch (err) {
    if (!(err instanceof SyncError)) throw err;
    await ctx.api(server, res.session.token).logout().catch(() => {});
    throw new SyncError(err.code, `${opts.done}, but this machine could not keep the session: ${err.message}`, opts.then);
  }
  return {
    userId: res.user.id,
    email: res.user.email,
    name: res.user.name,
    server: secrets.server,
    fingerprint: ownFingerprint(identity, ctx.primitives),
    profile: ctx.profile,
  };
}

export interface LogoutResult {
  loggedOut: boolean;
  /** this logout ended the session on the server */
  serverRevoked: boolean;
  /** the server no longer knew the session: revoked elsewhere, or expired */
  alreadyEnded: boolean;
}

export async function logout(ctx: ClientContext): Promise<LogoutResult> {
  // even a session file others could read, and that cannot be made private: ending it is the fix
  const secrets = ctx.secrets.read({ toEnd: true });
  if (!secrets) return { loggedOut: false, serverRevoked: false, alreadyEnded: false };
  let serverRevoked = false;
  let alreadyEnded = false;
  try {
    await ctx.api(secrets.server, secrets.sessionToken).logout();
    serverRevoked = true;
  } catch (err) {
    // Local keys are wiped whatever happened; a 401 means the session had ended already, so
    // nothing is left on the server to worry about.
    alreadyEnded = err instanceof AuthError && err.code === 'unauthorized';
  }
  try {
    ctx.secrets.wipe();
  } catch (err) {
    // the server's side is done (or could not be told): say which, and what is left here
    const server = serverRevoked || alreadyEnded ? 'the session ended on the server' : 'the server could not be told (the session ends when it expires)';
    throw new SyncError(
      'local_write',
      `${server}, but ${ctx.secrets.file} could not be removed (${fsReason(err)}): it still holds your account keys`,
      `delete it yourself: rm ${ctx.secrets.file}`,
    );
  }
  return { loggedOut: true, serverRevoked, alreadyEnded };
}

export async function whoami(ctx: ClientContext): Promise<AccountSummary & { teams: { id: string; name: string; role: string; personal: boolean }[] }> {
  // like every other command: --server naming another server than the session's is not logged in
  const { secrets, api, identity } = requireSession(ctx);
  const res = await api.me();
  // "your fingerprint" is that of the keys this machine holds; the server's copy must be the same
  checkServerCopyOfOwnKeys(identity, res.keys);
  return {
    userId: res.user.id,
    email: res.user.email,
    name: res.user.name,
    server: secrets.server,
    profile: ctx.profile,
    fingerprint: ownFingerprint(identity, ctx.primitives),
    teams: res.teams.map((t) => ({ id: t.id, name: t.name, role: t.role, personal: t.personal })),
  };
}
