import path from 'node:path';
import { createBackup } from '../../services/backup-create.js';
import { diffBackup } from '../../services/backup-diff.js';
import { BackupError } from '../../services/backup-errors.js';
import { findBackup, listBackups } from '../../services/backup-list.js';
import { KIND_LABEL } from '../../services/backup-names.js';
import {
  type BackupProgress,
  formatAge,
  formatBytes,
  formatDuration,
} from '../../services/backup-progress.js';
import { executePrune, planPrune } from '../../services/backup-prune.js';
import { recordVerification } from '../../services/backup-state.js';
import { type VerifyResult, verifyBackup } from '../../services/backup-verify.js';
import { openStateDb, type StateDb } from '../../services/state-db.js';
import { askYes } from './ask.js';
import { type CommandContext, printJson, type SiteContext, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops backup create --type database|full [--no-verify] [--no-secondary] [--json]
  cadence-ops backup list [--json]
  cadence-ops backup verify NAME|--all [--json]
  cadence-ops backup show NAME [--json]
  cadence-ops backup diff NAME [--json]
  cadence-ops backup prune [--dry-run] [--yes] [--json]

create   a consistent backup while the application writes: the database alone
         (candy_cadence_backup_<stamp>.db.gz) or everything in the SITE.md layout
         (full_backup_<stamp>.tar.gz with backup_manifest.json); verified before it gets its
         name; copied to paths.secondaryBackups when configured, verified there too
list     every backup in the backup folder and the secondary location: type, date, age, size,
         verification state
verify   gzip, tar structure, hostile entries, every manifest checksum, the database inside
         (integrity_check, counts); the result is kept and shown by list
show     the manifest and the files of a backup, with sizes
diff     files added, removed and changed since the backup; database row counts then and now
prune    delete what retention (backups.retention) allows; shows the plan and asks; never the
         newest verified backup of a type. Without a terminal it needs --yes

NAME is a file name from \`backup list\`, secondary:NAME for the copy, or a path.
Exit codes: 0 ok, 1 failed (the reason on stderr), 2 usage.`,
  flags: {
    type: { type: 'string', choices: ['database', 'full'] },
    verify: { type: 'boolean', default: true },
    secondary: { type: 'boolean', default: true },
    all: { type: 'boolean', default: false },
    dryRun: { type: 'boolean', default: false },
    yes: { type: 'boolean', shortFlag: 'y', default: false },
  },
  async run(ctx) {
    const [sub, ...rest] = ctx.args;
    switch (sub) {
      case 'create':
        return create(ctx);
      case 'list':
        return list(ctx);
      case 'verify':
        return verify(ctx, rest);
      case 'show':
        return show(ctx, rest);
      case 'diff':
        return diff(ctx, rest);
      case 'prune':
        return prune(ctx);
      case undefined:
        throw new UsageError(
          'backup: say what to do: create, list, verify, show, diff or prune (see backup --help)',
        );
      default:
        throw new UsageError(
          `backup: unknown action "${sub}"; expected create, list, verify, show, diff or prune`,
        );
    }
  },
};
export default verb;

function progressPrinter(ctx: CommandContext): ((p: BackupProgress) => void) | undefined {
  if (ctx.json || !ctx.stderr.isTTY) return undefined;
  return (p) => {
    const pct = p.total > 0 ? `${Math.min(100, Math.floor((p.done / p.total) * 100))}%` : '';
    const rate = p.bytesPerSecond > 0 ? `${formatBytes(p.bytesPerSecond)}/s` : '';
    const eta = p.etaSeconds !== null && p.total > 0 ? `ETA ${formatDuration(p.etaSeconds)}` : '';
    const size = p.total > 0 ? `${formatBytes(p.done)} of ${formatBytes(p.total)}` : '';
    const line = [p.phase.padEnd(9), pct.padStart(4), size, rate, eta, p.current ?? '']
      .filter(Boolean)
      .join('  ');
    const width = (ctx.stderr.columns || 100) - 1;
    ctx.stderr.write(`\r\x1b[2K${line.slice(0, width)}`);
  };
}

function clearProgress(ctx: CommandContext): void {
  if (!ctx.json && ctx.stderr.isTTY) ctx.stderr.write('\r\x1b[2K');
}

function fail(ctx: CommandContext, message: string): number {
  clearProgress(ctx);
  ctx.stderr.write(`cadence-ops backup: ${message}\n`);
  return 1;
}

function refuseReadOnly(ctx: CommandContext, what: string): void {
  if (ctx.readOnly) throw new UsageError(`backup ${what} changes files; refused in read-only mode`);
}

