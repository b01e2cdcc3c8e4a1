// Screen 3: all log files merged live (level colours, timestamp, file, logger; tracebacks under
// their record), level filter, `/` search with highlighting, space to pause (counting what arrives
// meanwhile); the WARNING+ clusters with counts, 30-minute sparklines, first and last seen, sorted
// by count, rate or recency, Enter for a cluster's samples and timeline; the error timeline per hour.
// Records live in a ring buffer outside React (services/log-live.ts); this renders the visible slice
// when the service publishes (at most 10 times a second).
import { Box, Text } from 'ink';
import { useMemo, useState } from 'react';
import type { AlertSink } from '../services/alert-sink.js';
import type { ClusterView } from '../services/log-clusters.js';
import { LiveLogs, type LiveRecord } from '../services/log-live.js';
import { LEVEL_RANK, type Level } from '../services/log-parse.js';
import { FILTER_BINDING } from '../source/keymap.js';
import { sparkline } from './components/sparkline.js';
import { type Column, Table } from './components/table.js';
import { formatAge, padEnd, truncate } from './components/text.js';
import type { ConsoleContextValue, ScreenDefinition, ScreenProps } from './context.js';
import { useCommands, useConsole, useStore } from './hooks.js';
import { sharedAlerts } from './shared-services.js';

const LEVEL_COLOR: Record<Level, string | undefined> = {
  DEBUG: 'gray',
  INFO: undefined,
  WARNING: 'yellow',
  ERROR: 'red',
  CRITICAL: 'magenta',
};
const SHORT: Record<Level, string> = {
  DEBUG: 'DEBUG',
  INFO: 'INFO',
  WARNING: 'WARN',
  ERROR: 'ERROR',
  CRITICAL: 'CRIT',
};
const SORTS = ['count', 'rate', 'recent'] as const;
type Sort = (typeof SORTS)[number];

/** The console's one live log service (shared, disposed on exit). */
export function liveLogs(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config' | 'stateDb'>,
  alerts?: AlertSink,
) {
  return ctx.services.get(
    'logs-live',
    () => {
      const live = new LiveLogs({ logsDir: ctx.site.paths.logs, config: ctx.config, alerts });
      void live.start();
      return live;
    },
    (live) => live.stop(),
  );
}

/** A sparkline from 0 where an empty minute or hour is blank, not the lowest bar. */
const spark = (values: number[], width: number) =>
  sparkline(
    values.map((v) => (v === 0 ? null : v)),
    width,
    { min: 0, max: Math.max(1, ...values) },
  );

const hhmmss = (ms: number) => {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

/** Text with every case-insensitive occurrence of `term` shown inverse. */
function Highlight({ text, term, color }: { text: string; term: string; color?: string }) {
  if (!term) return <Text color={color}>{text}</Text>;
  const parts: Array<{ s: string; hit: boolean }> = [];
  const lower = text.toLowerCase();
  const t = term.toLowerCase();
  let i = 0;
  for (let at = lower.indexOf(t); at >= 0; at = lower.indexOf(t, at + t.length)) {
    if (at > i) parts.push({ s: text.slice(i, at), hit: false });
    parts.push({ s: text.slice(at, at + t.length), hit: true });
    i = at + t.length;
  }
  if (i < text.length) parts.push({ s: text.slice(i), hit: false });
  return (
    <Text color={color}>
      {parts.map((p, k) =>
        p.hit ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: positional pieces of one line
          <Text key={k} inverse>
            {p.s}
          </Text>
        ) : (
          p.s
        ),
      )}
    </Text>
  );
}

export function matches(r: LiveRecord, minLevel: Level | null, term: string): boolean {
  if (minLevel && !(r.level && LEVEL_RANK[r.level] >= LEVEL_RANK[minLevel])) return false;
  if (!term) return true;
  const t = term.toLowerCase();
  return (
    r.message.toLowerCase().includes(t) ||
    (r.logger ?? '').toLowerCase().includes(t) ||
    r.continuation.some((l) => l.toLowerCase().includes(t))
  );
}

interface TailLine {
  key: string;
  record: LiveRecord;
  /** null: the record's first line; else a continuation line. */
  text: string | null;
}

/** The lines that fill `height` rows, newest at the bottom, `scroll` lines up from the end. */
export function tailLines(
  records: (i: number) => LiveRecord | undefined,
  count: number,
  height: number,
  scroll: number,
  filter: (r: LiveRecord) => boolean,
): { lines: TailLine[]; matched: number; moreBelow: boolean } {
  const lines: TailLine[] = [];
  const want = height + scroll;
  let matched = 0;
  for (let i = count - 1; i >= 0 && lines.length < want; i--) {
    const r = records(i)!;
    if (!filter(r)) continue;
    matched++;
    const cont =
      r.continuation.length > 4
        ? [...r.continuation.slice(0, 3), `… ${r.continuation.length - 3} more lines`]
        : r.continuation;
    for (let c = cont.length - 1; c >= 0; c--)
      lines.push({ key: `${r.seq}.${c}`, record: r, text: cont[c]! });
    lines.push({ key: `${r.seq}`, record: r, text: null });
  }
  const visible = lines.slice(Math.max(0, scroll), scroll + height).reverse();
  return { lines: visible, matched, moreBelow: scroll > 0 };
}

