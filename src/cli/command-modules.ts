/**
 * Each command's module, loaded only when that command runs. Spelled out (not a template import)
 * so that every module is a static fact the type checker and the bundler can follow.
 */
import type { ClientContext } from '../client/context.js';
import type { Output } from './output.js';

export interface CommandModule {
  run: (ctx: ClientContext, out: Output, args: unknown[], opts: Record<string, unknown>) => Promise<number | void>;
}

export const COMMAND_MODULES: Record<string, () => Promise<CommandModule>> = {
  'account-delete': () => import('./commands/account-delete.js'),
  'account-export': () => import('./commands/account-export.js'),
  'account-password': () => import('./commands/account-password.js'),
  'account-recover': () => import('./commands/account-recover.js'),
  'account-recovery-key': () => import('./commands/account-recovery-key.js'),
  'account-sessions': () => import('./commands/account-sessions.js'),
  'account-show': () => import('./commands/account-show.js'),
  'account-verify': () => import('./commands/account-verify.js'),
  clone: () => import('./commands/clone.js'),
  export: () => import('./commands/export.js'),
  init: () => import('./commands/init.js'),
  log: () => import('./commands/log.js'),
  login: () => import('./commands/login.js'),
  logout: () => import('./commands/logout.js'),
  pull: () => import('./commands/pull.js'),
  push: () => import('./commands/push.js'),
  restore: () => import('./commands/restore.js'),
  signup: () => import('./commands/signup.js'),
  status: () => import('./commands/status.js'),
  'team-accept': () => import('./commands/team-accept.js'),
  'team-confirm': () => import('./commands/team-confirm.js'),
  'team-create': () => import('./commands/team-create.js'),
  'team-delete': () => import('./commands/team-delete.js'),
  'team-invite': () => import('./commands/team-invite.js'),
  'team-leave': () => import('./commands/team-leave.js'),
  'team-list': () => import('./commands/team-list.js'),
  'team-members': () => import('./commands/team-members.js'),
  'team-remove': () => import('./commands/team-remove.js'),
  'team-role': () => import('./commands/team-role.js'),
  'team-rotate': () => import('./commands/team-rotate.js'),
  'token-create': () => import('./commands/token-create.js'),
  'token-list': () => import('./commands/token-list.js'),
  'token-revoke': () => import('./commands/token-revoke.js'),
  verify: () => import('./commands/verify.js'),
  whoami: () => import('./commands/whoami.js'),
  'workspace-delete': () => import('./commands/workspace-delete.js'),
  'workspace-list': () => import('./commands/workspace-list.js'),
  'workspace-rename': () => import('./commands/workspace-rename.js'),
};
