// logs: `logs analyze` over a generated Candy-Cadence log vs `grep -c ' - ERROR - '`; the live
// latency from a line's append to its arrival from `logs tail --json` (vs `tail -F`) at 1,000 lines/s;
// the RSS of `logs tail --json` under a flood of 5,000 lines/s with rotation.
// Sizes: LOGS_BENCH_MB (default 1024), LOGS_LATENCY_SECONDS (10), LOGS_FLOOD_SECONDS (60; the
// target names 600), LOGS_CONSOLE_FLOOD_SECONDS (60; the target names 600). LOGS_BENCH_PARTS picks
// parts: a comma list of analyze, latency, flood, console (default all). The analyze part also times
// --all-levels (every record mined, not only WARNING and above) against the same grep.
// The console is started as users start it: the executable bundle itself, so the node flags of its
// shebang apply (`node dist/cadence-ops.js` would run without them).
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const MB = Number(process.env.LOGS_BENCH_MB ?? 1024);
const LATENCY_SECONDS = Number(process.env.LOGS_LATENCY_SECONDS ?? 10);
const FLOOD_SECONDS = Number(process.env.LOGS_FLOOD_SECONDS ?? 60);
const CONSOLE_SECONDS = Number(process.env.LOGS_CONSOLE_FLOOD_SECONDS ?? 60);
const PARTS = new Set((process.env.LOGS_BENCH_PARTS ?? 'analyze,latency,flood,console').split(','));

