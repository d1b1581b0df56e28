/**
 * Where secrets and confirmations come from (SPEC §4): never argv. A password comes from
 * --password-stdin (first line of stdin), else INSOMNIA_SYNC_PASSWORD, else a hidden prompt on a
 * terminal; with none of them, a MissingInputError (exit 2) names the flag and the variable.
 * `account password` takes the variable first (the current password), stdin then gives the new one.
 * With no terminal (or CI=true) nothing ever prompts.
 */
import { StringDecoder } from 'node:string_decoder';
import type { PasswordOptions, Prompter } from '../client/context.js';
import { CancelledError, MissingInputError, UsageError } from '../client/errors.js';
import { shownLine } from './shown-text.js';

/** What @inquirer/core throws when a prompt ends without an answer (Ctrl-C, an abort, a cancel). */
const PROMPT_ENDED = new Set(['ExitPromptError', 'AbortPromptError', 'CancelPromptError']);

/** How often a terminal is asked again when the repeated password differs. */
const MISMATCH_ROUNDS = 3;

type PromptContext = { output: NodeJS.WriteStream; signal: AbortSignal };

export interface PrompterOptions {
  passwordStdin: boolean;
  yes: boolean;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
  /** the command's cancellation, once it has one (a SIGTERM while a question waits ends it) */
  signal?: () => AbortSignal | undefined;
}

export class CliPrompter implements Prompter {
  private stdinBuffer = '';
  private stdinEnded = false;
  private stdinLinesAsked = 0;
  private readonly stdinDecoder = new StringDecoder('utf8');

  constructor(private readonly opts: PrompterOptions) {}

  get interactive(): boolean {
    return Boolean(this.opts.stdin.isTTY) && this.opts.env.CI !== 'true' && !this.opts.passwordStdin;
  }

  /** On a terminal, --password-stdin would echo the password and wait for Ctrl-D: refuse it. */
  private refusePasswordStdinOnTerminal(): void {
    if (this.opts.passwordStdin && this.opts.stdin.isTTY) {
      throw new UsageError('--password-stdin reads from a pipe; leave it out to be asked on the terminal');
    }
  }

  /**
   * The next line of standard input, or undefined at its end. Reads only as far as that line;
   * between lines stdin is unref'd, so `{ echo pw; sleep 10; } | insomnia-sync login …` goes on
   * at once and an open pipe does not keep the process alive.
   */
  private async stdinLine(): Promise<string | undefined> {
    // a pipe or socket has ref/unref; a file (`< pw.txt`) is read to its end anyway
    const stdin = this.opts.stdin as NodeJS.ReadStream & { ref?: () => void; unref?: () => void };
    stdin.ref?.();
    try {
      for (;;) {
        const nl = this.stdinBuffer.indexOf('\n');
        if (nl >= 0) {
          const line = this.stdinBuffer.slice(0, nl);
          this.stdinBuffer = this.stdinBuffer.slice(nl + 1);
          return line.replace(/\r$/, '');
        }
        if (this.stdinEnded) {
          const last = this.stdinBuffer;
          this.stdinBuffer = '';
          return last === '' ? undefined : last.replace(/\r$/, '');
        }
        const chunk = await readChunk(stdin);
        if (chunk === null) {
          this.stdinEnded = true;
          this.stdinBuffer += this.stdinDecoder.end();
        } else this.stdinBuffer += this.stdinDecoder.write(chunk);
      }
    } finally {
      stdin.unref?.();
    }
  }

  async password(message: string, opts: PasswordOptions = {}): Promise<string> {
    this.refusePasswordStdinOnTerminal();
    const fromEnv = opts.fromEnv === false ? undefined : this.opts.env.INSOMNIA_SYNC_PASSWORD;
    if (fromEnv && opts.envFirst) return fromEnv;
    if (this.opts.passwordStdin) {
      const n = ++this.stdinLinesAsked;
      const line = await this.stdinLine();
      if (line === undefined || line === '') {
        // name the line: `account password` reads the current password on line 1, the new one on line 2
        const what = message.replace(/^choose an? /i, '').toLowerCase();
        throw new MissingInputError(`--password-stdin was given but standard input has no ${what} on line ${n}`);
      }
      return line;
    }
    if (fromEnv) return fromEnv;
    if (!this.interactive) {
      const env = opts.fromEnv === false ? opts.otherEnv : 'INSOMNIA_SYNC_PASSWORD';
      const ways = opts.noInputHint ?? (env === undefined ? 'pipe it with --password-stdin' : `pipe it with --password-stdin, or set ${env}`);
      throw new MissingInputError(`${message.toLowerCase()}: ${this.whyNoPrompt()}`, this.promptsOffInCi() ? `${ways}; or unset CI to be asked here` : ways);
    }
    // "Repeat the passphrase" after "Passphrase for …": one word for one secret
    const noun = /passphrase/i.test(message) ? 'passphrase' : 'password';
    // An empty or short entry, or one that must differ from another and does not, is refused on
    // the spot and asked again, not after the repeat.
    const min = opts.minLength ?? 1;
    const validate = (value: string): string | true =>
      value.length === 0
        ? 'Type it, or Ctrl-C to cancel'
        : value.length < min
          ? `At least ${min} characters`
          : opts.differentFrom !== undefined && value === opts.differentFrom.value
            ? `That is your ${opts.differentFrom.what}: choose another`
            : true;
    for (let round = 1; ; round++) {
      const first = await this.hidden(message, validate);
      if (!opts.confirm) return first;
      const again = await this.hidden(`Repeat the ${noun}`);
      if (again === first) return first;
      // a typo in either entry: start over, a few times, rather than end the command
      if (round === MISMATCH_ROUNDS) throw new UsageError(`the two ${noun}s differ`);
      this.opts.stderr.write(`The two ${noun}s differ; choose it again.\n`);
    }
  }

