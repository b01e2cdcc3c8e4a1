// Screen 2: is the host or the application starving? Draws the resource monitor's store (sampled
// console-wide, see shared-services.ts): CPU total and per core, load, memory, swap, every real
// filesystem (site and backups marked), disk and network rates, the application panel with its leak
// check, the active resource alerts. Each figure has its threshold level (symbol + word, so it
// reads without colour), a trend arrow and a sparkline of the ring. Enter on a line opens its history
// chart over 1 h / 24 h / 30 d (from the state database, so it is full right after a restart).
import { Box, Text } from 'ink';
import { type ReactNode, useMemo, useState } from 'react';
import type { Alert } from '../services/alerts.js';
import { formatDuration } from '../services/app-status.js';
import type { Config } from '../services/config.js';
import { formatHostFacts, hostFacts } from '../services/host-facts.js';
import type { Level, ResourceAnalysis } from '../services/metric-analysis.js';
import type { ChartRange, MetricHistory } from '../services/metric-history.js';
import { labelOf, METRIC, type Unit, unitOf } from '../services/resource-metrics.js';
import { nextInterval, type ResourceMonitorState } from '../services/resource-monitor.js';
import type { ResourceSnapshot } from '../services/sampler.js';
import { blockChart, fitScale } from './components/chart.js';
import { selectionStep } from './components/selection.js';
import { bar, sparkline } from './components/sparkline.js';
import { LEVEL_STYLE } from './components/status.js';
import { formatBytes, padEnd, padStart, truncate } from './components/text.js';
import type { ScreenDefinition, ScreenProps } from './context.js';
import { useCommands, useConsole, useStore } from './hooks.js';
import { resourceMonitor, sharedAlerts } from './shared-services.js';

const MB = 1024 * 1024;
const ARROW = { increasing: '↑', decreasing: '↓', stable: '→', unknown: ' ' } as const;
const RANGES: ChartRange[] = ['1h', '24h', '30d'];

export function formatValue(v: number | null | undefined, unit: Unit): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'n/a';
  switch (unit) {
    case 'pct':
      return `${v.toFixed(1)} %`;
    case 'mb':
      return formatBytes(v * MB);
    case 'bps':
      return `${formatBytes(v)}/s`;
    case 'load':
      return v.toFixed(2);
    case 'bool':
      return v >= 0.5 ? 'up' : 'down';
    default:
      return v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v.toFixed(0);
  }
}

/** One line of the screen; selectable lines name the metrics their chart shows. */
interface Line {
  id: string;
  /** The alert on this line, for `a` (acknowledge). */
  alertId?: number;
  metrics?: string[];
  /** Shown in the chart view instead, when the line is n/a. */
  reason?: string;
  render(selected: boolean): ReactNode;
}

function Badge({ level }: { level: Level }) {
  const s = LEVEL_STYLE[level];
  return (
    <Text color={s.color} bold={level === 'critical'}>
      {padEnd(`${s.symbol} ${s.word}`, 6)}
    </Text>
  );
}

function Label({ text, width, selected }: { text: string; width: number; selected: boolean }) {
  return (
    <Text inverse={selected} bold={!selected}>
      {padEnd(text, width)}
    </Text>
  );
}

interface Layout {
  width: number;
  label: number;
  value: number;
  spark: number;
}

function layoutFor(width: number): Layout {
  const label = width >= 120 ? 14 : 10;
  const value = 10;
  const spark = Math.max(
    8,
    Math.min(60, Math.floor((width - label - value - 8) * (width >= 120 ? 0.45 : 0.3))),
  );
  return { width, label, value, spark };
}

function levelOf(a: ResourceAnalysis | null, metric: string): Level {
  return a?.metrics[metric]?.level ?? 'unknown';
}

/** The level badge; a measured figure that has no threshold gets none. */
function LevelCell({
  a,
  metric,
  value,
}: {
  a: ResourceAnalysis | null;
  metric: string;
  value: number | null | undefined;
}) {
  const level = levelOf(a, metric);
  if (level === 'unknown' && value !== null && value !== undefined) return <Text>{' '.repeat(6)}</Text>;
  return <Badge level={level} />;
}

