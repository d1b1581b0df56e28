/** Entry point of `insomnia-sync`: the only place that sets the exit status. */
import { CommanderError, type Command } from 'commander';
import { buildProgram } from './program.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { COMMAND_MODULES } from './command-modules.js';
import { redactAccessTokens } from '../client/token-text.js';
import { guardUntilSettled } from './unsettled.js';
import { watchOutputStreams } from './closed-output.js';

/** the program being run, for the guard below to tell whether --json was given */
let parsed: Command | undefined;

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program: Command = buildProgram(
    async (name, args, command) => {
      exitCode = await runCommand(name, args, command);
    },
    {
      // Parse errors are reported below like every other error: one line, a hint, JSON with --json.
      outputError: () => {},
      // Only the help shown for a missing command goes here; with --json stderr holds one JSON error.
      writeErr: (text) => {
        if (program.opts().json !== true) process.stderr.write(text);
      },
    },
  );
  parsed = program;
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // `help` asked for is a success; the help shown because no command was given is a usage error.
      if (err.code === 'commander.help' && err.exitCode === 0) return EXIT.ok;
      const opts = program.opts();
      // The help already printed says it all, except to a script reading JSON.
      if (err.code === 'commander.help' && opts.json !== true) return EXIT.usage;
      const { usageErrorFrom } = await import('./usage.js');
      return reportError(await outputFor(opts), usageErrorFrom(err));
    }
    throw err;
  }
  return exitCode;
}

async function outputFor(opts: Record<string, unknown>): Promise<import('./output.js').Output> {
  const { loadOutput, wantsColor } = await import('./output.js');
  return loadOutput({
    json: Boolean(opts.json),
    quiet: Boolean(opts.quiet),
    // Each stream on its own: `log | less` pipes stdout, and the errors on the terminal keep colour.
    color: { stdout: wantsColor(opts.color, process.env, process.stdout), stderr: wantsColor(opts.color, process.env, process.stderr) },
    stdout: process.stdout,
    stderr: process.stderr,
  });
}

async function runCommand(name: string, args: unknown[], command: Command): Promise<number> {
  const opts = command.optsWithGlobals() as Record<string, unknown>;
  const out = await outputFor(opts);
  try {
    if (name === 'completion') {
      let root = command;
      while (root.parent) root = root.parent;
      const { runCompletion } = await import('./commands/completion.js');
      await runCompletion(root, out, args[0] as string);
      return EXIT.ok;
    }
    const { buildContext } = await import('./context.js');
    const ctx = await buildContext(opts, out);
    const load = COMMAND_MODULES[name];
    if (load === undefined) throw new Error(`no module for command ${name}`);
    const mod = await load();
    try {
      return (await mod.run(ctx, out, args, opts)) ?? EXIT.ok;
    } finally {
      ctx.progress.stop();
      await ctx.close();
    }
  } catch (err) {
    return reportError(out, err);
  }
}

function reportError(out: import('./output.js').Output, err: unknown): number {
  const e = err as { code?: unknown; message?: unknown; hint?: unknown; details?: unknown; lines?: unknown };
  const code = typeof e?.code === 'string' && /^[a-z_]+$/.test(e.code) ? e.code : 'failure';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : String(err);
  const knownCode = exitCodeFor(code);
  if (knownCode === EXIT.failure && process.env.INSOMNIA_SYNC_DEBUG) process.stderr.write(redactAccessTokens(String((err as Error)?.stack)) + '\n');
  // Errors echo arguments; a token pasted as one must not reach a terminal or CI log whole.
  const hint = typeof e?.hint === 'string' ? redactAccessTokens(e.hint) : undefined;
  const lines = Array.isArray(e?.lines) ? e.lines.filter((l): l is string => typeof l === 'string') : undefined;
  out.error(code, redactAccessTokens(message), hint, e?.details, lines);
  return knownCode;
}

// A reader that closes the pipe early (`log | head -1`) ends the output, not the command, nor its status.
const streams = watchOutputStreams(process, () => parsed?.opts().json === true);
// A command whose promise never settles must not end the process with status 0 and no word.
const guard = guardUntilSettled(process, () => parsed?.opts().json === true);
main(process.argv).then(
  (code) => {
    guard.settled();
    process.exitCode = streams.exitCode(code);
  },
  (err: unknown) => {
    guard.settled();
    process.stderr.write(`error: ${redactAccessTokens((err as Error)?.message ?? String(err))}\n`);
    process.exitCode = EXIT.failure;
  },
);
