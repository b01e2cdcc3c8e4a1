// One resources tick (host CPU total + per core, load, memory and swap, every real filesystem,
// disk and network rates, the application's CPU, RSS, threads, open files, uptime) read from /proc
// by our sampler, against systeminformation's equivalent calls (currentLoad, mem, fsSize,
// networkStats, disksIO, processLoad) on the same machine, with a real application process.
// Two figures per side: CPU time per tick (our process plus its children: si spawns commands), and
// the longest time the event loop was blocked during a tick (a setImmediate probe measures the
// gaps). The runs alternate ours and theirs; medians.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const SETTLE_SECONDS = Number(process.env.RESOURCES_CONSOLE_SETTLE_SECONDS ?? 60);
const MEASURE_SECONDS = Number(process.env.RESOURCES_CONSOLE_SECONDS ?? 60);

// Not imported from ../run.mjs: it is still evaluating (top-level await) when it loads this case.
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const CLK_TCK = 100;

/** CPU ms of this process and its waited-for children (si's commands). */
function cpuMs() {
  const u = process.cpuUsage();
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const children = ((Number(f[13]) + Number(f[14])) * 1000) / CLK_TCK; // cutime + cstime
  return (u.user + u.system) / 1000 + children;
}

/** Runs fn while a setImmediate chain records the longest gap between turns of the loop. */
async function longestBlock(fn) {
  let last = process.hrtime.bigint();
  let max = 0n;
  let running = true;
  const probe = () => {
    const now = process.hrtime.bigint();
    if (now - last > max) max = now - last;
    last = now;
    if (running) setImmediate(probe);
  };
  setImmediate(probe);
  await new Promise((r) => setImmediate(r));
  max = 0n;
  last = process.hrtime.bigint();
  await fn();
  const now = process.hrtime.bigint();
  if (now - last > max) max = now - last;
  running = false;
  return Number(max) / 1e6;
}

