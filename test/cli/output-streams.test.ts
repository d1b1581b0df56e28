/**
 * Colour is decided for stdout and stderr each on its own (`log | less` keeps coloured errors on
 * the terminal, `2>err.log` keeps coloured results), and --quiet leaves errors only.
 */
import { describe, expect, it } from 'vitest';
import { loadOutput, wantsColor } from '../../src/cli/output.js';

const ANSI = /\u001b\[/;

function stream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const s = { isTTY, text: '', write: (chunk: string) => ((s.text += chunk), true) };
  return s as unknown as NodeJS.WriteStream & { text: string };
}

async function output(opts: { stdoutTTY: boolean; stderrTTY: boolean; quiet?: boolean; colorOption?: unknown; env?: NodeJS.ProcessEnv }) {
  const stdout = stream(opts.stdoutTTY);
  const stderr = stream(opts.stderrTTY);
  const env = opts.env ?? {};
  const out = await loadOutput({
    json: false,
    quiet: opts.quiet ?? false,
    color: { stdout: wantsColor(opts.colorOption, env, stdout), stderr: wantsColor(opts.colorOption, env, stderr) },
    stdout,
    stderr,
  });
  return { out, stdout, stderr };
}

function speak(out: Awaited<ReturnType<typeof output>>['out']): void {
  out.result({}, () => out.green('done'));
  out.warn('careful');
  out.error('usage', 'bad', 'try again');
}

describe('colour per stream', () => {
  it('colours stderr on a terminal while stdout is piped', async () => {
    const { out, stdout, stderr } = await output({ stdoutTTY: false, stderrTTY: true });
    speak(out);
    expect(stdout.text).toBe('done\n');
    expect(stderr.text).toMatch(ANSI);
  });

  it('colours stdout on a terminal while stderr is redirected', async () => {
    const { out, stdout, stderr } = await output({ stdoutTTY: true, stderrTTY: false });
    speak(out);
    expect(stdout.text).toMatch(ANSI);
    expect(stderr.text).not.toMatch(ANSI);
    expect(stderr.text).toBe('warning: careful\nerror: bad\nhint: try again\n');
  });

  it('--no-color and NO_COLOR turn it off on both', async () => {
    for (const opts of [{ colorOption: false }, { env: { NO_COLOR: '1' } }]) {
      const { out, stdout, stderr } = await output({ stdoutTTY: true, stderrTTY: true, ...opts });
      speak(out);
      expect(stdout.text + stderr.text).not.toMatch(ANSI);
    }
  });
});

describe('--quiet', () => {
  it('prints errors and nothing else: no result, note or warning', async () => {
    const { out, stdout, stderr } = await output({ stdoutTTY: false, stderrTTY: false, quiet: true });
    speak(out);
    out.note('a note');
    expect(stdout.text).toBe('');
    expect(stderr.text).toBe('error: bad\nhint: try again\n');
  });
});

describe('text that would drive the terminal', () => {
  const EVIL = 'Acme\u001b[2J\u001b]0;owned\u0007\rfake\u202e';
  // eslint-disable-next-line no-control-regex
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/;

  it('is escaped in results, warnings, notes and errors; lines, tabs and our own colours are kept', async () => {
    const { out, stdout, stderr } = await output({ stdoutTTY: true, stderrTTY: false });
    out.result({}, () => [`${out.green('✓')} joined ${EVIL}`, 'a\tb']);
    out.warn(`not invited: ${EVIL}`);
    out.note(`note ${EVIL}`);
    out.error('not_found', `not a member of ${EVIL}`, `see ${EVIL}`);
    expect(stdout.text).toBe('\u001b[32m✓\u001b[39m joined Acme\\u001b[2J\\u001b]0;owned\\u0007\\rfake\\u202e\na\tb\n');
    expect(stderr.text).not.toMatch(RAW);
    expect(stderr.text.split('\n')).toEqual([
      'warning: not invited: Acme\\u001b[2J\\u001b]0;owned\\u0007\\rfake\\u202e',
      'note Acme\\u001b[2J\\u001b]0;owned\\u0007\\rfake\\u202e',
      'error: not a member of Acme\\u001b[2J\\u001b]0;owned\\u0007\\rfake\\u202e',
      'hint: see Acme\\u001b[2J\\u001b]0;owned\\u0007\\rfake\\u202e',
      '',
    ]);
  });

  it('--json keeps the data exactly', async () => {
    const stdout = stream(false);
    const out = await loadOutput({ json: true, quiet: false, color: { stdout: false, stderr: false }, stdout, stderr: stream(false) });
    out.result({ name: EVIL }, () => EVIL);
    expect(JSON.parse(stdout.text).name).toBe(EVIL);
  });
});
