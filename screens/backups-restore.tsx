// The restore walkthrough inside screen 4: a rail of the steps, and for each step what it will do,
// what it found, and which key goes on. Pure rendering of RestoreSession's state (the screen turns
// keys into its calls).
import { Box, Text } from 'ink';
import { type BackupProgress, formatBytes, formatDuration } from '../services/backup-progress.js';
import type { RestoreStep } from '../services/restore.js';
import { type RestoreSessionState, SCOPE_HELP, type WalkStep } from '../services/restore-session.js';
import { displayWidth, truncate, wrapText } from './components/text.js';

interface Line {
  id: string;
  text: string;
  color?: string;
  bold?: boolean;
}

const RAIL: Array<{ id: string; label: string }> = [
  { id: 'scope', label: 'Scope' },
  { id: 'verify', label: 'Verify' },
  { id: 'plan', label: 'Plan' },
  { id: 'app', label: 'App' },
  { id: 'safety', label: 'Safety' },
  { id: 'stage', label: 'Restore' },
  { id: 'post-check', label: 'Check' },
  { id: 'finish', label: 'Finish' },
];

/** Where on the rail the session is: an index into RAIL. */
export function railPosition(step: WalkStep, runStep: RestoreStep | null): number {
  if (step === 'restore') {
    if (runStep === 'app' || runStep === 'safety') return 4;
    if (runStep === 'stage' || runStep === 'swap') return 5;
    if (runStep === 'post-check') return 6;
    if (runStep === 'done' || runStep === 'start') return 7;
    return 4;
  }
  return { scope: 0, verify: 1, plan: 2, app: 3, finish: 7, recover: 5 }[step];
}

export function railText(s: RestoreSessionState): string {
  const at = railPosition(s.step, s.runStep);
  const failed = s.step === 'finish' && (s.error !== null || (s.outcome !== null && !s.outcome.ok));
  return RAIL.map((r, i) => {
    if (i < at || (i === at && s.step === 'finish' && !failed)) return `✓ ${r.label}`;
    if (i === at) return `${failed ? '✖' : '▶'} ${r.label}`;
    return `· ${r.label}`;
  }).join('  ');
}

function progressLine(p: BackupProgress | null, busy: string, width: number): string {
  if (!p || p.total <= 0) return truncate(`… ${busy}`, width);
  const pct = Math.min(100, Math.floor((p.done / p.total) * 100));
  const bar = 16;
  const filled = Math.round((pct / 100) * bar);
  const eta = p.etaSeconds !== null ? ` ETA ${formatDuration(p.etaSeconds)}` : '';
  return truncate(
    `[${'#'.repeat(filled)}${'.'.repeat(bar - filled)}] ${pct}% ${formatBytes(p.done)}/${formatBytes(p.total)} ${formatBytes(p.bytesPerSecond)}/s${eta} · ${busy}`,
    width,
  );
}

function planLines(s: RestoreSessionState, width: number): Line[] {
  const plan = s.plan!;
  const v = plan.verification;
  const out: Line[] = [];
  out.push(
    v.ok
      ? {
          id: 'v',
          text: `✓ verified in ${formatDuration(v.durationMs / 1000)}: ${v.fileCount} files, ${formatBytes(v.totalSize)}`,
          color: 'green',
        }
      : { id: 'v', text: `✖ FAILED verification: ${v.reason}`, color: 'red' },
  );
  const sum = (xs: typeof plan.replaced, f: 'sizeThen' | 'sizeNow') =>
    formatBytes(xs.reduce((t, x) => t + (x[f] ?? 0), 0));
  out.push({
    id: 'sum',
    text: `scope ${plan.scope}: replaces ${plan.replaced.length} (${sum(plan.replaced, 'sizeThen')}), adds ${plan.added.length} (${sum(plan.added, 'sizeThen')}), removes ${plan.removed.length} (${sum(plan.removed, 'sizeNow')}), ${plan.unchanged} unchanged`,
  });
  if (plan.database.restored) {
    const t = ['models', 'metadata'].map(
      (k) => `${k} ${plan.database.live?.[k] ?? '-'} → ${plan.database.inBackup?.[k] ?? '-'}`,
    );
    out.push({ id: 'db', text: `database rows now → after: ${t.join(', ')}` });
  }
  out.push({
    id: 'space',
    text: `space: ${formatBytes(plan.space.neededBytes)} needed, ${formatBytes(plan.space.availableBytes)} free${plan.space.ok ? '' : ' — NOT ENOUGH'}`,
    color: plan.space.ok ? undefined : 'red',
  });
  for (const r of plan.refusals)
    for (const [i, l] of wrapText(
      `✖ ${r.message}${r.overridable ? ' (Enter: type the name to go ahead anyway)' : ''}`,
      width,
    ).entries())
      out.push({
        id: `r-${r.code}-${i}`,
        text: l,
        color: r.code === 'verification' && s.acceptUnverified ? 'yellow' : 'red',
      });
  if (s.acceptUnverified)
    out.push({
      id: 'acc',
      text: 'you typed the name: the failed backup will be restored as it is',
      color: 'yellow',
    });
  out.push({ id: 'gap', text: '' });
  for (const x of plan.replaced)
    out.push({
      id: `~${x.archivePath}`,
      text: `~ ${x.path}  ${formatBytes(x.sizeNow ?? 0)} → ${formatBytes(x.sizeThen ?? 0)}`,
      color: 'yellow',
    });
  for (const x of plan.added)
    out.push({
      id: `+${x.archivePath}`,
      text: `+ ${x.path}  ${formatBytes(x.sizeThen ?? 0)}`,
      color: 'green',
    });
  for (const x of plan.removed)
    out.push({ id: `-${x.archivePath}`, text: `- ${x.path}  ${formatBytes(x.sizeNow ?? 0)}`, color: 'red' });
  return out;
}

