/**
 * Account lifecycle (SPEC §1 data rights, §4, §7): show what the server holds, sessions, password
 * change, recovery key, recovery, deletion. Every step that changes credentials re-derives the
 * auth key from the password on this machine and sends it as proof; the password never leaves.
 * Changing the password re-wraps the account key only: no data is re-encrypted.
 */
import { fromB64, toB64 } from '../../protocol/encoding.js';
import type { AccountResponse, DeletionReceipt, KdfParams as WireKdf, SessionInfo, SessionView, TokenScope } from '../../protocol/types.js';
import { openEnvelope, sealEnvelope } from '../../crypto/aead.js';
import { deriveAccountSecrets, deriveMasterKey, type KdfParams } from '../../crypto/kdf.js';
import { deriveRecoverySecrets, formatRecoveryKey, generateRecoveryKey, parseRecoveryKey } from '../../crypto/recovery.js';
import { identityFromSecrets } from '../../crypto/keys.js';
import { CryptoArgumentError, IntegrityError, KdfParamsError } from '../../crypto/errors.js';
import type { AccountData } from '../api.js';
import type { ClientContext } from '../context.js';
import { AuthError, IntegrityFailure, NotFoundError, SyncError, UsageError } from '../errors.js';
import { decryptWorkspaceName, unlockWorkspace } from '../keyring.js';
import type { SessionSecrets } from '../secrets.js';
import { commandLine, normalizeUrl, refuseOtherAccount, requireSession, resolveServer, type ActiveSession } from '../session.js';
import { checkLocalState, normalizeEmail, storeSession } from './auth.js';
import { checkServerCopyOfOwnKeys, ownFingerprint } from '../own-keys.js';
import { fsReason } from '../private-files.js';

const MIN_PASSWORD_CHARS = 8;

function toCryptoKdf(wire: WireKdf, salt = fromB64(wire.salt)): KdfParams {
  return { alg: 'argon2id', memoryKiB: wire.memoryKiB, iterations: wire.iterations, parallelism: wire.parallelism, salt };
}

function toWireKdf(kdf: KdfParams): WireKdf {
  return { alg: 'argon2id', memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism, salt: toB64(kdf.salt) };
}

async function stretch(password: string, kdf: KdfParams, p: ClientContext['primitives']): Promise<Uint8Array> {
  try {
    return await deriveMasterKey(password, kdf, p);
  } catch (err) {
    if (err instanceof KdfParamsError) {
      throw new SyncError('weak_kdf', `the server asked for key-derivation parameters below this client's minimum (${err.message}); refusing`);
    }
    throw err;
  }
}

/** The auth key of `password` for the account `email`, with the KDF parameters the server holds. */
async function proofOf(ctx: ClientContext, session: ActiveSession, password: string): Promise<{ authKey: Uint8Array; wrapKey: Uint8Array; kdf: WireKdf }> {
  const pre = await session.api.prelogin({ email: session.secrets.email });
  const { authKey, wrapKey } = deriveAccountSecrets(await stretch(password, toCryptoKdf(pre.kdf), ctx.primitives));
  return { authKey, wrapKey, kdf: pre.kdf };
}

/** A new password's secrets: same cost as before, a fresh salt. */
async function newCredentials(ctx: ClientContext, cost: WireKdf, password: string): Promise<{ kdf: KdfParams; authKey: Uint8Array; wrapKey: Uint8Array }> {
  const kdf = toCryptoKdf(cost, ctx.primitives.randomBytes(16));
  const { authKey, wrapKey } = deriveAccountSecrets(await stretch(password, kdf, ctx.primitives));
  return { kdf, authKey, wrapKey };
}

async function askNewPassword(ctx: ClientContext, other: string, otherName: string, noInputHint?: string): Promise<string> {
  // a terminal re-asks a new password equal to the other secret at once; only a piped one gets here
  const next = await ctx.prompter.password('New password', {
    confirm: true,
    fromEnv: false,
    minLength: MIN_PASSWORD_CHARS,
    differentFrom: { value: other, what: otherName },
    ...(noInputHint === undefined ? {} : { noInputHint }),
  });
  if (next.length < MIN_PASSWORD_CHARS) throw new UsageError(`the password must have at least ${MIN_PASSWORD_CHARS} characters`);
  if (next === other) {
    throw new UsageError(`the new password is the same as the ${otherName}; nothing was changed`, 'give a new one on the second line of standard input');
  }
  return next;
}

