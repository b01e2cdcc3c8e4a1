import { runSimulator } from '../../services/simulator.js';
import type { VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops simulate --root DIR [--rate N] [--rotate-kb N] [--burst-every S] [--commits N] [--leak-kb N]

Stands in for the Candy-Cadence application on a site until stopped (SIGTERM, SIGINT, SIGHUP):
writes the pid file, appends realistic records to the five log files with error bursts and
tracebacks, rotates them like Python's RotatingFileHandler, commits to the database in WAL mode,
and lets its memory creep up so the leak trend shows.

Options
  --rate N          log records per second, on average (default 8)
  --rotate-kb N     rotate a log file when it would pass N KB (default: logs.rotateMb of the configuration)
  --burst-every S   mean seconds between error bursts (default 600)
  --commits N       database commits per second (default 2)
  --leak-kb N       memory retained per second in KB (default 150; 0 for none)
  --seed N          random seed, for reproducible output
  --parent-pid PID  stop when that process is gone (used by cadence-ops demo)`,
  flags: {
    rate: { type: 'number', default: 8 },
    rotateKb: { type: 'number' },
    burstEvery: { type: 'number', default: 600 },
    commits: { type: 'number', default: 2 },
    leakKb: { type: 'number', default: 150 },
    seed: { type: 'number' },
    parentPid: { type: 'number' },
  },
  async run(ctx) {
    const site = ctx.site();
    const f = ctx.flags as Record<string, number | undefined>;
    const controller = new AbortController();
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => controller.abort());
    process.title = 'candy_cadence (simulated by cadence-ops)';
    const stats = await runSimulator({
      logsDir: site.paths.logs,
      database: site.paths.database,
      pidFile: site.paths.pidFile,
      recordsPerSecond: f.rate,
      rotateBytes: f.rotateKb ? f.rotateKb * 1024 : site.loaded.config.logs.rotateMb * 1024 * 1024,
      keepRotated: site.loaded.config.logs.keepRotated,
      burstEverySeconds: f.burstEvery,
      commitsPerSecond: f.commits,
      leakKbPerSecond: f.leakKb,
      seed: f.seed,
      parentPid: f.parentPid,
      signal: controller.signal,
    });
    ctx.log.info({ stats }, 'simulator stopped');
    return 0;
  },
};
export default verb;