function arrowOf(a: ResourceAnalysis | null, metric: string): string {
  return ARROW[a?.metrics[metric]?.trend.direction ?? 'unknown'];
}

/** label · value · level · trend · sparkline · extra text */
function metricLine(
  id: string,
  label: string,
  metric: string,
  value: number | null | undefined,
  extra: string,
  ctx: { layout: Layout; analysis: ResourceAnalysis | null; history: MetricHistory },
  opts: { metrics?: string[]; scale?: { min?: number; max?: number } } = {},
): Line {
  const { layout, analysis, history } = ctx;
  const unit = unitOf(metric);
  const spark = sparkline(history.ring.last(metric, layout.spark), layout.spark, opts.scale);
  const rest = Math.max(0, layout.width - layout.label - layout.value - 10 - layout.spark - 1);
  return {
    id,
    metrics: opts.metrics ?? [metric],
    render: (selected) => (
      <Text wrap="truncate">
        <Label text={label} width={layout.label} selected={selected} />
        {padStart(formatValue(value, unit), layout.value - 1)}{' '}
        <LevelCell a={analysis} metric={metric} value={value} /> {arrowOf(analysis, metric)}{' '}
        <Text color="cyan">{spark}</Text> <Text dimColor={false}>{truncate(extra, rest)}</Text>
      </Text>
    ),
  };
}

function naLine(id: string, label: string, reason: string, layout: Layout): Line {
  return {
    id,
    reason,
    render: (selected) => (
      <Text wrap="truncate">
        <Label text={label} width={layout.label} selected={selected} />
        <Text color="gray">{truncate(`n/a: ${reason}`, layout.width - layout.label)}</Text>
      </Text>
    ),
  };
}

function staleLine(reason: string): Line {
  return {
    id: 'stale',
    reason,
    render: (selected) => (
      <Text wrap="truncate" color="yellow">
        <Text inverse={selected}>{'  '}</Text>
        {`▲ stale pid file: ${reason}`}
      </Text>
    ),
  };
}

const pctShort = (v: number | null) => (v === null ? 'n/a' : `${v.toFixed(0)}`);
const time = (ms: number) => new Date(ms).toTimeString().slice(0, 8);