function appLines(s: RestoreSessionState): Line[] {
  const out: Line[] = [];
  const a = s.app;
  if (!a) return out;
  out.push(
    a.app
      ? {
          id: 'app',
          text: `Candy-Cadence is running (pid ${a.app.pid}, found by ${a.app.via}). Enter stops it and waits until it is gone.`,
          color: 'yellow',
        }
      : { id: 'app', text: 'Candy-Cadence is not running.', color: 'green' },
  );
  if (s.appMessage) out.push({ id: 'msg', text: s.appMessage });
  const others = a.holders.filter((h) => !a.app || h.pid !== a.app.pid);
  if (others.length) {
    out.push({
      id: 'h',
      text: 'These processes hold the database open (a restore would pull it from under them):',
      color: 'red',
    });
    for (const h of others)
      out.push({ id: `h${h.pid}-${h.fd}`, text: `  ${h.command} pid ${h.pid}: ${h.path}` });
    out.push({
      id: 'h2',
      text: s.ignoreHolders
        ? 'you typed the name: restoring anyway'
        : 'Enter asks you to type the backup name to restore anyway.',
    });
  } else if (!a.app)
    out.push({
      id: 'ok',
      text: 'Nothing holds the database open. Enter starts the restore (it asks once more).',
      color: 'green',
    });
  if (a.unreadable)
    out.push({
      id: 'u',
      text: `(${a.unreadable} process${a.unreadable === 1 ? '' : 'es'} could not be inspected)`,
      color: 'gray',
    });
  return out;
}

function finishLines(s: RestoreSessionState, startCommand: string | null): Line[] {
  const out: Line[] = [];
  const o = s.outcome;
  if (s.error)
    out.push(
      { id: 'e', text: `✖ ${s.error}`, color: 'red' },
      { id: 'e2', text: 'Nothing in the site was changed by this attempt.' },
    );
  if (o) {
    out.push({ id: 'o', text: `${o.ok ? '✓' : '✖'} ${o.message}`, color: o.ok ? 'green' : 'red' });
    if (o.postCheck)
      out.push({
        id: 'pc',
        text: `checks: database ${o.postCheck.database ?? 'sound, rows as in the backup'}${o.postCheck.files ? `; ${o.postCheck.files} files match the manifest` : ''}`,
      });
    out.push({ id: 't', text: `took ${formatDuration(o.durationMs / 1000)}` });
  }
  if (s.startMessage) out.push({ id: 's', text: s.startMessage });
  else if (s.appStopped)
    out.push(
      startCommand
        ? {
            id: 's',
            text: `Candy-Cadence was stopped for the restore. Enter starts it (${startCommand}).`,
            color: 'yellow',
          }
        : {
            id: 's',
            text: 'Candy-Cadence was stopped for the restore; no app.startCommand is set: start it yourself.',
            color: 'yellow',
          },
    );
  if (o?.ok && o.safety)
    out.push({ id: 'b', text: `b rolls everything back to ${o.safety.name}. Esc returns to the list.` });
  else out.push({ id: 'b', text: 'Esc returns to the list.' });
  return out;
}

