import path from 'node:path';
import { type Config, defaultConfig } from '../../services/config.js';
import { formatBox, formatBytes, formatCount } from '../../services/model-format.js';
import { runLoader, runLoaderWorker } from '../../services/model-loader.js';
import type { ModelReport } from '../../services/model-parse.js';
import { STEP_NO_TESSELLATION } from '../../services/model-step.js';
import { SiteNotFoundError } from '../../services/site.js';
import { type CommandContext, printJson, UsageError, type VerbSpec } from './types.js';

const verb: VerbSpec = {
  usage: `Usage
  cadence-ops load FILE... [--json] [--timeout S] [--memory-cap MB]

Parses model files (STL ASCII and binary, OBJ, PLY, 3MF, STEP) in a separate loader process and
tells exactly what is in each one, or exactly what is wrong with it. The format is detected from the
content, not the extension. Per file: format, size, vertices, triangles (3MF: of the built scene and
of the mesh resources), bounding box, parse time, MB/s, peak memory of the loader, warnings.
STEP files are scanned (header, schema, entities by type), not tessellated.

Errors carry the codes of the Candy-Cadence procedures: PAR001 invalid header, PAR002 timeout,
PAR003 memory cap exceeded, PAR004 format validation failed, PAR005 invalid geometry
(ERR005: file not found).

Options
  --timeout S          longest one parse may take (default: bench.timeoutSeconds, 60)
  --memory-cap MB      resident memory cap of the loader process (default: bench.memoryCapMb, 2048)
  --max-uncompressed MB  largest 3MF zip entry accepted (default: bench.maxUncompressedMb, 2048)

Exit codes: 0 every file loaded, 1 at least one failed, 2 usage error.`,
  flags: {
    timeout: { type: 'number' },
    memoryCap: { type: 'number' },
    maxUncompressed: { type: 'number' },
    worker: { type: 'boolean', default: false },
  },
  async run(ctx) {
    const f = ctx.flags as {
      timeout?: number;
      memoryCap?: number;
      maxUncompressed?: number;
      worker?: boolean;
    };
    if (f.worker) {
      // The loader process itself (started by services/model-loader.ts), not for people.
      return runLoaderWorker({ memoryCapMb: f.memoryCap ?? 2048, maxUncompressedMb: f.maxUncompressed });
    }
    if (ctx.args.length === 0)
      throw new UsageError('load needs at least one FILE (see cadence-ops load --help)');
    const config = configOrDefaults(ctx);
    if (f.timeout !== undefined && !(f.timeout > 0))
      throw new UsageError('--timeout must be a positive number of seconds');
    if (f.memoryCap !== undefined && !(f.memoryCap >= 64))
      throw new UsageError('--memory-cap must be at least 64 (MB)');
    if (f.maxUncompressed !== undefined && !(f.maxUncompressed >= 1))
      throw new UsageError('--max-uncompressed must be at least 1 (MB)');
    const files = ctx.args.map((a) => path.resolve(a));
    const outcomes = await runLoader(
      files.map((file) => ({ file })),
      {
        timeoutMs: (f.timeout ?? config.bench.timeoutSeconds) * 1000,
        memoryCapMb: Math.round(f.memoryCap ?? config.bench.memoryCapMb),
        maxUncompressedMb: Math.round(f.maxUncompressed ?? config.bench.maxUncompressedMb),
        onEvent: (e) => {
          if (e.type === 'file-done')
            ctx.log.info({ file: e.file, error: e.outcome.report.error }, 'model loaded');
        },
      },
    );
    const reports = outcomes.map((o) => ({ ...o.report, observedRssBytes: o.observedRssBytes }));
    const failed = reports.filter((r) => r.error).length;
    if (ctx.json) printJson(ctx, { files: reports, failed });
    else {
      for (const r of reports) ctx.stdout.write(describeReport(r, ctx.args[reports.indexOf(r)]!));
      if (reports.length > 1)
        ctx.stdout.write(
          `${reports.length - failed} of ${reports.length} loaded${failed ? `, ${failed} failed` : ''}\n`,
        );
    }
    return failed ? 1 : 0;
  },
};
export default verb;

/** The site's configuration when there is a site; the defaults otherwise (load works on any file). */
export function configOrDefaults(ctx: CommandContext): Config {
  try {
    return ctx.site().loaded.config;
  } catch (err) {
    if (err instanceof SiteNotFoundError && !ctx.flags.root) return defaultConfig();
    throw err;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  'stl-binary': 'STL (binary)',
  'stl-ascii': 'STL (ASCII)',
  obj: 'OBJ',
  'ply-ascii': 'PLY (ASCII)',
  'ply-binary-le': 'PLY (binary little-endian)',
  'ply-binary-be': 'PLY (binary big-endian)',
  '3mf': '3MF',
  step: 'STEP (ISO 10303-21)',
};

export function describeReport(r: ModelReport, shown: string): string {
  if (r.error) return `${shown}: ${r.error.code} ${r.error.meaning}: ${r.error.message}\n`;
  const d = r.details as Record<string, unknown>;
  const lines = [`${shown}: ${FORMAT_NAMES[r.format ?? ''] ?? r.format}, ${formatBytes(r.bytes)}`];
  if (r.format === 'step') {
    lines.push(`  schema     ${(d.schemas as string[]).join(', ')} (${d.protocol})`);
    if (d.originatingSystem || d.preprocessor)
      lines.push(`  written by ${[d.originatingSystem, d.preprocessor].filter(Boolean).join(' / ')}`);
    if ((d.products as string[]).length) lines.push(`  products   ${(d.products as string[]).join(', ')}`);
    const byType = Object.entries(d.byType as Record<string, number>);
    lines.push(
      `  entities   ${formatCount(d.entities as number)} in ${byType.length} types: ${byType
        .slice(0, 6)
        .map(([k, v]) => `${k} ${formatCount(v)}`)
        .join(', ')}${byType.length > 6 ? ', ...' : ''}`,
    );
    lines.push('  triangles  none: STEP is exact B-rep geometry, not tessellated by this scan');
  } else {
    let tri = `  triangles  ${formatCount(r.triangles ?? 0)}`;
    if (r.format === '3mf') {
      tri += ` in the built scene (${formatCount(d.buildItems as number)} build items); ${formatCount(d.meshTriangles as number)} in the mesh resources (${formatCount(d.objects as number)} objects)`;
    }
    lines.push(tri);
    lines.push(`  vertices   ${formatCount(r.vertices ?? 0)}`);
    lines.push(
      `  box        ${r.bbox ? formatBox(r.bbox) : '(no geometry)'}${r.format === '3mf' ? ` ${d.unit}` : ''}`,
    );
    if (r.format === 'obj' && ((d.objects as number) || (d.groups as number)))
      lines.push(`  parts      ${d.objects} object(s), ${d.groups} group(s)`);
  }
  const peak = r.peakOverBaseBytes !== null ? `, peak memory +${formatBytes(r.peakOverBaseBytes)}` : '';
  lines.push(
    `  parse      ${r.parseMs.toFixed(1)} ms (${r.mbPerSec !== null ? r.mbPerSec.toFixed(0) : '-'} MB/s), read ${r.readMs.toFixed(1)} ms${peak}`,
  );
  for (const w of r.warnings) if (w !== STEP_NO_TESSELLATION) lines.push(`  warning    ${w}`);
  return `${lines.join('\n')}\n`;
}
