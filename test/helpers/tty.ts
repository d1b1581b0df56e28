/** Runs a command in a real pseudo-terminal through tmux, to drive interactive prompts as a person would. */
import { execFileSync } from 'node:child_process';

export class TmuxSession {
  private readonly socket: string;
  private readonly name = 'main';

  constructor(command: string, env: Record<string, string>, cwd: string) {
    this.socket = `isync-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`);
    // env -u CI: the test runner's CI=true would (rightly) turn prompts off.
    const script = `cd ${shellQuote(cwd)} && env -u CI ${assignments.join(' ')} ${command}; echo "EXIT=$?"; sleep 120`;
    this.tmux(['new-session', '-d', '-s', this.name, '-x', '160', '-y', '40', script]);
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** The pane's text; with `escapes`, its colours and attributes too, as SGR sequences (capture-pane -e). */
  screen(opts: { escapes?: boolean } = {}): string {
    return this.tmux(['capture-pane', '-p', ...(opts.escapes ? ['-e'] : []), '-t', this.name, '-S', '-200']);
  }

  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  type(text: string): void {
    this.tmux(['send-keys', '-t', this.name, '-l', '--', text]);
  }

  /** tmux key names, e.g. C-c, C-d */
  keys(...names: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...names]);
  }

  enter(): void {
    this.tmux(['send-keys', '-t', this.name, 'Enter']);
  }

  async exitCode(timeoutMs = 30_000): Promise<number> {
    const screen = await this.waitFor(/EXIT=\d+/, timeoutMs);
    return Number(/EXIT=(\d+)/.exec(screen)![1]);
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {
      /* already gone */
    }
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
