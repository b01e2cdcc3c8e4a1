// Screen 4: every backup (primary and secondary) with its kind, age, size and verification state;
// create, verify, prune with live progress; Enter opens one: its manifest, its files with sizes,
// and what changed in the live site since.
import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import { BackupJobs, type BackupsState, type DetailState } from '../services/backup-jobs.js';
import type { BackupInfo } from '../services/backup-list.js';
import { KIND_LABEL } from '../services/backup-names.js';
import { type BackupProgress, formatAge, formatBytes, formatDuration } from '../services/backup-progress.js';
import { RestoreSession } from '../services/restore-session.js';
import { RestoreWalkthrough } from './backups-restore.js';
import { selectionStep } from './components/selection.js';
import { type Column, Table } from './components/table.js';
import { padEnd, truncate, truncateStart, wrapText } from './components/text.js';
import type { ConsoleContextValue, ScreenDefinition, ScreenProps } from './context.js';
import { useCommands, useConsole, useInterval, useStore } from './hooks.js';

export function backupJobs(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config' | 'stateDb'>,
): BackupJobs {
  return ctx.services.get(
    'backup-jobs',
    () => new BackupJobs({ paths: ctx.site.paths, config: ctx.config, stateDb: () => ctx.stateDb() }),
    (jobs) => jobs.dispose(),
  );
}

export function restoreSession(
  ctx: Pick<ConsoleContextValue, 'services' | 'site' | 'config' | 'stateDb'>,
): RestoreSession {
  return ctx.services.get(
    'restore-session',
    () => new RestoreSession({ paths: ctx.site.paths, config: ctx.config, stateDb: ctx.stateDb() }),
  );
}

const STATE_MARK: Record<BackupInfo['state'], { symbol: string; color: string }> = {
  verified: { symbol: '✓', color: 'green' },
  failed: { symbol: '✖', color: 'red' },
  unverified: { symbol: '?', color: 'yellow' },
  changed: { symbol: '~', color: 'yellow' },
};

function verifiedCell(b: BackupInfo, now: number): string {
  const mark = STATE_MARK[b.state].symbol;
  if (!b.verification) return `${mark} not yet`;
  if (b.state === 'changed') return `${mark} changed`;
  if (b.state === 'failed') return `${mark} FAILED`;
  return `${mark} ${formatAge(now - b.verification.verifiedAt)} ago`;
}

