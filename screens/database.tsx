// Screen 5: the database's health and upkeep. An overview (size, WAL, pages and fragmentation,
// journal mode, who holds the files open, lock state, advice), then four panes switched with ←/→:
// tables and indexes (sortable), slow-query patterns (Enter: plan and advice), the run history, and
// the read-only SQL prompt. Checks and actions run in a worker with live progress; actions that
// change the database are behind a confirmation that says exactly what they will do.
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { DbConsole, type DbConsoleState } from '../services/db-console.js';
import type { DbObject } from '../services/db-info.js';
import type { SlowQueryPattern } from '../services/db-slow-queries.js';
import type { ActionKind } from '../services/db-tasks.js';
import type { KeyBinding } from '../source/keymap.js';
import { selectionStep } from './components/selection.js';
import { type Level, StatusBadge } from './components/status.js';
import { type Column, Table } from './components/table.js';
import { formatAge, formatBytes, padEnd, truncate, wrapText } from './components/text.js';
import type { ConsoleContextValue, ScreenDefinition, ScreenProps } from './context.js';
import { useCommands, useConsole, useStore } from './hooks.js';

type Pane = 'tables' | 'slow' | 'history' | 'sql';
const PANES: Array<{ id: Pane; title: string }> = [
  { id: 'tables', title: 'Tables & indexes' },
  { id: 'slow', title: 'Slow queries' },
  { id: 'history', title: 'History' },
  { id: 'sql', title: 'SQL' },
];
type SortKey = 'bytes' | 'rows' | 'name' | 'growth';
const SORTS: SortKey[] = ['bytes', 'rows', 'growth', 'name'];

export function databaseConsole(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config' | 'readOnly' | 'stateDb'>,
): DbConsole {
  return ctx.services.get(
    'database-console',
    () => {
      const c = new DbConsole({
        database: ctx.site.paths.database,
        logsDir: ctx.site.paths.logs,
        tempDir: ctx.site.paths.temp,
        pidFile: ctx.site.paths.pidFile,
        processPattern: ctx.config.app.processPattern,
        siteRoot: ctx.site.paths.root,
        config: ctx.config,
        readOnly: ctx.readOnly,
        stateDb: ctx.stateDb,
      });
      c.start();
      return c;
    },
    (c) => c.stop(),
  );
}

const int = (n: number | null | undefined) =>
  n === null || n === undefined ? '-' : n.toLocaleString('en-US');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

