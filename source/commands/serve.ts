import { parseListen } from '../../services/metrics-server.js';
import { startServe } from '../../services/serve-runtime.js';
import { UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops serve [--listen HOST:PORT] [--no-logs] [--no-health]

Runs the console's monitors headless and exposes them to Prometheus until stopped (SIGINT,
SIGTERM): GET /metrics in the Prometheus text format, GET /healthz (200 while serving, with the
last health verdict). Listens on metrics.listen (127.0.0.1:9464); --listen to change it.

What runs: resource sampling every sampling.intervalMs (host and application gauges, resource
alerts), the log follower (records by level, the top metrics.topClusters error clusters, log
alerts), the health checks every health.intervalSeconds in a worker thread (check states, health
alerts), backups, database and benchmark figures refreshed on timers, and, when
alerts.webhook.url is set, the webhook notifier for every alert (also those raised by other
processes, such as a cron \`health\`, through the shared state database).

Series: cadence_host_* (cpu, load, memory, swap, filesystems), cadence_app_* (up, cpu, memory,
threads, fds, uptime), cadence_log_records_total{level}, cadence_log_errors_last_hour,
cadence_log_cluster_records{cluster,level,template}, cadence_backup_* (last and last verified
time, verification state, files, per kind), cadence_database_* (size, WAL, pages, free pages,
fragmentation, models), cadence_health_* (check state 0 ok 1 warning 2 critical 3 unknown, check
duration, verdict, last run), cadence_bench_* (mean seconds per file of the last run,
regressions, last run), cadence_alerts_active{severity}.

Options
  --listen HOST:PORT  where to listen (default: metrics.listen)
  --no-logs           do not follow the logs
  --no-health         do not run the health checks

Exit codes: 0 stopped by a signal; 1 cannot listen (port in use, no permission); 2 usage.`,
  flags: {
    listen: { type: 'string' },
    logs: { type: 'boolean', default: true },
    health: { type: 'boolean', default: true },
  },
  async run(ctx) {
    const f = ctx.flags as { listen?: string; logs?: boolean; health?: boolean };
    const site = ctx.site();
    const config = site.loaded.config;
    let listen: { host: string; port: number };
    try {
      listen = parseListen(f.listen ?? config.metrics.listen);
    } catch (err) {
      throw new UsageError(`--listen: ${(err as Error).message}`);
    }
    let runtime: Awaited<ReturnType<typeof startServe>>;
    try {
      runtime = await startServe({
        paths: site.paths,
        config,
        stateDbPath: site.stateDbPath,
        host: listen.host,
        port: listen.port,
        logs: f.logs !== false,
        health: f.health !== false,
        onWarning: (message) => ctx.log.warn(message),
      });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      ctx.stderr.write(
        `cadence-ops serve: cannot listen on ${listen.host}:${listen.port}: ${e.code === 'EADDRINUSE' ? 'address in use' : e.message}\n`,
      );
      return 1;
    }
    ctx.stderr.write(
      `cadence-ops serve: ${runtime.url}/metrics and ${runtime.url}/healthz for ${site.paths.root}` +
        `${runtime.notifier ? ' (webhook notifier on)' : ''}; Ctrl-C stops\n`,
    );
    ctx.log.info({ url: runtime.url }, 'serve listening');
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, stop);
    });
    await runtime.stop();
    ctx.log.info('serve stopped');
    return 0;
  },
};
export default verb;