  /**
   * One hidden entry. Ctrl+T shows what is typed; on Enter the prompt is drawn again masked, but
   * a prompt that ends any other way (Ctrl-C, Ctrl-D, a signal) would stay as last drawn: its
   * lines are erased then, so a shown password never stays on the screen or in the scrollback.
   */
  private async hidden(message: string, validate: (value: string) => string | true = () => true): Promise<string> {
    const { password } = await import('@inquirer/prompts');
    let submitted = false;
    const check = (value: string): string | true => {
      const verdict = validate(value);
      // the password prompt settles with the answer right after a passing validate
      if (verdict === true) submitted = true;
      return verdict;
    };
    return this.ask((context) =>
      password(
        { message, validate: check },
        {
          ...context,
          // read by @inquirer/core as the prompt ends, after the key that ended it
          get clearPromptOnDone() {
            return !submitted;
          },
        },
      ),
    );
  }

  /** CI=true on a terminal: prompts are off on purpose, not for want of a terminal. */
  private promptsOffInCi(): boolean {
    return Boolean(this.opts.stdin.isTTY) && this.opts.env.CI === 'true' && !this.opts.passwordStdin;
  }

  private whyNoPrompt(): string {
    return this.promptsOffInCi() ? 'CI=true turns prompts off' : 'no terminal to ask on';
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
    const command = this.opts.signal?.();
    try {
      return await prompt({ output: this.opts.stderr, signal: command ? AbortSignal.any([controller.signal, command]) : controller.signal });
    } catch (err) {
      if (err instanceof Error && PROMPT_ENDED.has(err.name)) throw new CancelledError('cancelled');
      throw err;
    } finally {
      stdin.off('keypress', onKeypress);
    }
  }

  async confirm(message: string, opts: { noInputHint?: string } = {}): Promise<boolean> {
    if (this.opts.yes) return true;
    this.refusePasswordStdinOnTerminal();
    if (!this.interactive || this.opts.passwordStdin) {
      throw new MissingInputError(`${message} — ${this.whyNoPrompt()}`, opts.noInputHint ?? 'pass --yes to confirm');
    }
    const { confirm } = await import('@inquirer/prompts');
    // the question may name a team or workspace a server or teammate chose: escaped, never obeyed
    return this.ask((context) => confirm({ message: shownLine(message), default: false }, context));
  }

  async text(message: string): Promise<string> {
    this.refusePasswordStdinOnTerminal();
    if (!this.interactive) throw new MissingInputError(`${message} — ${this.whyNoPrompt()}`, 'pass --yes to confirm');
    const { input } = await import('@inquirer/prompts');
    return this.ask((context) => input({ message }, context));
  }
}

/** One chunk of a readable stream, or null at its end; reads nothing more than that chunk. */
function readChunk(stream: NodeJS.ReadableStream & { readableEnded?: boolean }): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const ready = stream.read() as Buffer | string | null;
    if (ready !== null) return resolve(Buffer.from(ready));
    if (stream.readableEnded) return resolve(null);
    const settle = (chunk: Buffer | null, err?: Error): void => {
      stream.off('readable', onReadable).off('end', onEnd).off('error', onError);
      if (err) reject(err);
      else resolve(chunk);
    };
    const onReadable = (): void => {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk !== null) settle(Buffer.from(chunk));
    };
    const onEnd = (): void => settle(null);
    const onError = (err: Error): void => settle(null, err);
    stream.on('readable', onReadable).on('end', onEnd).on('error', onError);
  });
}
