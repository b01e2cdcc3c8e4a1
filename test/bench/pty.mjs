// Runs a full-screen program in a pseudo-terminal (util-linux `script`) of a given size and
// watches what it writes, for start-up and idle measurements of terminal programs.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Starts `command` (a shell string) in a pty of columns x rows. */
export function startInPty(command, { columns = 120, rows = 40, env = process.env } = {}) {
  const started = process.hrtime.bigint();
  const child = spawn(
    'script',
    ['-qfec', `stty cols ${columns} rows ${rows}; exec ${command}`, '/dev/null'],
    {
      env: { ...env, TERM: 'xterm-256color' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const state = { bytes: 0, text: '', events: [] };
  const decoder = new StringDecoder('utf8');
  child.stdout.on('data', (d) => {
    state.bytes += d.length;
    state.text += decoder.write(d);
    if (state.text.length > 1 << 20) state.text = state.text.slice(-(1 << 19));
    state.events.push({ at: Number(process.hrtime.bigint() - started) / 1e6, bytes: d.length });
  });
  return {
    child,
    state,
    /** ms since start at which `needle` first appeared in the output, polling every 2 ms. */
    async waitFor(needle, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (state.text.includes(needle)) return Number(process.hrtime.bigint() - started) / 1e6;
        await new Promise((r) => setTimeout(r, 2));
      }
      throw new Error(`"${needle}" never appeared`);
    },
    /** The pid of the program itself (script's child, after `exec`). */
    programPid() {
      const out = execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
        .trim()
        .split('\n')[0];
      return Number(out);
    },
    write(keys) {
      child.stdin.write(keys);
    },
    async stop(keys = 'q') {
      child.stdin.write(keys);
      await new Promise((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
        child.on('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
export function processUsage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMb: rssKb / 1024 };
}
