/**
 * Completion scripts come from the command tree; each shell's is exercised by that shell itself:
 * bash by calling the completion function with COMP_WORDS set, fish by `complete -C`, zsh by typing
 * Tab into an interactive zsh on a pseudo-terminal (zpty) and recording what reaches compadd. A
 * shell missing on the machine skips its block by name, never silently.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

const has = (shell: string): boolean => spawnSync(shell, ['-c', 'exit 0']).status === 0;
const HAS_FISH = has('fish');
const HAS_ZSH = has('zsh');

/** A folder to complete in: a subfolder and a file, so file and folder completion can be told apart. */
function filesDir(): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'subdir'));
  writeFileSync(path.join(dir, 'notes.txt'), '');
  return dir;
}

async function script(shell: 'bash' | 'zsh' | 'fish'): Promise<string> {
  const res = await runCli(['completion', shell]);
  expect(res.code).toBe(0);
  const file = path.join(tempDir(), `c.${shell}`);
  writeFileSync(file, res.stdout);
  return file;
}

function bashComplete(file: string, words: string[], cwd = tempDir()): string[] {
  const line = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['--norc', '-c', `source ${file}; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _insomnia_sync; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
    cwd,
  });
  return out.split('\n').filter(Boolean);
}

/** `complete -C`: the candidates fish offers for the line, without their descriptions. */
function fishComplete(file: string, line: string, cwd = tempDir()): string[] {
  const out = execFileSync('fish', ['--no-config', '-c', `source ${file}; complete -C ${JSON.stringify(line)}`], { encoding: 'utf8', cwd });
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('\t')[0]!);
}

/**
 * An interactive zsh on a pseudo-terminal, with compinit loaded and then the script sourced: the
 * line is typed with a Tab, and every match handed to compadd is printed.
 */
const ZSH_HARNESS = String.raw`
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='' RPROMPT=''; autoload -Uz compinit && compinit -u -d ${'$'}{(q)3}"
zpty -w z "source ${'$'}{(q)1}"
zpty -w z 'compadd() { local -a m; builtin compadd -O m "$@"; (( $#m )) && print -rl -- "" "${'$'}{(@)^m/#/<M>}" >&2; builtin compadd "$@" }'
zpty -w z 'zstyle ":completion:*" menu no; comppostfuncs=(done_); done_() { print -r -- "" "<END>" >&2 }'
zpty -w z 'exec 2>&1; print "<READY>"'
zpty -r -m z out '*<READY>*'
zpty -w -n z "$2"$'\t'
zpty -r -m z out '*<END>*' || exit 1
print -r -- "$out" | grep -a -o '<M>[^[:cntrl:]]*' | sed 's/^<M>//' | sort -u
zpty -d z
`;

/** compinit's dump, made by the first run and read by the others (a scan takes seconds). */
const ZSH_DIR = tempDir();
const ZSH_DUMP = path.join(ZSH_DIR, 'zcompdump');
writeFileSync(path.join(ZSH_DIR, 'harness.zsh'), ZSH_HARNESS);

function zshComplete(file: string, line: string, cwd = tempDir()): string[] {
  const out = execFileSync('timeout', ['20', 'zsh', '-f', path.join(ZSH_DIR, 'harness.zsh'), file, line, ZSH_DUMP], { encoding: 'utf8', cwd });
  return out.split('\n').filter(Boolean);
}

const TOP = ['signup', 'status', 'team', 'workspace', 'completion'];

describe('bash completion', () => {
  let file: string;
  beforeAll(async () => {
    file = await script('bash');
  });

  it('completes commands, subcommands and options', () => {
    expect(bashComplete(file, ['insomnia-sync', 'pu']).sort()).toEqual(['pull', 'push']);
    expect(bashComplete(file, ['insomnia-sync', 'workspace', ''])).toEqual(expect.arrayContaining(['list', 'rename', 'delete']));
    expect(bashComplete(file, ['insomnia-sync', 'team', 'de'])).toEqual(['delete']);
    expect(bashComplete(file, ['insomnia-sync', 'team', 'delete', '--te'])).toEqual(['--team']);
    expect(bashComplete(file, ['insomnia-sync', 'push', '--f'])).toEqual(['--force']);
    expect(bashComplete(file, ['insomnia-sync', 'pull', '--th'])).toEqual(['--theirs']);
    expect(bashComplete(file, ['insomnia-sync', 'workspace', 'list', ''])).toContain('--help');
    expect(bashComplete(file, ['insomnia-sync', 'workspace', 'list', ''])).not.toContain('list');
  });

  it('completes folders where a folder is expected, files where a file is, and no options there', () => {
    const cwd = filesDir();
    expect(bashComplete(file, ['insomnia-sync', 'clone', 'My API', ''], cwd)).toEqual(['subdir']);
    expect(bashComplete(file, ['insomnia-sync', 'restore', 'abcd', '--to', ''], cwd)).toEqual(['subdir']);
    expect(bashComplete(file, ['insomnia-sync', 'export', '--out', ''], cwd).sort()).toEqual(['notes.txt', 'subdir']);
    expect(bashComplete(file, ['insomnia-sync', 'account', 'export', '--out', 'no'], cwd)).toEqual(['notes.txt']);
    expect(bashComplete(file, ['insomnia-sync', 'team', 'invite', '--from-file', ''], cwd).sort()).toEqual(['notes.txt', 'subdir']);
  });

  it('offers nothing for a free value (a name, an email), rather than options', () => {
    expect(bashComplete(file, ['insomnia-sync', 'team', 'members', '--team', ''])).toEqual([]);
    expect(bashComplete(file, ['insomnia-sync', 'clone', ''])).toEqual([]);
    expect(bashComplete(file, ['insomnia-sync', '--profile', ''])).toEqual([]);
  });

  it("skips an option's value when finding the command, even a value named like a command", () => {
    expect(bashComplete(file, ['insomnia-sync', '--profile', 'team', ''])).toEqual(expect.arrayContaining(TOP));
    expect(bashComplete(file, ['insomnia-sync', '--server', 'http://h', 'st'])).toEqual(['status']);
    expect(bashComplete(file, ['insomnia-sync', 'team', '--team', 'list', ''])).toEqual(expect.arrayContaining(['list', 'members', 'rotate']));
    expect(bashComplete(file, ['insomnia-sync', 'log', '-n', '5', '--'])).toContain('--limit');
  });

  it('completes fixed choices and command names for help', () => {
    expect(bashComplete(file, ['insomnia-sync', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    expect(bashComplete(file, ['insomnia-sync', 'team', 'invite', '--role', ''])).toEqual(['member', 'admin']);
    expect(bashComplete(file, ['insomnia-sync', 'team', 'role', 'a@example.com', ''])).toEqual(['owner', 'admin', 'member']);
    expect(bashComplete(file, ['insomnia-sync', 'help', ''])).toEqual(expect.arrayContaining(TOP));
    expect(bashComplete(file, ['insomnia-sync', 'help', 'team', 'co'])).toEqual(['confirm']);
    // a group's own help, `team help SUB`, names the group's subcommands
    expect(bashComplete(file, ['insomnia-sync', 'team', 'he'])).toEqual(['help']);
    expect(bashComplete(file, ['insomnia-sync', 'team', 'help', 'co'])).toEqual(['confirm']);
    expect(bashComplete(file, ['insomnia-sync', 'team', 'help', 'confirm', ''])).toEqual([]);
  });
});

describe.skipIf(!HAS_FISH)('fish completion (needs fish installed)', () => {
  let file: string;
  beforeAll(async () => {
    file = await script('fish');
  });

  it('completes commands, subcommands and options', () => {
    expect(fishComplete(file, 'insomnia-sync pu').sort()).toEqual(['pull', 'push']);
    expect(fishComplete(file, 'insomnia-sync team de')).toEqual(['delete']);
    expect(fishComplete(file, 'insomnia-sync team delete --te')).toEqual(['--team']);
  });

  it("offers only the options of the command reached, not another's of the same name", () => {
    // fish falls back to fuzzy matches (--w in --password-stdin) when no option starts so
    expect(fishComplete(file, 'insomnia-sync team list --w')).not.toContain('--workspace');
    const accountExport = fishComplete(file, 'insomnia-sync account export --');
    expect(accountExport).toEqual(expect.arrayContaining(['--out', '--encrypt']));
    expect(accountExport).not.toContain('--snapshot');
    expect(accountExport).not.toContain('--workspace');
    expect(fishComplete(file, 'insomnia-sync account verify --w')).not.toContain('--workspace');
    expect(fishComplete(file, 'insomnia-sync workspace delete --')).not.toContain('--team');
  });

  it('offers no subcommands once one is chosen', () => {
    expect(fishComplete(file, 'insomnia-sync workspace list ')).not.toContain('list');
    expect(fishComplete(file, 'insomnia-sync team create ')).toEqual([]);
  });

  it("skips a global option's value", () => {
    expect(fishComplete(file, 'insomnia-sync --profile work ')).toEqual(expect.arrayContaining(TOP));
    expect(fishComplete(file, 'insomnia-sync --profile team ')).toEqual(expect.arrayContaining(TOP));
    expect(fishComplete(file, 'insomnia-sync --server http://h st')).toEqual(['status']);
  });

  it('completes files and folders where they are expected, and fixed choices', () => {
    const cwd = filesDir();
    expect(fishComplete(file, 'insomnia-sync export --out ', cwd).sort()).toEqual(['notes.txt', 'subdir/']);
    expect(fishComplete(file, 'insomnia-sync export --out=', cwd).sort()).toEqual(['--out=notes.txt', '--out=subdir/']);
    expect(fishComplete(file, 'insomnia-sync clone W ', cwd)).toEqual(['subdir/']);
    expect(fishComplete(file, 'insomnia-sync team members --team ', cwd)).toEqual([]);
    expect(fishComplete(file, 'insomnia-sync completion ')).toEqual(['bash', 'fish', 'zsh']);
    expect(fishComplete(file, 'insomnia-sync team invite --role ')).toEqual(['admin', 'member']);
    expect(fishComplete(file, 'insomnia-sync help team co')).toEqual(['confirm']);
    expect(fishComplete(file, 'insomnia-sync team help co')).toEqual(['confirm']);
  });
});

describe.skipIf(!HAS_ZSH)('zsh completion (needs zsh installed)', () => {
  let file: string;
  beforeAll(async () => {
    file = await script('zsh');
  });

  it('completes commands, options, files, folders and choices', () => {
    const cwd = filesDir();
    expect(zshComplete(file, 'insomnia-sync team de')).toEqual(['delete']);
    expect(zshComplete(file, 'insomnia-sync team list --w')).toEqual([]);
    expect(zshComplete(file, 'insomnia-sync --profile team ')).toEqual(expect.arrayContaining(TOP));
    expect(zshComplete(file, 'insomnia-sync clone W ', cwd)).toEqual(['subdir']);
    expect(zshComplete(file, 'insomnia-sync export --out ', cwd)).toEqual(['notes.txt', 'subdir']);
    expect(zshComplete(file, 'insomnia-sync team role a@example.com ')).toEqual(['admin', 'member', 'owner']);
  });

  it('sourced before compinit, says what to do instead of failing on compdef', () => {
    const res = spawnSync('zsh', ['-f', '-c', `source ${file}`], { encoding: 'utf8' });
    expect(res.stderr).not.toContain('command not found');
    expect(res.stderr).toContain('compinit');
  });
});

describe('completion command', () => {
  it('every top-level command is in every script', async () => {
    const help = (await runCli(['--help'])).stdout;
    const commandsSection = help.slice(help.indexOf('Commands:'));
    const commands = [...commandsSection.matchAll(/^  ([a-z][a-z-]*)/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(10);
    for (const shell of ['bash', 'zsh', 'fish']) {
      const res = await runCli(['completion', shell]);
      expect(res.code).toBe(0);
      for (const c of commands) expect(res.stdout).toMatch(new RegExp(`[ "']${c}[ "']`));
    }
  });

  it('an unknown shell is a usage error', async () => {
    const res = await runCli(['completion', 'tcsh', '--json']);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stderr).error.code).toBe('usage');
  });
});
