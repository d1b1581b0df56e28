/**
 * `insomnia-sync-server admin delete-unverified EMAIL`: frees an address taken by an account whose
 * owner never confirmed it. Signing up needs no proof that the address is yours, so anyone can sign
 * up with someone else's; the activation mail tells that someone to ask the operator, and this is
 * what the operator runs. An account whose address was confirmed is never touched here: its owner
 * deletes it (`account delete`), with the password.
 */
import { existsSync } from 'node:fs';
import { normalizeEmail } from '../email.js';
import { OutboxMailer } from '../mail/outbox.js';
import type { DeletionCounts, Store } from '../../storage/store.js';

export interface UnverifiedDeletion {
  email: string;
  createdAt: Date;
  removed: DeletionCounts;
  /** waiting mails to the address, or sent by the account, removed from the outbox folder */
  mailsRemoved: number;
}

export class OpsRefusal extends Error {}

export async function deleteUnverified(store: Store, email: string, outboxDir: string | null): Promise<UnverifiedDeletion> {
  const user = await store.getUserByEmail(normalizeEmail(email) ?? email.trim().toLowerCase());
  if (!user) throw new OpsRefusal(`no account uses ${email.trim()}`);
  const meta = await store.getAccountMeta(user.id);
  if (meta?.verifiedAt) {
    throw new OpsRefusal(`${user.email} was confirmed on ${meta.verifiedAt.toISOString()}: only an account whose address was never confirmed is deleted here (its owner can run account delete)`);
  }
  const result = await store.deleteUser(user.id, user.authKeyHash);
  if (!result.ok) {
    if (result.reason === 'sole_owner') {
      throw new OpsRefusal(`${user.email} is the only owner of teams others belong to (${result.teams.map((t) => t.name).join(', ')}): nothing was deleted`);
    }
    throw new OpsRefusal(`the account of ${user.email} changed meanwhile: nothing was deleted; run this again`);
  }
  let mailsRemoved = 0;
  if (outboxDir !== null && existsSync(outboxDir)) {
    mailsRemoved = await new OutboxMailer({ dir: outboxDir, from: 'insomnia-sync <ops@localhost>' }).forget({ to: user.email, sender: user.id, teams: result.teamIds });
  }
  return { email: user.email, createdAt: user.createdAt, removed: result.removed, mailsRemoved };
}

export function describeUnverifiedDeletion(d: UnverifiedDeletion): string {
  const r = d.removed;
  return (
    `deleted the unconfirmed account of ${d.email} (signed up ${d.createdAt.toISOString()}): ` +
    `${r.workspaces} workspace(s), ${r.snapshots} snapshot(s), ${r.blobs} blob(s), ${r.sessions} session(s), ${r.accessTokens} access token(s); ` +
    `${d.mailsRemoved} waiting mail(s) removed from the outbox. The address is free to sign up with again.`
  );
}
