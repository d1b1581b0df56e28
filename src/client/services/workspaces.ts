/** init, workspace list | rename | delete, and finding a workspace by name or id. */
import { existsSync, lstatSync, rmSync } from 'node:fs';
import path from 'node:path';
import { toB64 } from '../../protocol/encoding.js';
import type { TeamInfo, WorkspaceInfo } from '../../protocol/types.js';
import { sealEnvelope } from '../../crypto/aead.js';
import { toHex } from '../../crypto/hex.js';
import { generateKey } from '../../crypto/workspace-keys.js';
import { emptyIndex } from '../../sync/index-format.js';
import type { ClientContext } from '../context.js';
import { AuthError, ConflictError, IntegrityFailure, NotFoundError, SyncError, UsageError } from '../errors.js';
import { decryptWorkspaceName, encryptWorkspaceName, teamKeys, unlockWorkspace } from '../keyring.js';
import { findLinkedFolder, stateDir, writeIndex, writeLink } from '../local/link.js';
import { fsReason } from '../private-files.js';
import { claimFolder } from '../local/folder-lock.js';
import { requireSession, type ActiveSession } from '../session.js';
import { findTeam } from './find-team.js';
import { findWorkspace } from '../find-workspace.js';
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

/** Another workspace the caller can see under the name `init` gives a new one. */
export interface SameName {
  id: string;
  team: string;
}

export async function init(
  ctx: ClientContext,
  opts: { name?: string; team?: string },
): Promise<WorkspaceSummary & { root: string; sameName: SameName[] }> {
  const root = path.resolve(ctx.cwd);
  const existing = findLinkedFolder(root);
  if (existing) throw new ConflictError(`${existing.root} is already linked to workspace ${existing.link.workspaceId}`);
  // Before anything is made on the server: a folder that cannot take the link would leave an
  // orphan workspace behind, and the next init a second one of the same name.
  checkCanLink(root);
  const session = requireSession(ctx);
  const p = ctx.primitives;
  const name = checkWorkspaceName(opts.name ?? path.basename(root));
  // Exclusive from here, before anything is made on the server: of two inits at once in this
  // folder, the second stops here (exit 3) instead of making a second workspace of this name.
  let madeState: boolean;
  try {
    madeState = claimFolder(root);
  } catch (err) {
    // a folder it may not write in: said as the check before any lock would have said it
    if (err instanceof SyncError && err.code !== 'local_write') throw err;
    throw cannotWrite(root, err instanceof SyncError ? (err.cause ?? err) : err);
  }
  // one that finished before we got the lock has linked the folder: its workspace stays the only one
  const linked = findLinkedFolder(root);
  if (linked) throw new ConflictError(`${linked.root} is already linked to workspace ${linked.link.workspaceId}`);
  try {
    return await createAndLink(ctx, session, root, name, opts.team, madeState);
  } catch (err) {
    // nothing was linked: the `.insomnia-sync/` this init made goes (it holds the lock, so it is ours)
    if (madeState && !existsSync(path.join(stateDir(root), 'link.json'))) rmSync(stateDir(root), { recursive: true, force: true });
    throw err;
  }
}