/** A wrong password answers 403 `forbidden` (the session itself is fine): say so plainly. */
function wrongPassword(err: unknown): never {
  if (err instanceof AuthError && err.code === 'forbidden') throw new AuthError('wrong password; nothing was changed', undefined, 'unauthorized');
  throw err;
}

// account show

export interface AccountOverview extends AccountData {
  server: string;
  fingerprint: string;
  /** workspace names decrypted here (the server holds them encrypted); null when this machine holds no key */
  names: Record<string, string | null>;
}

export async function accountShow(ctx: ClientContext): Promise<AccountOverview> {
  const session = requireSession(ctx);
  const [data, workspaces, me] = await Promise.all([session.api.accountShow(), session.api.listWorkspaces(), session.api.me()]);
  // The fingerprint shown is that of the keys this machine holds (session.identity derives them
  // from the secret keys); the copy the server holds, and hands to others, must be the same.
  checkServerCopyOfOwnKeys(session.identity, data.publicKeys);
  checkServerCopyOfOwnKeys(session.identity, me.keys);
  const names: Record<string, string | null> = {};
  for (const ws of workspaces) {
    try {
      names[ws.id] = decryptWorkspaceName(ctx.primitives, await unlockWorkspace(ctx.primitives, session, ws, me.teams), ws.encryptedName);
    } catch {
      names[ws.id] = null;
    }
  }
  return {
    ...data,
    server: session.secrets.server,
    fingerprint: ownFingerprint(session.identity, ctx.primitives),
    names,
  };
}

// sessions

export async function listSessions(ctx: ClientContext): Promise<{ sessions: SessionView[] }> {
  const session = requireSession(ctx);
  return { sessions: await session.api.listSessions() };
}

/** Revokes another session by id or unique id prefix (≥ 6 characters); the current one is `logout`. */
export async function revokeSession(ctx: ClientContext, wanted: string): Promise<{ revoked: string }> {
  const session = requireSession(ctx);
  const id = wanted.trim().toLowerCase();
  // as for token ids: a value that cannot name a session is a usage error, not "not found"
  if (!/^[0-9a-f]{6,32}$/.test(id)) {
    throw new UsageError('give the session id (or at least its first 6 characters) from `insomnia-sync account sessions`');
  }
  const all = await session.api.listSessions();
  const hits = all.filter((s) => s.id === id || (id.length >= 6 && s.id.startsWith(id)));
  if (hits.length === 0) throw new NotFoundError(`no live session ${wanted}`, 'see `insomnia-sync account sessions`');
  if (hits.length > 1) throw new UsageError(`session prefix ${wanted} is ambiguous`, 'give more characters of the id');
  const hit = hits[0]!;
  if (hit.current) throw new UsageError('that is this machine’s session', 'run `insomnia-sync logout` to end it');
  await session.api.revokeSession(hit.id);
  return { revoked: hit.id };
}

// password change

export interface PasswordChangeResult {
  revokedSessions: number;
  /** a recovery key existed; the server revoked it with the old password */
  recoveryKeyRevoked: boolean;
  /**
   * Access tokens you created that still work: a password change leaves them (CI keeps running),
   * so they are listed for you to revoke any someone who knew the old password may have seen.
   * Null from a server that does not say.
   */
  liveTokens: { id: string; name: string; scope: TokenScope; workspaceId: string; expiresAt: string | null }[] | null;
  /**
   * This machine holds a new session: the server ended the one the change was made from, with
   * every other, so a copy of it (a backup of the config folder) no longer works. False from a
   * server before that, which kept this machine's session as it was.
   */
  sessionRenewed: boolean;
}

/**
 * Current password, then the new one: prompts, or two lines of --password-stdin, or the current one
 * from INSOMNIA_SYNC_PASSWORD (it holds the account's password, which is the current one: taken
 * before stdin here, so a pipe holds what is left, the new one) and the new one from a prompt or
 * the first line of --password-stdin. Re-wraps the
 * account key under the new password, swaps the auth key and salt; the server revokes every
 * session, this machine's too (renewSession), and the recovery key in the same transaction, mails a notice, and
 * answers with a new session for this machine, kept here in place of the old one.
 */
