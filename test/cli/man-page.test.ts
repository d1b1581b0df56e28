/** Every command and option of the program must be in its man page (issue 4 §4). */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';
import { buildProgram } from '../../src/cli/program.js';
import { serverBaseUrl } from '../../src/client/api.js';

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
  const text = manText('insomnia-sync-server.1');
  /** one SECURITY or EXIT STATUS entry: from its heading to the next */
  const entry = (heading: string): string => {
    const at = text.indexOf(`\n.B ${heading}\n`);
    expect(at, heading).toBeGreaterThan(0);
    return text.slice(at, text.indexOf('\n.TP', at + 1));
  };

  it('documents every server option, sub-command options and hardening flags included', async () => {
    const sources = ['src/server/main.ts', 'src/server/serve-options.ts', 'src/server/ops/commands.ts'].map((f) => readFileSync(path.join(ROOT, f), 'utf8'));
    const options = sources.flatMap((src) => [...src.matchAll(/\.(?:required)?[oO]ption\('(?:-\w, )?(--[a-z-]+)/g)].map((m) => m[1]!));
    expect(options).toContain('--rate-limit-login');
    for (const o of new Set(options)) expect(text, o).toContain(o);
  });

  /** The long options `insomnia-sync-server [COMMAND] --help` lists, --help and --version aside. */
  function helpOptions(command: string[]): string[] {
    const res = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'insomnia-sync-server.js'), ...command, '--help'], { encoding: 'utf8' });
    expect(res.status, res.stderr).toBe(0);
    const options = res.stdout.slice(res.stdout.indexOf('\nOptions:\n'), res.stdout.indexOf('\nCommands:\n') >>> 0);
    return [...options.matchAll(/^ {2}(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!).filter((o) => o !== '--help' && o !== '--version');
  }

  /**
   * SYNOPSIS, one line (up to .br) per form, keyed by the command words after
   * `insomnia-sync-server`; `--rate-limit-prelogin|-login` is read as both options.
   */
  const synopsis = new Map<string, string[]>();
  for (const form of text.slice(text.indexOf('\n.SH SYNOPSIS\n'), text.indexOf('\n.SH DESCRIPTION\n')).split('\n.br\n')) {
    const words = /^\.B insomnia-sync-server((?: [a-z][a-z-]*)*)/m.exec(form);
    if (!words || form.includes('--help |')) continue;
    const expanded = form.replace(/(--[a-z-]+-)([a-z]+)((?:\|-[a-z]+)+)/g, (_all, prefix: string, first: string, rest: string) =>
      [first, ...rest.split('|-').filter(Boolean)].map((w) => `${prefix}${w}`).join(' '),
    );
    synopsis.set(words[1]!.trim(), [...expanded.matchAll(/--[a-z-]+/g)].map((m) => m[0]));
  }

  it.each([[''], ['migrate'], ['backup'], ['gc'], ['admin vacuum'], ['admin export-user'], ['admin delete-unverified']])(
    'SYNOPSIS of "%s" names exactly the options its --help lists',
    (command) => {
      const listed = helpOptions(command ? command.split(' ') : []);
      expect(listed.length, command).toBeGreaterThan(1);
      expect(synopsis.has(command), `a SYNOPSIS line for "${command}"`).toBe(true);
      expect([...new Set(synopsis.get(command))].sort(), command).toEqual([...new Set(listed)].sort());
    },
  );

  it('has an entry under OPTIONS for every option of the server itself', () => {
    const options = text.slice(text.indexOf('\n.SH OPTIONS\n'), text.indexOf('\n.SH COMMANDS\n'));
    for (const o of helpOptions([])) expect(options, o).toMatch(new RegExp(`^\\.B[IR]? ${o}(?: |$)`, 'm'));
  });

  it('says what the server does: it rate-limits, keeps a path in the server URL, and backs up', () => {
    expect(text).not.toMatch(/does not rate-limit/);
    expect(entry('Rate limits')).toMatch(/--rate-limit-prelogin/);
    // the client keeps the path (serverBaseUrl), for a server behind a proxy at /isync
    expect(serverBaseUrl(new URL('https://example.com/isync/'))).toBe('https://example.com/isync');
    expect(text).not.toMatch(/ignores any path/);
    expect(entry('TLS')).toMatch(/keeps the path of its server\s+URL/);
    expect(entry('Backups')).toMatch(/insomnia-sync-server backup --out/);
  });

  it('tells an operator what backup and gc do to a running server, and that gc cannot free a full disk', () => {
    const gc = entry('gc');
    expect(gc).toMatch(/short batches/);
    expect(gc).toMatch(/cannot free a full disk/);
    expect(gc).toMatch(/Make room first/);
    const backup = text.slice(text.indexOf('\n.BI "backup'), text.indexOf('\n.BI "admin export-user'));
    expect(backup).toMatch(/of one\s+moment/);
    expect(backup).toMatch(/mode 0600 from the start/);
    expect(backup).toMatch(/SIGTERM/);
  });

  it('gives the shutdown timeout its real flag and default in EXIT STATUS', () => {
    const flags = readFileSync(path.join(ROOT, 'src/server/serve-options.ts'), 'utf8');
    const defaultSeconds = /'--shutdown-timeout <seconds>'[^\n]*, (\d+)\)/.exec(flags)?.[1];
    expect(defaultSeconds).toBeDefined();
    const exit1 = entry('1');
    expect(exit1).toMatch(new RegExp(`longer than\\s+--shutdown-timeout \\(default ${defaultSeconds} seconds\\)`));
    expect(exit1).not.toMatch(/10 seconds/);
  });
});

describe('both man pages', () => {
  // groff is part of man-db's install (and .ci/run installs it): a missing one fails here
  it('format with no groff warning (groff -man -ww)', () => {
    for (const file of ['insomnia-sync.1', 'insomnia-sync-server.1']) {
      const res = spawnSync('groff', ['-man', '-ww', '-z', path.join(ROOT, 'man', file)], { encoding: 'utf8' });
      expect(res.error, 'groff must be installed').toBeUndefined();
      expect(res.status, file).toBe(0);
      expect(res.stderr, file).toBe('');
    }
  });

  it('insomnia-sync.1 has every INSOMNIA_SYNC_ variable the CLI reads in ENVIRONMENT', () => {
    const text = manText('insomnia-sync.1');
    const environment = text.slice(text.indexOf('\n.SH ENVIRONMENT'), text.indexOf('\n.SH FILES'));
    const read = new Set<string>();
    for (const dir of ['src/cli', 'src/client']) {
      for (const file of readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'))) {
        for (const m of readFileSync(path.join(ROOT, dir, file), 'utf8').matchAll(/\bINSOMNIA_SYNC_[A-Z_]+\b/g)) read.add(m[0]);
      }
    }
    expect(read).toContain('INSOMNIA_SYNC_DEBUG');
    for (const name of read) expect(environment, name).toMatch(new RegExp(`^\\.B ${name}$`, 'm'));
  });
});
