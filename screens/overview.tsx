// Screen 1, the triage page: one verdict with the failing checks and what to do about each, the
// active alerts (acknowledge with a), the newest and busiest error clusters, the resource headline,
// the age of the newest verified backup of each kind, and whether the application is up and since
// when. Everything comes from console-wide services: the health monitor (checks in a worker thread
// every health.intervalSeconds, r to rerun), the alert service, the Logs screen's live follower, the
// resource monitor and the application status. The screen is a list of one-line rows cut to the
// height it is given, so it fits 80x19 and shows more when larger.
import os from 'node:os';
import { Box, Text } from 'ink';
import { type ReactNode, useEffect, useMemo, useState } from 'react';
import type { Alert } from '../services/alerts.js';
import { type AppStatus, appUptimeSeconds, formatDuration } from '../services/app-status.js';
import { HealthMonitor } from '../services/health-monitor.js';
import type { CheckResult, HealthState } from '../services/health-types.js';
import type { ClusterView } from '../services/log-clusters.js';
import type { LiveState } from '../services/log-live.js';
import { LEVEL_RANK } from '../services/log-parse.js';
import type { ResourceMonitorState } from '../services/resource-monitor.js';
import { createStore } from '../services/store.js';
import { selectionStep } from './components/selection.js';
import { LEVEL_STYLE } from './components/status.js';
import { formatAge, formatBytes, padEnd, truncate } from './components/text.js';
import type { ConsoleContextValue, ScreenDefinition, ScreenId, ScreenProps } from './context.js';
import { useCommands, useConsole, useNow, useStore, useThrottledStore } from './hooks.js';
import { liveLogs } from './logs.js';
import { appStatusStore, resourceMonitor, sharedAlerts } from './shared-services.js';

/** The console's health monitor (one per console, shared with anything else that wants it; start() it). */
export function healthMonitor(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config' | 'stateDb' | 'log'>,
) {
  return ctx.services.get(
    'health',
    () => {
      let db = null;
      let alerts = null;
      try {
        db = ctx.stateDb();
        alerts = sharedAlerts(ctx).service;
      } catch (err) {
        ctx.log.warn({ err }, 'health: no state database');
      }
      const monitor = new HealthMonitor({
        paths: ctx.site.paths,
        config: ctx.config,
        stateDbPath: ctx.site.stateDbPath,
        db,
        alerts,
        onError: (err) => ctx.log.warn({ err }, 'health run failed'),
      });
      // Started by the Overview once it has been on screen a moment (a console opened to look at
      // another screen does not pay for a worker at once); runs console-wide from then on.
      return monitor;
    },
    (m) => m.stop(),
  );
}

const IDLE_LOGS = createStore<LiveState>({
  version: 0,
  files: [],
  received: 0,
  ratePerSecond: 0,
  errorsLastHour: 0,
  errorsPerHourThreshold: 0,
  history: { status: 'loading' },
  clusters: [],
  clustersTotal: 0,
  remainder: { clusters: 0, records: 0 },
  timeline: [],
  tail: null,
  warnings: [],
});
const IDLE_RESOURCES = createStore<ResourceMonitorState>({
  snapshot: null,
  analysis: null,
  intervalMs: 1000,
  tickUs: null,
  error: null,
  ticks: 0,
});

const VERDICT_WORD: Record<HealthState, string> = {
  ok: 'HEALTHY',
  warning: 'WARNING',
  critical: 'CRITICAL',
  unknown: 'UNKNOWN',
};

/** Which screen shows more about an alert or a check. */
export function screenFor(source: string, key: string): ScreenId | null {
  const byName: Record<string, ScreenId> = {
    resources: 'resources',
    logs: 'logs',
    backups: 'backups',
    database: 'database',
    performance: 'bench',
    bench: 'bench',
    application: 'resources',
  };
  if (source === 'health') return byName[key] ?? null;
  return byName[source] ?? null;
}

type Row = { key: string; node: ReactNode };

function line(key: string, node: ReactNode): Row {
  return { key, node };
}

