// Screen 6: pick model files (a folder, the site's data/models by default, or a saved set), run the
// benchmark in the headless loader process with live progress and cancel, read the per-file
// results against the baseline (regressions marked in words, not only colour), save the run as the
// new baseline, and browse the history of runs. Three panes, switched with left/right.
import path from 'node:path';
import { Box, Text } from 'ink';
import { useState } from 'react';
import pkg from '../package.json' with { type: 'json' };
import type { RunRow } from '../services/bench-baseline.js';
import type { FileResult } from '../services/bench-run.js';
import {
  type BenchSession,
  type BenchSessionState,
  type Candidate,
  BenchSession as Session,
} from '../services/bench-session.js';
import { formatP, SIGNIFICANCE_TEST } from '../services/bench-stats.js';
import { formatBytes, formatMs } from '../services/model-format.js';
import { selectionStep } from './components/selection.js';
import { type Column, Table } from './components/table.js';
import { padEnd, truncate, truncateStart } from './components/text.js';
import type { ConsoleContextValue, ScreenDefinition, ScreenProps } from './context.js';
import { useCommands, useConsole, useStore } from './hooks.js';

export function benchSession(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config' | 'stateDb'>,
): BenchSession {
  return ctx.services.get(
    'bench-session',
    () =>
      new Session({
        paths: ctx.site.paths,
        config: ctx.config,
        stateDb: () => ctx.stateDb(),
        version: pkg.version,
      }),
    (s) => s.dispose(),
  );
}

type Pane = 'files' | 'results' | 'history';
const PANES: Pane[] = ['files', 'results', 'history'];
const PANE_TITLE: Record<Pane, string> = { files: 'Files', results: 'Results', history: 'History' };

export const VERDICT_TEXT: Record<string, { text: string; color?: string }> = {
  regression: { text: '✖ REGRESSION', color: 'red' },
  failed: { text: '✖ FAILS NOW', color: 'red' },
  'slower-not-significant': { text: '~ slower,noise', color: 'yellow' },
  'slower-untested': { text: '? slower', color: 'yellow' },
  'within-threshold': { text: '✓ ok', color: 'green' },
  faster: { text: '✓ faster', color: 'green' },
  'no-baseline': { text: '· no baseline' },
};