export function RestoreWalkthrough({
  state: s,
  width,
  height,
  scroll,
  startCommand,
}: {
  state: RestoreSessionState;
  width: number;
  height: number;
  scroll: number;
  startCommand: string | null;
}) {
  const title =
    s.mode === 'recover'
      ? `Interrupted restore of ${s.backup?.name ?? '?'}`
      : s.mode === 'rollback'
        ? `Roll back the last restore${s.backup ? `: restore ${s.backup.name}` : ''}`
        : `Restore ${s.backup?.name ?? ''}`;
  let body: Line[] = [];
  let help = '';
  switch (s.step) {
    case 'scope':
      body = [
        { id: 'q', text: 'What to restore? Everything else in the site stays as it is.', bold: true },
        ...s.scopes.map((sc, i) => ({
          id: sc,
          text: truncate(`${i === s.scopeIndex ? '▶' : ' '} ${sc.padEnd(10)} ${SCOPE_HELP[sc]}`, width),
          color: i === s.scopeIndex ? 'cyan' : undefined,
        })),
        { id: 'n', text: '' },
        {
          id: 'n2',
          text: 'Next: the backup is verified end to end, then you see exactly what would change.',
        },
      ];
      help = '↑ ↓ choose · Enter verify and plan · Esc cancel';
      break;
    case 'verify':
      body = [
        {
          id: 'w',
          text: 'Proving the backup restorable: gzip, tar, hostile entries, every manifest checksum, the database inside.',
        },
      ];
      help = s.busy ? 'verifying…' : 'Esc back';
      break;
    case 'plan':
      body = s.plan ? planLines(s, width) : [];
      help = '↑ ↓ scroll · Enter continue (the application next) · Esc back';
      break;
    case 'app':
      body = appLines(s);
      help = 'Enter continue · Esc back';
      break;
    case 'restore':
      body = [
        {
          id: 'r1',
          text:
            (s.mode === 'rollback'
              ? ''
              : 'A safety snapshot of everything in scope is taken and verified first. ') +
            'The backup is extracted next to the site and checked file by file, swapped in by rename with a journal written before each step, then checked.',
        },
        {
          id: 'r2',
          text: 'If a check fails, everything is put back. If the console dies, its next start finishes or undoes the restore.',
        },
      ];
      help = 'the restore runs; it completes or rolls back on its own';
      break;
    case 'finish':
      body = finishLines(s, startCommand);
      help = 'Enter start the application · b roll back · Esc back to the list';
      break;
    case 'recover': {
      const j = s.pending;
      body = j
        ? [
            {
              id: 'j1',
              text: `A restore of ${j.backup.name} (scope ${j.scope}) did not finish: it stopped in phase "${j.phase}",`,
              color: 'yellow',
            },
            {
              id: 'j2',
              text: `started ${new Date(j.startedAt).toLocaleString()}. The journal says exactly what was done, so it can be`,
            },
            {
              id: 'j3',
              text: 'completed, or rolled back to the state before it; the site is never left a mix of the two.',
            },
            ...(j.safety
              ? [{ id: 'j4', text: `The safety snapshot ${j.safety.name} was taken and verified.` }]
              : []),
          ]
        : [];
      help = 'Enter complete the restore · b roll it back · Esc later';
      break;
    }
  }
  if (s.error && s.step !== 'finish') body = [...body, { id: 'err', text: `✖ ${s.error}`, color: 'red' }];
  // Short lines keep their spacing (aligned lists); long ones wrap at words.
  const wrapped: Line[] = body.flatMap((l) =>
    displayWidth(l.text) <= width
      ? [l]
      : wrapText(l.text, width).map((t, i) => ({ ...l, id: `${l.id}:${i}`, text: t })),
  );
  // title, rail, blank; then the body; then progress and the key line.
  const bodyHeight = Math.max(1, height - 5);
  const start =
    s.step === 'plan' ? Math.max(0, Math.min(scroll, Math.max(0, wrapped.length - bodyHeight))) : 0;
  const visible = wrapped.slice(start, start + bodyHeight);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate">
        {truncate(title, width)}
      </Text>
      <Text wrap="truncate">{truncate(railText(s), width)}</Text>
      <Text> </Text>
      {visible.map((l) => (
        <Text key={l.id} color={l.color} bold={l.bold} wrap="truncate">
          {l.text || ' '}
        </Text>
      ))}
      <Box flexGrow={1} />
      <Text color="cyan" wrap="truncate">
        {s.busy
          ? progressLine(s.progress, s.busy, width)
          : wrapped.length > bodyHeight
            ? truncate(`${start + 1}-${start + visible.length} of ${wrapped.length}`, width)
            : ' '}
      </Text>
      <Text dimColor wrap="truncate">
        {truncate(help, width)}
      </Text>
    </Box>
  );
}