const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${v.toFixed(0)} %`);

function Badge({ state, word }: { state: HealthState | 'info'; word?: string }) {
  const s = LEVEL_STYLE[state];
  return (
    <Text color={s.color} bold={state === 'critical'}>
      {s.symbol} {word ?? s.word}
    </Text>
  );
}

/** "● up 4m 10s (pid 123)" or "✖ down for 12s", moving each second without redrawing the page in React. */
function AppUptime({ app }: { app: AppStatus }) {
  const now = useNow(1000);
  const uptime = appUptimeSeconds(app, now);
  return (
    <Text color={app.up ? 'green' : 'red'} bold={!app.up}>
      {app.up
        ? `● up ${uptime !== null ? formatDuration(uptime) : ''} (pid ${app.pid})`
        : `✖ down for ${formatDuration((now - app.since) / 1000)}`}
    </Text>
  );
}

function busiest(clusters: ClusterView[]): ClusterView[] {
  const recent = (c: ClusterView) => c.perMinute.reduce((a, b) => a + b, 0);
  return [...clusters].sort((a, b) => recent(b) - recent(a) || b.count - a.count);
}

function Overview({ width, height }: ScreenProps) {
  const ctx = useConsole();
  const monitor = healthMonitor(ctx);
  const health = useStore(monitor.store);
  const app = useStore(appStatusStore(ctx));
  const alertsShared = sharedAlerts(ctx);
  const counts = useStore(alertsShared.counts);
  // The log follower and the resource monitor start a moment after the first frame (the shell starts
  // the monitor after a second anyway); until then their sections say they are starting.
  const [warm, setWarm] = useState(() => ctx.services.has('logs-live') && ctx.services.has('resources'));
  useEffect(() => {
    if (warm) {
      monitor.start();
      return;
    }
    const timer = setTimeout(() => setWarm(true), 300);
    return () => clearTimeout(timer);
  }, [warm, monitor]);
  // The live log store changes up to 10 times a second; the triage page needs it every 2 s.
  const logs = useThrottledStore(warm ? liveLogs(ctx, alertsShared.service).store : IDLE_LOGS, 2000);
  // The resource headline samples every second; the triage page shows it every 5 s (screen 2 has it live).
  const resources = useThrottledStore(warm ? resourceMonitor(ctx).store : IDLE_RESOURCES, 5000);
  // The selection follows the alert (by id), not its row: alerts come and go while you look.
  const [selectedId, setSelectedId] = useState<number | null>(null);
  // Ages and "x s ago" move on their own: redraw every 5 s, on the boundary the throttled stores
  // above are released on, so they share one redraw.
  useNow(5000);
  const now = Date.now();

  // Most severe first, then the newest condition first: a stable order while counts tick up.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-read the alerts whenever their counts change
  const alerts = useMemo(
    () =>
      alertsShared.service
        .active()
        .sort(
          (a, b) =>
            SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || b.firstSeen - a.firstSeen || b.id - a.id,
        ),
    [alertsShared, counts],
  );
  const found = selectedId === null ? -1 : alerts.findIndex((a) => a.id === selectedId);
  const sel = Math.max(found, 0);
  const selectedAlert: Alert | undefined = alerts[sel];
  const select = (i: number) => {
    const a = alerts[Math.max(0, Math.min(alerts.length - 1, i))];
    if (a) setSelectedId(a.id);
  };

  useCommands((command) => {
    const step = selectionStep(command, alerts.length, 5);
    if (step) {
      select(step(sel));
      return true;
    }
    switch (command) {
      case 'refresh':
        ctx.ui.flash('running the health checks…', 'info');
        void monitor.refresh().then(() => {
          const s = monitor.store.get();
          if (s.error) ctx.ui.flash(`health checks failed: ${s.error}`, 'error');
          else
            ctx.ui.flash(`health: ${VERDICT_WORD[s.report?.verdict ?? 'unknown'].toLowerCase()}`, 'success');
        });
        return true;
      case 'acknowledge': {
        if (!selectedAlert) {
          ctx.ui.flash('no active alert to acknowledge', 'warning');
          return true;
        }
        if (selectedAlert.acknowledgedAt) {
          ctx.ui.flash(`already acknowledged by ${selectedAlert.acknowledgedBy ?? 'someone'}`, 'info');
          return true;
        }
        let user = 'console';
        try {
          user = os.userInfo().username;
        } catch {}
        const ok = alertsShared.service.acknowledge(selectedAlert.id, user);
        ctx.ui.flash(
          ok ? `acknowledged ${selectedAlert.source}/${selectedAlert.key}` : 'that alert is no longer active',
          ok ? 'success' : 'warning',
        );
        return true;
      }
      case 'open': {
        if (!selectedAlert) return false;
        const target = screenFor(selectedAlert.source, selectedAlert.key);
        if (target) ctx.ui.show(target);
        else ctx.ui.flash(`no screen for ${selectedAlert.source} alerts`, 'info');
        return true;
      }
      default:
        return false;
    }
  });

  const report = health.report;
  const failing: CheckResult[] = (report?.checks ?? [])
    .filter((c) => c.state !== 'ok')
    .sort((a, b) => rank(b.state) - rank(a.state));
  const wide = width >= 120;

  // --- top: verdict, application and resources, backups -------------------------------------
  const top: Row[] = [];
  const verdict = report?.verdict ?? 'unknown';
  const checkedAgo = report ? `checked ${formatAge(report.at, now)} ago` : 'not checked yet';
  const counted = report
    ? (['critical', 'warning', 'unknown'] as const)
        .map((s) => [s, report.checks.filter((c) => c.state === s).length] as const)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${s}`)
        .join(', ') || `all ${report.checks.length} checks ok`
    : '';
  top.push(
    line(
      'verdict',
      <Text wrap="truncate">
        <Badge state={verdict} word={report ? VERDICT_WORD[verdict] : 'NO RESULT YET'} />
        <Text> {counted}</Text>
        <Text dimColor>
          {' · '}
          {health.running ? 'checking…' : checkedAgo}
          {health.source === 'recorded' && !health.running ? ' (last run)' : ''}
          {health.error ? ` · last run failed: ${health.error}` : ''}
        </Text>
      </Text>,
    ),
  );
  const snap = resources.snapshot;
  const fsSite = snap?.filesystems?.find((f) => f.marks.includes('site'));
  const heartbeat = report?.checks.find((c) => c.id === 'application')?.data.heartbeatAt as
    | number
    | null
    | undefined;
  top.push(
    line(
      'app',
      <Text wrap="truncate">
        <Text>App </Text>
        <AppUptime app={app} />
        {heartbeat ? <Text dimColor> heartbeat {formatAge(heartbeat, now)} ago</Text> : null}
        <Text>
          {'  '}CPU {pct(snap?.cpu?.percent)} · mem {pct(snap?.memory?.usedPercent)}
          {fsSite?.usedPercent !== undefined ? ` · disk ${pct(fsSite.usedPercent)}` : ''}
          {snap?.load ? ` · load ${snap.load.one.toFixed(2)}` : ''}
          {snap?.app.running && snap.app.rssBytes !== null ? ` · RSS ${formatBytes(snap.app.rssBytes)}` : ''}
        </Text>
        {resources.analysis &&
        resources.analysis.overall !== 'ok' &&
        resources.analysis.overall !== 'unknown' ? (
          <Text> </Text>
        ) : null}
        {resources.analysis &&
        (resources.analysis.overall === 'warning' || resources.analysis.overall === 'critical') ? (
          <Badge state={resources.analysis.overall} />
        ) : null}
      </Text>,
    ),
  );
  const kinds =
    (report?.checks.find((c) => c.id === 'backups')?.data.kinds as
      | Array<{
          kind: string;
          newest: { name: string; time: number; state: string } | null;
          newestVerified: { time: number } | null;
          state: HealthState;
        }>
      | undefined) ?? [];
  top.push(
    line(
      'backups',
      <Text wrap="truncate">
        <Text>Backups </Text>
        {kinds.length === 0 ? <Text dimColor>not checked yet</Text> : null}
        {kinds.map((k, i) => (
          <Text key={k.kind}>
            {i > 0 ? ' · ' : ''}
            {k.kind}{' '}
            <Text color={LEVEL_STYLE[k.state].color}>
              {k.newestVerified ? `${formatAge(k.newestVerified.time, now)} old, verified` : 'NONE verified'}
            </Text>
            {k.newest &&
            k.newest.state !== 'verified' &&
            (!k.newestVerified || k.newest.time > k.newestVerified.time) ? (
              <Text color={k.newest.state === 'failed' ? 'red' : 'yellow'}>
                {' '}
                ({k.newestVerified ? 'newer' : 'newest'} {formatAge(k.newest.time, now)} old: {k.newest.state}
                )
              </Text>
            ) : null}
          </Text>
        ))}
      </Text>,
    ),
  );

  // --- failing checks --------------------------------------------------------------------------
  const checkRows: Row[] = [];
  if (!report)
    checkRows.push(
      line(
        'checks-none',
        <Text dimColor>
          {health.running ? 'running the health checks…' : 'the health checks run shortly (r: now)'}
        </Text>,
      ),
    );
  else if (failing.length === 0)
    checkRows.push(
      line('checks-ok', <Text color="green">● every check passes ({report.checks.length})</Text>),
    );
  for (const c of failing) {
    checkRows.push(
      line(
        `check-${c.id}`,
        <Text wrap="truncate">
          <Badge state={c.state} />
          <Text bold> {padEnd(c.name, 18)}</Text>
          <Text> {c.message}</Text>
        </Text>,
      ),
    );
    if (c.recommendation)
      checkRows.push(
        line(
          `rec-${c.id}`,
          <Text wrap="truncate" dimColor>
            {'         → '}
            {c.recommendation}
          </Text>,
        ),
      );
  }

  // --- alerts ------------------------------------------------------------------------------------
  const alertRows: Row[] = [];
  const unacked = counts.unacknowledged.total;
  alertRows.push(
    line(
      'alerts-title',
      <Text bold wrap="truncate">
        Alerts{' '}
        <Text dimColor>
          ({counts.total} active, {unacked} not acknowledged · ↑↓ select · a acknowledge · Enter go)
        </Text>
      </Text>,
    ),
  );
  if (alerts.length === 0) alertRows.push(line('alerts-none', <Text dimColor>no active alerts</Text>));
  alerts.forEach((a, i) => {
    const isSel = i === sel;
    alertRows.push(
      line(
        `alert-${a.id}`,
        <Text wrap="truncate" inverse={isSel}>
          <Badge state={a.severity} />
          {a.acknowledgedAt ? <Text color="cyan"> ✓ack</Text> : null}
          <Text>
            {' '}
            {a.source}/{a.key}: {a.message}
          </Text>
          <Text dimColor>
            {' '}
            ×{a.count} since {formatAge(a.firstSeen, now)}
            {a.acknowledgedAt
              ? ` · acknowledged by ${a.acknowledgedBy ?? '?'} ${formatAge(a.acknowledgedAt, now)} ago`
              : ''}
          </Text>
        </Text>,
      ),
    );
  });

  // --- error clusters ------------------------------------------------------------------------------
  const errorClusters = logs.clusters.filter((c) => c.level !== null && LEVEL_RANK[c.level] >= 3);
  const newest = [...errorClusters].sort((a, b) => b.firstSeen - a.firstSeen);
  const busy = busiest(errorClusters);
  const clusterLine = (c: ClusterView, tag: string, w: number) => {
    const last30 = c.perMinute.reduce((a, b) => a + b, 0);
    const stats =
      tag === 'new' ? `first ${formatAge(c.firstSeen, now)} ago ×${c.count}` : `${last30}/30m ×${c.count}`;
    const rest = Math.max(10, w - stats.length - 4);
    return (
      <Text wrap="truncate">
        <Text color={c.level === 'CRITICAL' ? 'magenta' : 'red'}>{c.level === 'CRITICAL' ? 'C ' : 'E '}</Text>
        <Text>{padEnd(truncate(c.template, rest), rest)}</Text>
        <Text dimColor> {stats}</Text>
      </Text>
    );
  };
  const clusterTitle = (
    <Text bold wrap="truncate">
      Error clusters{' '}
      <Text dimColor>
        ({logs.errorsLastHour} errors in the last hour, threshold {logs.errorsPerHourThreshold}
        {logs.history.status === 'loading' ? ' · reading the last 24 h…' : ''})
      </Text>
    </Text>
  );

  // --- lay out in the height we have -----------------------------------------------------------------
  const rows: Row[] = [...top];
  const spacer = (k: string) => line(k, <Text> </Text>);
  let budget = height - rows.length;
  const take = (items: Row[], n: number) => {
    const out = items.slice(0, Math.max(0, n));
    budget -= out.length;
    return out;
  };
  // Checks get up to half of what is left, alerts and clusters share the rest.
  const checksShown = take(checkRows, Math.min(checkRows.length, Math.max(2, Math.floor(budget * 0.45))));
  if (checksShown.length < checkRows.length && checksShown.length > 0) {
    // Name the failing checks that did not fit (each takes two rows above).
    const shownChecks = Math.ceil((checksShown.length - 1) / 2);
    const hidden = failing.slice(shownChecks);
    if (hidden.length > 0)
      checksShown[checksShown.length - 1] = line(
        'checks-more',
        <Text dimColor wrap="truncate">
          {'  … also failing: '}
          {hidden.map((c) => `${c.name} (${c.state})`).join(', ')}
        </Text>,
      );
  }
  rows.push(...checksShown);

  if (wide) {
    // Alerts on the left, clusters on the right.
    const half = Math.floor((width - 2) / 2);
    const n = Math.max(0, budget - 1);
    const left = [spacer('a-sp'), ...alertRows.slice(0, 1), ...windowed(alertRows.slice(1), sel, n - 2)];
    const clusterRows: Row[] = [spacer('c-sp'), line('c-title', clusterTitle)];
    clusterRows.push(line('c-new-t', <Text dimColor>newest</Text>));
    const per = Math.max(1, Math.floor((n - 4) / 2));
    for (const c of newest.slice(0, per)) clusterRows.push(line(`cn-${c.id}`, clusterLine(c, 'new', half)));
    clusterRows.push(line('c-busy-t', <Text dimColor>busiest (last 30 min)</Text>));
    for (const c of busy.slice(0, per)) clusterRows.push(line(`cb-${c.id}`, clusterLine(c, 'busy', half)));
    if (errorClusters.length === 0)
      clusterRows.push(line('c-none', <Text dimColor>no error clusters yet</Text>));
    return (
      <Box flexDirection="column" width={width} height={height}>
        {rows.map((r) => (
          <Box key={r.key} width={width} height={1}>
            {r.node}
          </Box>
        ))}
        <Box flexDirection="row" width={width}>
          <Box flexDirection="column" width={half}>
            {left.slice(0, n).map((r) => (
              <Box key={r.key} width={half} height={1}>
                {r.node}
              </Box>
            ))}
          </Box>
          <Box width={2} />
          <Box flexDirection="column" width={width - half - 2}>
            {clusterRows.slice(0, n).map((r) => (
              <Box key={r.key} width={width - half - 2} height={1}>
                {r.node}
              </Box>
            ))}
          </Box>
        </Box>
      </Box>
    );
  }

  // Narrow: alerts, then clusters (newest and busiest, one each at least).
  const clusterNeed = errorClusters.length ? 3 : 2;
  const alertSpace = Math.max(2, budget - clusterNeed - 1);
  rows.push(
    alertRows[0]!,
    ...windowed(alertRows.slice(1), sel, Math.min(alertRows.length - 1, alertSpace - 1)),
  );
  budget = height - rows.length;
  if (budget >= 2) {
    rows.push(line('c-title', clusterTitle));
    budget--;
    if (errorClusters.length === 0) rows.push(line('c-none', <Text dimColor>no error clusters yet</Text>));
    else {
      const per = Math.max(1, Math.floor(budget / 2));
      const shown = new Set<number>();
      for (const c of newest.slice(0, per)) {
        rows.push(
          line(
            `cn-${c.id}`,
            <Text wrap="truncate">
              <Text dimColor>new </Text>
              {clusterLine(c, 'new', width - 5)}
            </Text>,
          ),
        );
        shown.add(c.id);
      }
      for (const c of busy
        .filter((x) => !shown.has(x.id))
        .slice(0, Math.max(1, budget - Math.min(per, newest.length))))
        rows.push(
          line(
            `cb-${c.id}`,
            <Text wrap="truncate">
              <Text dimColor>busy </Text>
              {clusterLine(c, 'busy', width - 5)}
            </Text>,
          ),
        );
    }
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      {rows.slice(0, height).map((r) => (
        <Box key={r.key} width={width} height={1}>
          {r.node}
        </Box>
      ))}
    </Box>
  );
}

