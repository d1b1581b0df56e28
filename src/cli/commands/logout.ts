import type { ClientContext } from '../../client/context.js';
import { logout } from '../../client/services/auth.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await logout(ctx);
  out.result(res, () => (res.loggedOut ? 'Logged out; local keys wiped.' : 'Not logged in.'));
  if (res.loggedOut && !res.serverRevoked) out.warn('the server could not be told; the session ends when it expires');
}