async function createAndLink(
  ctx: ClientContext,
  session: ActiveSession,
  root: string,
  name: string,
  teamName: string | undefined,
  madeState: boolean,
): Promise<WorkspaceSummary & { root: string; sameName: SameName[] }> {
  const p = ctx.primitives;
  const me = await session.api.me();
  const team = pickTeam(me.teams, session.accountKey, teamName);
  const tkeys = await teamKeys(p, session, team);
  const teamKey = tkeys.get(team.epoch);
  if (!teamKey) {
    if (team.confirmed === false) throw new AuthError(`you hold no key of team ${team.name} yet`, waitingHint([team], session.secrets.email), 'forbidden');
    throw new NotFoundError(`you hold no key for team ${team.name} yet`);
  }
  // The server names the epoch; a newer key in hand means it names an old one, whose key a removed member holds.
  if (team.epoch < Math.max(...tkeys.keys())) throw new IntegrityFailure(`the server says team ${team.name} is at key epoch ${team.epoch}, but you hold a newer key`);
  // Names are encrypted, so only the client can tell that one is taken; a second workspace of the
  // same name is allowed, but `clone NAME` and the other commands then need its id.
  const sameName = (await listWorkspaces(ctx, session)).filter((w) => w.name === name).map((w) => ({ id: w.id, team: w.team }));
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
  let created: WorkspaceInfo;
  try {
    created = await session.api.createWorkspace({
      id,
      teamId: team.id,
      encryptedName: encryptWorkspaceName(p, ring, name),
      key: { epoch: team.epoch, wrappedKey },
    });
  } catch (err) {
    // The team's key rotated since we read it, or waits for a rotation: nothing was made.
    if (err instanceof ConflictError) throw new ConflictError(err.message, "nothing was created; once the team's key is current, run `insomnia-sync init` again");
    throw err;
  }
  try {
    writeLink(root, { version: 1, server: session.secrets.server, workspaceId: id, teamId: team.id, profile: ctx.profile });
    writeIndex(root, emptyIndex(id));
  } catch (err) {
    // Take back what this init made, here and on the server, so that it can simply be run again.
    const dir = stateDir(root);
    if (madeState) rmSync(dir, { recursive: true, force: true });
    else for (const f of ['link.json', `link.json.${process.pid}.tmp`, `index.${process.pid}.tmp`]) rmSync(path.join(dir, f), { force: true });
    const why = `cannot write the link in ${dir} (${fsReason(err)})`;
    try {
      await session.api.deleteWorkspace(id);
    } catch (deleteErr) {
      const forbidden = deleteErr instanceof SyncError && deleteErr.code === 'forbidden';
      throw new SyncError(
        'local_write',
        `${why}, and the workspace ${id} it created on the server could not be deleted again`,
        forbidden ? `ask an owner or admin of team ${team.name} to delete it` : `delete it with \`insomnia-sync workspace delete ${id}\``,
      );
    }
    throw new SyncError('local_write', `${why}; the workspace it created on the server is deleted again`);
  }
  return { ...summarize(created, name, team), root, sameName };
}

/**
 * Whether `.insomnia-sync/` is a folder or can be made in `root`. That it can be written to is
 * found when init claims it (folder-lock.ts writes the lock there), still before anything is made
 * on the server. No scratch folder is made and removed here: an init started at the same moment
 * may have claimed it in between, and removing it would take its lock and link with it.
 */
function checkCanLink(root: string): void {
  const dir = stateDir(root);
  try {
    if (!lstatSync(dir).isDirectory()) {
      // a path that is not a usable folder, as clone's target that is not one: usage (exit 2), not a conflict
      throw new UsageError(`cannot link ${root}: ${dir} is in the way (not a folder)`, `move it away, then run \`insomnia-sync init\` again`);
    }
  } catch (err) {
    if (err instanceof SyncError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotWrite(root, err);
  }
}

function cannotWrite(root: string, err: unknown): SyncError {
  return new SyncError('local_write', `cannot link ${root}: cannot write ${stateDir(root)} (${fsReason(err)})`, 'check the folder\'s permissions, or run init in another folder');
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
  return (await listWorkspacesAndTeams(ctx, session)).workspaces;
}

async function listWorkspacesAndTeams(
  ctx: ClientContext,
  session: ActiveSession,
): Promise<{ workspaces: (WorkspaceSummary & { workspace: WorkspaceInfo })[]; teams: TeamInfo[] }> {
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
  return { workspaces: out, teams: me.teams };
}

/** By exact id, unique id prefix (≥ 4 characters) or exact name: see find-workspace.ts. */
export async function resolveWorkspace(ctx: ClientContext, session: ActiveSession, wanted: string): Promise<WorkspaceSummary & { workspace: WorkspaceInfo }> {
  const { workspaces, teams } = await listWorkspacesAndTeams(ctx, session);
  try {
    return findWorkspace(workspaces, wanted);
  } catch (err) {
    // The server lists no workspace of a team that has not confirmed you: the one asked for may be there.
    const waiting = teams.filter((t) => t.confirmed === false);
    if (!(err instanceof NotFoundError) || waiting.length === 0) throw err;
    // A full id the server can answer for: "not confirmed yet" (exit 4) if it is that team's.
    const id = wanted.trim().toLowerCase();
    if (/^[0-9a-f]{32}$/.test(id)) await session.api.getWorkspace(id).catch((e: unknown) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
    throw new NotFoundError(`${err.message} among the workspaces you can read`, waitingHint(waiting, session.secrets.email));
  }
}

/** Teams that accepted you but have not confirmed you: their workspaces and keys are not yours yet. */
function waitingHint(waiting: readonly TeamInfo[], email: string): string {
  const names = waiting.map((t) => t.name).join(', ');
  return `an owner or admin of ${names} has not confirmed you yet; ${waiting.length === 1 ? 'its' : 'their'} workspaces show once they run \`insomnia-sync team confirm ${email} --team ${waiting[0]!.id.slice(0, 12)}\``;
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