function TailPane({
  live,
  width,
  height,
  minLevel,
  term,
  pausedAt,
  scroll,
  focused,
}: {
  live: LiveLogs;
  width: number;
  height: number;
  minLevel: Level | null;
  term: string;
  pausedAt: number | null;
  scroll: number;
  focused: boolean;
}) {
  const ring = live.ring;
  // While paused, records that arrived later are not shown (they are counted in the header).
  const shownCount = pausedAt === null ? ring.length : Math.max(0, ring.length - (ring.pushed - pausedAt));
  const { lines } = tailLines(
    (i) => ring.at(i),
    shownCount,
    height,
    scroll,
    (r) => matches(r, minLevel, term),
  );
  const fileWidth = width >= 100 ? 16 : 0;
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.length === 0 ? (
        <Text dimColor>
          {ring.length === 0
            ? 'waiting for log lines…'
            : `no line matches${term ? ` "${term}"` : ''}${minLevel ? ` at ${minLevel}+` : ''}`}
        </Text>
      ) : null}
      {lines.map((l, row) => {
        // Rows are keyed by position with one shape, so a new frame updates text in place
        // instead of mounting new nodes (Ink's layout memory does not shrink after churn).
        const r = l.record;
        const color = r.level ? LEVEL_COLOR[r.level] : r.binary ? 'magenta' : undefined;
        const bad = Boolean(r.level && LEVEL_RANK[r.level] >= 3);
        let head = '         ';
        let file = '';
        let logger = '';
        let message: string;
        if (l.text !== null) message = truncate(l.text, width - 10);
        else {
          head = `${hhmmss(r.time ?? r.receivedAt)} ${padEnd(r.level ? SHORT[r.level] : r.binary ? 'BIN' : '-', 5)} `;
          file = fileWidth
            ? `${padEnd(r.files.map((f) => f.replace(/\.log$/, '')).join(','), fileWidth)} `
            : '';
          logger = r.logger && width >= 90 ? `${r.logger.replace(/^candy_cadence\./, '')}: ` : '';
          const room = Math.max(8, width - head.length - file.length - logger.length);
          const cut = r.truncatedBytes ? ` [cut: ${r.truncatedBytes} B]` : '';
          message = truncate(r.message + cut, room);
        }
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions on screen (see above)
          <Text key={row} wrap="truncate" dimColor={l.text !== null && !focused}>
            <Text color={color} bold={r.level === 'CRITICAL'}>
              {head}
            </Text>
            <Text dimColor>{file}</Text>
            <Text color="cyan">{logger}</Text>
            <Highlight
              text={message}
              term={term}
              color={l.text !== null ? (bad ? 'red' : 'gray') : bad ? color : undefined}
            />
          </Text>
        );
      })}
    </Box>
  );
}

function rateOf(c: ClusterView): number {
  // records in the last 5 minutes of the 30-minute series
  return c.perMinute.slice(-5).reduce((s, v) => s + v, 0);
}

export function sortClusters(clusters: ClusterView[], sort: Sort): ClusterView[] {
  const copy = [...clusters];
  if (sort === 'count') copy.sort((a, b) => b.count - a.count);
  else if (sort === 'rate') copy.sort((a, b) => rateOf(b) - rateOf(a) || b.lastSeen - a.lastSeen);
  else copy.sort((a, b) => b.lastSeen - a.lastSeen);
  return copy;
}

function ClusterDetail({ c, width, height }: { c: ClusterView; width: number; height: number }) {
  const hours = c.perHour.slice(-24);
  const lines = [
    `${c.level ?? '-'} · ${c.count} records · first ${new Date(c.firstSeen).toLocaleString()} · last ${formatAge(c.lastSeen)} ago`,
    `codes: ${c.codes.join(', ') || '-'} · exceptions: ${c.exceptions.map((e) => `${e.type} ${e.count}`).join(', ') || '-'} · files: ${c.files.join(', ')}`,
    `last 30 min  ${spark(c.perMinute, Math.min(30, width - 14))}`,
    `per hour     ${spark(
      hours.map((h) => h.count),
      Math.min(24, width - 14),
    )}  (${hours.length} h with records)`,
    'samples:',
  ];
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        #{c.id} {c.template}
      </Text>
      {lines.map((l) => (
        <Text key={l} wrap="truncate">
          {l}
        </Text>
      ))}
      {c.samples.slice(0, Math.max(0, height - lines.length - 2)).map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: samples may repeat
        <Text key={i} wrap="truncate" dimColor>
          {'  '}
          {s}
        </Text>
      ))}
      <Text dimColor>Esc closes</Text>
    </Box>
  );
}