function buildLines(
  state: ResourceMonitorState,
  history: MetricHistory,
  config: Config,
  alerts: Alert[],
  width: number,
  height: number,
): Line[] {
  const s: ResourceSnapshot | null = state.snapshot;
  const a = state.analysis;
  const layout = layoutFor(width);
  const ctx = { layout, analysis: a, history };
  const lines: Line[] = [];
  if (!s) {
    lines.push({ id: 'wait', render: () => <Text dimColor>sampling…</Text> });
    return lines;
  }
  const t = config.thresholds;
  const un = s.unavailable;

  // CPU, cores, load.
  if (s.cpu) {
    const c = s.cpu;
    lines.push(
      metricLine(
        'cpu',
        'CPU',
        METRIC.cpu,
        c.percent,
        `usr ${pctShort(c.user)} sys ${pctShort(c.system)} io ${pctShort(c.iowait)} st ${pctShort(c.steal)} · ${c.coreCount} cores`,
        ctx,
        { scale: { min: 0, max: 100 } },
      ),
    );
    const n = c.cores.length;
    const barWidth = width >= 120 ? 12 : 8;
    // Wide terminals: a sparkline per core too.
    const coreSpark = width >= 120 ? 10 : 0;
    const cell = 5 + 1 + barWidth + 5 + (coreSpark ? coreSpark + 1 : 0);
    const perRow = Math.max(1, Math.floor((width - 2) / (cell + 2)));
    const rowsNeeded = Math.ceil(n / perRow);
    const budget = Math.max(1, Math.floor(height / 5));
    if (rowsNeeded <= budget) {
      for (let r = 0; r < rowsNeeded; r++) {
        const idx = Array.from({ length: Math.min(perRow, n - r * perRow) }, (_, k) => r * perRow + k);
        lines.push({
          id: `cores${r}`,
          metrics: idx.map((i) => METRIC.core(i)),
          render: (selected) => (
            <Text wrap="truncate">
              <Text inverse={selected}>{'  '}</Text>
              {idx.map((i) => {
                const v = c.cores[i] ?? null;
                const level = levelOf(a, METRIC.core(i));
                return (
                  <Text key={i}>
                    {padEnd(`cpu${i}`, 5)}{' '}
                    <Text color={LEVEL_STYLE[level === 'unknown' ? 'ok' : level].color}>
                      {bar(v ?? 0, barWidth)}
                    </Text>
                    {padStart(v === null ? 'n/a' : `${v.toFixed(0)}%`, 5)}
                    {coreSpark ? (
                      <Text color="cyan">{` ${sparkline(history.ring.last(METRIC.core(i), coreSpark), coreSpark, { min: 0, max: 100 })}`}</Text>
                    ) : null}
                    {'  '}
                  </Text>
                );
              })}
            </Text>
          ),
        });
      }
    } else {
      // Many cores: one cell per core, its height the load.
      const blocks = c.cores
        .map((v) => (v === null ? '·' : ' ▁▂▃▄▅▆▇█'[Math.min(8, Math.round((v / 100) * 8))]!))
        .join('');
      const chunk = Math.max(8, width - 10);
      for (let r = 0; r * chunk < blocks.length; r++) {
        const part = blocks.slice(r * chunk, (r + 1) * chunk);
        lines.push({
          id: `cores${r}`,
          metrics: [METRIC.cpu],
          render: (selected) => (
            <Text wrap="truncate">
              <Label text={r === 0 ? '  cores' : ''} width={layout.label} selected={selected} />
              <Text color="cyan">{part}</Text>
            </Text>
          ),
        });
      }
    }
  } else lines.push(naLine('cpu', 'CPU', un.cpu ?? 'not read', layout));
  if (s.load) {
    const l = s.load;
    lines.push(
      metricLine(
        'load',
        'load',
        METRIC.load,
        l.one,
        `${l.five.toFixed(2)} ${l.fifteen.toFixed(2)}${l.perCore !== null ? ` · ${l.perCore.toFixed(2)}/core` : ''}${
          l.tasks !== null ? ` · ${l.runnable}/${l.tasks} run` : ''
        }${s.cpu?.contextSwitchesPerSec != null ? ` · ${formatValue(s.cpu.contextSwitchesPerSec, 'n')} cs/s` : ''}`,
        ctx,
      ),
    );
  } else lines.push(naLine('load', 'load', un.load ?? 'not read', layout));

  // Memory and swap.
  const m = s.memory;
  if (m) {
    lines.push(
      metricLine(
        'memory',
        'memory',
        METRIC.memory,
        m.usedPercent,
        `${formatBytes(m.usedBytes)} of ${formatBytes(m.totalBytes)} · avail ${formatBytes(m.availableBytes)}`,
        ctx,
        { metrics: [METRIC.memory, METRIC.available], scale: { min: 0, max: 100 } },
      ),
    );
    if (m.swapTotalBytes > 0)
      lines.push(
        metricLine(
          'swap',
          'swap',
          METRIC.swap,
          m.swapPercent,
          `${formatBytes(m.swapUsedBytes)} of ${formatBytes(m.swapTotalBytes)}`,
          ctx,
          {
            scale: { min: 0, max: 100 },
          },
        ),
      );
    else
      lines.push({
        id: 'swap',
        render: (selected) => (
          <Text wrap="truncate">
            <Label text="swap" width={layout.label} selected={selected} />
            <Text dimColor>none</Text>
          </Text>
        ),
      });
  } else lines.push(naLine('memory', 'memory', un.memory ?? 'not read', layout));

  // Filesystems.
  if (s.filesystems) {
    const mountWidth = Math.max(12, width - 46);
    lines.push({
      id: 'fs-head',
      render: () => (
        <Text bold wrap="truncate">
          {padEnd('filesystem', mountWidth)} {padEnd('type', 6)}
          {padStart('size', 7)}
          {padStart('free', 7)}
          {padStart('use', 7)} {'level'}
        </Text>
      ),
    });
    for (const fs of s.filesystems) {
      const metric = METRIC.fs(fs.mountPoint);
      const name = `${fs.mountPoint}${fs.marks.length ? ` [${fs.marks.join(', ')}]` : ''}`;
      if (fs.error) {
        lines.push({
          ...naLine(`fs:${fs.mountPoint}`, '', fs.error, layout),
          metrics: [metric],
          reason: fs.error,
          render: (selected) => (
            <Text wrap="truncate">
              <Text inverse={selected}>{padEnd(name, mountWidth)}</Text> {padEnd(fs.fsType, 6)}
              <Text color="gray">{` n/a: ${fs.error}`}</Text>
            </Text>
          ),
        });
        continue;
      }
      lines.push({
        id: `fs:${fs.mountPoint}`,
        metrics: [metric],
        render: (selected) => (
          <Text wrap="truncate">
            <Text inverse={selected} bold={fs.marks.length > 0 && !selected}>
              {padEnd(name, mountWidth)}
            </Text>{' '}
            {padEnd(fs.fsType, 6)}
            {padStart(formatBytes(fs.totalBytes), 7)}
            {padStart(formatBytes(fs.availableBytes), 7)}
            {padStart(`${(fs.usedPercent ?? 0).toFixed(0)}%`, 7)} <Badge level={levelOf(a, metric)} />
            {arrowOf(a, metric)}
          </Text>
        ),
      });
    }
  } else lines.push(naLine('fs', 'filesystems', un.filesystems ?? 'not read', layout));

  // Disks and network.
  if (s.disks) {
    for (const d of s.disks) {
      lines.push(
        metricLine(
          `disk:${d.name}`,
          `disk ${d.name}`,
          METRIC.diskWrite(d.name),
          d.writeBytesPerSec,
          `write · read ${formatValue(d.readBytesPerSec, 'bps')} · busy ${d.busyPercent === null ? 'n/a' : `${d.busyPercent.toFixed(0)}%`}${d.reset ? ' · counters restarted' : ''}`,
          ctx,
          { metrics: [METRIC.diskRead(d.name), METRIC.diskWrite(d.name), METRIC.diskBusy(d.name)] },
        ),
      );
    }
  } else lines.push(naLine('disks', 'disks', un.disks ?? 'not read', layout));
  if (s.network) {
    for (const n of s.network.filter((x) => !x.idle && !x.loopback)) {
      lines.push(
        metricLine(
          `net:${n.name}`,
          `net ${n.name}`,
          METRIC.netRx(n.name),
          n.rxBytesPerSec,
          `in · out ${formatValue(n.txBytesPerSec, 'bps')}${n.errorsPerSec ? ` · ${n.errorsPerSec.toFixed(0)} err/s` : ''}${n.reset ? ' · counters restarted' : ''}`,
          ctx,
          { metrics: [METRIC.netRx(n.name), METRIC.netTx(n.name)] },
        ),
      );
    }
  } else lines.push(naLine('net', 'network', un.network ?? 'not read', layout));

  // The application.
  const app = s.app;
  if (app.running) {
    lines.push({
      id: 'app',
      metrics: [METRIC.appThreads, METRIC.appFds],
      render: (selected) => (
        <Text wrap="truncate">
          <Label text="app" width={layout.label} selected={selected} />
          <Text color="green">● up</Text>
          {` ${app.uptimeSeconds !== null ? formatDuration(app.uptimeSeconds) : ''} · pid ${app.pid} (${app.via}) · ${app.state ?? ''} · ${app.threads ?? 'n/a'} threads · ${
            app.openFiles ?? 'n/a'
          } files`}
        </Text>
      ),
    });
    lines.push(
      metricLine('app-cpu', '  app CPU', METRIC.appCpu, app.cpuPercent, 'of one core', ctx, {
        scale: { min: 0 },
      }),
    );
    const leak = a?.leak;
    lines.push(
      metricLine(
        'app-rss',
        '  app RSS',
        METRIC.appRss,
        app.rssBytes === null ? null : app.rssBytes / MB,
        `peak ${formatBytes(app.rssPeakBytes)} · warn ${t.appRssMb.warning} crit ${t.appRssMb.critical} MB`,
        ctx,
      ),
    );
    if (app.stalePidFile) lines.push(staleLine(app.stalePidFile.reason));
    if (leak)
      lines.push({
        id: 'leak',
        metrics: [METRIC.appRss],
        render: (selected) => (
          <Text wrap="truncate" color={leak.suspected ? 'yellow' : undefined} dimColor={!leak.suspected}>
            <Text inverse={selected}>{'  '}</Text>
            {leak.suspected ? '▲ ' : ''}
            {leak.summary}
          </Text>
        ),
      });
  } else {
    const since = app.notRunningSince;
    const text =
      since !== null
        ? `✖ not running since ${time(since)} (${formatDuration((s.at - since) / 1000)} ago)`
        : app.lastSeenAt !== null
          ? `✖ not running; last seen ${time(app.lastSeenAt)}`
          : `✖ not running (never seen on this site: pid file ${config.app.pidFile}, pattern "${config.app.processPattern}")`;
    lines.push({
      id: 'app',
      metrics: [METRIC.appUp],
      reason: app.stalePidFile?.reason,
      render: (selected) => (
        <Text wrap="truncate">
          <Label text="app" width={layout.label} selected={selected} />
          <Text color={since !== null ? 'red' : 'gray'}>{text}</Text>
        </Text>
      ),
    });
    if (app.stalePidFile) lines.push(staleLine(app.stalePidFile.reason));
  }
  if (app.error) lines.push(naLine('app-error', '  app', app.error, layout));

  // Active resource alerts.
  for (const alert of alerts) {
    const level = alert.severity === 'info' ? 'info' : alert.severity;
    lines.push({
      id: `alert:${alert.key}`,
      alertId: alert.id,
      reason: `${alert.message} (raised ${alert.count}x, first ${time(alert.firstSeen)}, last ${time(alert.lastSeen)}${alert.acknowledgedAt ? ', acknowledged' : ''})`,
      render: (selected) => (
        <Text wrap="truncate">
          <Text inverse={selected} color={LEVEL_STYLE[level].color}>
            {`${LEVEL_STYLE[level].symbol} `}
          </Text>
          <Text color={LEVEL_STYLE[level].color}>{alert.message}</Text>
          <Text dimColor>{`${alert.acknowledgedAt ? ' · ack' : ''} · first ${time(alert.firstSeen)}`}</Text>
        </Text>
      ),
    });
  }
  return lines;
}