function changeText(r: FileResult): string {
  if (r.verdict.ratio === null) return '';
  if (r.verdict.ratio >= 10) return `${r.verdict.ratio.toFixed(0)}x`;
  const pct = (r.verdict.ratio - 1) * 100;
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(pct > -10 && pct < 10 ? 1 : 0)}%`;
}

const rate = (x: number | null) =>
  x === null
    ? ''
    : x >= 1e6
      ? `${(x / 1e6).toFixed(1)}M`
      : x >= 1e3
        ? `${(x / 1e3).toFixed(0)}k`
        : x.toFixed(0);

function progressLine(s: BenchSessionState, width: number): string {
  const p = s.progress;
  if (!p) return truncate('running: starting the loader process...', width);
  const barWidth = 12;
  const done = p.index / Math.max(1, p.total);
  const filled = Math.round(done * barWidth);
  const name = p.file.split('/').pop() ?? p.file;
  return truncate(
    `running [${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] file ${p.index + 1}/${p.total} ${name}: ${p.warmup ? 'warm-up' : 'run'} ${p.run + 1}/${p.runs}${p.lastMs !== null ? ` (${formatMs(p.lastMs)})` : ''}  x cancels`,
    width,
  );
}

function statusLine(s: BenchSessionState, width: number): { text: string; color?: string } {
  if (s.phase === 'running') return { text: progressLine(s, width) };
  if (s.phase === 'failed') return { text: truncate(`benchmark failed: ${s.error}`, width), color: 'red' };
  if (s.phase === 'cancelled') return { text: truncate('cancelled; r runs again', width), color: 'yellow' };
  if (s.phase === 'done' && s.report) {
    const r = s.report;
    const text = `done: ${r.files.length} files, ${r.regressions} regression${r.regressions === 1 ? '' : 's'}, ${r.failures} failed, ${r.perf001} PERF001${s.baselineSaved ? ` · baseline saved (${s.baselineSaved.count} files)` : ' · b saves as baseline'}`;
    return { text: truncate(text, width), color: r.regressions ? 'red' : undefined };
  }
  return {
    text: truncate(
      `${s.picked.length} of ${s.candidates.length} files picked · ${s.warmup} warm-up + ${s.runs} runs each (+/- runs) · r runs`,
      width,
    ),
  };
}

/** What each of the three panes draws from: the session, its area and its selected row. */
interface PaneProps {
  s: BenchSessionState;
  width: number;
  height: number;
  selected: number;
}

function FilesPane({ s, width, height, selected }: PaneProps) {
  const picked = new Set(s.picked);
  const columns: Column<Candidate>[] = [
    { title: ' ', width: 3, get: (c) => (picked.has(c.file) ? '[x]' : '[ ]') },
    { title: 'FILE', width: 'grow', get: (c) => c.key },
    { title: 'SIZE', width: 9, align: 'right', get: (c) => formatBytes(c.bytes) },
    {
      title: 'BASELINE',
      width: 10,
      align: 'right',
      get: (c) => (c.baselineMs === null ? '-' : formatMs(c.baselineMs)),
    },
  ];
  return (
    <Table
      columns={columns}
      rows={s.candidates}
      width={width}
      height={height}
      selected={s.candidates.length ? selected : null}
      emptyText={s.error ?? 'no model files here: f picks another folder, o opens a saved set'}
      rowKey={(c) => c.file}
    />
  );
}

function ResultsPane({ s, width, height, selected }: PaneProps) {
  const columns: Column<FileResult>[] = [
    { title: 'FILE', width: 'grow', get: (r) => r.key.split('/').pop() ?? r.key },
    {
      title: 'MEAN',
      width: 9,
      align: 'right',
      get: (r) => (r.stats ? formatMs(r.stats.mean) : (r.error?.code ?? '')),
    },
    { title: '±SD', width: 8, align: 'right', get: (r) => (r.stats ? formatMs(r.stats.stddev) : '') },
    { title: 'MB/S', width: 6, align: 'right', get: (r) => rate(r.mbPerSec) },
    { title: 'TRI/S', width: 6, align: 'right', get: (r) => rate(r.trianglesPerSec) },
    { title: 'VS BASE', width: 7, align: 'right', get: changeText },
    {
      title: 'VERDICT',
      width: 14,
      get: (r) =>
        r.error && r.verdict.status !== 'failed'
          ? `✖ ${r.error.code}`
          : (VERDICT_TEXT[r.verdict.status]?.text ?? r.verdict.status),
      color: (r) => (r.error ? 'red' : VERDICT_TEXT[r.verdict.status]?.color),
    },
  ];
  const current = s.results[selected];
  const detail: string[] = [];
  if (current) {
    if (current.error) detail.push(`${current.key}: ${current.error.code} ${current.error.message}`);
    else if (current.stats) {
      const st = current.stats;
      detail.push(
        `${current.key}: median ${formatMs(st.median)}, min ${formatMs(st.min)}, max ${formatMs(st.max)}, ${st.n} runs${st.outliers.length ? `, ${st.outliers.length} outlier(s) left out` : ''}${current.peakMemoryBytes !== null ? `, peak +${formatBytes(current.peakMemoryBytes)}` : ''}`,
      );
      const t = current.target;
      detail.push(
        `${current.verdict.explanation}${current.verdict.p !== null ? ` (t ${current.verdict.t?.toFixed(2)}, p ${formatP(current.verdict.p)})` : ''}${t ? ` · target ${t.timeLimitS} s: ${t.timeOk ? 'ok' : 'MISSED'}${t.codes.length ? ` ${t.codes.join(' ')}` : ''}` : ''}`,
      );
    }
  }
  return (
    <Box flexDirection="column" width={width}>
      <Table
        columns={columns}
        rows={s.results}
        width={width}
        height={Math.max(3, height - 2)}
        selected={s.results.length ? selected : null}
        emptyText={
          s.phase === 'running' ? 'waiting for the first file...' : 'no results yet: r runs the benchmark'
        }
        rowKey={(r) => r.file}
      />
      <Text dimColor wrap="truncate">
        {padEnd(
          detail[0] ??
            `regression = mean over ${s.report?.thresholdPercent ?? '110'} % of baseline AND ${SIGNIFICANCE_TEST}`,
          width,
        )}
      </Text>
      <Text dimColor wrap="truncate">
        {padEnd(detail[1] ?? '', width)}
      </Text>
    </Box>
  );
}

function HistoryPane({ s, width, height, selected }: PaneProps) {
  const columns: Column<RunRow>[] = [
    { title: 'RUN', width: 5, align: 'right', get: (r) => `#${r.id}` },
    { title: 'WHEN', width: 16, get: (r) => new Date(r.startedAt).toLocaleString('sv-SE').slice(0, 16) },
    { title: 'FILES', width: 5, align: 'right', get: (r) => String(r.files) },
    { title: 'RUNS', width: 7, align: 'right', get: (r) => `${r.warmup}+${r.runs}` },
    {
      title: 'REGRESSIONS',
      width: 11,
      align: 'right',
      get: (r) => String(r.regressions),
      color: (r) => (r.regressions ? 'red' : undefined),
    },
    { title: 'FAILED', width: 6, align: 'right', get: (r) => String(r.failures) },
    { title: 'BASELINE', width: 'grow', get: (r) => (r.savedAsBaseline ? 'saved as baseline' : '') },
  ];
  return (
    <Table
      columns={columns}
      rows={s.history}
      width={width}
      height={height}
      selected={s.history.length ? selected : null}
      emptyText="no runs recorded yet"
      rowKey={(r) => String(r.id)}
    />
  );
}

