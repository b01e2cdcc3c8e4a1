// Ready-to-install schedules for the maintenance cadence: systemd timer and service units (and a
// service for `serve`), or crontab lines. Absolute paths to node and the bundle, so they work
// whatever PATH cron or systemd give; the site root (and --config, the state folder) written in.
import type { Cadence } from './maintenance.js';

export interface ScheduleOptions {
  root: string;
  /** The node binary and the CLI bundle. */
  node: string;
  cli: string;
  configFile?: string | null;
  /** Environment to carry over (CADENCE_OPS_STATE_DIR and the like). */
  env?: Record<string, string>;
  /** The user the jobs run as (cron.d format and the systemd User=). */
  user?: string | null;
}

/** When each cadence runs: systemd OnCalendar and the cron fields. Quiet hours, staggered. */
export const WHEN: Record<Cadence, { calendar: string; cron: string; words: string }> = {
  daily: { calendar: '*-*-* 02:30:00', cron: '30 2 * * *', words: 'every day at 02:30' },
  weekly: { calendar: 'Sun *-*-* 03:30:00', cron: '30 3 * * 0', words: 'Sundays at 03:30' },
  monthly: { calendar: '*-*-01 04:30:00', cron: '30 4 1 * *', words: 'the 1st of each month at 04:30' },
  quarterly: {
    calendar: '*-01,04,07,10-01 05:30:00',
    cron: '30 5 1 1,4,7,10 *',
    words: 'the 1st of January, April, July and October at 05:30',
  },
};

const CADENCE_LIST: Cadence[] = ['daily', 'weekly', 'monthly', 'quarterly'];

/** Quotes an argument for systemd's ExecStart (C-style double quotes when needed). */
function systemdArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `"${a.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Quotes an argument for sh (cron). */
function shArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function args(opts: ScheduleOptions, verb: string[]): string[] {
  return [
    opts.node,
    opts.cli,
    ...verb,
    '--root',
    opts.root,
    ...(opts.configFile ? ['--config', opts.configFile] : []),
  ];
}

export function unitName(cadence: Cadence): string {
  return `cadence-ops-maintain-${cadence}`;
}

/** Files to write under /etc/systemd/system, by name. */
export function systemdUnits(opts: ScheduleOptions): Array<{ name: string; text: string }> {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `Environment=${systemdArg(`${k}=${v}`)}`);
  const user = opts.user ? [`User=${opts.user}`] : [];
  const out: Array<{ name: string; text: string }> = [];
  for (const cadence of CADENCE_LIST) {
    const name = unitName(cadence);
    out.push({
      name: `${name}.service`,
      text: [
        '[Unit]',
        `Description=cadence-ops ${cadence} maintenance of the Candy-Cadence site ${opts.root}`,
        '',
        '[Service]',
        'Type=oneshot',
        ...user,
        ...env,
        `ExecStart=${args(opts, ['maintain', cadence]).map(systemdArg).join(' ')}`,
        'Nice=10',
        'IOSchedulingClass=best-effort',
        'IOSchedulingPriority=7',
        // A quarterly drill or a monthly benchmark can take a while; a hung run should not stay forever.
        'TimeoutStartSec=6h',
        '',
      ].join('\n'),
    });
    out.push({
      name: `${name}.timer`,
      text: [
        '[Unit]',
        `Description=cadence-ops ${cadence} maintenance, ${WHEN[cadence].words}`,
        '',
        '[Timer]',
        `OnCalendar=${WHEN[cadence].calendar}`,
        'RandomizedDelaySec=10min',
        'Persistent=true',
        '',
        '[Install]',
        'WantedBy=timers.target',
        '',
      ].join('\n'),
    });
  }
  out.push({
    name: 'cadence-ops-serve.service',
    text: [
      '[Unit]',
      `Description=cadence-ops metrics for Prometheus and alert webhooks, site ${opts.root}`,
      'After=network-online.target',
      '',
      '[Service]',
      ...user,
      ...env,
      `ExecStart=${args(opts, ['serve']).map(systemdArg).join(' ')}`,
      'Restart=on-failure',
      'RestartSec=5',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n'),
  });
  return out;
}

export function systemdText(opts: ScheduleOptions): string {
  const units = systemdUnits(opts);
  const timers = CADENCE_LIST.map((c) => `${unitName(c)}.timer`);
  return [
    `# cadence-ops maintenance schedule for ${opts.root}: systemd units.`,
    '# Save each file below under /etc/systemd/system/ (the name is on its "==>" line), then:',
    '#   systemctl daemon-reload',
    `#   systemctl enable --now ${timers.join(' ')}`,
    '#   systemctl enable --now cadence-ops-serve.service   # optional: Prometheus /metrics and webhooks',
    `# Check with: systemctl list-timers 'cadence-ops-*'; results: journalctl -u ${unitName('daily')}`,
    '',
    ...units.flatMap((u) => [`==> ${u.name} <==`, u.text]),
  ].join('\n');
}

export function cronText(opts: ScheduleOptions, cronD = false): string {
  const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${shArg(v)}`);
  const who = cronD ? `${opts.user ?? 'root'} ` : '';
  return [
    `# cadence-ops maintenance schedule for ${opts.root}`,
    cronD
      ? '# Save as /etc/cron.d/cadence-ops (this format has a user field).'
      : '# Install with `crontab -e` (paste these lines) as the user that owns the site.',
    '# Each run is recorded in the console state database; output goes to cron mail.',
    ...env,
    ...CADENCE_LIST.map(
      (c) =>
        `${WHEN[c].cron} ${who}${args(opts, ['maintain', c]).map(shArg).join(' ')}   # ${c}: ${WHEN[c].words}`,
    ),
    '',
  ].join('\n');
}
