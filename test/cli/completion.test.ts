/** Completion scripts come from the command tree; bash's is exercised by a real bash. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

function bashComplete(script: string, words: string[]): string[] {
  const file = path.join(tempDir(), 'c.bash');
  writeFileSync(file, script);
  const line = words.map((w) => `'${w}'`).join(' ');
  const out = execFileSync('bash', ['-c', `source ${file}; COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _insomnia_sync; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: 'utf8',
  });
  return out.split('\n').filter(Boolean);
}

describe('completion', () => {
  it('bash completes commands, subcommands and options', async () => {
    const res = await runCli(['completion', 'bash']);
    expect(res.code).toBe(0);
    expect(bashComplete(res.stdout, ['insomnia-sync', 'pu']).sort()).toEqual(['pull', 'push']);
    expect(bashComplete(res.stdout, ['insomnia-sync', 'workspace', ''])).toEqual(expect.arrayContaining(['list', 'rename', 'delete']));
    expect(bashComplete(res.stdout, ['insomnia-sync', 'team', 'de'])).toEqual(['delete']);
    expect(bashComplete(res.stdout, ['insomnia-sync', 'team', 'delete', '--te'])).toEqual(['--team']);
    expect(bashComplete(res.stdout, ['insomnia-sync', 'push', '--f'])).toEqual(['--force']);
    expect(bashComplete(res.stdout, ['insomnia-sync', 'pull', '--th'])).toEqual(['--theirs']);
  });

  it('zsh and fish scripts name every top-level command', async () => {
    const help = (await runCli(['--help'])).stdout;
    const commandsSection = help.slice(help.indexOf('Commands:'));
    const commands = [...commandsSection.matchAll(/^  ([a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(10);
    const zsh = await runCli(['completion', 'zsh']);
    const fish = await runCli(['completion', 'fish']);
    expect(zsh.code).toBe(0);
    expect(fish.code).toBe(0);
    expect(zsh.stdout.startsWith('#compdef insomnia-sync')).toBe(true);
    for (const c of commands) {
      expect(zsh.stdout).toContain(c);
      expect(fish.stdout).toContain(`-a ${c}`);
    }
  });

  it('an unknown shell is a usage error', async () => {
    const res = await runCli(['completion', 'tcsh', '--json']);
    expect(res.code).toBe(2);
    expect(JSON.parse(res.stderr).error.code).toBe('usage');
  });
});
