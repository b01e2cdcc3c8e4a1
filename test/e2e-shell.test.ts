// The real binary in a real terminal (tmux): start the demo, visit every tab, help, resize, quit;
// and the ways a console ends: q, SIGTERM, SIGHUP, a crash. Each must give the terminal back.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEntryPath } from '../services/self-exec.js';
import { runCli } from './helpers/cli.js';
import { activeTab } from './helpers/shell.js';
import { tempDir, testEnv } from './helpers/temp-site.js';
import { hasTmux, TmuxSession } from './helpers/tmux.js';

const TITLES = ['Overview', 'Resources', 'Logs', 'Backups', 'Database', 'Bench'];

describe.runIf(hasTmux() || process.env.CI)('end to end under tmux', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let site: string;

  beforeAll(async () => {
    home = tempDir('cadence-e2e-');
    env = testEnv(home, { TERM: 'xterm-256color' });
    const built = await runCli(['demo', '--no-console'], { env, timeoutMs: 60_000 });
    expect(built.code, built.stderr).toBe(0);
    site = built.stdout.trim();
  }, 90_000);

  afterAll(() => {
    import('node:fs').then((fs) => fs.rmSync(home, { recursive: true, force: true }));
  });

  function start(
    name: string,
    columns: number,
    rows: number,
    args = 'demo',
    extraEnv: NodeJS.ProcessEnv = {},
  ): TmuxSession {
    const tmux = new TmuxSession(name, tempDir('cadence-tmux-'));
    const command = `clear; echo SHELL-BEFORE; ${process.execPath} ${cliEntryPath()} ${args}; echo "EXITED $?"; sleep 600`;
    tmux.start(command, columns, rows, { ...env, ...extraEnv });
    return tmux;
  }

  async function simulatorPid(): Promise<number> {
    const pidFile = path.join(site, 'candy_cadence.pid');
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    return Number(readFileSync(pidFile, 'utf8'));
  }

  /** The console of one session: titled "cadence-ops" (meow sets the title), marked in its environment. */
  function consolePidOf(mark: string): number {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
        if (cmdline.startsWith('cadence-ops') && environ.includes(`CADENCE_E2E_MARK=${mark}`))
          return Number(entry);
      } catch {}
    }
    throw new Error(`no console marked ${mark}`);
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function waitGone(pid: number): Promise<boolean> {
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    return !alive(pid);
  }

  for (const [columns, rows] of [
    [80, 24],
    [120, 40],
  ] as const) {
    it(`at ${columns}x${rows}: every tab, help, quit; the terminal comes back and the simulator stops`, async () => {
      const tmux = start(`tabs${columns}`, columns, rows);
      try {
        let pane = await tmux.waitFor(
          (p) => p.includes('1 Overview') && p.includes('app ● up'),
          15_000,
          'the console with the app up',
        );
        expect(pane).toContain('DEMO');
        expect(pane.trimEnd().split('\n').at(-1)).toContain('q quit');
        // With colour (the control for the NO_COLOR tests): the header and badges are coloured.
        expect(tmux.captureWithEscapes()).toMatch(/\x1b\[[0-9;]*(3[0-7]|9[0-7])[;m]/);
        const pid = await simulatorPid();
        expect(alive(pid)).toBe(true);
        for (const [i, title] of TITLES.entries()) {
          tmux.send(String(i + 1));
          pane = await tmux.waitFor((p) => activeTab(p) === `${i + 1} ${title}`, 5000, `screen ${i + 1}`);
        }
        tmux.send('?');
        pane = await tmux.waitFor((p) => p.includes('Help: 6 Bench'), 5000, 'help');
        tmux.send('Escape');
        await tmux.waitFor((p) => !p.includes('Help: 6 Bench'), 5000, 'help closed');
        tmux.send('Tab');
        await tmux.waitFor((p) => activeTab(p) === '1 Overview', 5000, 'Tab wraps to Overview');
        tmux.send('q');
        pane = await tmux.waitFor((p) => p.includes('EXITED 0'), 10_000, 'exit');
        expect(pane).toContain('SHELL-BEFORE');
        expect(pane).not.toContain('1 Overview');
        expect(await waitGone(pid)).toBe(true);
      } finally {
        tmux.kill();
      }
    }, 60_000);
  }

  for (const [how, args, extraEnv] of [
    ['NO_COLOR=1', `--root ${'$'}SITE`, { NO_COLOR: '1' }],
    ['--no-color', `--no-color --root ${'$'}SITE`, {}],
  ] as const) {
    it(`${how} gives a console without colour that still reads: tab, states and keys in words`, async () => {
      const tmux = start(`nocolor${how.length}`, 100, 30, args, { ...extraEnv, SITE: site });
      try {
        await tmux.waitFor((p) => p.includes('q quit') && p.includes('alerts'), 15_000, 'console');
        tmux.send('2');
        const pane = await tmux.waitFor(
          (p) => activeTab(p) === '2 Resources' && /● OK|▲ WARN|✖ CRIT/.test(p),
          10_000,
          'screen 2',
        );
        // No foreground or background colour anywhere (bold and inverse are not colours).
        expect(tmux.captureWithEscapes()).not.toMatch(
          /\x1b\[[0-9;]*(3[0-7]|9[0-7]|4[0-7]|10[0-7]|38;5|48;5)[;m]/,
        );
        expect(pane).toContain('[2 Resources]');
        tmux.send('q');
        await tmux.waitFor((p) => p.includes('EXITED 0'), 10_000, 'exit');
      } finally {
        tmux.kill();
      }
    }, 60_000);
  }

  it('redraws on resize and says when the terminal is too small', async () => {
    const tmux = start('resize', 100, 30);
    try {
      await tmux.waitFor((p) => p.includes('1 Overview'), 15_000, 'console');
      tmux.resize(70, 20);
      await tmux.waitFor((p) => p.includes('terminal too small (70x20): needs 80x24'), 5000, 'too small');
      tmux.resize(90, 26);
      const pane = await tmux.waitFor(
        (p) => p.includes('1 Overview') && !p.includes('too small'),
        5000,
        'back',
      );
      const lines = pane.split('\n');
      // Exactly one header and one tab bar: nothing stale left behind by the redraw.
      expect(lines.filter((l) => l.includes('1 Overview')).length).toBe(1);
      expect(lines.filter((l) => l.startsWith('cadence-ops')).length).toBe(1);
      tmux.send('q');
      await tmux.waitFor((p) => p.includes('EXITED 0'), 10_000, 'exit');
    } finally {
      tmux.kill();
    }
  }, 60_000);

  for (const [signal, code] of [
    ['TERM', 143],
    ['HUP', 129],
  ] as const) {
    it(`SIG${signal} restores the terminal and stops the simulator`, async () => {
      const tmux = start(`sig${signal}`, 100, 30, 'demo', { CADENCE_E2E_MARK: `sig${signal}` });
      try {
        await tmux.waitFor((p) => p.includes('app ● up'), 15_000, 'console');
        const pid = await simulatorPid();
        const consolePid = consolePidOf(`sig${signal}`);
        process.kill(consolePid, `SIG${signal}`);
        const pane = await tmux.waitFor((p) => p.includes(`EXITED ${code}`), 10_000, 'exit');
        expect(pane).toContain('SHELL-BEFORE');
        expect(pane).not.toContain('1 Overview');
        expect(await waitGone(pid)).toBe(true);
      } finally {
        tmux.kill();
      }
    }, 60_000);
  }

  it('a crash restores the terminal first, then prints the error', async () => {
    const crash = new TmuxSession('crash2', tempDir('cadence-tmux-'));
    crash.start(
      `clear; echo SHELL-BEFORE; ${process.execPath} ${cliEntryPath()} --root ${site}; echo "EXITED $?"; sleep 600`,
      100,
      30,
      { ...env, CADENCE_OPS_TEST_CRASH_AFTER_MS: '1500' },
    );
    try {
      await crash.waitFor((p) => p.includes('1 Overview'), 15_000, 'console');
      const pane = await crash.waitFor((p) => p.includes('EXITED 1'), 10_000, 'crash exit');
      expect(pane).toContain('SHELL-BEFORE');
      expect(pane).toContain('cadence-ops crashed: Error: test crash requested');
      expect(pane).not.toContain('1 Overview');
    } finally {
      crash.kill();
    }
  }, 60_000);
});
