// Writes fixtures/logs/site/: a small logs/ folder of a Candy-Cadence site with history in all three
// rotation schemes, tracebacks, CRLF line ends, binary garbage, another timestamp form in an extra
// log, and EXPECTED.json: what the analysis must find, computed from the records written (the
// ground truth), not from reading the files back. Run once; the output is committed:
//   npx esbuild test/helpers/make-log-fixtures.ts --bundle --platform=node --format=esm --outfile=.tmp/mk.mjs && node .tmp/mk.mjs
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { formatRecord, type LogRecord, randomRecord, recordOf, rng } from '../../services/demo-log-lines.js';

const out = path.resolve('fixtures/logs/site');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const r = rng(2026);
const start = new Date(2026, 10, 22, 10, 0, 0).getTime(); // 2026-11-22 10:00 local
const end = start + 24 * 3_600_000;
const records: LogRecord[] = [];
for (let t = start; t < end; t += 40_000 + Math.floor(r() * 40_000)) records.push(randomRecord(r, t));
// Known critical exceptions and a burst in one hour (2026-11-23 08:xx) over the errors-per-hour threshold.
for (let i = 0; i < 3; i++) records.push(recordOf('oom', r, start + (5 + i * 6) * 3_600_000 + 1234));
for (let i = 0; i < 60; i++) records.push(recordOf('par001', r, start + 22 * 3_600_000 + i * 30_000 + 7));
records.sort((a, b) => a.time - b.time);

const files = new Map<string, string[]>();
const add = (f: string, text: string) => {
  if (!files.has(f)) files.set(f, []);
  files.get(f)!.push(text);
};
for (const rec of records) for (const f of rec.files) add(f, formatRecord(rec));