async function loadGenerator(h, dir) {
  const esbuild = await import(pathToFileURL(path.join(h.root, 'node_modules/esbuild/lib/main.js')).href);
  const out = path.join(dir, 'demo-log-lines.mjs');
  await esbuild.build({
    entryPoints: [path.join(h.root, 'services/demo-log-lines.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  return import(pathToFileURL(out).href);
}

function generate(gen, file, bytes) {
  const r = gen.rng(11);
  const fd = openSync(file, 'w');
  let t = Date.now() - 48 * 3600_000;
  let written = 0;
  let parts = [];
  let size = 0;
  while (written < bytes) {
    const s = `${gen.formatRecord(gen.randomRecord(r, t))}\n`;
    t += 25;
    parts.push(s);
    size += s.length;
    if (size > 8_000_000) {
      const b = Buffer.from(parts.join(''));
      writeSync(fd, b);
      written += b.length;
      parts = [];
      size = 0;
    }
  }
  closeSync(fd);
}

const median = (xs) => quantile(xs, 0.5);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** Starts a follower, writes `rate` lines/s for `seconds` from a child process, returns latencies (ms). */
async function latencyRun(h, { command, args, file, rate, seconds, json, rotateBytes = 0, onRss }) {
  const follower = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const latencies = [];
  let buf = '';
  let received = 0;
  follower.stdout.on('data', (d) => {
    const now = performance.timeOrigin + performance.now();
    buf += d;
    let nl = buf.indexOf('\n');
    while (nl >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /probe (\d+\.\d+)/.exec(line);
      if (m) {
        received++;
        latencies.push(now - Number(m[1]));
      }
      nl = buf.indexOf('\n');
    }
  });
  if (json)
    await new Promise((resolve) =>
      follower.stderr.on('data', (d) => String(d).includes('ready') && resolve()),
    );
  else await new Promise((r) => setTimeout(r, 500));
  const writerSrc = `
    const fs = require('node:fs');
    const { performance } = require('node:perf_hooks');
    const file = ${JSON.stringify(file)}; const rate = ${rate}; const seconds = ${seconds}; const rotateBytes = ${rotateBytes};
    let fd = fs.openSync(file, 'a'); let size = fs.statSync(file).size; let n = 0; let rot = 0;
    const start = performance.now();
    const pad = ' payload '.repeat(12);
    const tick = () => {
      const due = Math.min(rate * seconds, Math.floor(((performance.now() - start) / 1000) * rate));
      while (n < due) {
        n++;
        const t = (performance.timeOrigin + performance.now()).toFixed(3);
        const d = new Date();
        const line = d.toISOString().replace('T', ' ').replace('Z', '').replace('.', ',') + ' - bench.writer - INFO - probe ' + t + pad + '\\n';
        fs.writeSync(fd, line); size += line.length;
        if (rotateBytes && size > rotateBytes) { fs.closeSync(fd); fs.renameSync(file, file + '.' + (++rot % 3 + 1)); fd = fs.openSync(file, 'a'); size = 0; }
      }
      if (n < rate * seconds) setTimeout(tick, 1); else { fs.closeSync(fd); process.stdout.write(String(n)); }
    };
    tick();`;
  const rssSamples = [];
  const rssTimer = onRss
    ? setInterval(() => {
        try {
          const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${follower.pid}/status`, 'utf8'));
          if (m) rssSamples.push(Number(m[1]) / 1024);
        } catch {}
      }, 1000)
    : null;
  const w = await h.runCommand(process.execPath, ['-e', writerSrc]);
  const total = Number(w.stdout);
  const deadline = Date.now() + 5000;
  while (received < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (rssTimer) clearInterval(rssTimer);
  follower.kill('SIGTERM');
  await new Promise((r) => follower.once('exit', r));
  return { latencies, total, received, rss: rssSamples };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid, field = 'VmRSS') {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * The console itself on the Logs screen, in tmux, while 5,000 lines/s (a mix of levels and
 * templates, rotated every 20 MB) go into its site's log: its RSS, and how long a key takes to show.
 */
export async function consoleFlood(h, dir) {
  if (!h.has('tmux')) return null;
  const root = path.join(dir, 'flood-site');
  mkdirSync(path.join(root, 'logs'), { recursive: true });
  writeFileSync(path.join(root, 'config.json'), '{}');
  for (const f of ['candy_cadence.log', 'error.log', 'performance.log', 'database.log', 'parser.log'])
    writeFileSync(path.join(root, 'logs', f), '');
  const sock = path.join(dir, 'tmux.sock');
  const tmux = (...args) => h.runCommand('tmux', ['-S', sock, ...args]);
  const env = {
    ...process.env,
    CADENCE_OPS_STATE_DIR: path.join(dir, 'state'),
    TERM: 'xterm-256color',
    // The shebang's `env -S node` finds the node that runs the bench.
    PATH: `${path.dirname(h.node)}:${process.env.PATH}`,
  };
  delete env.CI;
  await h.runCommand(
    'tmux',
    [
      '-S',
      sock,
      '-f',
      '/dev/null',
      'new-session',
      '-d',
      '-s',
      'flood',
      '-x',
      '120',
      '-y',
      '40',
      `exec ${h.cli} --root ${root}`,
    ],
    { env },
  );
  await sleep(2500);
  const pid = Number((await tmux('list-panes', '-t', 'flood', '-F', '#{pane_pid}')).stdout.trim());
  // Everything the console writes to its terminal (e.g. with NODE_OPTIONS=--trace-gc), for diagnosis.
  if (process.env.LOGS_CONSOLE_PIPE)
    await tmux('pipe-pane', '-t', 'flood', '-o', `cat >> ${process.env.LOGS_CONSOLE_PIPE}`);
  await tmux('send-keys', '-t', 'flood', process.env.LOGS_CONSOLE_SCREEN ?? '3');
  await sleep(2500);
  const file = path.join(root, 'logs', 'candy_cadence.log');
  const writerSrc = `
    const fs = require('node:fs');
    const file = ${JSON.stringify(file)}; const rate = 5000; const seconds = ${CONSOLE_SECONDS};
    let fd = fs.openSync(file, 'a'); let size = 0; let n = 0; let rot = 0;
    const p = (x, w = 2) => String(x).padStart(w, '0');
    const forms = [
      (i) => 'INFO - Loading model data/models/m_' + i + '.stl',
      (i) => 'DEBUG - Rendered frame ' + i + ' at ' + (i % 144) + '.5 FPS',
      (i) => 'WARNING - PERF003 Frame rate under 30 FPS: ' + (i % 29) + '.1 FPS while rendering data/models/x_' + i + '.obj',
      (i) => 'ERROR - PAR001 Invalid file header: data/models/bad_' + i + '.stl',
      (i) => 'ERROR - ERR00' + (i % 9 + 1) + ' failure number ' + i + ' in module mod' + (i % 300) + ' of plugin p' + (i % 7),
      (i) => 'INFO - Search query returned ' + i + ' results in ' + (i % 90) + ' ms',
    ];
    const start = Date.now();
    const tick = () => {
      const due = Math.min(rate * seconds, Math.floor(((Date.now() - start) / 1000) * rate));
      let chunk = '';
      while (n < due) {
        n++;
        const d = new Date();
        const ts = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + ',' + p(d.getMilliseconds(), 3);
        chunk += ts + ' - flood.writer - ' + forms[n % forms.length](n) + '\\n';
      }
      if (chunk) { fs.writeSync(fd, chunk); size += chunk.length; }
      if (size > 20 * 1024 * 1024) { fs.closeSync(fd); fs.renameSync(file, file + '.' + (++rot % 3 + 1)); fd = fs.openSync(file, 'a'); size = 0; }
      if (n < rate * seconds) setTimeout(tick, 2); else { fs.closeSync(fd); process.stdout.write(String(n)); }
    };
    tick();`;
  const writer = h.runCommand(h.node, ['-e', writerSrc]);
  // RSS every second on its own timer (the key checks below take a while), with its time; the
  // kernel's high-water mark (VmHWM) at the end catches a peak between two samples.
  const rss = [];
  const keyMs = [];
  const started = Date.now();
  const rssTimer = setInterval(() => {
    const r = rssMb(pid);
    if (r !== null) rss.push({ t: (Date.now() - started) / 1000, mb: r });
  }, 1000);
  // LOGS_CONSOLE_STALL=AT,FOR (seconds): the console is stopped (SIGSTOP) for FOR seconds at AT, as
  // a machine that stalls it would, and then has a backlog to read.
  const stall = process.env.LOGS_CONSOLE_STALL?.split(',').map(Number);
  const stallTimers = stall
    ? [
        setTimeout(() => process.kill(pid, 'SIGSTOP'), stall[0] * 1000),
        setTimeout(() => process.kill(pid, 'SIGCONT'), (stall[0] + stall[1]) * 1000),
      ]
    : [];
  let next = 0;
  while (Date.now() - started < CONSOLE_SECONDS * 1000) {
    if (Date.now() - started > next) {
      next += 5000;
      // A key's effect on screen: toggle the level filter to ERROR+ and back.
      const t0 = Date.now();
      await tmux('send-keys', '-t', 'flood', 'f');
      for (;;) {
        const pane = (await tmux('capture-pane', '-t', 'flood', '-p')).stdout;
        if (pane.includes('· INFO+') || Date.now() - t0 > 5000) break;
      }
      keyMs.push(Date.now() - t0);
      for (let i = 0; i < 4; i++) await tmux('send-keys', '-t', 'flood', 'f');
    }
    await sleep(1000);
  }
  clearInterval(rssTimer);
  for (const t of stallTimers) clearTimeout(t);
  const peak = rssMb(pid, 'VmHWM');
  const w = await writer;
  if (w.code !== 0) throw new Error(`flood writer failed: ${w.stderr}`);
  const pane = (await tmux('capture-pane', '-t', 'flood', '-p')).stdout;
  // The console's own log (its self-report: CADENCE_OPS_SELF_REPORT_MS=1000 for one a second).
  if (process.env.LOGS_CONSOLE_LOG) {
    try {
      writeFileSync(process.env.LOGS_CONSOLE_LOG, readFileSync(path.join(dir, 'state', 'cadence-ops.log')));
    } catch {}
  }
  await tmux('send-keys', '-t', 'flood', 'q');
  await sleep(1000);
  await tmux('kill-server');
  return { rss, peak, keyMs, pane };
}

export default {
  name: 'logs',
  description: `logs analyze over ${MB} MB vs grep -c; tail latency at 1,000 lines/s vs tail -F; flood RSS at 5,000 lines/s`,
  async run(h) {
    const dir = h.tmpDir();
    if (PARTS.has('analyze')) await analyzeBench(h, dir);
    if (PARTS.has('latency') || PARTS.has('flood')) await tailBench(h, dir);
    if (PARTS.has('console')) {
      const con = await consoleFlood(h, dir);
      if (con) {
        const top = con.rss.reduce((a, b) => (b.mb > a.mb ? b : a));
        h.figure({
          label: `console on screen 3, ${CONSOLE_SECONDS} s at 5,000/s: max RSS (VmHWM)`,
          value: Math.max(top.mb, con.peak ?? 0),
          unit: 'MB',
          target: '< 200 MB',
        });
        h.figure({
          label: `console: max of the 1 s samples, at ${top.t.toFixed(0)} s`,
          value: top.mb,
          unit: 'MB',
        });
        h.figure({
          label: 'console: min of the 1 s samples',
          value: Math.min(...con.rss.map((r) => r.mb)),
          unit: 'MB',
        });
        h.figure({ label: 'console: RSS at the end', value: con.rss.at(-1).mb, unit: 'MB' });
        h.figure({ label: 'console: key to screen, median', value: quantile(con.keyMs, 0.5), unit: 'ms' });
        h.figure({ label: 'console: key to screen, max', value: Math.max(...con.keyMs), unit: 'ms' });
        // The series: the largest sample of every 10 s.
        const tens = [];
        for (const r of con.rss) {
          const i = Math.floor(r.t / 10);
          tens[i] = Math.max(tens[i] ?? 0, r.mb);
        }
        process.stderr.write(
          `console RSS (MB), the largest 1 s sample of every 10 s: ${tens.map((x) => (x ?? 0).toFixed(0)).join(' ')}\n${con.pane}\n`,
        );
        if (process.env.LOGS_CONSOLE_SERIES)
          writeFileSync(process.env.LOGS_CONSOLE_SERIES, JSON.stringify(con.rss));
      }
    }
  },
};

async function analyzeBench(h, dir) {
  const gen = await loadGenerator(h, dir);
  const file = path.join(dir, 'candy_cadence.log');
  const t0 = Date.now();
  generate(gen, file, MB * 1024 * 1024);
  const bytes = statSync(file).size;
  process.stderr.write(
    `generated ${(bytes / 1048576).toFixed(0)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  // Alternate ours and grep; medians. CPU time (user + system, all threads) is measured too, with
  // /usr/bin/time where there is one: on a machine shared with other work the wall times of a
  // two-thread reader and a one-thread grep suffer differently.
  const timeTool = h.has('/usr/bin/time') ? '/usr/bin/time' : null;
  const timed = async (command, args, opts) => {
    if (!timeTool) return { ...(await h.runCommand(command, args, opts)), cpuMs: null };
    const r = await h.runCommand(timeTool, ['-f', 'CPU %U %S', command, ...args], opts);
    const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    return { ...r, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : null };
  };
  const ours = [];
  const theirs = [];
  const oursCpu = [];
  const theirsCpu = [];
  let report = null;
  for (let i = 0; i < 6; i++) {
    const g = await timed('grep', ['-c', ' - ERROR - ', file]);
    const o = await timed(h.cli, ['logs', 'analyze', file, '--json'], {
      env: { ...process.env, CADENCE_OPS_STATE_DIR: dir },
    });
    if (o.code !== 0 && o.code !== 1) throw new Error(`logs analyze failed: ${o.stderr}`);
    if (i === 0) {
      report = JSON.parse(o.stdout);
      if (report.totals.byLevel.ERROR !== Number(g.stdout.trim()))
        throw new Error(`ERROR count differs: ours ${report.totals.byLevel.ERROR}, grep ${g.stdout.trim()}`);
      continue; // warm-up
    }
    ours.push(o.ms);
    theirs.push(g.ms);
    if (o.cpuMs !== null && g.cpuMs !== null) {
      oursCpu.push(o.cpuMs);
      theirsCpu.push(g.cpuMs);
    }
  }
  const o = median(ours);
  const g = median(theirs);
  h.compare({
    label: `analyze ${(bytes / 1048576).toFixed(0)} MB (time)`,
    ours: o,
    theirs: g,
    theirsName: "grep -c ' - ERROR - '",
    target: '≤ 3x',
  });
  if (oursCpu.length)
    h.compare({
      label: 'analyze CPU time, all threads',
      ours: median(oursCpu),
      theirs: median(theirsCpu),
      theirsName: 'grep',
    });
  process.stderr.write(
    `analyze runs (ms): ours ${ours.map((x) => x.toFixed(0)).join(' ')}; grep ${theirs.map((x) => x.toFixed(0)).join(' ')}\n`,
  );
  h.figure({ label: 'analyze throughput', value: bytes / 1048576 / (o / 1000), unit: 'MB/s' });
  h.figure({ label: 'analyze lines/s', value: report.totals.lines / (o / 1000) / 1e6, unit: 'M lines/s' });

  // --all-levels: every record mined into templates (INFO and DEBUG too), the heavier analysis.
  const allOurs = [];
  const allTheirs = [];
  for (let i = 0; i < 3; i++) {
    const g = await h.runCommand('grep', ['-c', ' - ERROR - ', file]);
    const a = await h.runCommand(h.cli, ['logs', 'analyze', file, '--json', '--all-levels'], {
      env: { ...process.env, CADENCE_OPS_STATE_DIR: dir },
    });
    if (a.code !== 0 && a.code !== 1) throw new Error(`logs analyze --all-levels failed: ${a.stderr}`);
    if (i === 0) continue; // warm-up
    allOurs.push(a.ms);
    allTheirs.push(g.ms);
  }
  const ao = median(allOurs);
  h.compare({
    label: `analyze --all-levels ${(bytes / 1048576).toFixed(0)} MB (time)`,
    ours: ao,
    theirs: median(allTheirs),
    theirsName: "grep -c ' - ERROR - '",
  });
  h.figure({ label: 'analyze --all-levels throughput', value: bytes / 1048576 / (ao / 1000), unit: 'MB/s' });
}

async function tailBench(h, dir) {
  // Live latency at 1,000 lines/s.
  const live = path.join(dir, 'live');
  mkdirSync(live);
  const liveFile = path.join(live, 'candy_cadence.log');
  writeFileSync(liveFile, '');
  if (PARTS.has('latency')) {
    const oursLat = await latencyRun(h, {
      command: h.cli,
      args: ['logs', 'tail', liveFile, '--json'],
      file: liveFile,
      rate: 1000,
      seconds: LATENCY_SECONDS,
      json: true,
    });
    const tailLat = await latencyRun(h, {
      command: 'tail',
      args: ['-F', '-n', '0', liveFile],
      file: liveFile,
      rate: 1000,
      seconds: LATENCY_SECONDS,
      json: false,
    });
    h.compare({
      label: 'tail latency p99 at 1,000 lines/s',
      ours: quantile(oursLat.latencies, 0.99),
      theirs: quantile(tailLat.latencies, 0.99),
      theirsName: 'tail -F',
      target: '≤ 20 ms',
    });
    h.figure({ label: 'tail latency p50', value: quantile(oursLat.latencies, 0.5), unit: 'ms' });
    h.figure({ label: 'tail lines received / written', value: oursLat.received / oursLat.total, unit: '' });
  }
  if (!PARTS.has('flood')) return;

  // Flood: 5,000 lines/s with RotatingFileHandler-style rotation every 20 MB.
  const floodFile = path.join(live, 'error.log');
  writeFileSync(floodFile, '');
  const flood = await latencyRun(h, {
    command: h.cli,
    args: ['logs', 'tail', floodFile, '--json'],
    file: floodFile,
    rate: 5000,
    seconds: FLOOD_SECONDS,
    json: true,
    rotateBytes: 20 * 1024 * 1024,
    onRss: true,
  });
  h.figure({
    label: `flood ${FLOOD_SECONDS} s at 5,000/s: max RSS`,
    value: Math.max(...flood.rss),
    unit: 'MB',
    target: '< 200 MB',
  });
  h.figure({ label: 'flood: latency p99', value: quantile(flood.latencies, 0.99), unit: 'ms' });
  h.figure({ label: 'flood: lines received / written', value: flood.received / flood.total, unit: '' });
}
