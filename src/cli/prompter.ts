/**
 * Where secrets and confirmations come from (SPEC §4): never argv. A password comes from
 * --password-stdin (first line of stdin), else INSOMNIA_SYNC_PASSWORD, else a hidden prompt on a
 * terminal; with none of them, a MissingInputError (exit 2) names the flag and the variable.
 * With no terminal (or CI=true) nothing ever prompts.
 */
import type { Prompter } from '../client/context.js';
import { CancelledError, MissingInputError, UsageError } from '../client/errors.js';

/** What @inquirer/core throws when a prompt ends without an answer (Ctrl-C, an abort, a cancel). */
const PROMPT_ENDED = new Set(['ExitPromptError', 'AbortPromptError', 'CancelPromptError']);

type PromptContext = { output: NodeJS.WriteStream; signal: AbortSignal };

export interface PrompterOptions {
  passwordStdin: boolean;
  yes: boolean;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

export class CliPrompter implements Prompter {
  private stdinLines: Promise<string[]> | null = null;
  private stdinCursor = 0;

  constructor(private readonly opts: PrompterOptions) {}

  get interactive(): boolean {
    return Boolean(this.opts.stdin.isTTY) && this.opts.env.CI !== 'true' && !this.opts.passwordStdin;
  }

  private readStdinLines(): Promise<string[]> {
    this.stdinLines ??= (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of this.opts.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    })();
    return this.stdinLines;
  }

  async password(message: string, opts: { confirm?: boolean; fromEnv?: boolean } = {}): Promise<string> {
    if (this.opts.passwordStdin) {
      const lines = await this.readStdinLines();
      const line = lines[this.stdinCursor++];
      if (line === undefined || line === '') throw new MissingInputError('--password-stdin was given but standard input has no password line');
      return line;
    }
    const fromEnv = opts.fromEnv === false ? undefined : this.opts.env.INSOMNIA_SYNC_PASSWORD;
    if (fromEnv) return fromEnv;
    if (!this.interactive) {
      throw new MissingInputError(
        `${message.toLowerCase()}: no terminal to ask on`,
        opts.fromEnv === false ? 'pipe it with --password-stdin' : 'pipe it with --password-stdin, or set INSOMNIA_SYNC_PASSWORD',
      );
    }
    const { password } = await import('@inquirer/prompts');
    const first = await this.ask((context) => password({ message }, context));
    if (opts.confirm) {
      const again = await this.ask((context) => password({ message: 'Repeat the password' }, context));
      if (again !== first) throw new UsageError('the two passwords differ');
    }
    return first;
  }

  /**
   * Runs one prompt on the terminal. Ctrl-C (ExitPromptError) and Ctrl-D (readline closes on an
   * empty line, and the prompt would otherwise wait until the process exits) become a
   * CancelledError: exit 130, one line, the terminal left as it was.
   */
  private async ask<T>(prompt: (context: PromptContext) => Promise<T>): Promise<T> {
    const stdin = this.opts.stdin;
    const controller = new AbortController();
    // readline closes itself (pausing stdin) on Ctrl-D at an empty line; inside a line Ctrl-D
    // deletes a character and stdin keeps flowing. Its keypress handler runs after ours: look then.
    const onKeypress = (_s: unknown, key: { ctrl?: boolean; name?: string } | undefined): void => {
      if (key?.ctrl && key.name === 'd') setImmediate(() => stdin.isPaused() && controller.abort());
    };
    stdin.on('keypress', onKeypress);
    try {
      return await prompt({ output: this.opts.stderr, signal: controller.signal });
    } catch (err) {
      if (err instanceof Error && PROMPT_ENDED.has(err.name)) throw new CancelledError('cancelled');
      throw err;
    } finally {
      stdin.off('keypress', onKeypress);
    }
  }

  async confirm(message: string): Promise<boolean> {
    if (this.opts.yes) return true;
    if (!this.interactive || this.opts.passwordStdin) {
      throw new MissingInputError(`${message} — no terminal to ask on`, 'pass --yes to confirm');
    }
    const { confirm } = await import('@inquirer/prompts');
    return this.ask((context) => confirm({ message, default: false }, context));
  }

  async text(message: string): Promise<string> {
    if (!this.interactive) throw new MissingInputError(`${message} — no terminal to ask on`, 'pass --yes to confirm');
    const { input } = await import('@inquirer/prompts');
    return this.ask((context) => input({ message }, context));
  }
}