/** The rows of a list around the selected one, at most n. */
function windowed(items: Row[], selected: number, n: number): Row[] {
  if (n <= 0) return [];
  if (items.length <= n) return items;
  const start = Math.max(0, Math.min(items.length - n, selected - Math.floor(n / 2)));
  const out = items.slice(start, start + n);
  const more = items.length - n;
  if (more > 0) out[out.length - 1] = line('more', <Text dimColor> … {more} more (↑↓)</Text>);
  return out;
}

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

function rank(s: HealthState): number {
  return s === 'critical' ? 3 : s === 'warning' ? 2 : s === 'unknown' ? 1 : 0;
}

export const overviewScreen: ScreenDefinition = {
  id: 'overview',
  key: '1',
  title: 'Overview',
  help: [
    'The triage page. Top: the health verdict (HEALTHY, WARNING, CRITICAL, UNKNOWN) of the nine checks with when they last ran; the application (up and for how long, or down and for how long, its last log heartbeat) with CPU, memory, the site disk, load and the application RSS; the age of the newest verified backup of each kind (and a newer one that is unverified or failed).',
    'Then each failing check with what to do about it (→), the active alerts of every source, most severe first, and the error clusters of the logs: the newest (first seen most recently) and the busiest (most records in the last 30 minutes).',
    'The checks run in a worker thread every health.intervalSeconds (60 s) and with r; each run is recorded and raises or clears the health alerts. ↑↓ select an alert, a acknowledges it (it stays active until its condition clears), Enter opens the screen it is about.',
  ],
  bindings: [
    { command: 'refresh', keys: ['r'], label: 'recheck', description: 'run the health checks now' },
    {
      command: 'acknowledge',
      keys: ['a'],
      label: 'acknowledge',
      description: 'acknowledge the selected alert',
      changes: true,
    },
    {
      command: 'open',
      keys: ['enter'],
      label: 'go to',
      description: 'open the screen the selected alert is about',
    },
  ],
  Component: Overview,
};
