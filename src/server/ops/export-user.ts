/**
 * `insomnia-sync-server admin export-user EMAIL`: what a disclosure could hand over about one
 * account — its service data and its ciphertext, nothing the operator could decrypt, and no
 * credential verifier (the auth-key and recovery hashes stay out: they would allow offline password
 * guessing). Written as one JSON document in pieces — a page of snapshots (at most
 * SNAPSHOT_PAGE_BYTES of data, or one snapshot) or a group of blobs at a time — so memory does
 * not grow with the account's history; `exportUserToFile` writes it to a temporary file beside the
 * destination and moves it there only once it is complete.
 */
import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { toB64 } from '../../protocol/encoding.js';
import type { Store } from '../../storage/store.js';
import { endedSessionView, invitationView, ownAccessTokenView, sessionFields } from '../views.js';

export class ExportUserError extends Error {
  readonly code = 'not_found';
}

export type Write = (chunk: string) => Promise<void>;

/** How much of the history is read (and held) at once; lowered by tests. */
export interface ExportPaging {
  /** blobs read per group (each at most about 1 MiB) */
  blobGroup?: number;
  /** snapshots per page… */
  snapshotPage?: number;
  /** …cut before this many bytes of snapshot data (at least one snapshot) */
  snapshotPageBytes?: number;
}

const BLOB_GROUP = 64;
const SNAPSHOT_PAGE = 200;
const SNAPSHOT_PAGE_BYTES = 16 * 1024 * 1024;

export async function exportUser(
  store: Store,
  email: string,
  write: Write,
  now = new Date(),
  paging: ExportPaging = {},
): Promise<{ workspaces: number; snapshots: number; blobs: number }> {
  const blobGroup = paging.blobGroup ?? BLOB_GROUP;
  const snapshotPage = paging.snapshotPage ?? SNAPSHOT_PAGE;
  const snapshotPageBytes = paging.snapshotPageBytes ?? SNAPSHOT_PAGE_BYTES;
  const user = await store.getUserByEmail(email.trim().toLowerCase());
  if (!user) throw new ExportUserError(`no account with email ${email.trim()}`);
  const [meta, sessions, ended, teams, workspaces, recovery, tokens, invitations] = await Promise.all([
    store.getAccountMeta(user.id),
    store.listSessionsOfUser(user.id, now),
    store.listEndedSessionsOfUser(user.id, now),
    store.listTeamsOfUser(user.id),
    store.listWorkspacesOfUser(user.id),
    store.getRecovery(user.id),
    store.listAccessTokensCreatedBy(user.id),
    store.listInvitationsToUser(user.id, user.email),
  ]);
  const head = {
    format: 'insomnia-sync admin export-user v1',
    exportedAt: now.toISOString(),
    note: 'Service data and ciphertext only. Workspace names, files and keys are encrypted on the clients; the server cannot decrypt them.',
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      createdAt: user.createdAt.toISOString(),
      verifiedAt: meta?.verifiedAt?.toISOString() ?? null,
      passwordChangedAt: meta?.passwordChangedAt?.toISOString() ?? null,
      kdf: user.kdf,
    },
    ciphertext: {
      wrappedAccountKey: user.keys.wrappedAccountKey,
      wrappedX25519Secret: user.keys.wrappedX25519Secret,
      wrappedEd25519Secret: user.keys.wrappedEd25519Secret,
      recoveryWrappedAccountKey: recovery?.wrappedAccountKey ?? null,
    },
    publicKeys: { x25519PublicKey: user.keys.x25519PublicKey, ed25519PublicKey: user.keys.ed25519PublicKey },
    sessions: sessions.map(sessionFields),
    // kept until gc deletes them, with their IP and client
    endedSessions: ended.map(endedSessionView),
    // what the server holds about each (never the secret's hash or the wrapped keys)
    accessTokens: tokens.map(ownAccessTokenView),
    invitations: invitations.map((i) => invitationView(i, now)),
    teams: teams.map((t) => ({ id: t.id, name: t.name, personal: t.personal, role: t.role, epoch: t.epoch, sealedKeys: t.sealedKeys })),
  };
  const json = JSON.stringify(head);
  await write(`${json.slice(0, -1)},"workspaces":[`);
  let blobCount = 0;
  let snapshotCount = 0;
  for (const [i, w] of workspaces.entries()) {
    // the same fields, in the same order, as when this was one JSON.stringify of the workspace
    const meta = JSON.stringify({
      id: w.id,
      teamId: w.teamId,
      encryptedName: w.encryptedName,
      head: w.head,
      keys: w.keys,
      createdAt: w.createdAt.toISOString(),
      updatedAt: w.updatedAt.toISOString(),
      size: w.size,
    });
    await write(`${i > 0 ? ',' : ''}${meta.slice(0, -1)},"snapshots":[`);
    let before: string | undefined;
    let written = 0;
    for (;;) {
      const page = await store.listSnapshots(w.id, { limit: snapshotPage, maxBytes: snapshotPageBytes, ...(before ? { before } : {}) });
      for (const s of page) {
        await write(`${written > 0 ? ',' : ''}${JSON.stringify({ id: s.id, parent: s.parent, createdAt: s.createdAt.toISOString(), data: toB64(s.data) })}`);
        written++;
      }
      if (page.length === 0) break;
      before = page[page.length - 1]!.id;
    }
    snapshotCount += written;
    await write('],"blobs":[');
    const ids = (await store.listBlobSizes(w.id)).map((b) => b.id);
    written = 0;
    for (let j = 0; j < ids.length; j += blobGroup) {
      const group = ids.slice(j, j + blobGroup);
      const data = await store.readBlobs(w.id, group);
      const parts = group.flatMap((id, k) => (data[k] ? [JSON.stringify({ id, data: toB64(data[k]!) })] : []));
      if (parts.length) await write(`${written > 0 ? ',' : ''}${parts.join(',')}`);
      written += parts.length;
    }
    await write(']}');
    blobCount += written;
  }
  await write(']}\n');
  return { workspaces: workspaces.length, snapshots: snapshotCount, blobs: blobCount };
}

