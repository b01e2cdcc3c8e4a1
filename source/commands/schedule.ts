import os from 'node:os';
import { cronText, systemdText } from '../../services/maintenance-schedule.js';
import { cliEntryPath } from '../../services/self-exec.js';
import { UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops schedule --systemd|--cron|--cron-d [--user NAME]

Prints a ready-to-install schedule for the maintenance cadence of this site (daily 02:30, weekly
Sunday 03:30, monthly on the 1st at 04:30, quarterly on the 1st of January, April, July and October
at 05:30), with absolute paths to node and cadence-ops and the site's --root (and --config):
  --systemd   a service and a timer per cadence (Persistent=true catches up missed runs), and a
              service for \`serve\`, with the commands that install them
  --cron      crontab lines (crontab -e)
  --cron-d    a file for /etc/cron.d (with a user field)
$CADENCE_OPS_STATE_DIR, when set, is carried into the jobs. Nothing is installed.

Options
  --user NAME   run the jobs as this user (systemd User=, /etc/cron.d user field; default: you)

Exit codes: 0 printed; 2 usage.`,
  flags: {
    systemd: { type: 'boolean', default: false },
    cron: { type: 'boolean', default: false },
    cronD: { type: 'boolean', default: false },
    user: { type: 'string' },
  },
  async run(ctx) {
    const f = ctx.flags as { systemd?: boolean; cron?: boolean; cronD?: boolean; user?: string };
    const chosen = [f.systemd, f.cron, f.cronD].filter(Boolean).length;
    if (chosen !== 1) throw new UsageError('schedule: give exactly one of --systemd, --cron, --cron-d');
    const site = ctx.site();
    let user = f.user ?? null;
    if (!user) {
      try {
        user = os.userInfo().username;
      } catch {}
    }
    const env: Record<string, string> = {};
    for (const key of ['CADENCE_OPS_STATE_DIR', 'CADENCE_OPS_DATA_DIR', 'XDG_STATE_HOME'])
      if (ctx.env[key]) env[key] = ctx.env[key]!;
    const opts = {
      root: site.paths.root,
      node: process.execPath,
      cli: cliEntryPath(),
      configFile: (ctx.flags.config as string | undefined) ?? null,
      env,
      user,
    };
    ctx.stdout.write(f.systemd ? systemdText(opts) : cronText(opts, Boolean(f.cronD)));
    return 0;
  },
};
export default verb;