function verificationText(v: VerifyResult): string {
  const db = v.database?.counts
    ? `; database ok: ${['models', 'metadata']
        .filter((t) => v.database!.counts[t] !== undefined)
        .map((t) => `${v.database!.counts[t]} ${t}`)
        .join(', ')}`
    : '';
  return v.ok
    ? `verified in ${formatDuration(v.durationMs / 1000)}: ${v.fileCount} file${v.fileCount === 1 ? '' : 's'}, ${formatBytes(v.totalSize)}${db}`
    : `FAILED: ${v.reason}`;
}

async function create(ctx: CommandContext): Promise<number> {
  refuseReadOnly(ctx, 'create');
  const type = ctx.flags.type as 'database' | 'full' | undefined;
  if (!type) throw new UsageError('backup create: --type database|full is required');
  const site = ctx.site();
  const stateDb = openStateDb(site.stateDbPath);
  try {
    const r = await createBackup({
      paths: site.paths,
      config: site.loaded.config,
      kind: type,
      verify: ctx.flags.verify !== false,
      secondary: ctx.flags.secondary !== false,
      stateDb,
      // Headless: no screen to keep alive, so SQLite work may block this thread.
      inline: true,
      onProgress: progressPrinter(ctx),
    });
    clearProgress(ctx);
    if (ctx.json) {
      printJson(ctx, { ...r, verification: r.verification && { ...r.verification, entries: undefined } });
    } else {
      ctx.stdout.write(
        `created ${r.file}\n  ${formatBytes(r.bytes)} from ${formatBytes(r.sourceBytes)} in ${r.fileCount} file${r.fileCount === 1 ? '' : 's'}, ` +
          `${formatDuration(r.durationMs / 1000)}\n` +
          `  ${r.verification ? verificationText(r.verification) : 'not verified (--no-verify)'}\n`,
      );
      if (r.secondary) {
        ctx.stdout.write(
          r.secondary.error
            ? `  copy to the secondary location FAILED: ${r.secondary.error}\n`
            : `  copied to ${r.secondary.file}${r.secondary.verification ? `, ${verificationText(r.secondary.verification)}` : ''}\n`,
        );
      }
      for (const w of r.warnings) ctx.stdout.write(`  warning: ${w}\n`);
    }
    if (r.secondary?.error)
      return fail(ctx, `the copy to the secondary location failed: ${r.secondary.error}`);
    return 0;
  } catch (err) {
    if (err instanceof BackupError) return fail(ctx, err.message);
    throw err;
  } finally {
    stateDb.close();
  }
}