export async function changePassword(ctx: ClientContext): Promise<PasswordChangeResult> {
  const session = requireSession(ctx);
  const current = await ctx.prompter.password('Current password', {
    envFirst: true,
    noInputHint:
      'pipe the current password and the new one as two lines with --password-stdin, or set INSOMNIA_SYNC_PASSWORD to the current one and pipe the new one with --password-stdin',
  });
  // The current password is checked before the new one is asked for: it must open the wrapped
  // account key the server holds (nothing is sent for that), and that key must be the one this
  // machine uses: a server that swapped it would otherwise get us to wrap its own.
  ctx.progress.start('Checking your current password');
  const proof = await proofOf(ctx, session, current);
  const me = await session.api.me();
  let accountKey: Uint8Array;
  try {
    accountKey = openEnvelope(ctx.primitives, proof.wrapKey, fromB64(me.keys.wrappedAccountKey), { kind: 'account-key', ownerId: session.secrets.userId });
  } catch (err) {
    if (err instanceof IntegrityError) throw new AuthError('wrong password; nothing was changed');
    throw err;
  } finally {
    ctx.progress.stop();
  }
  if (toB64(accountKey) !== session.secrets.accountKey) throw new IntegrityFailure('the account key the server holds is not the one this machine uses');
  const next = await askNewPassword(ctx, current, 'current password', 'pipe it with --password-stdin: with INSOMNIA_SYNC_PASSWORD set (the current password), its first line is the new one');
  ctx.progress.start('Deriving keys from your new password');
  const fresh = await newCredentials(ctx, proof.kdf, next);
  ctx.progress.update('Changing your password');
  const request = {
    authKey: toB64(proof.authKey),
    newKdf: toWireKdf(fresh.kdf),
    newAuthKey: toB64(fresh.authKey),
    wrappedAccountKey: toB64(sealEnvelope(ctx.primitives, fresh.wrapKey, accountKey, { kind: 'account-key', ownerId: session.secrets.userId })),
  };
  const res = await session.api
    .changePassword({ ...request, renewSession: true })
    .catch((err: unknown) => {
      // A server from before renewSession refuses the unknown field before it changes anything:
      // ask again without it (that server keeps this machine's session, as the result says).
      if (err instanceof SyncError && err.code === 'bad_request' && /additional properties/i.test(err.message)) return session.api.changePassword(request);
      throw err;
    })
    .catch(wrongPassword);
  ctx.progress.stop();
  const sessionRenewed = res.session !== undefined && (await keepRenewedSession(ctx, session, res.session));
  const liveTokens = res.liveTokens?.map((t) => ({ id: t.id, name: t.name, scope: t.scope, workspaceId: t.workspaceId, expiresAt: t.expiresAt })) ?? null;
  return { revokedSessions: res.revokedSessions, recoveryKeyRevoked: res.recoveryKeyRevoked, liveTokens, sessionRenewed };
}

/**
 * Stores the session a password change answered with in place of the one it ended (the keys stay:
 * the account key did not change). When this machine cannot keep it, it is ended on the server too,
 * so that none is left that no machine holds, and the error says the password did change.
 */
async function keepRenewedSession(ctx: ClientContext, session: ActiveSession, renewed: SessionInfo): Promise<boolean> {
  const relogin = `log in again with the new password: \`${commandLine(ctx, `login --email ${session.secrets.email}`)}\``;
  if (typeof renewed?.token !== 'string' || typeof renewed.id !== 'string' || !/^[0-9a-f]{6,64}$/.test(renewed.id)) {
    throw new SyncError('bad_response', 'your password was changed, but the server answered with a malformed session for this machine', relogin);
  }
  try {
    ctx.secrets.write({ ...session.secrets, sessionId: renewed.id, sessionToken: renewed.token });
  } catch (err) {
    if (!(err instanceof SyncError)) throw err;
    await ctx.api(session.secrets.server, renewed.token).logout().catch(() => {});
    throw new SyncError(err.code, `your password was changed, but this machine could not keep its new session: ${err.message}`, relogin);
  }
  return true;
}

// recovery key

export interface RecoveryKeyResult {
  /** shown once; the server keeps only a hash of a value derived from it */
  recoveryKey: string;
  createdAt: string;
  /** an earlier recovery key existed and no longer works */
  replaced: boolean;
}

