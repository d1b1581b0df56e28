/** Every command and option of the program must be in its man page (issue 4 §4). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { buildProgram } from '../../src/cli/program.js';

/** roff escapes hyphens as \- ; compare in plain text. */
function manText(file: string): string {
  return readFileSync(path.join(ROOT, 'man', file), 'utf8').replace(/\\-/g, '-').replace(/\\f[BIRP]/g, '');
}

function commandsOf(cmd: Command, prefix: string[] = []): { path: string[]; options: string[] }[] {
  const out = [{ path: prefix, options: cmd.options.map((o) => o.long).filter((l): l is string => Boolean(l)) }];
  for (const c of cmd.commands) out.push(...commandsOf(c, [...prefix, c.name()]));
  return out;
}

describe('man/insomnia-sync.1', () => {
  const text = manText('insomnia-sync.1');
  const all = commandsOf(buildProgram(async () => {}));

  it('has the sections a man page needs', () => {
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'ENVIRONMENT', 'FILES', 'EXIT STATUS', 'EXAMPLES']) {
      expect(text).toMatch(new RegExp(`^\\.SH ${section}$`, 'm'));
    }
  });

  it.each(all.filter((c) => c.path.length > 0).map((c) => [c.path.join(' ')]))('documents the command "%s"', (name) => {
    expect(text).toContain(name);
  });

  it.each(all.flatMap((c) => c.options.map((o) => [o, c.path.join(' ') || '(global)'])))('documents the option %s of %s', (option) => {
    expect(text).toContain(option);
  });

  it('documents every exit status', () => {
    for (const code of [0, 1, 2, 3, 4, 5, 6, 7]) expect(text).toMatch(new RegExp(`^\\.B ${code}$`, 'm'));
  });
});

describe('man/insomnia-sync-server.1', () => {
  it('documents every server option', async () => {
    const text = manText('insomnia-sync-server.1');
    const help = readFileSync(path.join(ROOT, 'src/server/main.ts'), 'utf8');
    const options = [...help.matchAll(/\.option\('(?:-\w, )?(--[a-z-]+)/g)].map((m) => m[1]!);
    expect(options.length).toBeGreaterThan(5);
    for (const o of new Set(options)) expect(text, o).toContain(o);
  });
});