function list(ctx: CommandContext): number {
  const site = ctx.site();
  const stateDb = openStateDb(site.stateDbPath);
  try {
    const listing = listBackups({ paths: site.paths, stateDb });
    const now = Date.now();
    if (ctx.json) {
      printJson(ctx, {
        backups: listing.backups.map((b) => ({ ...b, ageSeconds: Math.round((now - b.time) / 1000) })),
        incomplete: listing.incomplete,
        errors: listing.errors,
      });
      return listing.errors.length ? 1 : 0;
    }
    if (!listing.backups.length) ctx.stdout.write(`no backups in ${site.paths.backups}\n`);
    else {
      const rows = listing.backups.map((b) => [
        b.name,
        KIND_LABEL[b.kind],
        b.location,
        new Date(b.time).toLocaleString('sv-SE').slice(0, 16),
        formatAge(now - b.time),
        formatBytes(b.size),
        b.verification
          ? `${b.state} ${formatAge(now - b.verification.verifiedAt)} ago${b.state === 'failed' ? `: ${b.verification.reason}` : ''}`
          : b.state,
      ]);
      const head = ['NAME', 'TYPE', 'WHERE', 'TAKEN', 'AGE', 'SIZE', 'VERIFICATION'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      const line = (r: string[]) =>
        r
          .map((c, i) =>
            i === r.length - 1 ? c : i === 4 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
          )
          .join('  ');
      ctx.stdout.write(`${line(head)}\n${rows.map(line).join('\n')}\n`);
    }
    for (const f of listing.incomplete)
      ctx.stdout.write(
        `incomplete: ${f.file} (${formatBytes(f.size)}; ${f.alive ? `being written by pid ${f.pid}` : 'left by an interrupted create; prune removes it'})\n`,
      );
    for (const e of listing.errors) ctx.stderr.write(`cadence-ops backup: ${e}\n`);
    return listing.errors.length ? 1 : 0;
  } finally {
    stateDb.close();
  }
}

async function verify(ctx: CommandContext, names: string[]): Promise<number> {
  const site = ctx.site();
  if (!ctx.flags.all && names.length === 0) throw new UsageError('backup verify: name a backup, or --all');
  if (ctx.flags.all && names.length) throw new UsageError('backup verify: either NAME or --all, not both');
  const stateDb = openStateDb(site.stateDbPath);
  try {
    let targets: Array<{ file: string; name: string }>;
    try {
      targets = ctx.flags.all
        ? listBackups({ paths: site.paths, stateDb }).backups.map((b) => ({ file: b.file, name: b.name }))
        : names.map((n) => findBackup({ paths: site.paths, stateDb }, n));
    } catch (err) {
      if (err instanceof BackupError) return fail(ctx, err.message);
      throw err;
    }
    const results: VerifyResult[] = [];
    for (const t of targets) {
      const r = await verifyBackup(t.file, {
        config: site.loaded.config,
        inline: true,
        onProgress: progressPrinter(ctx),
      });
      recordVerification(stateDb, t.file, r);
      results.push(r);
      clearProgress(ctx);
      if (!ctx.json) {
        ctx.stdout.write(`${r.ok ? 'ok    ' : 'FAILED'}  ${t.file}\n        ${verificationText(r)}\n`);
        if (!r.ok) for (const p of r.problems.slice(1, 8)) ctx.stdout.write(`        - ${p}\n`);
      }
    }
    if (ctx.json) printJson(ctx, results);
    const failed = results.filter((r) => !r.ok);
    if (!targets.length && !ctx.json) ctx.stdout.write(`no backups in ${site.paths.backups}\n`);
    if (failed.length) {
      ctx.stderr.write(
        `cadence-ops backup: ${failed.length} of ${results.length} failed verification: ${failed.map((f) => `${f.name}: ${f.reason}`).join('; ')}\n`,
      );
      return 1;
    }
    return 0;
  } finally {
    stateDb.close();
  }
}

/** Runs `fn` on the one backup that `names` names, with the state database open. */
async function withOneBackup(
  ctx: CommandContext,
  names: string[],
  sub: string,
  fn: (site: SiteContext, stateDb: StateDb, file: string) => Promise<number>,
): Promise<number> {
  if (names.length !== 1) throw new UsageError(`backup ${sub}: name one backup`);
  const site = ctx.site();
  const stateDb = openStateDb(site.stateDbPath);
  try {
    let file: string;
    try {
      file = findBackup({ paths: site.paths, stateDb }, names[0]!).file;
    } catch (err) {
      if (err instanceof BackupError) return fail(ctx, err.message);
      throw err;
    }
    return await fn(site, stateDb, file);
  } finally {
    stateDb.close();
  }
}

function show(ctx: CommandContext, names: string[]): Promise<number> {
  return withOneBackup(ctx, names, 'show', async (site, stateDb, file) => {
    const r = await verifyBackup(file, {
      config: site.loaded.config,
      inline: true,
      collectEntries: true,
      onProgress: progressPrinter(ctx),
    });
    recordVerification(stateDb, file, r);
    clearProgress(ctx);
    if (ctx.json) {
      printJson(ctx, r);
      return r.ok ? 0 : 1;
    }
    ctx.stdout.write(`${file}\n  ${verificationText(r)}\n`);
    if (r.manifest) {
      ctx.stdout.write(
        `manifest: ${r.manifest.backup_type}, taken ${r.manifest.timestamp}, version ${r.manifest.version}, ` +
          `${r.manifest.file_count} files, ${formatBytes(r.manifest.total_size_bytes)}\n`,
      );
    }
    if (r.database?.counts) {
      ctx.stdout.write(
        `database: ${Object.entries(r.database.counts)
          .map(([t, n]) => `${t} ${n}`)
          .join(', ')}\n`,
      );
    }
    if (r.entries) {
      // Folder sizes are the sum of what is under them.
      const dirSize = new Map<string, number>();
      for (const e of r.entries) {
        const parts = e.path.split('/');
        for (let i = 1; i < parts.length; i++) {
          const d = parts.slice(0, i).join('/');
          dirSize.set(d, (dirSize.get(d) ?? 0) + e.size);
        }
      }
      for (const e of r.entries) {
        const depth = e.path.split('/').length - 1;
        const isDir = e.type === 'Directory';
        const size = isDir ? (dirSize.get(e.path) ?? 0) : e.size;
        ctx.stdout.write(
          `${formatBytes(size).padStart(9)}  ${'  '.repeat(depth)}${path.posix.basename(e.path)}${isDir ? '/' : ''}\n`,
        );
      }
    }
    return r.ok ? 0 : 1;
  });
}

function diff(ctx: CommandContext, names: string[]): Promise<number> {
  return withOneBackup(ctx, names, 'diff', async (site, stateDb, file) => {
    const d = await diffBackup(file, {
      paths: site.paths,
      config: site.loaded.config,
      stateDb,
      inline: true,
      onProgress: progressPrinter(ctx),
    });
    clearProgress(ctx);
    if (ctx.json) {
      printJson(ctx, { ...d, verification: { ...d.verification, entries: undefined } });
      return d.verification.ok ? 0 : 1;
    }
    ctx.stdout.write(`${d.file} against the live site ${site.paths.root}\n`);
    if (!d.verification.ok)
      ctx.stdout.write(`  warning: the backup failed verification: ${d.verification.reason}\n`);
    const { inBackup: then, live: now } = d.database;
    const tables = [...new Set([...Object.keys(then ?? {}), ...Object.keys(now ?? {})])];
    ctx.stdout.write('database rows (then -> now):\n');
    for (const t of tables) {
      const a = then?.[t];
      const b = now?.[t];
      const delta = a !== undefined && b !== undefined ? b - a : null;
      ctx.stdout.write(
        `  ${t.padEnd(14)} ${String(a ?? '-').padStart(9)} -> ${String(b ?? '-').padStart(9)}${delta ? `  (${delta > 0 ? '+' : ''}${delta})` : ''}\n`,
      );
    }
    if (d.database.error) ctx.stdout.write(`  ${d.database.error}\n`);
    if (d.files) {
      const f = d.files;
      ctx.stdout.write(
        `files: ${f.added.length} added since, ${f.removed.length} removed since, ${f.changed.length} changed, ${f.unchanged} unchanged\n`,
      );
      const show = (label: string, items: typeof f.added, size: (x: (typeof f.added)[number]) => string) => {
        for (const x of items.slice(0, 200)) ctx.stdout.write(`  ${label} ${x.path}  ${size(x)}\n`);
        if (items.length > 200) ctx.stdout.write(`  ... and ${items.length - 200} more\n`);
      };
      show('+', f.added, (x) => formatBytes(x.sizeNow ?? 0));
      show('-', f.removed, (x) => formatBytes(x.sizeThen ?? 0));
      show('~', f.changed, (x) => `${formatBytes(x.sizeThen ?? 0)} -> ${formatBytes(x.sizeNow ?? 0)}`);
    }
    return d.verification.ok ? 0 : 1;
  });
}

async function prune(ctx: CommandContext): Promise<number> {
  const site = ctx.site();
  const dryRun = Boolean(ctx.flags.dryRun);
  if (!dryRun) refuseReadOnly(ctx, 'prune');
  const stateDb = openStateDb(site.stateDbPath);
  try {
    const plan = planPrune({ paths: site.paths, config: site.loaded.config, stateDb });
    const bytes =
      plan.remove.reduce((s, i) => s + i.backup.size, 0) + plan.staleTemp.reduce((s, t) => s + t.size, 0);
    if (ctx.json && dryRun) {
      printJson(ctx, { dryRun, ...plan, bytes });
      return 0;
    }
    if (!ctx.json) {
      for (const i of plan.remove)
        ctx.stdout.write(`delete  ${i.backup.file}  ${formatBytes(i.backup.size)}  (${i.why})\n`);
      for (const t of plan.staleTemp)
        ctx.stdout.write(`delete  ${t.file}  ${formatBytes(t.size)}  (left by an interrupted create)\n`);
      for (const i of plan.keep) ctx.stdout.write(`keep    ${i.backup.file}  (${i.why})\n`);
      for (const e of plan.errors) ctx.stderr.write(`cadence-ops backup: ${e}\n`);
    }
    const count = plan.remove.length + plan.staleTemp.length;
    if (count === 0) {
      if (ctx.json) printJson(ctx, { dryRun, ...plan, bytes, removed: [], errors: [] });
      else ctx.stdout.write('nothing to prune\n');
      return 0;
    }
    if (dryRun) {
      ctx.stdout.write(
        `dry run: would delete ${count} file${count === 1 ? '' : 's'}, ${formatBytes(bytes)}\n`,
      );
      return 0;
    }
    if (!ctx.flags.yes) {
      if (!process.stdin.isTTY || !ctx.stderr.isTTY) {
        return fail(
          ctx,
          `prune would delete ${count} file${count === 1 ? '' : 's'}; without a terminal, pass --yes (or --dry-run to look)`,
        );
      }
      if (!(await askYes(ctx, `Delete ${count} file${count === 1 ? '' : 's'} (${formatBytes(bytes)})?`))) {
        ctx.stdout.write('nothing deleted\n');
        return 1;
      }
    }
    const done = await executePrune(plan, { stateDb });
    if (ctx.json) printJson(ctx, { dryRun, ...plan, bytes, ...done });
    else ctx.stdout.write(`deleted ${done.removed.length} file${done.removed.length === 1 ? '' : 's'}\n`);
    if (done.errors.length) return fail(ctx, `could not delete: ${done.errors.join('; ')}`);
    return 0;
  } finally {
    stateDb.close();
  }
}
