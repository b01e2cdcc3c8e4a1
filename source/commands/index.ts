// Every headless verb, one line each: the summary shows in `cadence-ops --help`, the module loads
// only when the verb runs. Add a verb here and in a file of its own in this folder.
import type { VerbEntry } from './types.js';

export const verbs: VerbEntry[] = [
  {
    name: 'demo',
    summary: 'build the demo site (first use or --fresh), start its simulated application, open the console',
    load: () => import('./demo.js'),
  },
  {
    name: 'simulate',
    summary: 'run the simulated Candy-Cadence application on a site (logs, database writes, rotation)',
    load: () => import('./simulate.js'),
  },
  {
    name: 'db',
    summary:
      'the site database: info, check, analyze, optimize, vacuum, reindex, checkpoint, slow-queries, sql',
    load: () => import('./db.js'),
  },
  {
    name: 'resources',
    summary:
      'one snapshot of host and application resources with thresholds, trends and leak check (--watch SECONDS)',
    load: () => import('./resources.js'),
  },
  {
    name: 'logs',
    summary:
      'analyze log files (clusters, error rates, timeline), follow them live across rotation, rotate them',
    load: () => import('./logs.js'),
  },
  {
    name: 'load',
    summary:
      'parse model files in an isolated loader process: format, triangles, box, speed, or the PAR error',
    load: () => import('./load.js'),
  },
  {
    name: 'backup',
    summary: 'create, list, verify, show, diff and prune backups (consistent while the application writes)',
    load: () => import('./backup.js'),
  },
  {
    name: 'restore',
    summary:
      'restore a backup: verify, plan, safety snapshot, staged swap with a journal; --resume, --rollback',
    load: () => import('./restore.js'),
  },
  {
    name: 'bench',
    summary:
      'benchmark model loading: warm-up, repeats, statistics, baseline comparison (exit 1 on a regression)',
    load: () => import('./bench.js'),
  },
  {
    name: 'health',
    summary: 'run the health checks; one summary line, exit 0 ok, 1 warning, 2 critical, 3 unknown',
    load: () => import('./health.js'),
  },
  {
    name: 'serve',
    summary:
      'expose Prometheus metrics (/metrics) and /healthz; run the monitors and the webhook notifier headless',
    load: () => import('./serve.js'),
  },
  {
    name: 'maintain',
    summary: 'run the daily, weekly, monthly or quarterly maintenance of the procedures (--dry-run to plan)',
    load: () => import('./maintain.js'),
  },
  {
    name: 'schedule',
    summary: 'print systemd timer units or crontab lines that run the maintenance cadence',
    load: () => import('./schedule.js'),
  },
  {
    name: 'config',
    summary: 'print the effective configuration, secrets redacted',
    load: () => import('./config.js'),
  },
];

export function findVerb(name: string): VerbEntry | undefined {
  return verbs.find((v) => v.name === name);
}
