/**
 * `insomnia-sync-server admin export-user EMAIL`: what a disclosure could hand over about one
 * account — its service data and its ciphertext, nothing the operator could decrypt, and no
 * credential verifier (the auth-key and recovery hashes stay out: they would allow offline password
 * guessing). Written as one JSON document, a blob at a time, so memory stays bounded.
 */
import { toB64 } from '../../protocol/encoding.js';
import type { Store } from '../../storage/store.js';
import { endedSessionView, invitationView, ownAccessTokenView, sessionFields } from '../views.js';

export class ExportUserError extends Error {
  readonly code = 'not_found';
}

export type Write = (chunk: string) => Promise<void>;

const BLOB_GROUP = 64;
const SNAPSHOT_PAGE = 200;

export async function exportUser(store: Store, email: string, write: Write, now = new Date()): Promise<{ workspaces: number; blobs: number }> {
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
  for (const [i, w] of workspaces.entries()) {
    const snapshots: { id: string; parent: string | null; createdAt: string; data: string }[] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.listSnapshots(w.id, { limit: SNAPSHOT_PAGE, ...(before ? { before } : {}) });
      snapshots.push(...page.map((s) => ({ id: s.id, parent: s.parent, createdAt: s.createdAt.toISOString(), data: toB64(s.data) })));
      if (page.length < SNAPSHOT_PAGE) break;
      before = page[page.length - 1]!.id;
    }
    const meta = JSON.stringify({
      id: w.id,
      teamId: w.teamId,
      encryptedName: w.encryptedName,
      head: w.head,
      keys: w.keys,
      createdAt: w.createdAt.toISOString(),
      updatedAt: w.updatedAt.toISOString(),
      size: w.size,
      snapshots,
    });
    await write(`${i > 0 ? ',' : ''}${meta.slice(0, -1)},"blobs":[`);
    const ids = (await store.listBlobSizes(w.id)).map((b) => b.id);
    let written = 0;
    for (let j = 0; j < ids.length; j += BLOB_GROUP) {
      const group = ids.slice(j, j + BLOB_GROUP);
      const data = await store.readBlobs(w.id, group);
      const parts = group.flatMap((id, k) => (data[k] ? [JSON.stringify({ id, data: toB64(data[k]!) })] : []));
      if (parts.length) await write(`${written > 0 ? ',' : ''}${parts.join(',')}`);
      written += parts.length;
    }
    await write(']}');
    blobCount += written;
  }
  await write(']}\n');
  return { workspaces: workspaces.length, blobs: blobCount };
}