function ChartView({
  metrics,
  range,
  history,
  width,
  height,
  reason,
}: {
  metrics: string[];
  range: ChartRange;
  history: MetricHistory;
  width: number;
  height: number;
  reason?: string;
}) {
  const axis = 9;
  const plotWidth = Math.max(10, width - axis - 1);
  const per = Math.max(3, Math.floor((height - 2) / Math.max(1, metrics.length)) - 2);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>{metrics.map(labelOf).join(' · ')}</Text>
        {`  ${range === '1h' ? 'last hour' : range === '24h' ? 'last 24 hours' : 'last 30 days'}`}
        <Text dimColor>{'   t/←/→ range  Esc back'}</Text>
      </Text>
      {reason ? (
        <Text color="yellow" wrap="wrap">
          {truncate(reason, width * 2)}
        </Text>
      ) : null}
      {metrics.map((metric) => {
        const unit = unitOf(metric);
        const points = history.chart(metric, range, plotWidth);
        const span = range === '1h' ? 3_600_000 : range === '24h' ? 86_400_000 : 30 * 86_400_000;
        const from = Date.now() - span;
        // Spread points onto columns by time, so gaps (console closed) stay gaps.
        const columns: (number | null)[] = new Array(plotWidth).fill(null);
        for (const p of points) {
          const c = Math.min(plotWidth - 1, Math.max(0, Math.floor(((p.t - from) / span) * plotWidth)));
          columns[c] = p.avg;
        }
        const values = columns.filter((v): v is number => v !== null);
        const scale = fitScale(columns, unit === 'pct' ? { min: 0, max: 100 } : undefined);
        const rows = blockChart(columns, plotWidth, per, scale);
        const stats = values.length
          ? `min ${formatValue(Math.min(...values), unit)}  avg ${formatValue(values.reduce((x, y) => x + y, 0) / values.length, unit)}  max ${formatValue(Math.max(...values), unit)}`
          : 'no history yet';
        return (
          <Box key={metric} flexDirection="column">
            <Text wrap="truncate">
              <Text color="cyan">{labelOf(metric)}</Text>
              <Text dimColor>{`  ${stats}`}</Text>
            </Text>
            {rows.map((row, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: chart rows are positional
              <Text key={i} wrap="truncate">
                <Text dimColor>
                  {padStart(
                    i === 0
                      ? formatValue(scale.max, unit)
                      : i === rows.length - 1
                        ? formatValue(scale.min, unit)
                        : '',
                    axis - 1,
                  )}
                  {'│'}
                </Text>
                <Text color="cyan">{row}</Text>
              </Text>
            ))}
            <Text dimColor wrap="truncate">
              {`${' '.repeat(axis)}${padEnd(`-${range}`, plotWidth - 3)}now`}
            </Text>
          </Box>
        );
      })}
    </Box>
  );
}

