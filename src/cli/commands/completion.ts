import type { Command } from 'commander';
import { UsageError } from '../../client/errors.js';
import { completionScript, SHELLS, type Shell } from '../completion.js';
import type { Output } from '../output.js';

/** Needs no context: it only reads the command tree. */
export async function runCompletion(program: Command, out: Output, shell: string): Promise<void> {
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unknown shell ${shell}`, `choose one of: ${SHELLS.join(', ')}`);
  const script = completionScript(program, shell as Shell);
  out.result({ shell, script }, () => script.trimEnd());
}
