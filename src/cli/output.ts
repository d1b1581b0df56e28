/**
 * stdout carries data, stderr carries talk (STYLE habit 5). With --json, stdout is exactly one JSON
 * document and errors are `{"error":{"code","message"}}` on stderr. Colour only on a terminal
 * without NO_COLOR/--no-color, decided for each stream on its own (`insomnia-sync log | less`
 * still colours its errors; chalk is loaded only then: see loadOutput); a spinner only on a
 * terminal, only for work over ~0.5 s, coloured only when stderr is. --quiet leaves errors only.
 */
import type { ChalkInstance } from 'chalk';
import type { Progress } from '../client/context.js';
import { shownLine, shownLines } from './shown-text.js';

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  /** colours for stdout, or null for plain text */
  chalk: ChalkInstance | null;
  /** colours for stderr, or null for plain text */
  errChalk: ChalkInstance | null;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

type Paint = (s: string) => string;

const plain: Paint = (s) => s;

// The only escape sequences a result of ours holds: chalk's at level 1 (bold, dim, red, green,
// yellow, and their ends).
// eslint-disable-next-line no-control-regex
const OWN_SGR = /(\u001b\[(?:1|2|22|31|32|33|39)m)/;

/**
 * Human text as it reaches the terminal: each command quotes the text from elsewhere it shows
 * (shown()), and this catches what it does not (a date or role a hostile server rewrote): any
 * control character but newline and tab, or bidirectional override, left is escaped where it
 * stands, this Output's own colours kept.
 */
function neutralized(text: string, painted: boolean): string {
  return painted ? text.split(OWN_SGR).map((part, i) => (i % 2 === 1 ? part : shownLines(part))).join('') : shownLines(text);
}

export function wantsColor(colorOption: unknown, env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  return colorOption !== false && !env.NO_COLOR && Boolean(stream.isTTY);
}

/** An Output, with chalk loaded only when there will be colour (scripts and pipes never pay for it). */
export async function loadOutput(
  opts: Omit<OutputOptions, 'chalk' | 'errChalk'> & { color: { stdout: boolean; stderr: boolean } },
): Promise<Output> {
  const chalk = opts.color.stdout || opts.color.stderr ? new (await import('chalk')).Chalk({ level: 1 }) : null;
  return new Output({
    json: opts.json,
    quiet: opts.quiet,
    chalk: opts.color.stdout ? chalk : null,
    errChalk: opts.color.stderr ? chalk : null,
    stdout: opts.stdout,
    stderr: opts.stderr,
  });
}

export class Output {
  readonly json: boolean;
  readonly quiet: boolean;
  private readonly chalk: ChalkInstance | null;
  private readonly errChalk: ChalkInstance | null;
  private readonly stdout: NodeJS.WriteStream;
  private readonly stderr: NodeJS.WriteStream;

  constructor(opts: OutputOptions) {
    this.json = opts.json;
    this.quiet = opts.quiet;
    this.chalk = opts.chalk;
    this.errChalk = opts.errChalk;
    this.stdout = opts.stdout;
    this.stderr = opts.stderr;
  }

  /* Paints for text on stdout: results. */
  get bold(): Paint {
    return this.chalk?.bold ?? plain;
  }
  get dim(): Paint {
    return this.chalk?.dim ?? plain;
  }
  get green(): Paint {
    return this.chalk?.green ?? plain;
  }
  get yellow(): Paint {
    return this.chalk?.yellow ?? plain;
  }
  get red(): Paint {
    return this.chalk?.red ?? plain;
  }

  /** The command's result: JSON document, or human lines on stdout (suppressed by --quiet). */
  result(data: unknown, human: () => string | string[]): void {
    if (this.json) {
      this.stdout.write(JSON.stringify(data, null, 2) + '\n');
      return;
    }
    if (this.quiet) return;
    const text = human();
    const lines = Array.isArray(text) ? text : [text];
    if (lines.length) this.stdout.write(neutralized(lines.join('\n'), this.chalk !== null) + '\n');
  }

  /**
   * A result shown only once (a new token, a recovery key): written as `result` writes it, and
   * resolved with whether standard output took all of it. A reader that closed the pipe first
   * (`token create | true`) makes it false: the caller then undoes what it made, as nobody holds
   * the secret. A reader that exits after the bytes reached the pipe cannot be told apart.
   */
  resultDelivered(data: unknown, human: () => string | string[]): Promise<boolean> {
    const text = this.json ? JSON.stringify(data, null, 2) + '\n' : `${([] as string[]).concat(human()).join('\n')}\n`;
    return new Promise((resolve) => {
      this.stdout.write(text, (err) => resolve(!err));
    });
  }

  /** Talk: hints, warnings. Never with --json or --quiet. */
  note(message: string): void {
    if (this.json || this.quiet) return;
    this.stderr.write(shownLine(message) + '\n');
  }

  /** A warning on stderr; not with --json (stderr holds only an error there) nor --quiet (errors only). */
  warn(message: string): void {
    if (this.json || this.quiet) return;
    this.stderr.write((this.errChalk?.yellow ?? plain)('warning: ') + shownLine(message) + '\n');
  }

  /** `lines`: more lines under the message in human output only (--json has `details`) */
  error(code: string, message: string, hint?: string, details?: unknown, lines?: readonly string[]): void {
    if (this.json) {
      this.stderr.write(JSON.stringify({ error: { code, message, ...(details !== undefined ? { details } : {}) } }) + '\n');
      return;
    }
    // an error may quote a server's message or name a team: one line each, driving nothing
    this.stderr.write((this.errChalk?.red ?? plain)('error: ') + shownLine(message) + '\n');
    if (lines?.length) this.stderr.write(lines.map((l) => `${shownLine(l)}\n`).join(''));
    if (hint) this.stderr.write((this.errChalk?.dim ?? plain)(`hint: ${shownLine(hint)}`) + '\n');
  }

  progress(): Progress {
    if (this.json || this.quiet || !this.stderr.isTTY) return { start() {}, update() {}, stop() {} };
    // coloured as the rest of stderr is: not with NO_COLOR or --no-color (ora would paint it cyan)
    return new Spinner(this.stderr, this.errChalk !== null);
  }
}

/** ora, loaded only when work lasts long enough to show it. */
class Spinner implements Progress {
  private text = '';
  private timer: NodeJS.Timeout | null = null;
  private spinner: { text: string; stop(): void } | null = null;
  private stopped = false;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly color: boolean,
  ) {}

  // the text may name a workspace (`Exporting workspace NAME`): escaped, as every line of talk is
  start(text: string): void {
    this.text = shownLine(text);
    this.stopped = false;
    if (this.timer || this.spinner) return this.update(text);
    this.timer = setTimeout(() => {
      void import('ora').then(({ default: ora }) => {
        if (this.stopped) return;
        this.spinner = ora({ text: this.text, stream: this.stream, color: this.color ? 'cyan' : false }).start();
      });
    }, 500);
    this.timer.unref();
  }

  update(text: string): void {
    this.text = shownLine(text);
    if (this.spinner) this.spinner.text = this.text;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.spinner?.stop();
    this.spinner = null;
  }
}
