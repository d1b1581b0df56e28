import type { ClientContext } from '../../client/context.js';
import { listWorkspaces } from '../../client/services/workspaces.js';
import type { Output } from '../output.js';
import { shown, shownField } from '../shown-text.js';

export async function run(ctx: ClientContext, out: Output): Promise<void> {
  const list = (await listWorkspaces(ctx)).map(({ workspace: _w, ...summary }) => summary);
  out.result({ workspaces: list }, () =>
    list.length === 0
      ? 'No workspaces yet: run `insomnia-sync init` in a folder.'
      : list.map((w) => `${shownField(w.id, 12)}  ${out.bold(shown(w.name))}  ${out.dim(`team ${shown(w.team)}, ${w.head ? `head ${shownField(w.head, 12)}` : 'empty'}, ${shownField(w.size)} bytes`)}`),
  );
}