/**
 * Makes a new recovery key after a fresh proof of the password. One the account already has stops
 * working the moment the new one is made, before the new one is on anyone's screen: that is
 * confirmed first (a terminal asks; otherwise --yes is needed, or nothing changes, exit 2).
 */
export async function createRecoveryKey(ctx: ClientContext): Promise<RecoveryKeyResult> {
  const session = requireSession(ctx);
  // account show says whether a key exists (and since when), and sends nothing secret
  const existing = (await session.api.accountShow()).recoveryKey;
  if (existing.set) {
    const since = existing.createdAt ? ` (made ${existing.createdAt})` : '';
    const ok = await ctx.prompter.confirm(`Replace your recovery key${since}? The old key stops working as soon as the new one is made`);
    // a confirmation answered no exits 2, as one that cannot be asked does
    if (!ok) throw new UsageError('recovery key not replaced; nothing was changed');
  }
  const password = await ctx.prompter.password('Password');
  ctx.progress.start('Deriving keys from your password');
  const proof = await proofOf(ctx, session, password);
  const key = generateRecoveryKey(ctx.primitives);
  const secrets = deriveRecoverySecrets(key);
  const wrapped = sealEnvelope(ctx.primitives, secrets.wrapKey, session.accountKey, { kind: 'recovery', ownerId: session.secrets.userId });
  const res = await session.api
    .setRecoveryKey({ authKey: toB64(proof.authKey), recoveryAuthKey: toB64(secrets.authKey), wrappedAccountKey: toB64(wrapped) })
    .catch(wrongPassword);
  ctx.progress.stop();
  return { recoveryKey: formatRecoveryKey(key), createdAt: res.createdAt, replaced: existing.set };
}

export interface RecoverResult {
  email: string;
  server: string;
  fingerprint: string;
  profile: string;
  /** live access tokens you created, revoked by the recovery (null: the server did not say) */
  revokedTokens: number | null;
}

/**
 * Sets a new password with the recovery key (a hidden prompt or the first line of --password-stdin;
 * never argv), losing no data: the recovery-wrapped account key is re-wrapped under the new
 * password. Every old session is revoked and the key is spent; this machine gets a new session.
 */
export async function recover(ctx: ClientContext, opts: { email: string }): Promise<RecoverResult> {
  const email = normalizeEmail(opts.email);
  await refuseOtherAccount(ctx, email);
  await checkLocalState(ctx);
  let key: Uint8Array;
  const typed = await ctx.prompter.password('Recovery key', { fromEnv: false });
  try {
    key = parseRecoveryKey(typed);
  } catch (err) {
    if (err instanceof CryptoArgumentError) throw new UsageError(err.message, 'a recovery key looks like ABCD-EFGH-… (13 groups of 4)');
    throw err;
  }
  const next = await askNewPassword(ctx, typed, 'recovery key');
  const server = await resolveServer(ctx);
  const api = ctx.api(server);
  const p = ctx.primitives;
  const secrets = deriveRecoverySecrets(key);
  ctx.progress.start('Checking the recovery key');
  const start = await api.recoverStart({ email, recoveryAuthKey: toB64(secrets.authKey) });
  const userId = start.userId;
  let accountKey: Uint8Array;
  let xSecret: Uint8Array;
  let edSecret: Uint8Array;
  try {
    accountKey = openEnvelope(p, secrets.wrapKey, fromB64(start.wrappedAccountKeyByRecovery), { kind: 'recovery', ownerId: userId });
    xSecret = openEnvelope(p, accountKey, fromB64(start.keys.wrappedX25519Secret), { kind: 'x25519-secret', ownerId: userId });
    edSecret = openEnvelope(p, accountKey, fromB64(start.keys.wrappedEd25519Secret), { kind: 'ed25519-secret', ownerId: userId });
  } catch (err) {
    if (err instanceof IntegrityError) throw new IntegrityFailure('your account keys from the server do not open with this recovery key');
    throw err;
  }
  // before a new password is set: the server's copy of our public keys must be ours (the same check
  // storeSession makes on the final reply)
  checkServerCopyOfOwnKeys(identityFromSecrets(xSecret, edSecret, p), start.keys);
  ctx.progress.update('Deriving keys from your new password');
  const pre = await api.prelogin({ email });
  const fresh = await newCredentials(ctx, pre.kdf, next);
  ctx.progress.update('Setting the new password');
  const res = await api.recoverFinish({
    email,
    recoveryAuthKey: toB64(secrets.authKey),
    newKdf: toWireKdf(fresh.kdf),
    newAuthKey: toB64(fresh.authKey),
    wrappedAccountKey: toB64(sealEnvelope(p, fresh.wrapKey, accountKey, { kind: 'account-key', ownerId: userId })),
    client: ctx.clientLabel,
  });
  ctx.progress.stop();
  const summary = await storeSession(ctx, server, res, accountKey, xSecret, edSecret, {
    account: { email, userId },
    done: 'your new password is set (the recovery key is spent)',
    then: 'fix that, then log in with the new password',
  });
  return { email: summary.email, server: summary.server, fingerprint: summary.fingerprint, profile: summary.profile, revokedTokens: res.revokedTokens ?? null };
}