export function progressText(p: BackupProgress | null, label: string, width: number): string {
  if (!p) return truncate(`${label}: starting...`, width);
  const pct = p.total > 0 ? `${Math.min(100, Math.floor((p.done / p.total) * 100))}%` : '';
  const bytes = p.total > 0 ? `${formatBytes(p.done)}/${formatBytes(p.total)}` : '';
  const rate = p.bytesPerSecond > 0 ? `${formatBytes(p.bytesPerSecond)}/s` : '';
  const eta = p.etaSeconds !== null && p.total > 0 ? `ETA ${formatDuration(p.etaSeconds)}` : '';
  const barWidth = 12;
  const filled = p.total > 0 ? Math.round((Math.min(p.done, p.total) / p.total) * barWidth) : 0;
  const bar = p.total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]` : '';
  return truncate(
    [`${label}: ${p.phase}`, bar, pct, bytes, rate, eta, p.current ?? ''].filter(Boolean).join(' '),
    width,
  );
}

function ListView({
  state,
  width,
  height,
  selected,
}: {
  state: BackupsState;
  width: number;
  height: number;
  selected: number;
}) {
  const { site } = useConsole();
  const now = Date.now();
  const { listing, job, outcome } = state;
  const withSecondary = Boolean(site.paths.secondaryBackups);
  const columns: Column<BackupInfo>[] = [
    { title: 'NAME', width: 'grow', get: (b) => b.name },
    { title: 'TYPE', width: 8, get: (b) => (b.kind === 'pre_restore' ? 'safety' : KIND_LABEL[b.kind]) },
    ...(withSecondary ? [{ title: 'WHERE', width: 9, get: (b: BackupInfo) => b.location }] : []),
    { title: 'AGE', width: 5, align: 'right', get: (b) => formatAge(now - b.time) },
    { title: 'SIZE', width: 8, align: 'right', get: (b) => formatBytes(b.size) },
    {
      title: 'VERIFIED',
      width: 15,
      get: (b) => verifiedCell(b, now),
      color: (b) => STATE_MARK[b.state].color,
    },
  ];
  const current = listing.backups[selected] ?? null;
  const where = `${truncateStart(site.paths.backups, Math.max(10, Math.floor(width / 2) - 12))}${withSecondary ? ` + ${truncateStart(site.paths.secondaryBackups!, 20)}` : ''}`;
  const counts = `${listing.backups.length} backup${listing.backups.length === 1 ? '' : 's'}`;
  // Two heading lines, the table, three lines at the bottom (the detail may take two).
  const tableHeight = Math.max(3, height - 6);
  let detailLine = '';
  let detailColor: string | undefined;
  if (current) {
    const v = current.verification;
    if (!v) detailLine = `${current.name}: never verified here; press v to verify`;
    else if (current.state === 'changed')
      detailLine = `${current.name}: the file changed after it was verified; verify again`;
    else if (v.ok)
      detailLine = `verified ${formatAge(now - v.verifiedAt)} ago in ${formatDuration(v.durationMs / 1000)}: ${v.summary.fileCount} file${v.summary.fileCount === 1 ? '' : 's'}, ${formatBytes(v.summary.totalSize)}${v.summary.counts ? `, ${v.summary.counts.models ?? '?'} models, ${v.summary.counts.metadata ?? '?'} metadata` : ''}`;
    else {
      detailLine = `FAILED ${formatAge(now - v.verifiedAt)} ago: ${v.reason}`;
      detailColor = 'red';
    }
  }
  const incomplete = listing.incomplete.filter((f) => !f.alive).length;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {padEnd('Backups: what can we restore?', width - counts.length - 1)} <Text dimColor>{counts}</Text>
      </Text>
      <Text dimColor wrap="truncate">
        {truncate(
          `in ${where}${incomplete ? ` · ${incomplete} leftover temp file${incomplete > 1 ? 's' : ''} (p prunes)` : ''}${listing.errors.length ? ` · ${listing.errors[0]}` : ''}`,
          width,
        )}
      </Text>
      <Table
        columns={columns}
        rows={listing.backups}
        width={width}
        height={tableHeight}
        selected={listing.backups.length ? selected : null}
        emptyText="no backups yet: press c for a database backup, f for a full one"
        rowKey={(b) => b.file}
      />
      <Box flexGrow={1} />
      {wrapText(detailLine, width)
        .slice(0, 2)
        .map((line) => (
          <Text key={line} color={detailColor} wrap="truncate">
            {line}
          </Text>
        ))}
      {job ? (
        <Text color="cyan" wrap="truncate">
          {progressText(job.progress, job.label, width - 12)} <Text dimColor>x cancels</Text>
        </Text>
      ) : outcome ? (
        <Text color={outcome.ok ? 'green' : 'red'} wrap="truncate">
          {truncate(`${outcome.ok ? '✓' : '✖'} ${outcome.message}`, width)}
        </Text>
      ) : (
        <Text dimColor wrap="truncate">
          {truncate('Enter opens a backup: its files, its manifest, what changed since', width)}
        </Text>
      )}
    </Box>
  );
}

interface Line {
  /** Stable React key. */
  id: string;
  text: string;
  color?: string;
}

function treeLines(detail: DetailState): Line[] {
  const entries = detail.diff?.verification.entries ?? [];
  const dirSize = new Map<string, number>();
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      dirSize.set(d, (dirSize.get(d) ?? 0) + e.size);
    }
  }
  return entries.map((e) => {
    const isDir = e.type === 'Directory';
    const depth = e.path.split('/').length - 1;
    const size = isDir ? (dirSize.get(e.path) ?? 0) : e.size;
    const name = e.path.split('/').pop()!;
    return {
      id: e.path,
      text: `${formatBytes(size).padStart(9)}  ${'  '.repeat(depth)}${name}${isDir ? '/' : ''}`,
    };
  });
}

function changeLines(detail: DetailState): Line[] {
  const diff = detail.diff;
  if (!diff) return [];
  const lines: Line[] = [];
  const { inBackup, live, error } = diff.database;
  const tables = [...new Set([...Object.keys(inBackup ?? {}), ...Object.keys(live ?? {})])];
  lines.push({ id: 'rows', text: 'database rows: then -> now' });
  for (const t of tables) {
    const a = inBackup?.[t];
    const b = live?.[t];
    const delta = a !== undefined && b !== undefined && b !== a ? `  (${b - a > 0 ? '+' : ''}${b - a})` : '';
    lines.push({
      id: `table:${t}`,
      text: `  ${t.padEnd(16)} ${String(a ?? '-').padStart(9)} -> ${String(b ?? '-').padStart(9)}${delta}`,
      color: delta ? 'yellow' : undefined,
    });
  }
  if (error) lines.push({ id: 'db-error', text: `  ${error}`, color: 'red' });
  if (diff.files) {
    const f = diff.files;
    lines.push({
      id: 'files',
      text: `files: ${f.added.length} added since, ${f.removed.length} removed since, ${f.changed.length} changed, ${f.unchanged} unchanged`,
    });
    for (const x of f.added)
      lines.push({
        id: `+${x.archivePath}`,
        text: `  + ${x.path}  ${formatBytes(x.sizeNow ?? 0)}`,
        color: 'green',
      });
    for (const x of f.removed)
      lines.push({
        id: `-${x.archivePath}`,
        text: `  - ${x.path}  ${formatBytes(x.sizeThen ?? 0)}`,
        color: 'red',
      });
    for (const x of f.changed)
      lines.push({
        id: `~${x.archivePath}`,
        text: `  ~ ${x.path}  ${formatBytes(x.sizeThen ?? 0)} -> ${formatBytes(x.sizeNow ?? 0)}`,
        color: 'yellow',
      });
  } else lines.push({ id: 'no-files', text: 'a database backup: no files to compare' });
  return lines;
}

function DetailView({
  detail,
  width,
  height,
  pane,
  scroll,
}: {
  detail: DetailState;
  width: number;
  height: number;
  pane: 'files' | 'changes';
  scroll: number;
}) {
  const b = detail.backup;
  const v = detail.diff?.verification ?? null;
  const head: Line[] = [
    { id: 'name', text: `${b.name}  ·  ${KIND_LABEL[b.kind]}  ·  ${formatBytes(b.size)}  ·  ${b.location}` },
  ];
  if (detail.status === 'loading')
    head.push({ id: 'progress', text: progressText(detail.progress, 'reading', width), color: 'cyan' });
  else if (detail.status === 'error')
    head.push({ id: 'error', text: `cannot read it: ${detail.error}`, color: 'red' });
  else if (v) {
    head.push(
      v.ok
        ? {
            id: 'verified',
            text: `✓ verified in ${formatDuration(v.durationMs / 1000)}: ${v.fileCount} files, ${formatBytes(v.totalSize)}; database ${v.database?.ok ? 'sound' : 'not checked'}`,
            color: 'green',
          }
        : { id: 'verified', text: `✖ FAILED verification: ${v.reason}`, color: 'red' },
    );
    if (v.manifest)
      head.push({
        id: 'manifest',
        text: `manifest: ${v.manifest.backup_type}, taken ${v.manifest.timestamp.replace('T', ' ').slice(0, 19)} UTC, app ${v.manifest.version}, ${v.manifest.file_count} files, ${formatBytes(v.manifest.total_size_bytes)}${typeof v.manifest.scope === 'string' ? `, scope ${v.manifest.scope}` : ''}`,
      });
  }
  const tabs = `${pane === 'files' ? '[Files]' : ' Files '} ${pane === 'changes' ? '[Changes since]' : ' Changes since '}   ← → switch · ↑ ↓ scroll · Esc back`;
  const body = detail.status === 'ready' ? (pane === 'files' ? treeLines(detail) : changeLines(detail)) : [];
  const bodyHeight = Math.max(1, height - head.length - 2);
  const start = Math.max(0, Math.min(scroll, Math.max(0, body.length - bodyHeight)));
  const visible = body.slice(start, start + bodyHeight);
  return (
    <Box flexDirection="column" width={width} height={height}>
      {head.map((l, i) => (
        <Text key={l.id} color={l.color} bold={i === 0} wrap="truncate">
          {truncate(l.text, width)}
        </Text>
      ))}
      <Text dimColor wrap="truncate">
        {truncate(tabs, width)}
      </Text>
      {visible.map((l) => (
        <Text key={l.id} color={l.color} wrap="truncate">
          {truncate(l.text, width)}
        </Text>
      ))}
      <Box flexGrow={1} />
      {body.length > bodyHeight ? (
        <Text dimColor>{`${start + 1}-${start + visible.length} of ${body.length}`}</Text>
      ) : null}
    </Box>
  );
}

function BackupsScreen({ width, height }: ScreenProps) {
  const ctx = useConsole();
  const jobs = backupJobs(ctx);
  const state = useStore(jobs.store);
  const session = restoreSession(ctx);
  const walk = useStore(session.store);
  // An interrupted restore: the walkthrough opens on it, offering to complete or roll back.
  useEffect(() => {
    if (!session.state.active) session.checkPending();
  }, [session]);
  const [selected, setSelected] = useState(0);
  const [pane, setPane] = useState<'files' | 'changes'>('changes');
  const [scroll, setScroll] = useState(0);
  // Ages and the listing move on by themselves.
  useInterval(() => jobs.refresh(), state.job ? null : 5000);
  const count = state.listing.backups.length;
  const sel = Math.min(selected, Math.max(0, count - 1));
  const current = state.listing.backups[sel] ?? null;
  const page = Math.max(1, height - 8);

  useCommands((command) => {
    if (walk.active) return walkCommand(command);
    if (state.detail) {
      switch (command) {
        case 'close':
          jobs.closeDetail();
          return true;
        case 'left':
        case 'right':
          setPane((p) => (p === 'files' ? 'changes' : 'files'));
          setScroll(0);
          return true;
        case 'up':
          setScroll((s) => Math.max(0, s - 1));
          return true;
        case 'down':
          setScroll((s) => s + 1);
          return true;
        case 'page-up':
          setScroll((s) => Math.max(0, s - page));
          return true;
        case 'page-down':
          setScroll((s) => s + page);
          return true;
        case 'top':
          setScroll(0);
          return true;
        case 'bottom':
          setScroll(1_000_000);
          return true;
      }
    }
    const step = selectionStep(command, count, page);
    if (step) {
      setSelected(step(sel));
      return true;
    }
    switch (command) {
      case 'open':
        if (current) {
          setScroll(0);
          setPane(current.kind === 'database' ? 'changes' : 'files');
          jobs.openDetail(current);
        }
        return true;
      case 'create-database':
      case 'create-full':
        if (!jobs.create(command === 'create-full' ? 'full' : 'database'))
          ctx.ui.flash('a backup job is already running (x cancels it)', 'warning');
        return true;
      case 'verify':
        if (!current) ctx.ui.flash('no backup selected', 'warning');
        else if (!jobs.verify([current])) ctx.ui.flash('a backup job is already running', 'warning');
        return true;
      case 'verify-all':
        if (!count) ctx.ui.flash('no backups to verify', 'warning');
        else if (!jobs.verify(state.listing.backups))
          ctx.ui.flash('a backup job is already running', 'warning');
        return true;
      case 'cancel':
        if (!jobs.cancel()) ctx.ui.flash('nothing is running', 'info');
        return true;
      case 'restore':
        if (jobs.busy) ctx.ui.flash('wait for the backup job to finish (x cancels it)', 'warning');
        else if (!current) ctx.ui.flash('no backup selected', 'warning');
        else {
          setScroll(0);
          session.begin({ file: current.file, name: current.name, kind: current.kind });
        }
        return true;
      case 'rollback':
        if (jobs.busy) ctx.ui.flash('wait for the backup job to finish', 'warning');
        else {
          setScroll(0);
          void session.beginRollbackOfLast();
        }
        return true;
      case 'refresh':
        jobs.refresh();
        return true;
      case 'prune': {
        if (jobs.busy) {
          ctx.ui.flash('a backup job is already running', 'warning');
          return true;
        }
        const plan = jobs.planPrune();
        const n = plan.remove.length + plan.staleTemp.length;
        if (n === 0) {
          ctx.ui.flash(
            `nothing to prune: ${plan.keep.length} backup${plan.keep.length === 1 ? '' : 's'} within retention or protected`,
            'info',
          );
          return true;
        }
        const bytes =
          plan.remove.reduce((s, i) => s + i.backup.size, 0) + plan.staleTemp.reduce((s, t) => s + t.size, 0);
        const body = [
          ...plan.remove.map((i) => `delete ${i.backup.name} (${i.backup.location}, ${i.why})`),
          ...plan.staleTemp.map((t) => `delete ${t.file.split('/').pop()} (left by an interrupted create)`),
          ...plan.keep
            .filter((k) => k.why.includes('never pruned') || k.why.includes('is kept'))
            .map((k) => `keep   ${k.backup.name} (${k.why})`),
        ];
        void ctx.ui
          .confirm({
            title: `Prune ${n} file${n === 1 ? '' : 's'}, ${formatBytes(bytes)}?`,
            body,
            confirmLabel: `Delete ${n}`,
            danger: true,
          })
          .then((ok) => {
            if (ok) jobs.prune(plan);
          });
        return true;
      }
    }
    return false;
  });

  function walkCommand(command: string): boolean {
    const w = session.state;
    const name = w.backup?.name ?? '';
    switch (command) {
      case 'close': {
        const r = session.back();
        if (r === 'busy')
          ctx.ui.flash('the restore is running; it completes or rolls back on its own', 'warning');
        if (r === 'closed') jobs.refresh();
        setScroll(0);
        return true;
      }
      case 'up':
        if (w.step === 'scope') session.moveScope(-1);
        else setScroll((x) => Math.max(0, x - 1));
        return true;
      case 'down':
        if (w.step === 'scope') session.moveScope(1);
        else setScroll((x) => x + 1);
        return true;
      case 'page-up':
        setScroll((x) => Math.max(0, x - page));
        return true;
      case 'page-down':
        setScroll((x) => x + page);
        return true;
      case 'rollback':
        if (w.busy) return true;
        if (w.step === 'recover') {
          void ctx.ui
            .confirm({
              title: 'Roll back the interrupted restore?',
              body: [
                'Everything the restore moved is put back where it was; the site returns to its state before the restore.',
              ],
              confirmLabel: 'Roll back',
              danger: true,
            })
            .then((ok) => {
              if (ok) void session.recover('rollback');
            });
        } else if (w.step === 'finish' && w.outcome?.ok && w.outcome.safety) {
          const safety = w.outcome.safety;
          void ctx.ui
            .confirm({
              title: `Roll back to ${safety.name}?`,
              body: [
                `Restores the safety snapshot taken before this restore (${safety.name}), with the same checks.`,
              ],
              confirmLabel: 'Roll back',
              danger: true,
            })
            .then((ok) => {
              if (ok) void session.beginRollbackOfLast();
            });
        } else ctx.ui.flash('nothing to roll back here', 'info');
        return true;
      case 'open':
        if (w.busy) return true;
        if (w.step === 'scope') void session.chooseScope();
        else if (w.step === 'plan' && w.plan) {
          const blocking = w.plan.refusals.filter((r) => !(r.code === 'verification' && w.acceptUnverified));
          const hard = blocking.find((r) => !r.overridable);
          if (hard) ctx.ui.flash(`refused: ${hard.message}`, 'error');
          else if (blocking.length) {
            void ctx.ui
              .confirm({
                title: `${name} FAILED verification`,
                body: [
                  w.plan.verification.reason ?? '',
                  'Restoring it may bring back damaged data. A safety snapshot of the current state is still taken first.',
                ],
                danger: true,
                typeToConfirm: name,
              })
              .then((ok) => {
                if (ok) {
                  session.acceptFailedVerification();
                  void session.checkApp();
                }
              });
          } else void session.checkApp();
        } else if (w.step === 'app' && w.app) {
          const running = w.app.app;
          const others = w.app.holders.filter((h) => !running || h.pid !== running.pid);
          if (running) {
            void ctx.ui
              .confirm({
                title: `Stop Candy-Cadence (pid ${running.pid})?`,
                body: [
                  ctx.config.app.stopCommand
                    ? `Runs app.stopCommand: ${ctx.config.app.stopCommand}`
                    : `Sends SIGTERM to pid ${running.pid}`,
                  `and waits up to ${ctx.config.app.stopTimeoutSeconds} s for it to exit.`,
                ],
                confirmLabel: 'Stop it',
                danger: true,
              })
              .then((ok) => {
                if (ok) void session.stopApp();
              });
          } else if (others.length && !w.ignoreHolders) {
            void ctx.ui
              .confirm({
                title: 'The database is held open',
                body: [
                  `By ${[...new Set(others.map((h) => `${h.command} (pid ${h.pid})`))].join(', ')}.`,
                  'Swapping the database under a process that holds it can lose its writes.',
                ],
                danger: true,
                typeToConfirm: name,
              })
              .then((ok) => {
                if (ok) void session.forceHolders();
              });
          } else if (w.plan) {
            const plan = w.plan;
            void ctx.ui
              .confirm({
                title: `Restore ${name}?`,
                body: [
                  `Into ${ctx.site.paths.root}, scope ${plan.scope}: ${plan.replaced.length} replaced, ${plan.added.length} added, ${plan.removed.length} removed.`,
                  w.mode === 'rollback'
                    ? 'This rolls back the last restore.'
                    : 'First a safety snapshot of the current state is taken and verified; b undoes the restore afterwards.',
                ],
                confirmLabel: 'Restore',
                danger: true,
              })
              .then((ok) => {
                if (ok) void session.restore();
              });
          }
        } else if (w.step === 'finish') {
          if (w.appStopped && ctx.config.app.startCommand && !w.startMessage) void session.startApp();
          else {
            session.close();
            jobs.refresh();
          }
        } else if (w.step === 'recover') {
          void ctx.ui
            .confirm({
              title: 'Complete the interrupted restore?',
              body: [
                'The remaining steps run from the journal, then the post-checks; a failed check rolls everything back.',
              ],
              confirmLabel: 'Complete',
              danger: true,
            })
            .then((ok) => {
              if (ok) void session.recover('complete');
            });
        }
        return true;
      case 'create-database':
      case 'create-full':
      case 'verify':
      case 'verify-all':
      case 'prune':
      case 'restore':
        ctx.ui.flash('finish or leave the restore first (Esc)', 'info');
        return true;
    }
    return true;
  }

  if (walk.active)
    return (
      <RestoreWalkthrough
        state={walk}
        width={width}
        height={height}
        scroll={scroll}
        startCommand={ctx.config.app.startCommand}
      />
    );
  if (state.detail)
    return <DetailView detail={state.detail} width={width} height={height} pane={pane} scroll={scroll} />;
  return <ListView state={state} width={width} height={height} selected={sel} />;
}

export const backupsScreen: ScreenDefinition = {
  id: 'backups',
  key: '4',
  title: 'Backups',
  help: [
    'Every backup in the backup folder and the secondary location (paths.secondaryBackups): database-only (candy_cadence_backup_*.db.gz), full (full_backup_*.tar.gz) and the safety snapshots a restore takes (pre_restore_*). VERIFIED says when this console last proved it restorable (gzip, tar, hostile entries, every manifest checksum, the database integrity and counts), or why it failed; "changed" means the file changed since.',
    'Backups are taken while the application writes: the database with VACUUM INTO, consistent; written under a temporary name, verified, then renamed. Progress shows bytes per second and the time left; x cancels and leaves nothing behind.',
    'Enter opens a backup: Files lists what it holds with sizes; Changes since compares it with the live site (files added, removed, changed by checksum; database rows then and now).',
    'Prune deletes what retention (backups.retention) allows, after showing the list; it never deletes the newest verified backup of a kind.',
    'R restores the selected backup, step by step on a rail: choose the scope, verify, read the plan (what is replaced, added, removed; rows now and after; space), make sure Candy-Cadence is stopped and nothing holds the database, then a verified safety snapshot, staging, the swap with a journal, checks. b rolls back the last restore. An interrupted restore opens here, offering to complete or roll it back.',
  ],
  bindings: [
    {
      command: 'create-database',
      keys: ['c'],
      label: 'db backup',
      description: 'create a database backup',
      changes: true,
    },
    {
      command: 'create-full',
      keys: ['f'],
      label: 'full backup',
      description: 'create a full backup',
      changes: true,
    },
    { command: 'verify', keys: ['v'], label: 'verify', description: 'verify the selected backup' },
    {
      command: 'verify-all',
      keys: ['V'],
      label: 'verify all',
      description: 'verify every backup',
      hidden: true,
    },
    {
      command: 'prune',
      keys: ['p'],
      label: 'prune',
      description: 'delete what retention allows (shows the list, asks)',
      changes: true,
    },
    {
      command: 'restore',
      keys: ['R'],
      label: 'restore',
      description: 'restore the selected backup: the step-by-step walkthrough',
      changes: true,
    },
    {
      command: 'rollback',
      keys: ['b'],
      label: 'roll back',
      description: 'roll back the last restore (or an interrupted one)',
      changes: true,
      hidden: true,
    },
    {
      command: 'cancel',
      keys: ['x'],
      label: 'cancel',
      description: 'cancel the running backup job',
      hidden: true,
    },
    {
      command: 'refresh',
      keys: ['r'],
      label: 'refresh',
      description: 'read the backup folders again',
      hidden: true,
    },
  ],
  Component: BackupsScreen,
};