/** Larger terminals: block charts of the recent samples (the ring) of the key figures, side by side. */
function RecentCharts({
  history,
  width,
  height,
  appRunning,
}: {
  history: MetricHistory;
  width: number;
  height: number;
  appRunning: boolean;
}) {
  const metrics = [METRIC.cpu, METRIC.memory, ...(appRunning ? [METRIC.appRss] : [])];
  const gap = 2;
  const each = Math.floor((width - gap * (metrics.length - 1)) / metrics.length);
  const plot = Math.max(8, each - 8);
  const rows = Math.max(3, height - 2);
  const charts = metrics.map((metric) => {
    const unit = unitOf(metric);
    // The last hour: stored minutes (so a reopened console shows it at once) and the ring.
    const span = 3_600_000;
    const from = Date.now() - span;
    const values: (number | null)[] = new Array(plot).fill(null);
    for (const p of history.chart(metric, '1h', plot)) {
      values[Math.min(plot - 1, Math.max(0, Math.floor(((p.t - from) / span) * plot)))] = p.avg;
    }
    const finite = values.filter((v): v is number => v !== null);
    // Percentages on 0–100; sizes from a little under their minimum, so a slow climb shows.
    const scale =
      unit === 'pct'
        ? { min: 0, max: 100 }
        : fitScale(values, finite.length ? { min: Math.floor(Math.min(...finite) * 0.9) } : undefined);
    return {
      metric,
      title: `${labelOf(metric)} · last hour`,
      rows: blockChart(values, plot, rows, scale),
      top: formatValue(scale.max, unit),
      bottom: formatValue(scale.min, unit),
    };
  });
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text wrap="truncate">
        {charts.map((c, i) => (
          <Text key={c.metric} bold>
            {padEnd(c.title, each)}
            {i < charts.length - 1 ? ' '.repeat(gap) : ''}
          </Text>
        ))}
      </Text>
      {Array.from({ length: rows }, (_, r) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: chart rows are positional
        <Text key={r} wrap="truncate">
          {charts.map((c, i) => (
            <Text key={c.metric}>
              <Text dimColor>{padStart(r === 0 ? c.top : r === rows - 1 ? c.bottom : '', 7)}│</Text>
              <Text color="cyan">{c.rows[r]}</Text>
              {i < charts.length - 1 ? ' '.repeat(each - plot - 8 + gap) : ''}
            </Text>
          ))}
        </Text>
      ))}
    </Box>
  );
}

