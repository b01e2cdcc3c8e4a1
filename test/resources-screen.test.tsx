// Screen 2 in the real shell (ink-testing-library), fed by a resource monitor reading a captured
// /proc snapshot with a controlled clock: layout at 80x24 and larger, keys, pause, interval, charts,
// and the application-gone, stale-pid-file and n/a cases.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { SCREENS } from '../screens/index.js';
import { AlertService } from '../services/alerts.js';
import { silentLogger } from '../services/logger.js';
import { ResourceMonitor } from '../services/resource-monitor.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { createStore, ServiceRegistry } from '../services/store.js';
import { App, type ShellContext, type TerminalSize } from '../source/shell/app.js';
import { siteContextFor } from '../source/site-context.js';
import { advanceProcRoot, bindToSite, copyProcRoot } from './helpers/proc-root.js';
import { KEYS, tick } from './helpers/shell.js';
import { tempDir, testEnv } from './helpers/temp-site.js';

const T0 = Date.parse('2026-11-23T08:00:00Z');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Setup {
  frame(): string;
  press(...keys: string[]): Promise<string>;
  /** Moves the clock and the /proc snapshot one tick on, and lets the screen redraw. */
  step(snapshot?: 'host-t0' | 'host-t1'): Promise<string>;
  monitor: ResourceMonitor;
  proc: string;
  site: string;
  flashes: string[];
}

async function setup(
  opts: { columns?: number; rows?: number; pidFile?: string | null } = {},
): Promise<Setup> {
  const home = tempDir('cadence-rscreen-');
  const site = path.join(home, 'site');
  mkdirSync(site, { recursive: true });
  const proc = copyProcRoot('host-t0', path.join(home, 'proc'));
  bindToSite(proc, 12664, site);
  if (opts.pidFile !== undefined && opts.pidFile !== null)
    writeFileSync(path.join(site, 'candy_cadence.pid'), opts.pidFile);
  const env = testEnv(home);
  const siteCtx = siteContextFor(site, null, env);
  const db: StateDb = openStateDb(siteCtx.stateDbPath);
  let now = T0;
  const services = new ServiceRegistry();
  const monitor = new ResourceMonitor({
    config: siteCtx.loaded.config,
    paths: siteCtx.paths,
    db,
    alerts: new AlertService(db, { cooldownSeconds: 300, now: () => now }),
    now: () => now,
    sampler: {
      procRoot: proc,
      sysRoot: path.join(home, 'no-sys'),
      selfPid: 1,
      statfs: () => ({
        bsize: 4096,
        blocks: 10_000_000,
        bfree: 2_000_000,
        bavail: 1_500_000,
        files: 0,
        ffree: 0,
      }),
    },
  });
  // The shell asks the registry for 'resources': it gets this fed monitor, not a live one.
  services.get('resources', () => monitor);
  const context: ShellContext = {
    site: siteCtx,
    config: siteCtx.loaded.config,
    readOnly: false,
    color: false,
    demo: false,
    log: silentLogger(),
    stateDb: () => db,
    services,
  };
  const size = createStore<TerminalSize>({ columns: opts.columns ?? 80, rows: opts.rows ?? 24 });
  monitor.tick();
  now += 1000;
  const rendered = render(<App context={context} screens={SCREENS} size={size} initialScreen="resources" />);
  cleanups.push(async () => {
    rendered.unmount();
    await services.disposeAll();
    monitor.stop();
    db.close();
    rmSync(home, { recursive: true, force: true });
  });
  const flashes: string[] = [];
  const frame = () => rendered.lastFrame() ?? '';
  await tick(50);
  return {
    frame,
    monitor,
    proc,
    site,
    flashes,
    async press(...keys) {
      for (const key of keys) {
        rendered.stdin.write(key);
        await tick();
      }
      await tick();
      return frame();
    },
    async step(snapshot) {
      if (snapshot) advanceProcRoot(snapshot, proc);
      monitor.tick();
      now += 1000;
      await tick(40);
      return frame();
    },
  };
}

const lines = (frame: string) => frame.split('\n');
const widest = (frame: string) => Math.max(...lines(frame).map((l) => [...l.trimEnd()].length));