// deletion

/** The receipt, and the profiles of this config folder whose session and keys were wiped. */
export interface DeletionResult extends DeletionReceipt {
  /** this one first, then any other profile logged in to the deleted account on the same server */
  wipedProfiles: string[];
}

/**
 * Irreversible deletion (SPEC §7): the typed email (unless `yes`), then the password, whose auth
 * key goes in the deletion request itself. On success the local session and keys are wiped: this
 * profile's, and those of every other profile of this config folder logged in to the same account
 * on the same server (the server ended their sessions too; their keys are the deleted account's).
 */
export async function deleteAccount(ctx: ClientContext, opts: { yes: boolean }): Promise<DeletionResult> {
  const session = requireSession(ctx);
  const email = session.secrets.email;
  // read before the account is gone: a damaged config.json must not turn a deletion into an error
  const config = await ctx.loadConfig();
  if (!opts.yes) {
    const typed = await ctx.prompter.text(`This deletes your account and every workspace only you can read, for good. Type your email (${email}) to confirm`);
    if (typed.trim().toLowerCase() !== email) throw new UsageError('the email did not match; nothing was deleted');
  }
  const password = await ctx.prompter.password('Password');
  ctx.progress.start('Deriving keys from your password');
  const proof = await proofOf(ctx, session, password);
  ctx.progress.update('Deleting your account');
  const receipt = await session.api.deleteAccount({ authKey: toB64(proof.authKey) }).catch((err: unknown) => {
    if (err instanceof AuthError && err.code === 'forbidden') throw new AuthError('wrong password; nothing was deleted', undefined, 'unauthorized');
    throw err;
  });
  ctx.progress.stop();
  const wiped: string[] = [];
  const left: { file: string; reason: string }[] = [];
  for (const profile of [ctx.profile, ...profilesOfAccount(ctx, session.secrets)]) {
    const store = profile === ctx.profile ? ctx.secrets : ctx.secrets.forProfile(profile);
    try {
      store.wipe();
      wiped.push(profile);
    } catch (err) {
      left.push({ file: store.file, reason: fsReason(err) });
    }
  }
  if (left.length > 0) {
    const one = left.length === 1;
    throw new SyncError(
      'local_write',
      `your account was deleted, but ${left.map((l) => `${l.file} (${l.reason})`).join(', ')} could not be removed: ${one ? 'it still holds' : 'they still hold'} the deleted account's keys`,
      `delete ${one ? 'it' : 'them'} yourself: rm ${left.map((l) => l.file).join(' ')}`,
    );
  }
  for (const profile of wiped) {
    try {
      config.setProfile(profile, { server: session.secrets.server });
    } catch {
      /* the profile keeps the deleted account's email as a default: harmless, and the deletion is done */
    }
  }
  return { ...receipt, wipedProfiles: wiped };
}

/**
 * The other profiles of this config folder whose session is of `account` on its server. A session
 * file that cannot be read (damaged) is left alone: whose it is cannot be told.
 */
function profilesOfAccount(ctx: ClientContext, account: SessionSecrets): string[] {
  const server = normalizeUrl(account.server);
  return ctx.secrets.profiles().filter((profile) => {
    if (profile === ctx.profile) return false;
    try {
      const other = ctx.secrets.forProfile(profile).read({ toEnd: true });
      return other !== null && other.userId === account.userId && normalizeUrl(other.server) === server;
    } catch {
      return false;
    }
  });
}