function ResourcesScreen({ width, height }: ScreenProps) {
  const ctx = useConsole();
  const monitor = resourceMonitor(ctx);
  const alertService = sharedAlerts(ctx).service;
  const live = useStore(monitor.store);
  const [frozen, setFrozen] = useState<ResourceMonitorState | null>(null);
  const state = frozen ?? live;
  const [selectedId, setSelectedId] = useState<string>('cpu');
  // Static: read once per process (os-release, cpuinfo), a fraction of a millisecond.
  const facts = useMemo(() => hostFacts(), []);
  const [chart, setChart] = useState<{ metrics: string[]; range: ChartRange; reason?: string } | null>(null);

  // A short indexed query, once per render (a tick or a key).
  const alerts = alertService.active({ source: 'resources' });
  const bodyHeight = Math.max(1, height - 1);
  const lines = buildLines(state, monitor.history, ctx.config, alerts, width, bodyHeight);
  const selectable = lines.filter((l) => l.metrics || l.reason);
  let selectedIndex = selectable.findIndex((l) => l.id === selectedId);
  if (selectedIndex < 0) selectedIndex = 0;
  const selected = selectable[selectedIndex];

  useCommands((command) => {
    if (chart) {
      if (command === 'close') setChart(null);
      else if (command === 'range' || command === 'right' || command === 'open')
        setChart({ ...chart, range: RANGES[(RANGES.indexOf(chart.range) + 1) % RANGES.length]! });
      else if (command === 'left')
        setChart({
          ...chart,
          range: RANGES[(RANGES.indexOf(chart.range) + RANGES.length - 1) % RANGES.length]!,
        });
      else if (command === 'pause') setFrozen(frozen ? null : live);
      else return false;
      return true;
    }
    const step = selectionStep(command, selectable.length, 10);
    if (step) {
      // Keys may arrive faster than renders: move from the latest selection, not this render's.
      const ids = selectable.map((l) => l.id);
      setSelectedId((current) => ids[step(Math.max(0, ids.indexOf(current)))] ?? current);
      return true;
    }
    switch (command) {
      case 'open':
        if (selected) setChart({ metrics: selected.metrics ?? [], range: '1h', reason: selected.reason });
        return true;
      case 'ack':
        if (selected?.alertId === undefined) {
          ctx.ui.flash('select an alert line to acknowledge it', 'info');
        } else {
          const ok = alertService.acknowledge(selected.alertId, process.env.USER ?? null);
          ctx.ui.flash(
            ok ? 'alert acknowledged (it stays until its condition clears)' : 'that alert has cleared',
            ok ? 'success' : 'info',
          );
        }
        return true;
      case 'pause':
        setFrozen(frozen ? null : live);
        ctx.ui.flash(
          frozen ? 'display resumed' : 'display paused (sampling, history and alerts go on)',
          'info',
        );
        return true;
      case 'slower':
      case 'faster': {
        const ms = monitor.setIntervalMs(
          nextInterval(monitor.getIntervalMs(), command === 'slower' ? 1 : -1),
        );
        ctx.ui.flash(`sampling every ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`, 'info');
        return true;
      }
      default:
        return false;
    }
  });

  if (chart) {
    return (
      <ChartView
        metrics={chart.metrics}
        range={chart.range}
        history={monitor.history}
        width={width}
        height={height}
        reason={chart.reason}
      />
    );
  }

  // Keep the selected line in view.
  const selectedLine = lines.indexOf(selected!);
  const start =
    lines.length <= bodyHeight
      ? 0
      : Math.max(0, Math.min(lines.length - bodyHeight, selectedLine - Math.floor(bodyHeight / 2)));
  const visible = lines.slice(start, start + bodyHeight);
  const a = state.analysis;
  const interval = state.intervalMs >= 1000 ? `${state.intervalMs / 1000} s` : `${state.intervalMs} ms`;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Resources</Text>
        {'  '}
        <Badge level={a?.overall ?? 'unknown'} />
        {`  every ${interval}`}
        {state.tickUs !== null ? (
          <Text dimColor>{` · tick ${(state.tickUs / 1000).toFixed(2)} ms`}</Text>
        ) : null}
        {state.snapshot ? <Text dimColor>{` · ${time(state.snapshot.at)}`}</Text> : null}
        {frozen ? (
          <Text color="yellow" bold>
            {'  ▌▌ PAUSED'}
          </Text>
        ) : null}
        {lines.length > bodyHeight ? (
          <Text
            dimColor
          >{`  ${start + 1}-${Math.min(lines.length, start + bodyHeight)}/${lines.length}`}</Text>
        ) : null}
      </Text>
      {visible.map((line) => (
        <Box key={line.id}>{line.render(line === selected)}</Box>
      ))}
      {facts && lines.length < bodyHeight ? (
        <Text dimColor wrap="truncate">
          {formatHostFacts(facts)}
        </Text>
      ) : null}
      {state.snapshot && bodyHeight - lines.length - 1 >= 8 && width >= 90 ? (
        <RecentCharts
          history={monitor.history}
          width={width}
          height={Math.min(12, bodyHeight - lines.length - 2)}
          appRunning={state.snapshot.app.running}
        />
      ) : null}
    </Box>
  );
}