// candy_cadence.log: maintenance gz (first 6 h), RotatingFileHandler .1 (next 8 h), live (rest)
const cut1 = start + 6 * 3_600_000;
const cut2 = start + 14 * 3_600_000;
const mainRecs = records.filter((x) => x.files.includes('candy_cadence.log'));
const body = (rs: LogRecord[]) => rs.map((x) => `${formatRecord(x)}\n`).join('');
writeFileSync(
  path.join(out, 'candy_cadence_20261122_160000.log.gz'),
  gzipSync(body(mainRecs.filter((x) => x.time < cut1))),
);
writeFileSync(
  path.join(out, 'candy_cadence.log.1'),
  body(mainRecs.filter((x) => x.time >= cut1 && x.time < cut2)),
);
writeFileSync(path.join(out, 'candy_cadence.log'), body(mainRecs.filter((x) => x.time >= cut2)));
// error.log: the daily copytruncate scheme; yesterday's part gzipped
const errRecs = records.filter((x) => x.files.includes('error.log'));
writeFileSync(path.join(out, 'error.20261122.log.gz'), gzipSync(body(errRecs.filter((x) => x.time < cut2))));
writeFileSync(path.join(out, 'error.log'), body(errRecs.filter((x) => x.time >= cut2)));
// parser.log: CRLF line ends and three lines of binary garbage
const parserLines = files.get('parser.log')!.join('\n').split('\n');
const garbage = [
  '\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007',
  '\u0000\u0000\u0000\u0000PK\u0003\u0004',
  '\u001b[2J\u001b[H\u0000\u0000\u0000\u0000',
];
parserLines.splice(10, 0, garbage[0]!);
parserLines.splice(200, 0, garbage[1]!);
parserLines.splice(400, 0, garbage[2]!);
writeFileSync(path.join(out, 'parser.log'), `${parserLines.join('\r\n')}\r\n`);
writeFileSync(path.join(out, 'database.log'), `${files.get('database.log')!.join('\n')}\n`);
writeFileSync(path.join(out, 'performance.log'), `${files.get('performance.log')!.join('\n')}\n`);
// another program's log in the other timestamp forms of SITE.md (MM/DD/YYYY and MM-DD-YYYY, no ms)
const p = (n: number) => String(n).padStart(2, '0');
const other: string[] = [];
const otherCounts = { INFO: 0, WARNING: 0, ERROR: 0 };
for (let i = 0; i < 40; i++) {
  const d = new Date(start + i * 1_800_000 + 5000);
  const stamp =
    i % 2
      ? `${p(d.getMonth() + 1)}/${p(d.getDate())}/${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
      : `${p(d.getMonth() + 1)}-${p(d.getDate())}-${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  const level = i % 10 === 9 ? 'ERROR' : i % 5 === 4 ? 'WARNING' : 'INFO';
  otherCounts[level]++;
  const msg =
    level === 'ERROR'
      ? `ERR008 Plugin loading failed: plugins/exporter_${i}.py`
      : level === 'WARNING'
        ? `Plugin exporter_${i} took ${100 + i} ms to start`
        : `Plugin exporter_${i} loaded`;
  other.push(`${stamp} - candy_cadence.plugins - ${level} - ${msg}`);
}
writeFileSync(path.join(out, 'plugins.log'), `${other.join('\n')}\n`);

// Ground truth.
const byLevel: Record<string, number> = { DEBUG: 0, INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0 };
const errorsPerHour = new Map<number, number>();
let continuationLines = 0;
for (const rec of records) {
  byLevel[rec.level]!++;
  continuationLines += rec.continuation.length * rec.files.length;
  if (rec.level === 'ERROR' || rec.level === 'CRITICAL') {
    const h = Math.floor(rec.time / 3_600_000) * 3_600_000;
    errorsPerHour.set(h, (errorsPerHour.get(h) ?? 0) + 1);
  }
}
byLevel.INFO! += otherCounts.INFO;
byLevel.WARNING! += otherCounts.WARNING;
byLevel.ERROR! += otherCounts.ERROR;
const totalFileRecords = records.reduce((s, x) => s + x.files.length, 0) + other.length + garbage.length;
const uniqueWarnPlus = records.filter((x) => x.level !== 'DEBUG' && x.level !== 'INFO');
const duplicates = uniqueWarnPlus.reduce((s, x) => s + x.files.length - 1, 0);
const expected = {
  note: 'computed from the records written by test/helpers/make-log-fixtures.ts',
  start,
  end,
  byLevel: { ...byLevel, none: garbage.length },
  /** INFO/DEBUG records written to several files are counted per file (only WARNING+ are deduplicated). */
  records: totalFileRecords - duplicates,
  duplicates,
  continuationLines,
  binaryLines: garbage.length,
  oom: records.filter((x) => x.template === 'oom').length,
  databaseErrors: records.filter((x) => x.template === 'db-error').length,
  burstHour: start + 22 * 3_600_000,
  errorsPerHour: [...errorsPerHour.entries()].sort((a, b) => a[0] - b[0]),
  templates: [...new Set(uniqueWarnPlus.map((x) => `${x.level}:${x.template}`))].sort(),
};
// INFO/DEBUG in several files: none in the demo templates (only WARNING+ are shared), so the
// per-level counts above hold.
if (records.some((x) => (x.level === 'INFO' || x.level === 'DEBUG') && x.files.length > 1))
  throw new Error('an INFO/DEBUG template is written to several files: update the expectations');
writeFileSync(path.join(out, 'EXPECTED.json'), `${JSON.stringify(expected, null, 2)}\n`);

// A labelled Candy-Cadence log for the clustering accuracy: one record per line of labels
// (LEVEL:template id from services/demo-log-lines.ts), tracebacks included.
const lr = rng(77);
const labelled: LogRecord[] = [];
for (let i = 0, t = start; i < 1500; i++)
  labelled.push(randomRecord(lr, (t += 1000 + Math.floor(lr() * 5000))));
const acc = path.resolve('fixtures/logs/accuracy');
writeFileSync(path.join(acc, 'candy-generated.log'), body(labelled));
writeFileSync(
  path.join(acc, 'candy-generated.labels'),
  `${labelled.map((x) => `${x.level}:${x.template}`).join('\n')}\n`,
);
console.log(`wrote ${out}: ${records.length} records`);