describe('resources screen', () => {
  it('at 80x24 shows CPU, cores, load, memory, filesystems, disks, the application and its leak check, within 80 columns', async () => {
    const s = await setup({ pidFile: null });
    const frame = await s.step('host-t1');
    expect(widest(frame)).toBeLessThanOrEqual(80);
    expect(lines(frame).length).toBeLessThanOrEqual(24);
    expect(frame).toMatch(/^CPU +36\.6 % /m); // (107 busy of 292 ticks), as the fixture says
    expect(frame).toMatch(/cpu0 .*42%/);
    expect(frame).toMatch(/cpu1 .*32%/);
    expect(frame).toMatch(/^load {2,}/m);
    expect(frame).toMatch(/^memory +\d+\.\d %/m);
    expect(frame).toMatch(/^\/ \[site, backups\] +ext4/m);
    expect(frame).toMatch(/^disk vda +\d/m);
    // The application, found by pattern (no pid file): pid 12664 of the capture.
    expect(frame).toMatch(/^app +● up .* pid 12664 \(pattern\)/m);
    expect(frame).toMatch(/^ {2}app RSS +112 MB ● OK/m);
    expect(frame).toContain('leak check needs 10 readings');
    expect(frame).toContain('Enter chart');
    expect(frame).toContain('Space pause');
  });

  it('Enter opens the chart of the selected line, t changes the range, Esc comes back', async () => {
    const s = await setup();
    await s.step('host-t1');
    let frame = await s.press(KEYS.enter);
    expect(frame).toContain('CPU  last hour');
    expect(frame).toMatch(/100\.0 %│/);
    expect(frame).toMatch(/-1h +now/);
    frame = await s.press('t');
    expect(frame).toContain('last 24 hours');
    frame = await s.press('t');
    expect(frame).toContain('last 30 days');
    frame = await s.press(KEYS.escape);
    expect(frame).toMatch(/^CPU +\d/m);
    // Down to the memory line (CPU, cores, load, memory) and open it: memory used and available.
    frame = await s.press(KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
    expect(frame).toContain('memory used · memory available');
  });

  it('Space freezes the display while sampling goes on; + and - change the interval', async () => {
    const s = await setup();
    await s.step('host-t1');
    let frame = await s.press(' ');
    expect(frame).toContain('PAUSED');
    const frozenClock = /· (\d\d:\d\d:\d\d)/.exec(frame)![1];
    const ticksBefore = s.monitor.store.get().ticks;
    frame = await s.step();
    expect(s.monitor.store.get().ticks).toBe(ticksBefore + 1);
    expect(/· (\d\d:\d\d:\d\d)/.exec(frame)![1]).toBe(frozenClock);
    frame = await s.press(' ');
    expect(frame).not.toContain('PAUSED');
    frame = await s.press('+');
    expect(s.monitor.getIntervalMs()).toBe(2000);
    expect(frame).toContain('sampling every 2 s');
    await s.press('-', '-');
    expect(s.monitor.getIntervalMs()).toBe(500);
    expect(s.monitor.store.get().intervalMs).toBe(500);
  });

  it('keys that arrive in one read (typed fast, over SSH) are each handled', async () => {
    const s = await setup();
    await s.press('++-');
    expect(s.monitor.getIntervalMs()).toBe(2000);
    const frame = await s.press('3');
    expect(frame).toContain('Logs');
  });

  it('the application gone and a stale pid file are said plainly, with since when', async () => {
    const s = await setup({ pidFile: '999999\n' });
    let frame = await s.step('host-t1');
    expect(frame).toMatch(/pid 12664 \(pattern\)/);
    expect(frame).toContain('▲ stale pid file: pid file names 999999, which is not running');
    rmSync(path.join(s.proc, '12664'), { recursive: true });
    frame = await s.step();
    expect(frame).toMatch(/^app +✖ not running since \d\d:\d\d:\d\d \(0s ago\)/m);
    expect(frame).toContain('stale pid file');
    // Its alert, raised by the resources monitor, shows at the bottom; select it and acknowledge it.
    expect(frame).toMatch(/▲ application not running since 2026-11-23 08:00:0\d UTC/);
    frame = await s.press('G', 'a');
    expect(frame).toContain('alert acknowledged');
    frame = await s.step();
    expect(frame).toMatch(/application not running since .* UTC · ack · first/);
  });

  it('a /proc file that cannot be read shows n/a with the reason, and Enter shows it in full', async () => {
    const s = await setup();
    // In place: the sampler keeps /proc files open, as it does on the real /proc.
    advanceProcRoot('host-t1', s.proc);
    writeFileSync(path.join(s.proc, 'meminfo'), 'garbage\n');
    let frame = await s.step();
    expect(frame).toMatch(/^memory +n\/a: \/proc\/meminfo: no MemTotal\/MemFree/m);
    frame = await s.press(KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
    expect(frame).toContain('/proc/meminfo: no MemTotal/MemFree');
    expect(frame).toContain('Esc back');
  });

  it('larger terminals get wider sparklines and bars, still within the width', async () => {
    const s = await setup({ columns: 100, rows: 40 });
    const frame = await s.step('host-t1');
    expect(widest(frame)).toBeLessThanOrEqual(100);
    expect(frame).toMatch(/cpu0 /);
    const small = await setup({ columns: 80, rows: 24 });
    const smallFrame = await small.step('host-t1');
    // The sparkline sits between the level and the details: wider terminal, later details.
    const detailsAt = (f: string) =>
      lines(f)
        .find((l) => l.startsWith('CPU'))!
        .indexOf('usr');
    expect(detailsAt(frame)).toBeGreaterThan(detailsAt(smallFrame));
  });
});