function LogsScreen({ width, height }: ScreenProps) {
  const ctx = useConsole();
  const alerts = useMemo(() => {
    try {
      return sharedAlerts(ctx).service;
    } catch {
      return undefined;
    }
  }, [ctx]);
  const live = liveLogs(ctx, alerts);
  const state = useStore(live.store);
  const [focus, setFocus] = useState<'tail' | 'clusters'>('tail');
  const [pausedAt, setPausedAt] = useState<number | null>(null);
  const [scroll, setScroll] = useState(0);
  const [minLevel, setMinLevel] = useState<Level | null>(null);
  const [term, setTerm] = useState('');
  const [sort, setSort] = useState<Sort>('count');
  const [selected, setSelected] = useState(0);
  const [detail, setDetail] = useState<number | null>(null);

  const clusters = useMemo(() => sortClusters(state.clusters, sort), [state.clusters, sort]);
  const sel = Math.min(selected, Math.max(0, clusters.length - 1));
  const tailHeight = Math.max(4, Math.floor((height - 3) * 0.55));
  const clusterHeight = Math.max(3, height - 3 - tailHeight);

  useCommands((command) => {
    const clusterCount = clusters.length;
    switch (command) {
      case 'pause':
        setPausedAt((p) => (p === null ? live.ring.pushed : null));
        setScroll(0);
        return true;
      case 'filter':
        void ctx.ui
          .prompt({ label: '/', initial: term, placeholder: 'search the tail', onChange: (v) => setTerm(v) })
          .then((v) => setTerm(v ?? ''));
        return true;
      case 'level': {
        const order: Array<Level | null> = [null, 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
        setMinLevel((m) => order[(order.indexOf(m) + 1) % order.length]!);
        setScroll(0);
        return true;
      }
      case 'sort':
        setSort((x) => SORTS[(SORTS.indexOf(x) + 1) % SORTS.length]!);
        return true;
      case 'focus':
        setFocus((f) => (f === 'tail' ? 'clusters' : 'tail'));
        return true;
      case 'left':
        setFocus('tail');
        return true;
      case 'right':
        setFocus('clusters');
        return true;
      case 'up':
      case 'down':
      case 'page-up':
      case 'page-down': {
        const step = command.startsWith('page') ? 10 : 1;
        const dir = command === 'up' || command === 'page-up' ? 1 : -1;
        if (focus === 'tail') {
          if (dir > 0) setPausedAt((p) => p ?? live.ring.pushed);
          setScroll((x) => Math.max(0, x + dir * step));
        } else
          setSelected((x) =>
            Math.max(0, Math.min(clusterCount - 1, Math.min(x, clusterCount - 1) - dir * step)),
          );
        return true;
      }
      case 'top':
        if (focus === 'clusters') setSelected(0);
        else {
          setPausedAt((p) => p ?? live.ring.pushed);
          setScroll(live.ring.length * 4);
        }
        return true;
      case 'bottom':
        if (focus === 'clusters') setSelected(Math.max(0, clusterCount - 1));
        else {
          setScroll(0);
          setPausedAt(null);
        }
        return true;
      case 'open':
        if (clusters[sel]) {
          setFocus('clusters');
          setDetail(clusters[sel]!.id);
        }
        return true;
      case 'close':
        if (detail !== null) setDetail(null);
        else if (term) setTerm('');
        else if (minLevel) setMinLevel(null);
        else if (pausedAt !== null) {
          setPausedAt(null);
          setScroll(0);
        }
        return true;
      default:
        return false;
    }
  });

  const over = state.errorsLastHour > state.errorsPerHourThreshold;
  const arrived = pausedAt === null ? 0 : live.ring.pushed - pausedAt;
  const history =
    state.history.status === 'loading'
      ? 'reading the last 24 h…'
      : state.history.status === 'failed'
        ? `history unreadable: ${state.history.message}`
        : '';
  const columns: Column<ClusterView>[] = [
    { title: 'count', width: 7, align: 'right', get: (c) => String(c.count) },
    {
      title: 'lvl',
      width: 5,
      get: (c) => (c.level ? SHORT[c.level] : 'BIN'),
      color: (c) => (c.level ? LEVEL_COLOR[c.level] : 'magenta'),
    },
    {
      title: 'last 30 min',
      width: width >= 100 ? 30 : 15,
      get: (c) => spark(c.perMinute, width >= 100 ? 30 : 15),
    },
    { title: 'first', width: 5, align: 'right', get: (c) => formatAge(c.firstSeen) },
    { title: 'last', width: 5, align: 'right', get: (c) => formatAge(c.lastSeen) },
    { title: 'template', width: 'grow', get: (c) => c.template },
  ];
  const detailCluster = detail !== null ? state.clusters.find((c) => c.id === detail) : undefined;
  const tl = state.timeline;
  const peak = tl.reduce((m, b) => (b.errors > m.errors ? b : m), { hour: 0, errors: 0 });

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Logs: what is failing</Text>
        {' · '}
        {pausedAt === null ? (
          <Text color="green">LIVE</Text>
        ) : (
          <Text color="yellow" bold>
            PAUSED +{arrived} new
          </Text>
        )}
        {minLevel ? ` · ${minLevel}+` : ''}
        {term ? ` · /${term}` : ''}
        {' · '}
        <Text color={over ? 'red' : 'green'}>
          {state.errorsLastHour} errors/h{over ? ` > ${state.errorsPerHourThreshold}` : ''}
        </Text>
        {` · ${state.ratePerSecond.toFixed(1)} lines/s · ${state.files.length} files`}
        {history ? ` · ${history}` : ''}
      </Text>
      <Box height={tailHeight}>
        <TailPane
          live={live}
          width={width}
          height={tailHeight}
          minLevel={minLevel}
          term={term}
          pausedAt={pausedAt}
          scroll={scroll}
          focused={focus === 'tail'}
        />
      </Box>
      {detailCluster ? (
        <ClusterDetail c={detailCluster} width={width} height={clusterHeight + 2} />
      ) : (
        <>
          <Text wrap="truncate" bold={focus === 'clusters'} dimColor={focus !== 'clusters'}>
            {`${focus === 'clusters' ? '▶' : ' '} error clusters (${state.clustersTotal}${state.remainder.clusters ? `, ${state.remainder.clusters} evicted` : ''}) by ${sort} · s sort · Enter samples`}
          </Text>
          <Table
            columns={columns}
            rows={clusters}
            width={width}
            height={clusterHeight}
            selected={focus === 'clusters' ? sel : null}
            emptyText="no warnings or errors yet"
            rowKey={(c) => String(c.id)}
          />
          <Text wrap="truncate">
            {'errors/h 24 h '}
            <Text color={peak.errors > state.errorsPerHourThreshold ? 'red' : undefined}>
              {spark(
                tl.map((b) => b.errors),
                24,
              )}
            </Text>
            {peak.errors ? ` peak ${peak.errors} at ${hhmmss(peak.hour).slice(0, 5)}` : ' no errors'}
            {` · threshold ${state.errorsPerHourThreshold}/h`}
          </Text>
        </>
      )}
    </Box>
  );
}

