/** Workspace CRUD and members' public keys (docs/protocol.md §3). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ROUTES } from '../../protocol/routes.js';
import type * as T from '../../protocol/types.js';
import type { ServerContext } from '../context.js';
import { ApiError, notFound } from '../errors.js';
import { getAuth, getTokenAuth, rotationPending, type WorkspaceGuard } from '../plugins/auth.js';
import { formerTokenSignerView, tokenSignerView } from './tokens.js';
import { schemas } from '../../protocol/schemas.js';
import { workspaceView } from '../views.js';

type Params = { workspaceId: string };

export function registerWorkspaceRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  authenticate: (r: FastifyRequest) => Promise<void>,
  requireWorkspaceAccess: WorkspaceGuard,
): void {
  const { store } = ctx;

  app.route({
    method: ROUTES.listWorkspaces.method,
    url: ROUTES.listWorkspaces.path,
    schema: schemas.listWorkspaces,
    onRequest: authenticate,
    handler: async (request): Promise<T.WorkspaceListResponse> => {
      const list = await store.listWorkspacesOfUser(getAuth(request).userId);
      return { workspaces: list.map(workspaceView) };
    },
  });

  app.route<{ Body: T.CreateWorkspaceRequest }>({
    method: ROUTES.createWorkspace.method,
    url: ROUTES.createWorkspace.path,
    schema: schemas.createWorkspace,
    onRequest: authenticate,
    handler: async (request): Promise<T.WorkspaceInfo> => {
      const { id, teamId, encryptedName, key } = request.body;
      const { team, state } = await store.teamAccess(teamId, getAuth(request).userId);
      if (!team || state !== 'confirmed') throw notFound('team not found');
      // the new workspace key would be wrapped under a team key the departed member holds
      if (team.rotationPending) throw rotationPending(team);
      if (key.epoch > team.epoch) throw new ApiError('bad_request', `key epoch ${key.epoch} is newer than the team's (${team.epoch})`);
      // an older epoch is checked by the store, in its transaction: a rotation may land in between
      const result = await store.createWorkspace({ id, teamId, encryptedName, key: { ...key }, createdAt: ctx.now() });
      if (!result.ok) {
        if (result.reason === 'no_team') throw notFound('team not found');
        if (result.reason === 'stale_epoch') throw staleWorkspaceKey(result.epoch);
        throw new ApiError('already_exists', 'a workspace with this id already exists');
      }
      return workspaceView(result.workspace);
    },
  });

  app.route<{ Params: Params }>({
    method: ROUTES.getWorkspace.method,
    url: ROUTES.getWorkspace.path,
    schema: schemas.getWorkspace,
    onRequest: authenticate,
    handler: async (request): Promise<T.WorkspaceInfo> => {
      const view = workspaceView(await requireWorkspaceAccess(request, request.params.workspaceId, 'read'));
      const token = getTokenAuth(request);
      if (token) {
        view.tokenKeys = token.keys.map((k) => ({ epoch: k.epoch, wrappedKey: k.wrappedKey }));
        view.tokenScope = token.scope;
      }
      return view;
    },
  });

  app.route<{ Params: Params; Body: T.RenameWorkspaceRequest }>({
    method: ROUTES.renameWorkspace.method,
    url: ROUTES.renameWorkspace.path,
    schema: schemas.renameWorkspace,
    onRequest: authenticate,
    handler: async (request): Promise<T.WorkspaceInfo> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'manage');
      // the new name is encrypted under a key the departed member holds; deleting stays allowed
      const { team } = await store.teamAccess(ws.teamId, getAuth(request).userId);
      if (team?.rotationPending) throw rotationPending(team);
      const renamed = await store.renameWorkspace(ws.id, request.body.encryptedName, ctx.now());
      if (!renamed) throw notFound('workspace not found');
      return workspaceView(renamed);
    },
  });

  app.route<{ Params: Params }>({
    method: ROUTES.deleteWorkspace.method,
    url: ROUTES.deleteWorkspace.path,
    schema: schemas.deleteWorkspace,
    onRequest: authenticate,
    handler: async (request, reply) => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'manage');
      if (!(await store.deleteWorkspace(ws.id))) throw notFound('workspace not found');
      return reply.code(204).send();
    },
  });

  app.route<{ Params: Params }>({
    method: ROUTES.workspaceMembers.method,
    url: ROUTES.workspaceMembers.path,
    schema: schemas.workspaceMembers,
    onRequest: authenticate,
    handler: async (request): Promise<T.WorkspaceMembersResponse> => {
      const ws = await requireWorkspaceAccess(request, request.params.workspaceId, 'read');
      const [members, live, former] = await Promise.all([
        store.workspaceMembers(ws.id),
        store.workspaceAccessTokens(ws.id),
        store.workspaceFormerAccessTokens(ws.id),
      ]);
      // tokens whose creator deleted the account stay as signers of what they pushed (§3.27)
      const tokens = [...live.map(tokenSignerView), ...former.map(formerTokenSignerView)];
      return {
        members: members.map((m) => ({
          userId: m.userId,
          email: m.email,
          name: m.name,
          x25519PublicKey: m.x25519PublicKey,
          ed25519PublicKey: m.ed25519PublicKey,
          ...(m.untilEpoch !== undefined ? { untilEpoch: m.untilEpoch } : {}),
        })),
        // absent rather than empty, so the answer of a workspace without tokens is as before
        ...(tokens.length > 0 ? { tokens } : {}),
      };
    },
  });
}

/**
 * A new workspace's key wrapped under a team key older than the current one (which a removed member
 * may hold): 409, as for a snapshot that raced a rotation; the client opens the new team key and
 * tries again.
 */
function staleWorkspaceKey(epoch: number): ApiError {
  return new ApiError('conflict', `the team's key was rotated (now epoch ${epoch}); the workspace key must be wrapped under the new team key: try again`);
}
