import type { ClientContext } from '../../client/context.js';
import { login } from '../../client/services/auth.js';
import type { Output } from '../output.js';
import { shown } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output, _args: unknown[], opts: Record<string, unknown>): Promise<void> {
  const res = await login(ctx, { email: opts.email as string });
  out.result(res, () => `${out.green('✓')} Logged in as ${out.bold(shown(res.email))} on ${res.server}`);
}
