import type { ClientContext } from '../../client/context.js';
import { logout } from '../../client/services/auth.js';
import type { Output } from '../output.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const res = await logout(ctx);
  out.result(res, () =>
    !res.loggedOut ? 'Not logged in.' : res.alreadyEnded ? 'Logged out; local keys wiped (the session had already ended on the server).' : 'Logged out; local keys wiped.',
  );
  if (res.loggedOut && !res.serverRevoked && !res.alreadyEnded) out.warn('the server could not be told; the session ends when it expires');
}