function BenchScreen({ width, height }: ScreenProps) {
  const ctx = useConsole();
  const session = benchSession(ctx);
  const s = useStore(session.store);
  const [pane, setPane] = useState<Pane>('files');
  const [cursor, setCursor] = useState<Record<Pane, number>>({ files: 0, results: 0, history: 0 });
  const count =
    pane === 'files' ? s.candidates.length : pane === 'results' ? s.results.length : s.history.length;
  const sel = Math.min(cursor[pane], Math.max(0, count - 1));
  const bodyHeight = Math.max(4, height - 3);

  useCommands((command) => {
    const step = selectionStep(command, count, bodyHeight - 2);
    if (step) {
      setCursor((c) => ({ ...c, [pane]: step(sel) }));
      return true;
    }
    switch (command) {
      case 'left':
      case 'right': {
        const i = PANES.indexOf(pane);
        setPane(PANES[(i + (command === 'left' ? PANES.length - 1 : 1)) % PANES.length]!);
        return true;
      }
      case 'bench-toggle':
        if (pane === 'files' && s.candidates[sel]) session.toggle(s.candidates[sel]!.file);
        return true;
      case 'bench-all':
        session.toggleAll();
        return true;
      case 'bench-more':
        session.setRuns(s.runs + 1);
        return true;
      case 'bench-fewer':
        session.setRuns(s.runs - 1);
        return true;
      case 'bench-run':
        if (s.phase === 'running') ctx.ui.flash('a benchmark is already running (x cancels it)', 'warning');
        else if (session.start()) setPane('results');
        else ctx.ui.flash('no files picked: space picks, a picks all', 'warning');
        return true;
      case 'bench-cancel':
      case 'close':
        if (session.cancel()) ctx.ui.flash('cancelling: the loader process is stopped', 'info');
        return command === 'bench-cancel' || s.phase === 'running';
      case 'bench-folder':
        void ctx.ui
          .prompt({
            label: 'folder:',
            initial: s.source.kind === 'folder' ? s.source.path : ctx.site.paths.models,
          })
          .then((v) => {
            if (!v) return;
            if (session.openFolder(path.resolve(v.trim()))) setPane('files');
            else ctx.ui.flash(`${v.trim()} is not a folder`, 'error');
          });
        return true;
      case 'bench-open-set':
        if (s.sets.length === 0) {
          ctx.ui.flash('no saved sets yet: w saves the picked files as one', 'info');
          return true;
        }
        void ctx.ui.prompt({ label: `set (${s.sets.map((x) => x.name).join(', ')}):` }).then((v) => {
          if (v === null) return;
          if (session.openSet(v.trim())) {
            ctx.ui.flash(`set ${v.trim()} opened`, 'success');
            setPane('files');
          } else ctx.ui.flash(`no saved set named ${v.trim()}`, 'error');
        });
        return true;
      case 'bench-save-set':
        if (s.picked.length === 0) {
          ctx.ui.flash('nothing picked to save', 'warning');
          return true;
        }
        void ctx.ui.prompt({ label: 'save picked files as set:' }).then((v) => {
          if (!v?.trim()) return;
          const n = session.saveSet(v.trim());
          ctx.ui.flash(`saved set ${v.trim()} (${n} files)`, 'success');
        });
        return true;
      case 'bench-baseline': {
        if (s.phase !== 'done' || !s.report) {
          ctx.ui.flash('run a benchmark to completion first (r)', 'warning');
          return true;
        }
        const ok = s.report.files.filter((f) => f.stats && !f.error);
        void ctx.ui
          .confirm({
            title: 'Save this run as the baseline?',
            body: [
              `${ok.length} file(s) get this run's load times as their baseline (others keep theirs).`,
              `Also written: ${ctx.site.paths.root}/performance_baseline.json`,
              ...(s.report.regressions
                ? [`This run has ${s.report.regressions} regression(s): they become the new normal.`]
                : []),
            ],
            confirmLabel: 'Save baseline',
          })
          .then((yes) => {
            if (!yes) return;
            try {
              const r = session.saveBaseline();
              ctx.ui.flash(`baseline saved for ${r.count} files`, 'success');
            } catch (err) {
              ctx.ui.flash(`baseline not saved: ${(err as Error).message}`, 'error');
            }
          });
        return true;
      }
      case 'bench-refresh':
        session.refresh();
        return true;
      default:
        return false;
    }
  });

  const status = statusLine(s, width);
  const source =
    s.source.kind === 'folder'
      ? truncateStart(s.source.path, Math.max(10, width - 40))
      : `set "${s.source.name}"`;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Bench: how fast do models load? </Text>
        {PANES.map((p) => (
          <Text key={p} inverse={p === pane}>
            {p === pane ? `[${PANE_TITLE[p]}]` : ` ${PANE_TITLE[p]} `}
          </Text>
        ))}
        <Text dimColor>{` ${source}`}</Text>
      </Text>
      <Text wrap="truncate" color={status.color}>
        {padEnd(status.text, width)}
      </Text>
      {pane === 'files' ? <FilesPane s={s} width={width} height={bodyHeight} selected={sel} /> : null}
      {pane === 'results' ? <ResultsPane s={s} width={width} height={bodyHeight} selected={sel} /> : null}
      {pane === 'history' ? <HistoryPane s={s} width={width} height={bodyHeight} selected={sel} /> : null}
    </Box>
  );
}

