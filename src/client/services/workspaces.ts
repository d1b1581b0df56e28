/** init, workspace list | rename | delete, and finding a workspace by name or id. */
import path from 'node:path';
import { toB64 } from '../../protocol/encoding.js';
import type { TeamInfo, WorkspaceInfo } from '../../protocol/types.js';
import { sealEnvelope } from '../../crypto/aead.js';
import { toHex } from '../../crypto/hex.js';
import { generateKey } from '../../crypto/workspace-keys.js';
import { emptyIndex } from '../../sync/index-format.js';
import type { ClientContext } from '../context.js';
import { ConflictError, IntegrityFailure, NotFoundError, UsageError } from '../errors.js';
import { decryptWorkspaceName, encryptWorkspaceName, teamKeys, unlockWorkspace } from '../keyring.js';
import { findLinkedFolder, writeIndex, writeLink } from '../local/link.js';
import { requireSession, type ActiveSession } from '../session.js';
import { findTeam } from './find-team.js';
import { personalTeamIdOf } from '../../crypto/team-grant.js';

export interface WorkspaceSummary {
  id: string;
  name: string;
  teamId: string;
  team: string;
  head: string | null;
  size: number;
  createdAt: string;
  updatedAt: string;
}

export function checkWorkspaceName(name: string): string {
  const n = name.trim();
  if (!n || n.length > 200 || /[\x00-\x1f]/.test(n)) throw new UsageError('a workspace name has 1 to 200 printable characters');
  return n;
}

function pickTeam(teams: TeamInfo[], accountKey: Uint8Array, wanted?: string): TeamInfo {
  if (!wanted) {
    // By the id our account key gives it, not the server's flag: a flag moved to a shared team
    // would put a "personal" workspace where its other members read it.
    const id = personalTeamIdOf(accountKey);
    const personal = teams.find((t) => t.id === id);
    if (!personal) throw new NotFoundError('you have no personal team', 'give a team with --team');
    return personal;
  }
  // the same rule as every `team` command's --team
  return findTeam(teams, wanted, personalTeamIdOf(accountKey));
}

export async function init(ctx: ClientContext, opts: { name?: string; team?: string }): Promise<WorkspaceSummary & { root: string }> {
  const root = path.resolve(ctx.cwd);
  const existing = findLinkedFolder(root);
  if (existing) throw new ConflictError(`${existing.root} is already linked to workspace ${existing.link.workspaceId}`);
  const session = requireSession(ctx);
  const p = ctx.primitives;
  const name = checkWorkspaceName(opts.name ?? path.basename(root));
  const me = await session.api.me();
  const team = pickTeam(me.teams, session.accountKey, opts.team);
  const tkeys = await teamKeys(p, session, team);
  const teamKey = tkeys.get(team.epoch);
  if (!teamKey) throw new NotFoundError(`you hold no key for team ${team.name} yet`);
  // The server names the epoch; a newer key in hand means it names an old one, whose key a removed member holds.
  if (team.epoch < Math.max(...tkeys.keys())) throw new IntegrityFailure(`the server says team ${team.name} is at key epoch ${team.epoch}, but you hold a newer key`);
  const id = toHex(p.randomBytes(16));
  const wsKey = generateKey(p);
  const wrappedKey = toB64(sealEnvelope(p, teamKey, wsKey, { kind: 'workspace-key', workspaceId: id, epoch: team.epoch }));
  const draft: WorkspaceInfo = {
    id,
    teamId: team.id,
    encryptedName: '',
    head: null,
    keys: [{ epoch: team.epoch, wrappedKey }],
    createdAt: '',
    updatedAt: '',
    size: 0,
  };
  const ring = await unlockWorkspace(p, session, draft, me.teams);
  const created = await session.api.createWorkspace({
    id,
    teamId: team.id,
    encryptedName: encryptWorkspaceName(p, ring, name),
    key: { epoch: team.epoch, wrappedKey },
  });
  writeLink(root, { version: 1, server: session.secrets.server, workspaceId: id, teamId: team.id, profile: ctx.profile });
  writeIndex(root, emptyIndex(id));
  return { ...summarize(created, name, team), root };
}

function summarize(ws: WorkspaceInfo, name: string, team: TeamInfo | undefined): WorkspaceSummary {
  return {
    id: ws.id,
    name,
    teamId: ws.teamId,
    team: team?.name ?? ws.teamId,
    head: ws.head,
    size: ws.size,
    createdAt: ws.createdAt,
    updatedAt: ws.updatedAt,
  };
}

export async function listWorkspaces(ctx: ClientContext, session = requireSession(ctx)): Promise<(WorkspaceSummary & { workspace: WorkspaceInfo })[]> {
  const p = ctx.primitives;
  const [workspaces, me] = await Promise.all([session.api.listWorkspaces(), session.api.me()]);
  const out: (WorkspaceSummary & { workspace: WorkspaceInfo })[] = [];
  for (const ws of workspaces) {
    let name = '(no key yet)';
    try {
      name = decryptWorkspaceName(p, await unlockWorkspace(p, session, ws, me.teams), ws.encryptedName);
    } catch {
      /* a workspace we cannot unlock is still listed */
    }
    out.push({ ...summarize(ws, name, me.teams.find((t) => t.id === ws.teamId)), workspace: ws });
  }
  return out;
}

/** By exact id, unique id prefix (≥ 6 chars) or exact name. */
export async function resolveWorkspace(ctx: ClientContext, session: ActiveSession, wanted: string): Promise<WorkspaceSummary & { workspace: WorkspaceInfo }> {
  const all = await listWorkspaces(ctx, session);
  const byId = all.filter((w) => w.id === wanted || (wanted.length >= 6 && w.id.startsWith(wanted.toLowerCase())));
  const byName = all.filter((w) => w.name === wanted);
  const hits = byId.length > 0 ? byId : byName;
  if (hits.length === 0) throw new NotFoundError(`no workspace ${wanted}`, 'see `insomnia-sync workspace list`');
  if (hits.length > 1) throw new UsageError(`${hits.length} workspaces are named ${wanted}`, 'use the workspace id instead');
  return hits[0]!;
}

export async function renameWorkspace(ctx: ClientContext, opts: { workspace: string; name: string }): Promise<WorkspaceSummary> {
  const session = requireSession(ctx);
  const p = ctx.primitives;
  const name = checkWorkspaceName(opts.name);
  const found = await resolveWorkspace(ctx, session, opts.workspace);
  const me = await session.api.me();
  const ring = await unlockWorkspace(p, session, found.workspace, me.teams);
  const updated = await session.api.renameWorkspace(found.id, { encryptedName: encryptWorkspaceName(p, ring, name) });
  return summarize(updated, name, me.teams.find((t) => t.id === updated.teamId));
}

export async function deleteWorkspace(ctx: ClientContext, opts: { workspace: string }): Promise<{ id: string; name: string; deleted: true }> {
  const session = requireSession(ctx);
  const found = await resolveWorkspace(ctx, session, opts.workspace);
  const ok = await ctx.prompter.confirm(`Delete workspace "${found.name}" (${found.id.slice(0, 12)}) and all its history from the server?`);
  if (!ok) throw new UsageError('not deleted');
  await session.api.deleteWorkspace(found.id);
  return { id: found.id, name: found.name, deleted: true };
}