function bar(fraction: number, width: number): string {
  const full = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)}`;
}

function growthOf(state: DbConsoleState, name: string): number | null {
  const g = state.growth?.objects.find((o) => o.name === name);
  return g
    ? Math.max(g.rowsPercent ?? Number.NEGATIVE_INFINITY, g.bytesPercent ?? Number.NEGATIVE_INFINITY)
    : null;
}

export function sortObjects(objects: DbObject[], key: SortKey, state: DbConsoleState): DbObject[] {
  const visible = objects.filter((o) => o.kind !== 'shadow');
  const by: Record<SortKey, (a: DbObject, b: DbObject) => number> = {
    bytes: (a, b) => (b.bytes ?? -1) - (a.bytes ?? -1),
    rows: (a, b) => (b.rows ?? -1) - (a.rows ?? -1),
    growth: (a, b) => (growthOf(state, b.name) ?? -1e9) - (growthOf(state, a.name) ?? -1e9),
    name: (a, b) => a.name.localeCompare(b.name),
  };
  return [...visible].sort((a, b) => by[key](a, b) || a.name.localeCompare(b.name));
}

function Overview({ state, width }: { state: DbConsoleState; width: number }) {
  const o = state.overview;
  const file = state.database.split('/').pop();
  if (!o) {
    return (
      <Box flexDirection="column" width={width}>
        <Text bold>{truncate(`Database: health and upkeep of ${file}`, width)}</Text>
        {state.overviewError ? (
          <Text color="red">{truncate(`✖ ${state.overviewError}`, width)}</Text>
        ) : (
          <Text dimColor>reading…</Text>
        )}
      </Box>
    );
  }
  const i = o.info;
  const holders = new Map<number, string>();
  for (const h of o.holders)
    holders.set(h.pid, `${h.pid} ${h.command}${h.deleted ? ' (deleted file!)' : ''}`);
  const lockLevel: Level = !o.probe ? 'unknown' : o.probe.writable ? 'ok' : 'warning';
  const lockText = !o.probe
    ? 'lock: not probed'
    : o.probe.writable
      ? 'write lock free'
      : `write lock BUSY${o.writers.length ? ` (writer pid ${o.writers.join(', ')})` : ''}`;
  const fragLevel: Level = i.fragmentationPercent > 30 ? 'warning' : 'ok';
  const advice = o.advice[0];
  return (
    <Box flexDirection="column" width={width}>
      <Text>
        <Text bold>Database: health and upkeep</Text>
        {truncate(
          `  ${file}  ${formatBytes(i.fileBytes)}  WAL ${formatBytes(i.walBytes ?? 0)}  journal ${i.journalMode}  SQLite ${i.sqliteVersion}`,
          Math.max(0, width - 27),
        )}
      </Text>
      <Text wrap="truncate">
        pages {int(i.pageCount)} × {formatBytes(i.pageSize)}, free {int(i.freePages)}{' '}
        <StatusBadge level={fragLevel} label={`${i.fragmentationPercent.toFixed(1)} % fragmented`} />
        {`  auto_vacuum ${i.autoVacuum}  user_version ${i.userVersion}  ${i.counts.tables} tables ${i.counts.indexes} indexes`}
      </Text>
      <Text wrap="truncate">
        {o.app ? (
          <StatusBadge level="ok" label={`app up (pid ${o.app.pid})`} />
        ) : (
          <StatusBadge level="unknown" label="app not running" />
        )}
        {'  '}
        <StatusBadge level={lockLevel} label={lockText} />
        {`  open by: ${holders.size ? [...holders.values()].join(', ') : 'no other process'}`}
      </Text>
      <Text wrap="truncate">
        {advice ? (
          <StatusBadge
            level={advice.level === 'warning' ? 'warning' : 'info'}
            label={`${advice.message}${advice.fix ? `: ${advice.fix}` : ''}${o.advice.length > 1 ? ` (+${o.advice.length - 1} more, see help)` : ''}`}
          />
        ) : (
          <StatusBadge
            level="ok"
            label="no advice: statistics present, no fragmentation, recommended indexes in place"
          />
        )}
      </Text>
    </Box>
  );
}

function JobLine({ state, width, readOnly }: { state: DbConsoleState; width: number; readOnly: boolean }) {
  const j = state.job;
  if (j) {
    const pct =
      j.fraction === null ? '' : `${(j.fraction * 100).toFixed(0)} %${j.estimated ? ' (est.)' : ''}`;
    const barWidth = Math.max(10, Math.min(30, width - 60));
    return (
      <Text color="cyan" wrap="truncate">
        {j.cancelling ? '◌ cancelling ' : '▶ '}
        {j.label} {j.fraction === null ? '' : bar(j.fraction, barWidth)} {pct} {j.phase} {secs(j.elapsedMs)}
        {j.expectedMs ? ` of ~${secs(j.expectedMs)}` : ''} x cancel
      </Text>
    );
  }
  const last = state.last;
  if (last)
    return (
      <Text wrap="truncate">
        <StatusBadge
          level={last.ok ? 'ok' : 'critical'}
          label={`${last.summary} (${formatAge(last.at)} ago)`}
        />
        {last.lines.length ? <Text dimColor>{` ${last.lines[0]}`}</Text> : null}
      </Text>
    );
  return (
    <Text dimColor>
      {truncate(
        readOnly
          ? 'read-only: i integrity · k quick · f foreign keys · e sql'
          : 'i integrity · k quick · f foreign keys · a analyze · o optimize · V vacuum · R reindex · w checkpoint',
        width,
      )}
    </Text>
  );
}

function tableColumns(state: DbConsoleState): Column<DbObject>[] {
  return [
    { title: 'name', width: 'grow', get: (o) => o.name },
    { title: 'kind', width: 7, get: (o) => o.kind },
    { title: 'table', width: 12, get: (o) => (o.kind === 'index' ? o.table : '') },
    {
      title: 'rows',
      width: 11,
      align: 'right',
      get: (o) => `${int(o.rows)}${o.rowsSource === 'stat1' ? '~' : ''}`,
    },
    {
      title: 'bytes',
      width: 8,
      align: 'right',
      get: (o) =>
        o.bytes !== null ? formatBytes(o.bytes) : o.kind === 'virtual' || o.kind === 'view' ? '' : '…',
    },
    {
      title: 'fill',
      width: 5,
      align: 'right',
      get: (o) => (o.fillPercent === null ? '' : `${o.fillPercent.toFixed(0)}%`),
    },
    {
      title: 'growth',
      width: 8,
      align: 'right',
      get: (o) => {
        const g = growthOf(state, o.name);
        return g === null || !Number.isFinite(g) ? '' : `${g >= 0 ? '+' : ''}${g.toFixed(1)}%`;
      },
      color: (o) => (state.growth?.objects.find((g) => g.name === o.name)?.warn ? 'yellow' : undefined),
    },
  ];
}

const slowColumns: Column<SlowQueryPattern>[] = [
  { title: 'count', width: 6, align: 'right', get: (p) => `${p.count}${p.frequent ? '!' : ''}` },
  { title: 'p50', width: 6, align: 'right', get: (p) => secs(p.p50) },
  { title: 'p95', width: 6, align: 'right', get: (p) => secs(p.p95) },
  { title: 'max', width: 6, align: 'right', get: (p) => secs(p.max) },
  {
    title: 'problem',
    width: 14,
    get: (p) =>
      p.flags?.fullScans.length
        ? 'full scan'
        : p.flags?.tempBtrees.length
          ? 'temp b-tree'
          : p.plan
            ? 'indexed'
            : 'no plan',
    color: (p) => (p.flags?.fullScans.length || p.flags?.tempBtrees.length ? 'yellow' : undefined),
  },
  { title: 'fix', width: 4, get: (p) => (p.advice.length ? 'yes' : '') },
  { title: 'pattern', width: 'grow', get: (p) => p.pattern },
];

function SlowDetail({
  p,
  width,
  height,
  scroll,
}: {
  p: SlowQueryPattern;
  width: number;
  height: number;
  scroll: number;
}) {
  const lines: Array<{ key: string; text: string; color?: string; bold?: boolean }> = [];
  const add = (text: string, color?: string, bold?: boolean) => {
    for (const l of wrapText(text, width - 2))
      lines.push({ key: `line-${lines.length}`, text: l, color, bold });
  };
  add(
    `pattern ${p.id}: ${p.count} slow, p50 ${secs(p.p50)}, p95 ${secs(p.p95)}, max ${secs(p.max)}${p.frequent ? ', FREQUENT' : ''}`,
    undefined,
    true,
  );
  add(p.pattern);
  if (p.truncated || p.repair?.changed) {
    add(
      `planned${p.repair?.changed ? ' (repaired: the log cut it at 100 characters)' : ' (cut in the log)'}: ${p.plannedSql ?? '-'}`,
      'cyan',
    );
    for (const n of p.repair?.notes ?? []) add(`· ${n}`, 'gray');
  }
  add('plan:', undefined, true);
  for (const l of p.plan ?? [`not available: ${p.planError}`]) add(`· ${l}`);
  const wrong = [
    ...(p.flags?.fullScans ?? []).map((t) => `full scan of ${t}`),
    ...(p.flags?.tempBtrees ?? []).map((t) => `temporary b-tree for ${t}`),
    ...(p.flags?.automaticIndexes ?? []).map((t) => `automatic index: ${t}`),
  ];
  add(
    `wrong: ${wrong.length ? wrong.join('; ') : 'nothing in the plan (it uses an index): the time went elsewhere'}`,
    wrong.length ? 'yellow' : 'green',
  );
  for (const a of p.advice) {
    add(
      `fix: ${a.createIndex}${a.recommendedBySite ? '  (recommended by the procedures)' : ''}`,
      'green',
      true,
    );
    add(`· plan with it: ${a.planWith.join(' | ')}`);
    add('· m: measure it on a copy of the database (before/after timing)', 'gray');
  }
  for (const n of p.notes) add(`note: ${n}`, 'gray');
  const visible = lines.slice(scroll, scroll + height);
  return (
    <Box flexDirection="column" width={width}>
      {visible.map((l) => (
        <Text key={l.key} color={l.color} bold={l.bold} wrap="truncate">
          {l.text}
        </Text>
      ))}
    </Box>
  );
}

function DatabaseScreen({ width, height }: ScreenProps) {
  const ctx = useConsole();
  const db = databaseConsole(ctx);
  const state = useStore(db.store);
  const [pane, setPane] = useState<Pane>('tables');
  const [sort, setSort] = useState<SortKey>('bytes');
  const [selected, setSelected] = useState(0);
  const [detail, setDetail] = useState<number | null>(null);
  const [scroll, setScroll] = useState(0);

  useEffect(() => {
    if (pane === 'slow' && !state.slow && !state.slowLoading && !state.slowError) void db.loadSlowQueries();
  }, [pane, state.slow, state.slowLoading, state.slowError, db]);

  const objects = sortObjects(state.objects, sort, state);
  const patterns = state.slow?.patterns ?? [];
  const count =
    pane === 'tables'
      ? objects.length
      : pane === 'slow'
        ? patterns.length
        : pane === 'history'
          ? state.history.length
          : (state.sql?.result?.rows.length ?? 0);
  const bodyHeight = Math.max(3, height - 6);

  const startAction = async (action: ActionKind) => {
    const target = action === 'reindex' && pane === 'tables' ? (objects[selected]?.name ?? null) : null;
    const plan = await db.planAction(action, target && objects[selected]?.kind !== 'virtual' ? target : null);
    if (plan.refusals.length) {
      ctx.ui.flash(`${plan.title} refused: ${plan.refusals.join('; ')}`, 'error');
      return;
    }
    const ok = await ctx.ui.confirm({
      title: `Run ${plan.title}?`,
      body: [
        `It ${plan.does}.`,
        `Database ${state.database} (${formatBytes(plan.facts.databaseBytes)}); expected about ${secs(plan.facts.expectedMs)}.`,
        ...plan.warnings.map((w) => `▲ ${w}`),
        'The result and duration are recorded in the console state database.',
      ],
      confirmLabel: `Run ${plan.title}`,
      danger: action === 'vacuum' || action === 'reindex',
    });
    if (!ok) {
      ctx.ui.flash(`${plan.title}: not run`, 'info');
      return;
    }
    await db.runAction(plan, true);
    const last = db.store.get().last;
    if (last) ctx.ui.flash(last.summary, last.ok ? 'success' : 'error');
  };

  const startMeasure = async () => {
    const p = detail !== null ? patterns[detail] : patterns[selected];
    if (!p) return;
    const plan = db.planMeasure(p.id);
    if (typeof plan === 'string') {
      ctx.ui.flash(plan, 'warning');
      return;
    }
    if (plan.refusals.length) {
      ctx.ui.flash(`measurement refused: ${plan.refusals.join('; ')}`, 'error');
      return;
    }
    const ok = await ctx.ui.confirm({
      title: 'Measure this index on a copy?',
      body: [
        plan.createIndex,
        `A consistent copy of the database (${formatBytes(plan.databaseBytes)}) goes to ${ctx.site.paths.temp}, is timed before`,
        'and after the index is built, and is deleted. The live database is not changed.',
        `Timed: ${truncate(plan.sql, 200)}`,
      ],
      confirmLabel: 'Measure',
    });
    if (!ok) return;
    await db.measure(plan, true);
    const last = db.store.get().last;
    if (last) ctx.ui.flash(last.summary, last.ok ? 'success' : 'error');
  };

  useCommands((command) => {
    // In a pattern's detail, up and down scroll it; the other moves still move the selection.
    if (detail !== null && (command === 'up' || command === 'down')) {
      setScroll((s) => (command === 'up' ? Math.max(0, s - 1) : s + 1));
      return true;
    }
    const step = selectionStep(command, count, bodyHeight);
    if (step) {
      setSelected(step);
      return true;
    }
    switch (command) {
      case 'left':
      case 'right': {
        const i = PANES.findIndex((p) => p.id === pane);
        const next = PANES[(i + (command === 'right' ? 1 : PANES.length - 1)) % PANES.length]!.id;
        setPane(next);
        setSelected(0);
        setDetail(null);
        setScroll(0);
        return true;
      }
      case 'open':
        if (pane === 'slow' && patterns[selected]) {
          setDetail(selected);
          setScroll(0);
        }
        return true;
      case 'close':
        if (detail !== null) {
          setDetail(null);
          return true;
        }
        return false;
      case 'db-integrity':
        void db.runCheck('integrity');
        return true;
      case 'db-quick':
        void db.runCheck('quick');
        return true;
      case 'db-fk':
        void db.runCheck('foreign_keys');
        return true;
      case 'db-cancel':
        if (!db.cancel()) ctx.ui.flash('nothing is running', 'info');
        return true;
      case 'db-refresh':
        void db.refresh().then(() => db.refreshSizes());
        if (pane === 'slow') void db.loadSlowQueries();
        db.loadHistory();
        return true;
      case 'db-sort':
        setSort((s) => SORTS[(SORTS.indexOf(s) + 1) % SORTS.length]!);
        return true;
      case 'db-analyze':
      case 'db-optimize':
      case 'db-vacuum':
      case 'db-reindex':
      case 'db-checkpoint':
        if (state.job) ctx.ui.flash(`${state.job.label} is running: wait or cancel (x)`, 'warning');
        else void startAction(command.slice(3) as ActionKind);
        return true;
      case 'db-measure':
        if (state.job) ctx.ui.flash(`${state.job.label} is running: wait or cancel (x)`, 'warning');
        else if (pane !== 'slow')
          ctx.ui.flash('measure works on a slow-query pattern (→ Slow queries)', 'info');
        else void startMeasure();
        return true;
      case 'db-sql':
        void ctx.ui.prompt({ label: 'sql (read-only)>', initial: state.sql?.text ?? '' }).then((text) => {
          if (text?.trim()) {
            setPane('sql');
            setSelected(0);
            void db.runSql(text);
          }
        });
        return true;
    }
    return false;
  });

  const tabs = PANES.map((p) => (p.id === pane ? `[${p.title}]` : ` ${p.title} `)).join(' ');
  let body: React.ReactNode;
  if (pane === 'tables') {
    body = (
      <Table
        columns={tableColumns(state)}
        rows={objects}
        width={width}
        height={bodyHeight}
        selected={selected}
        emptyText={state.overviewError ? 'no tables: the database could not be read' : 'reading…'}
        rowKey={(o) => o.name}
      />
    );
  } else if (pane === 'slow') {
    if (detail !== null && patterns[detail])
      body = <SlowDetail p={patterns[detail]!} width={width} height={bodyHeight} scroll={scroll} />;
    else if (state.slowError) body = <Text color="red">{truncate(`✖ ${state.slowError}`, width)}</Text>;
    else
      body = (
        <Table
          columns={slowColumns}
          rows={patterns}
          width={width}
          height={bodyHeight}
          selected={selected}
          emptyText={state.slowLoading ? 'reading database.log…' : 'no slow queries in database.log'}
          rowKey={(p) => p.id}
        />
      );
  } else if (pane === 'history') {
    body = (
      <Table
        columns={[
          { title: 'when', width: 6, get: (r) => `${formatAge(r.startedAt)}` },
          { title: 'what', width: 13, get: (r) => r.kind },
          {
            title: 'outcome',
            width: 9,
            get: (r) => r.outcome,
            color: (r) =>
              r.outcome === 'ok'
                ? 'green'
                : r.outcome === 'refused' || r.outcome === 'cancelled'
                  ? 'yellow'
                  : 'red',
          },
          {
            title: 'took',
            width: 7,
            align: 'right',
            get: (r) => (r.durationMs === null ? '' : secs(r.durationMs)),
          },
          { title: 'summary', width: 'grow', get: (r) => r.summary },
        ]}
        rows={state.history}
        width={width}
        height={bodyHeight}
        selected={selected}
        emptyText="no checks or actions recorded yet"
        rowKey={(r) => String(r.id)}
      />
    );
  } else {
    const sql = state.sql;
    const r = sql?.result;
    body = (
      <Box flexDirection="column" width={width}>
        <Text wrap="truncate" color="cyan">
          {sql ? `sql> ${sql.text}` : 'e: ask a read-only SQL question (query-only, row and time limits)'}
        </Text>
        {sql?.running ? <Text dimColor>running…</Text> : null}
        {sql?.error ? <Text color="red">{truncate(`✖ ${sql.error}`, width)}</Text> : null}
        {r?.columns.length ? (
          <Table
            columns={r.columns.map((c, ci) => ({
              title: c,
              width:
                r.columns.length === 1
                  ? ('grow' as const)
                  : Math.max(6, Math.floor((width - r.columns.length) / r.columns.length)),
              get: (row: unknown[]) => (row[ci] === null ? 'NULL' : String(row[ci])),
            }))}
            rows={r.rows}
            width={width}
            height={bodyHeight - 2}
            selected={selected}
          />
        ) : null}
        {r ? (
          <Text
            dimColor
          >{`${r.rows.length} row(s)${r.truncated ? ' (row limit reached)' : ''} in ${r.ms.toFixed(1)} ms`}</Text>
        ) : null}
      </Box>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Overview state={state} width={width} />
      <JobLine state={state} width={width} readOnly={ctx.readOnly} />
      <Text wrap="truncate">
        <Text bold>{padEnd(tabs, Math.max(0, width - 22))}</Text>
        <Text dimColor>
          {pane === 'tables' ? `sort: ${sort} (s)` : pane === 'slow' ? 'Enter: plan & fix' : ''}
        </Text>
      </Text>
      {body}
    </Box>
  );
}

const bindings: KeyBinding[] = [
  {
    command: 'db-integrity',
    keys: ['i'],
    label: 'integrity',
    description: 'run PRAGMA integrity_check (in a worker, with progress)',
  },
  { command: 'db-quick', keys: ['k'], label: 'quick', description: 'run PRAGMA quick_check', hidden: true },
  {
    command: 'db-fk',
    keys: ['f'],
    label: 'fk',
    description: 'run PRAGMA foreign_key_check, table by table',
    hidden: true,
  },
  {
    command: 'db-cancel',
    keys: ['x'],
    label: 'cancel',
    description: 'cancel the running check, action or measurement',
  },
  {
    command: 'db-analyze',
    keys: ['a'],
    label: 'analyze',
    description: 'ANALYZE: refresh planner statistics',
    changes: true,
  },
  {
    command: 'db-optimize',
    keys: ['o'],
    label: 'optimize',
    description: 'PRAGMA optimize: ANALYZE where stale',
    changes: true,
    hidden: true,
  },
  {
    command: 'db-vacuum',
    keys: ['V'],
    label: 'vacuum',
    description: 'VACUUM: rebuild the file (needs 2x free disk; locks the app out)',
    changes: true,
  },
  {
    command: 'db-reindex',
    keys: ['R'],
    label: 'reindex',
    description: 'REINDEX the selected table or index (all when none)',
    changes: true,
    hidden: true,
  },
  {
    command: 'db-checkpoint',
    keys: ['w'],
    label: 'checkpoint',
    description: 'wal_checkpoint(TRUNCATE): fold the WAL into the file',
    changes: true,
    hidden: true,
  },
  {
    command: 'db-measure',
    keys: ['m'],
    label: 'measure',
    description: "measure the selected slow query's index on a copy of the database",
    changes: true,
    hidden: true,
  },
  { command: 'db-sql', keys: ['e'], label: 'sql', description: 'ask a read-only SQL question' },
  {
    command: 'db-sort',
    keys: ['s'],
    label: 'sort',
    description: 'sort tables by bytes, rows, growth, name',
    hidden: true,
  },
];

export const databaseScreen: ScreenDefinition = {
  id: 'database',
  key: '5',
  title: 'Database',
  help: ['←/→ panes: tables, slow queries (Enter: plan and fix), history, SQL. x cancels; actions ask.'],
  bindings,
  Component: DatabaseScreen,
};
