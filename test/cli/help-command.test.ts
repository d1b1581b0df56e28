/**
 * `help` at every level of the real CLI, as git and gh answer it: the help of a known command on
 * standard output, exit 0; a word that is no command one usage error (exit 2), with a suggestion
 * when one is close, and with --json one JSON error and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('insomnia-sync help', () => {
  it.each([
    [['help'], 'Usage: insomnia-sync [options] [command]'],
    [['help', 'team'], 'Usage: insomnia-sync team [options] [command]'],
    [['help', 'team', 'confirm'], 'Usage: insomnia-sync team confirm [options] [email]'],
    [['team', 'help'], 'Usage: insomnia-sync team [options] [command]'],
    [['team', 'help', 'confirm'], 'Usage: insomnia-sync team confirm [options] [email]'],
    [['workspace', 'help', 'list'], 'Usage: insomnia-sync workspace list [options]'],
    [['account', 'help', 'recovery-key'], 'Usage: insomnia-sync account recovery-key [options]'],
  ])('%j shows that help on stdout, exit 0', async (args, usage) => {
    const res = await runCli(args);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout.split('\n')[0]).toBe(usage);
  });

  it.each([
    [['help', 'tem'], 'tem', 'team'],
    [['help', 'workspace', 'lst'], 'lst', 'list'],
    [['team', 'help', 'confrm'], 'confrm', 'confirm'],
    [['help', 'nosuch'], 'nosuch', undefined],
    [['help', 'team', 'nosuch'], 'nosuch', undefined],
    [['team', 'help', 'nosuch'], 'nosuch', undefined],
    [['token', 'help', 'create', 'extra'], 'extra', undefined],
  ])('%j is one usage error, a suggestion if one is close (exit 2)', async (args, word, suggestion) => {
    const res = await runCli(args);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    const lines = res.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`error: unknown command '${word}'`);
    expect(lines.slice(1)).toEqual([suggestion ? `hint: did you mean ${suggestion}? (run with --help for usage)` : 'hint: run with --help for usage']);
  });

  it.each([[['help', 'tem']], [['team', 'help', 'nosuch']], [['help', 'team', 'nosuch']]])('%j with --json is one JSON error', async (args) => {
    const res = await runCli(['--json', ...args]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(res.stderr)).toMatchObject({ error: { code: 'usage', message: expect.stringMatching(/^unknown command '(tem|nosuch)'$/) } });
  });

  it('a group lists its own help command', async () => {
    const res = await runCli(['team', '--help']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ {2}help \[command\.\.\.\] +display help for command$/m);
  });
});
