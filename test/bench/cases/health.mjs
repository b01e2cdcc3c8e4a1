// Health and metrics on the demo site (built by `cadence-ops demo --no-console` in a temp folder,
// the simulated application running on it):
// - `cadence-ops health` wall time, process start included (target: within 1 s), against the same
//   checks done the procedures' way with the standard tools in one shell script (pgrep, sqlite3
//   quick_check + COUNT(*), grep -c over the live logs, df, stat of the permissions, tail for the
//   heartbeat), and against `cadence-ops --version` (the process start alone);
// - GET /metrics latency of `cadence-ops serve` while it samples at 1 Hz, follows the logs of the
//   running simulator and reruns the health checks in its worker: p50, p99, max of
//   BENCH_HEALTH_SCRAPES scrapes (default 600, one every 20 ms; target p99 <= 50 ms).
// Ours and theirs alternate; medians of BENCH_HEALTH_RUNS runs (default 7).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const RUNS = Number(process.env.BENCH_HEALTH_RUNS ?? 7);
const SCRAPES = Number(process.env.BENCH_HEALTH_SCRAPES ?? 600);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};

async function waitFor(fn, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export default {
  name: 'health',
  description:
    'health verb time on the demo site vs the same checks by shell tools; /metrics p99 under 1 Hz sampling',
  async run(h) {
    const dir = h.tmpDir();
    const root = path.join(dir, 'demo-site');
    const env = {
      ...process.env,
      CADENCE_OPS_STATE_DIR: path.join(dir, 'state'),
      CADENCE_OPS_DATA_DIR: path.join(dir, 'data'),
    };
    delete env.CI;
    const built = await h.runCommand(h.node, [h.cli, 'demo', '--no-console', '--root', root], { env });
    if (built.code !== 0) throw new Error(`demo build failed: ${built.stderr}`);
    const sim = spawn(h.node, [h.cli, 'simulate', '--root', root], { env, stdio: 'ignore' });
    let serve = null;
    try {
      await new Promise((r) => setTimeout(r, 2000));
      const script = path.join(dir, 'checks.sh');
      writeFileSync(
        script,
        [
          'set -u',
          `cd '${root}'`,
          'pgrep -f candy_cadence >/dev/null; echo "app $?"',
          'tail -c 65536 logs/candy_cadence.log | grep Heartbeat: | tail -1 | cut -c1-23',
          "sqlite3 -readonly data/candy_cadence.db 'PRAGMA quick_check; SELECT COUNT(*) FROM models;'",
          'for f in logs/*.log; do grep -c -E " - (ERROR|CRITICAL) - " "$f"; done',
          'df -P . backups | tail -n +2',
          'grep -E "^(MemAvailable|MemTotal)" /proc/meminfo',
          'stat -c "%a %n" data/candy_cadence.db config.json settings.json .env backups',
          "python3 -c \"import json; json.load(open('config.json')); json.load(open('settings.json'))\" 2>/dev/null || jq . config.json settings.json >/dev/null",
          'ls -t backups | head -3',
          'du -s logs',
        ].join('\n'),
      );
      const ours = [];
      const theirs = [];
      const floor = [];
      let lastReport = null;
      for (let i = 0; i < RUNS + 1; i++) {
        const r = await h.runCommand(h.node, [h.cli, 'health', '--root', root, '--no-record', '--json'], {
          env,
        });
        const s = await h.runCommand('sh', [script], { env });
        const v = await h.runCommand(h.node, [h.cli, '--version'], { env });
        if (i === 0) continue; // warm-up
        ours.push(r.ms);
        theirs.push(s.ms);
        floor.push(v.ms);
        lastReport = JSON.parse(r.stdout);
      }
      h.compare({
        label: 'health on the demo site (wall, process start)',
        ours: median(ours),
        theirs: median(theirs),
        theirsName: 'shell: pgrep, sqlite3, grep, df, stat',
        target: '<= 1000 ms',
      });
      h.figure({ label: 'health: the checks alone (in-process)', value: lastReport.durationMs, unit: 'ms' });
      h.figure({ label: 'cadence-ops --version (process start floor)', value: median(floor), unit: 'ms' });
      for (const c of lastReport.checks)
        h.figure({ label: `  check ${c.id}`, value: c.durationMs, unit: 'ms' });

      // /metrics while serve samples at 1 Hz and the simulator writes logs.
      serve = spawn(h.node, [h.cli, 'serve', '--root', root, '--listen', '127.0.0.1:0'], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      serve.stderr.on('data', (d) => (err += d));
      const base = await waitFor(
        async () => /(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(err)?.[1],
        15_000,
        'serve',
      );
      await waitFor(
        async () => (await (await fetch(`${base}/healthz`)).json()).verdict,
        30_000,
        'the first health run',
      );
      const lat = [];
      const started = Date.now();
      for (let i = 0; i < SCRAPES; i++) {
        const t = performance.now();
        const res = await fetch(`${base}/metrics`);
        await res.text();
        lat.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
      const samples = (await (await fetch(`${base}/healthz`)).json()).samples;
      h.figure({
        label: `/metrics p50 (${SCRAPES} scrapes, ${((Date.now() - started) / 1000).toFixed(0)} s)`,
        value: quantile(lat, 0.5),
        unit: 'ms',
      });
      h.figure({
        label: '/metrics p99 while sampling at 1 Hz',
        value: quantile(lat, 0.99),
        unit: 'ms',
        target: '<= 50 ms',
      });
      h.figure({ label: '/metrics max', value: Math.max(...lat), unit: 'ms' });
      h.figure({ label: 'samples taken by serve meanwhile', value: samples, unit: 'ticks' });
    } finally {
      serve?.kill('SIGTERM');
      sim.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
    }
  },
};