/** The file --out names exists already: an export never overwrites one. */
export class ExportFileExistsError extends Error {
  readonly code = 'exists';
}

/**
 * `exportUser` into the new file `out` (mode 0600): written to a temporary file beside it, synced,
 * and linked to `out` only when complete, so `out` is either absent or a whole export. The
 * temporary file is removed on any failure (the caller removes it on a signal); an existing `out` is
 * never overwritten, and an unknown email or a failure leaves nothing behind.
 */
export async function exportUserToFile(
  store: Store,
  email: string,
  out: string,
  /** onTemp: the temporary file's path, before it is created (a signal handler may remove it) */
  options: { now?: Date; paging?: ExportPaging; onTemp?: (path: string) => void } = {},
): Promise<{ workspaces: number; snapshots: number; blobs: number; bytes: number }> {
  if (await exists(out)) throw new ExportFileExistsError(`${out} already exists (an export never overwrites a file)`);
  const temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.partial`);
  let file: Awaited<ReturnType<typeof open>> | undefined;
  let bytes = 0;
  options.onTemp?.(temp);
  try {
    const write: Write = async (chunk) => {
      file ??= await open(temp, 'wx', 0o600);
      const buf = Buffer.from(chunk, 'utf8');
      for (let at = 0; at < buf.length; ) at += (await file.write(buf, at, buf.length - at)).bytesWritten;
      bytes += buf.length;
    };
    const result = await exportUser(store, email, write, options.now, options.paging);
    await file!.sync();
    await file!.close();
    file = undefined;
    await publish(temp, out);
    return { ...result, bytes };
  } catch (err) {
    await file?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/** temp → out without replacing a file that appeared at out meanwhile (a hard link fails then). */
async function publish(temp: string, out: string): Promise<void> {
  try {
    await link(temp, out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new ExportFileExistsError(`${out} already exists (an export never overwrites a file)`);
    // a file system without hard links: rename, after checking once more
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw err;
    if (await exists(out)) throw new ExportFileExistsError(`${out} already exists (an export never overwrites a file)`);
    await rename(temp, out);
    return;
  }
  await unlink(temp);
}