async function bundleServices(h) {
  const outDir = path.join(h.root, '.tmp', 'bench');
  mkdirSync(outDir, { recursive: true });
  const outfile = path.join(outDir, 'resources-services.mjs');
  await esbuild.build({
    stdin: {
      contents: `export { Sampler } from './services/sampler.ts';
                 export { ResourceMonitor } from './services/resource-monitor.ts';
                 export { AlertService } from './services/alerts.ts';
                 export { openStateDb } from './services/state-db.ts';
                 export { defaultConfig } from './services/config.ts';
                 export { sitePaths } from './services/site.ts';`,
      resolveDir: h.root,
      loader: 'ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    external: ['better-sqlite3', 'systeminformation'],
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return import(pathToFileURL(outfile).href);
}

export default {
  name: 'resources',
  description: 'one sampling tick: /proc (ours) vs systeminformation, CPU and event-loop block per tick',
  async run(h) {
    const svc = await bundleServices(h);
    const si = (await import('systeminformation')).default;
    const site = h.tmpDir();
    mkdirSync(path.join(site, 'backups'), { recursive: true });
    const name = 'candy_cadence_bench';
    // The application: a Node process titled with the pattern, holding memory, a pid file.
    const app = spawn(
      process.execPath,
      ['-e', 'const k = Buffer.alloc(64 << 20, 1); setInterval(() => k[0]++, 100)', name],
      {
        stdio: 'ignore',
      },
    );
    writeFileSync(path.join(site, 'candy_cadence.pid'), `${app.pid}\n`);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const config = svc.defaultConfig();
      config.app.processPattern = name;
      const paths = svc.sitePaths(site, config);

      // Ours: the sampler alone, and the whole monitor tick (sample + history + analysis + alerts).
      const sampler = new svc.Sampler({
        marks: [
          { label: 'site', path: site },
          { label: 'backups', path: paths.backups },
        ],
        app: { pidFile: paths.pidFile, pattern: name },
        measure: true,
      });
      const db = svc.openStateDb(path.join(site, 'state.db'));
      const monitor = new svc.ResourceMonitor({
        config,
        paths,
        db,
        alerts: new svc.AlertService(db, { cooldownSeconds: 300 }),
      });
      sampler.sample();
      monitor.tick();
      if (!sampler.sample().app.running) throw new Error('the bench application was not found');

      // Theirs: the calls a resources screen needs through systeminformation. currentLoad's first
      // call sleeps 500 ms: warm it up outside the measurement.
      const siTick = () =>
        Promise.all([
          si.currentLoad(),
          si.mem(),
          si.fsSize(),
          si.networkStats('*'),
          si.disksIO(),
          si.processLoad(name),
        ]);
      await siTick();

      const ours = { cpu: [], block: [], monitorCpu: [], monitorBlock: [] };
      const theirs = { cpu: [], block: [] };
      const sources = {};
      const rounds = 12;
      for (let r = 0; r < rounds; r++) {
        // 50 of our ticks per round (they are short), 2 of theirs; per-tick figures.
        for (let i = 0; i < 50; i++) {
          await new Promise((res) => setTimeout(res, 2));
          const c0 = cpuMs();
          const t0 = process.hrtime.bigint();
          const snap = sampler.sample();
          const wall = Number(process.hrtime.bigint() - t0) / 1e6;
          ours.cpu.push(cpuMs() - c0);
          ours.block.push(wall);
          for (const [k, v] of Object.entries(snap.costs)) (sources[k] ??= []).push(v);
          const m0 = cpuMs();
          const mt = process.hrtime.bigint();
          monitor.tick();
          ours.monitorBlock.push(Number(process.hrtime.bigint() - mt) / 1e6);
          ours.monitorCpu.push(cpuMs() - m0);
        }
        for (let i = 0; i < 2; i++) {
          const c0 = cpuMs();
          await siTick();
          await new Promise((res) => setTimeout(res, 20)); // let exited children be reaped into cutime
          theirs.cpu.push(cpuMs() - c0);
          theirs.block.push(await longestBlock(siTick));
        }
      }
      // The probe's own view of our tick, for a like-for-like block figure.
      const oursProbe = [];
      for (let i = 0; i < 30; i++) oursProbe.push(await longestBlock(async () => monitor.tick()));
      monitor.stop();
      sampler.close();
      db.close();

      const oursCpu = median(ours.monitorCpu);
      const theirCpu = median(theirs.cpu);
      h.compare({
        label: 'CPU per tick (ms; at 1 Hz = % of a core ÷ 10)',
        ours: oursCpu,
        theirs: theirCpu,
        theirsName: 'systeminformation',
        target: '≤ 2 ms',
      });
      h.compare({
        label: 'event loop blocked per tick (ms, probe)',
        ours: median(oursProbe),
        theirs: median(theirs.block),
        theirsName: 'systeminformation',
        target: '≤ 2 ms',
      });
      h.compare({
        label: 'event loop blocked, worst tick (ms, probe)',
        ours: Math.max(...oursProbe),
        theirs: Math.max(...theirs.block),
        theirsName: 'systeminformation',
      });
      h.figure({ label: 'sampler tick alone: CPU (ms)', value: median(ours.cpu), unit: 'ms' });
      h.figure({
        label: 'sampler tick alone: wall = loop block (ms)',
        value: median(ours.block),
        unit: 'ms',
      });
      h.figure({
        label: 'monitor tick: wall = loop block (ms)',
        value: median(ours.monitorBlock),
        unit: 'ms',
      });
      h.figure({ label: '1 Hz cost, ours (% of one core)', value: oursCpu / 10, unit: '%' });
      h.figure({ label: '1 Hz cost, systeminformation (% of one core)', value: theirCpu / 10, unit: '%' });
      for (const [k, v] of Object.entries(sources))
        h.figure({ label: `source ${k} (µs, median)`, value: median(v), unit: 'µs' });
    } finally {
      app.kill('SIGKILL');
    }
    if (h.has('tmux')) {
      const site = await demoSite(h);
      await consoleCost(h, site, { columns: 80, rows: 24, key: '2', label: 'console on screen 2, 80x24' });
      await consoleCost(h, site, { columns: 120, rows: 40, key: '2', label: 'console on screen 2, 120x40' });
      // The same console on another screen: what the shell and the background services cost alone.
      await consoleCost(h, site, { columns: 120, rows: 40, key: '6', label: 'console on screen 6, 120x40' });
      site.stop();
    }
  },
};

/** A demo site with its simulated application running. */
async function demoSite(h) {
  const home = h.tmpDir();
  const env = {
    ...process.env,
    CADENCE_OPS_STATE_DIR: path.join(home, 'state'),
    CADENCE_OPS_DATA_DIR: path.join(home, 'data'),
  };
  delete env.CI;
  const root = path.join(home, 'site');
  const built = await h.runCommand(h.node, [h.cli, 'demo', '--no-console', '--root', root], { env });
  if (built.code !== 0) throw new Error(`demo site: ${built.stderr}`);
  const sim = spawn(h.node, [h.cli, 'simulate', '--root', root], { env, stdio: 'ignore' });
  return { root, env, stop: () => sim.kill('SIGTERM') };
}

/**
 * The console at 1 Hz with the demo's simulated application running: CPU and RSS over a minute,
 * after a minute open (V8 compiles what a frame runs in the first minute; that is start-up, not
 * what a console left open costs). Started as users start it: the bundle through its #! line.
 */
async function consoleCost(h, site, { columns, rows, key, label }) {
  const socket = `cadence-bench-${process.pid}`;
  const tmux = (...args) => h.runCommand('tmux', ['-L', socket, ...args], { env: site.env });
  try {
    await tmux(
      'new-session',
      '-d',
      '-s',
      'console',
      '-x',
      String(columns),
      '-y',
      String(rows),
      `exec ${h.cli} --root ${site.root}`,
    );
    await new Promise((r) => setTimeout(r, 2000));
    await tmux('send-keys', '-t', 'console', key);
    const pid = Number((await tmux('list-panes', '-t', 'console', '-F', '#{pane_pid}')).stdout.trim());
    await new Promise((r) => setTimeout(r, SETTLE_SECONDS * 1000));
    const ticks = () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return Number(x[11]) + Number(x[12]);
    };
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))[1]) / 1024;
    const seconds = MEASURE_SECONDS;
    const t0 = ticks();
    const rssSamples = [];
    for (let i = 0; i < seconds; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      rssSamples.push(rss());
    }
    const cpuPercent = ((ticks() - t0) / CLK_TCK / seconds) * 100;
    h.figure({
      label: `${label}: CPU (% of a core)`,
      value: cpuPercent,
      unit: '%',
      target: key === '2' ? '≤ 1.5 % (btop 0.3, glances 1.0)' : undefined,
    });
    h.figure({
      label: `${label}: RSS (MB, max)`,
      value: Math.max(...rssSamples),
      unit: 'MB',
      target: key === '2' ? '≤ 130 MB' : undefined,
    });
  } finally {
    await tmux('kill-server');
  }
}