export const benchScreen: ScreenDefinition = {
  id: 'bench',
  key: '6',
  title: 'Bench',
  help: [
    "Benchmarks model loading. Files: the site's data/models (f picks another folder, o opens a saved set, w saves the picked files as one); space picks a file, a picks all or none.",
    'r runs the picked files in the headless loader process (a separate process: a crash, hang or memory blow-up never reaches the console): warm-up runs, then timed runs; progress is live and x or Esc cancels.',
    "Results: mean and standard deviation of the load time (read + parse; outliers outside 1.5 x IQR left out), MB/s, triangles/s, and the change against the saved baseline. A REGRESSION is a mean over thresholds.benchRegressionPercent (110 %) of the baseline that is also significant by Welch's t-test (one-sided, α = 0.05); slower but not significant is marked as noise. The lines under the table explain the selected file.",
    'b saves the completed run as the baseline (state database and performance_baseline.json in the site root). History lists recorded runs. left/right switch panes.',
  ],
  bindings: [
    { command: 'bench-run', keys: ['r'], label: 'run', description: 'run the benchmark on the picked files' },
    { command: 'bench-cancel', keys: ['x'], label: 'cancel', description: 'cancel the running benchmark' },
    {
      command: 'bench-toggle',
      keys: ['space'],
      label: 'pick',
      description: 'pick or unpick the selected file',
    },
    { command: 'bench-all', keys: ['a'], label: 'all', description: 'pick all files, or none' },
    {
      command: 'bench-folder',
      keys: ['f'],
      label: 'folder',
      description: 'choose the folder to pick files from',
    },
    { command: 'bench-open-set', keys: ['o'], label: 'set', description: 'open a saved set of files' },
    {
      command: 'bench-save-set',
      keys: ['w'],
      label: 'save set',
      description: 'save the picked files as a named set',
      hidden: true,
    },
    {
      command: 'bench-more',
      keys: ['+', '='],
      label: 'runs',
      description: 'one more timed run per file',
      hidden: true,
    },
    {
      command: 'bench-fewer',
      keys: ['-'],
      label: 'runs',
      description: 'one fewer timed run per file',
      hidden: true,
    },
    {
      command: 'bench-baseline',
      keys: ['b'],
      label: 'baseline',
      description: 'save the completed run as the baseline (writes performance_baseline.json)',
      changes: true,
    },
    {
      command: 'bench-refresh',
      keys: ['R'],
      label: 'refresh',
      description: 'list the files again',
      hidden: true,
    },
  ],
  Component: BenchScreen,
};