export const logsScreen: ScreenDefinition = {
  id: 'logs',
  key: '3',
  title: 'Logs',
  help: [
    'Top: every log file of the site merged live, newest at the bottom: time, level (colour and word), file, logger, message; traceback lines indented under their record. A record written to several files shows once with all their names.',
    'Space pauses the tail (new lines are counted in the header, not lost); ↑/↓ and PgUp/PgDn scroll back (that pauses too); End goes back to live. f cycles the level filter (all, INFO+, WARNING+, ERROR+, CRITICAL); / searches (matches highlighted; Esc clears).',
    'Middle: WARNING and above grouped into templates (variable parts shown as <*>), with their count, the last 30 minutes per minute, and first/last seen. s sorts by count, by rate (last 5 minutes) or by recency; c (or ←/→) moves between the tail and the clusters; Enter shows a cluster’s samples, codes, exceptions, files and timeline.',
    'Bottom: errors per hour over the last 24 hours against thresholds.errorsPerHour. The clusters and the timeline include the last 24 hours of the files (read in the background when the screen opens), rotated and gzipped ones too.',
    'Alerts: error rate over the threshold, an error seen thresholds.errorRepeat times, MemoryError/DatabaseError/SystemError, and a new error pattern within logs.newClusterWindowMinutes.',
  ],
  bindings: [
    { command: 'pause', keys: ['space'], label: 'pause', description: 'pause or resume the live tail' },
    { ...FILTER_BINDING, label: 'search', description: 'search the tail (matches highlighted; Esc clears)' },
    {
      command: 'level',
      keys: ['f'],
      label: 'level',
      description: 'cycle the level filter: all, INFO+, WARNING+, ERROR+, CRITICAL',
    },
    { command: 'sort', keys: ['s'], label: 'sort', description: 'sort clusters by count, rate or recency' },
    {
      command: 'focus',
      keys: ['c'],
      label: 'tail/clusters',
      description: 'move between the tail and the cluster table',
    },
  ],
  Component: LogsScreen,
};
