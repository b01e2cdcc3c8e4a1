// Drives the real binary in a real terminal: tmux on a private socket, keys in, pane text out.
import { execFileSync, spawnSync } from 'node:child_process';

export function hasTmux(): boolean {
  return spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
}

export class TmuxSession {
  private readonly socket: string;

  constructor(
    readonly name: string,
    socketDir: string,
  ) {
    this.socket = `${socketDir}/tmux.sock`;
  }

  private tmux(args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Starts `command` (a shell string) in a detached session of the given size. */
  start(command: string, columns: number, rows: number, env: NodeJS.ProcessEnv): void {
    execFileSync(
      'tmux',
      [
        '-S',
        this.socket,
        '-f',
        '/dev/null',
        'new-session',
        '-d',
        '-s',
        this.name,
        '-x',
        String(columns),
        '-y',
        String(rows),
        command,
      ],
      {
        env,
      },
    );
  }

  send(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  /** The pane with its escape sequences (colours, bold, inverse), as `capture-pane -e` gives them. */
  captureWithEscapes(): string {
    return this.tmux(['capture-pane', '-e', '-p', '-t', this.name]);
  }

  capture(): string {
    return this.tmux(['capture-pane', '-p', '-t', this.name]);
  }

  resize(columns: number, rows: number): void {
    this.tmux(['resize-window', '-t', this.name, '-x', String(columns), '-y', String(rows)]);
  }

  /** Polls the pane until `predicate` holds; returns the pane text, or throws with the last pane. */
  async waitFor(
    predicate: (pane: string) => boolean,
    timeoutMs = 10_000,
    what = 'condition',
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let pane = '';
    while (Date.now() < deadline) {
      pane = this.capture();
      if (predicate(pane)) return pane;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`timed out waiting for ${what}; pane was:\n${pane}`);
  }

  kill(): void {
    try {
      this.tmux(['kill-server']);
    } catch {}
  }
}