export const resourcesScreen: ScreenDefinition = {
  id: 'resources',
  key: '2',
  title: 'Resources',
  help: [
    'Is the host or the application starving? Host CPU (total and per core), load, memory and swap, every real filesystem (the site and backup folders marked in brackets), disk and network rates, and the Candy-Cadence process (found by pid file, else by command-line pattern): CPU of one core, RSS, threads, open files, uptime.',
    'Each figure has its threshold level from the configuration (● OK, ▲ WARN, ✖ CRIT; ? N/A has no threshold), its trend over the last sampling.trendSamples samples (↑ rising, ↓ falling, → steady: a least-squares slope beyond thresholds.trendSlope per sample) and a sparkline of the last samples.',
    'The leak line judges the application RSS over the last thresholds.leakReadings readings of sampling.leakReadingSeconds: a rise above thresholds.leakRiseMbPerReading MB per reading is a suspected leak, with its slope and the time to reach the RSS alert at that rate.',
    'n/a means the figure could not be read (no permission, a /proc file missing, a network filesystem not answering): the reason follows on the line, and Enter on it shows it in full.',
    'Sampling, history and alerts go on whatever the screen and while paused; history is kept in the state database (1-minute points for 24 h, 10-minute points for 30 days), so charts are full after a restart.',
  ],
  bindings: [
    {
      command: 'open',
      keys: ['enter'],
      label: 'chart',
      description: 'history chart of the selected line (1 h, then t or ←/→ for 24 h and 30 d)',
    },
    {
      command: 'pause',
      keys: ['space'],
      label: 'pause',
      description: 'freeze the display (sampling, history and alerts continue)',
    },
    {
      command: 'slower',
      keys: ['+', '='],
      label: 'slower',
      description: 'sample less often (250 ms … 60 s)',
    },
    { command: 'faster', keys: ['-'], label: 'faster', description: 'sample more often' },
    {
      command: 'ack',
      keys: ['a'],
      label: 'ack',
      description: 'acknowledge the selected alert (it stays active, marked, until its condition clears)',
    },
    {
      command: 'range',
      keys: ['t'],
      label: 'range',
      description: 'in a chart: next range (1 h, 24 h, 30 d)',
      hidden: true,
    },
  ],
  Component: ResourcesScreen,
};
