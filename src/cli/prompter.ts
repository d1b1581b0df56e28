/**
 * Where secrets and confirmations come from (SPEC §4): never argv. A password comes from
 * --password-stdin (first line of stdin), else INSOMNIA_SYNC_PASSWORD, else a hidden prompt on a
 * terminal; with none of them, a MissingInputError (exit 2) names the flag and the variable.
 * With no terminal (or CI=true) nothing ever prompts.
 */
import type { Prompter } from '../client/context.js';
import { MissingInputError, UsageError } from '../client/errors.js';

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
    const context = { output: this.opts.stderr };
    const first = await password({ message }, context);
    if (opts.confirm) {
      const again = await password({ message: 'Repeat the password' }, context);
      if (again !== first) throw new UsageError('the two passwords differ');
    }
    return first;
  }

  async confirm(message: string): Promise<boolean> {
    if (this.opts.yes) return true;
    if (!this.interactive || this.opts.passwordStdin) {
      throw new MissingInputError(`${message} — no terminal to ask on`, 'pass --yes to confirm');
    }
    const { confirm } = await import('@inquirer/prompts');
    return confirm({ message, default: false }, { output: this.opts.stderr });
  }

  async text(message: string): Promise<string> {
    if (!this.interactive) throw new MissingInputError(`${message} — no terminal to ask on`, 'pass --yes to confirm');
    const { input } = await import('@inquirer/prompts');
    return input({ message }, { output: this.opts.stderr });
  }
}
