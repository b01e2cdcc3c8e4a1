import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withReadOnly } from '../services/db-connection.js';
import { recentRuns } from '../services/db-history.js';
import { MeasureRefusedError, measureIndex, planIndexMeasurement } from '../services/db-index-measure.js';
import {
  analyzeSlowQueries,
  parseSlowQueryLine,
  percentile,
  readSlowQueries,
  schemaInfo,
  slowQueryLogFiles,
} from '../services/db-slow-queries.js';
import { checkPromptSql, runPromptSql } from '../services/db-sql-prompt.js';
import { normalizeSql, repairTruncated, type SchemaInfo } from '../services/db-sql-text.js';
import { rng, slowQueryMessage } from '../services/demo-log-lines.js';
import { openStateDb, type StateDb } from '../services/state-db.js';
import { makeNotADatabase, makeSiteDb } from './helpers/db-fixtures.js';

let dir: string;
let db: string;
let schema: SchemaInfo;
let state: StateDb;

const line = (time: string, message: string) => `${time} - candy_cadence.database - WARNING - ${message}`;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cadence-slow-'));
  db = makeSiteDb(dir, 3000);
  schema = withReadOnly(db, schemaInfo);
  state = openStateDb(path.join(dir, 'state.db'));
});
afterAll(() => {
  state.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('slow-query lines', () => {
  it('parses the SITE.md shape, its timestamps and whether the SQL was cut at 100 characters', () => {
    const short = parseSlowQueryLine(
      line(
        '2026-11-23 08:17:41,123',
        'Slow query detected: SELECT key, value FROM metadata WHERE model_id = 7... Execution time: 1234ms',
      ),
    )!;
    expect(short).toMatchObject({
      sql: 'SELECT key, value FROM metadata WHERE model_id = 7',
      ms: 1234,
      truncated: false,
    });
    expect(short.time).toBe(new Date(2026, 10, 23, 8, 17, 41, 123).getTime());
    const sql =
      'SELECT id, name, file_path, file_size FROM models WHERE file_size > 52428800 ORDER BY file_size DESC LIMIT 50';
    const cut = parseSlowQueryLine(
      line('11/23/2026 08:17:41', `Slow query detected: ${sql.slice(0, 100)}... Execution time: 2001ms`),
    )!;
    expect(cut).toMatchObject({ sql: sql.slice(0, 100), truncated: true, ms: 2001 });
    expect(cut.time).toBe(new Date(2026, 10, 23, 8, 17, 41).getTime());
    expect(
      parseSlowQueryLine(line('2026-11-23 08:17:41,123', 'Connection pool: 3 active, 1 idle')),
    ).toBeNull();
    expect(parseSlowQueryLine('Slow query detected: garbage without a time')).toBeNull();
  });

  it('normalises literals, IN lists and keyword case into one pattern', () => {
    expect(normalizeSql("select * from models where name like '%gear%' and file_size > 10 limit 20")).toBe(
      'SELECT * FROM models WHERE name LIKE ? AND file_size > ? LIMIT ?',
    );
    expect(normalizeSql("SELECT * FROM models WHERE id IN (1, 2, 3) AND name = 'it''s'")).toBe(
      normalizeSql('SELECT  *  FROM models WHERE id IN (9,8) AND name = "x"'.replace('"x"', "'y'")),
    );
    expect(normalizeSql("SELECT * FROM t WHERE a = -5 AND b = x'00ff'")).toBe(
      'SELECT * FROM t WHERE a = ? AND b = ?',
    );
    expect(normalizeSql('SELECT key, value FROM metadata')).toBe('SELECT key, value FROM metadata');
  });

  it('repairs cut statements from the schema and says what it did', () => {
    const join = repairTruncated(
      'SELECT m.id, m.name, COUNT(mt.tag_id) AS tag_count FROM models m LEFT JOIN model_tags mt ON mt.model',
      schema,
      true,
    );
    expect(join.sql).toBe(
      'SELECT m.id, m.name, COUNT(mt.tag_id) AS tag_count FROM models m LEFT JOIN model_tags mt ON mt.model_id = m.id',
    );
    expect(join.notes).toEqual(
      expect.arrayContaining([
        'completed the cut name "model" to model_id',
        'completed the join condition from the foreign key model_tags.model_id -> models.id',
      ]),
    );
    expect(repairTruncated("SELECT * FROM models WHERE created_date >= '2026-0", schema, true).sql).toBe(
      "SELECT * FROM models WHERE created_date >= '2026-0'",
    );
    expect(repairTruncated('SELECT * FROM models WHERE file_size >', schema, true).sql).toBe(
      'SELECT * FROM models WHERE file_size > 0',
    );
    expect(
      repairTruncated('SELECT * FROM models WHERE file_size > 5 ORDER BY file_size DESC LIM', schema, true)
        .sql,
    ).toBe('SELECT * FROM models WHERE file_size > 5 ORDER BY file_size DESC');
    expect(repairTruncated('SELECT * FROM models ORDER BY file_si', schema, true).sql).toBe(
      'SELECT * FROM models ORDER BY file_size',
    );
    expect(
      repairTruncated(
        'SELECT * FROM models WHERE id IN (SELECT model_id FROM metadata WHERE key = ',
        schema,
        true,
      ).sql,
    ).toBe('SELECT * FROM models WHERE id IN (SELECT model_id FROM metadata WHERE key = 0)');
    expect(repairTruncated('SELECT * FROM models WHERE x = 1 AND', schema, true).sql).toBe(
      'SELECT * FROM models WHERE x = 1',
    );
    const whole = repairTruncated('SELECT 1', schema, false);
    expect(whole).toEqual({ sql: 'SELECT 1', notes: [], changed: false });
  });

  it('percentiles by nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('slow-query patterns against a real database with missing indexes', () => {
  let logs: string;
  const expected = new Map<string, number[]>();

  beforeAll(() => {
    logs = path.join(dir, 'logs');
    mkdirSync(logs);
    const r = rng(11);
    const all: string[] = [];
    for (let i = 0; i < 300; i++) {
      const msg = slowQueryMessage(r);
      const minute = String(i % 60).padStart(2, '0');
      all.push(line(`2026-11-2${1 + Math.floor(i / 100)} 08:${minute}:00,000`, msg));
    }
    // Oldest third gzipped (daily task scheme), then .1, then the live file with junk mixed in.
    writeFileSync(path.join(logs, 'database.20261121.log.gz'), gzipSync(`${all.slice(0, 100).join('\n')}\n`));
    writeFileSync(path.join(logs, 'database.log.1'), `${all.slice(100, 200).join('\n')}\n`);
    writeFileSync(
      path.join(logs, 'database.log'),
      `${all.slice(200, 250).join('\n')}\n\u0000\u0001binary junk\n${line('2026-11-23 09:00:00,000', 'Connection pool: 2 active, 0 idle')}\n${all.slice(250).join('\n')}\n`,
    );
    writeFileSync(path.join(logs, 'database.20261120.log.gz'), Buffer.from('not gzip at all'));
    const t = Date.now() / 1000;
    utimesSync(path.join(logs, 'database.20261120.log.gz'), t - 400, t - 400);
    utimesSync(path.join(logs, 'database.20261121.log.gz'), t - 300, t - 300);
    utimesSync(path.join(logs, 'database.log.1'), t - 200, t - 200);
    for (const l of all) {
      const p = parseSlowQueryLine(l)!;
      expected.set('all', [...(expected.get('all') ?? []), p.ms]);
    }
  });

  it('finds database.log and its rotations, oldest first, and reads plain and gzip alike', async () => {
    const files = slowQueryLogFiles(logs);
    expect(files.map((f) => path.basename(f))).toEqual([
      'database.20261120.log.gz',
      'database.20261121.log.gz',
      'database.log.1',
      'database.log',
    ]);
    const read = await readSlowQueries(files);
    expect(read.records).toHaveLength(300);
    expect(read.errors).toEqual([expect.stringMatching(/database\.20261120\.log\.gz: .*(header|gzip)/i)]);
  });

  it('groups into the five statements with counts, percentiles, first/last seen, plans and advice', async () => {
    const report = await analyzeSlowQueries({
      database: db,
      logFiles: slowQueryLogFiles(logs),
      slowQueryMs: 1000,
      frequentSlowQuery: 5,
    });
    expect(report.records).toBe(300);
    expect(report.patterns).toHaveLength(5);
    expect(report.patterns.reduce((a, p) => a + p.count, 0)).toBe(300);
    const all = expected.get('all')!;
    expect(Math.max(...report.patterns.map((p) => p.max))).toBe(Math.max(...all));
    for (const p of report.patterns) {
      expect(p.p50).toBeLessThanOrEqual(p.p95);
      expect(p.p95).toBeLessThanOrEqual(p.max);
      expect(p.firstSeen).toBeLessThanOrEqual(p.lastSeen!);
      expect(p.frequent).toBe(p.count > 5);
      expect(p.plan).not.toBeNull();
    }
    const byStart = (s: string) => report.patterns.find((p) => p.pattern.startsWith(s))!;
    const created = byStart('SELECT * FROM models WHERE created_date >= ?');
    expect(created.flags).toMatchObject({ fullScans: ['models'], tempBtrees: ['ORDER BY'] });
    expect(created.advice.map((a) => a.createIndex)).toEqual([
      'CREATE INDEX idx_models_created_date ON models(created_date)',
    ]);
    expect(created.advice[0]!.recommendedBySite).toBe(true);
    expect(created.advice[0]!.planWith.join()).toContain('SEARCH models USING INDEX idx_models_created_date');
    const size = byStart('SELECT id, name, file_path, file_size FROM models WHERE file_size > ?');
    expect(size.truncated).toBe(true);
    expect(size.advice[0]!.createIndex).toBe('CREATE INDEX idx_models_file_size ON models(file_size)');
    const join = byStart('SELECT m.id, m.name, COUNT(mt.tag_id)');
    expect(join.truncated).toBe(true);
    expect(join.repair!.changed).toBe(true);
    expect(join.plannedSql).toContain('ON mt.model_id = m.id');
    expect(join.advice).toEqual([]);
    const like = byStart('SELECT * FROM models WHERE name LIKE ?');
    expect(like.notes.join()).toMatch(
      /starts with a wildcard: no index can serve it; the full-text index models_fts can/,
    );
    const meta = byStart('SELECT key, value FROM metadata WHERE model_id = ?');
    expect(meta.flags!.fullScans).toEqual([]);
    expect(meta.advice).toEqual([]);
    expect(report.recommended).toEqual([
      { name: 'idx_models_name', sql: 'CREATE INDEX idx_models_name ON models(name)', status: 'present' },
      {
        name: 'idx_models_file_size',
        sql: 'CREATE INDEX idx_models_file_size ON models(file_size)',
        status: 'missing',
      },
      {
        name: 'idx_metadata_model_id',
        sql: 'CREATE INDEX idx_metadata_model_id ON metadata(model_id)',
        status: 'covered',
        by: 'sqlite_autoindex_metadata_1',
      },
      {
        name: 'idx_models_created_date',
        sql: 'CREATE INDEX idx_models_created_date ON models(created_date)',
        status: 'missing',
      },
    ]);
    // Patterns sorted by total time.
    const totals = report.patterns.map((p) => p.totalMs);
    expect([...totals].sort((a, b) => b - a)).toEqual(totals);
  });

  it('gives no index advice once the indexes exist', async () => {
    const d = path.join(dir, 'indexed');
    mkdirSync(d);
    const indexed = makeSiteDb(d, 3000);
    const w = new Database(indexed);
    w.exec(
      'CREATE INDEX idx_models_created_date ON models(created_date); CREATE INDEX idx_models_file_size ON models(file_size); ANALYZE',
    );
    w.close();
    const report = await analyzeSlowQueries({
      database: indexed,
      logFiles: slowQueryLogFiles(logs),
      slowQueryMs: 1000,
      frequentSlowQuery: 5,
    });
    const size = report.patterns.find((p) => p.pattern.includes('file_size > ?'))!;
    expect(size.advice).toEqual([]);
    expect(report.recommended.filter((r) => r.status === 'missing')).toEqual([]);
  });
});

describe('measuring a recommendation on a copy', () => {
  it('times before and after, leaves the live database and temp folder as they were, records it', async () => {
    const temp = path.join(dir, 'temp');
    mkdirSync(temp);
    const sql = 'SELECT id, file_size FROM models WHERE file_size > 1000000 ORDER BY file_size DESC LIMIT 20';
    const plan = planIndexMeasurement({
      database: db,
      tempDir: temp,
      sql,
      createIndex: 'CREATE INDEX idx_models_file_size ON models(file_size)',
      readOnly: false,
    });
    expect(plan.refusals).toEqual([]);
    const r = await measureIndex({ plan, confirmed: true, runs: 3, state });
    expect(r.rows).toBe(20);
    expect(r.planBefore.join()).toContain('SCAN models');
    expect(r.planAfter.join()).toContain('idx_models_file_size');
    expect(r.beforeMs).toBeGreaterThan(0);
    expect(r.indexBytes).toBeGreaterThan(0);
    expect(readdirSync(temp)).toEqual([]);
    const live = new Database(db, { readonly: true });
    expect(
      live.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'idx_models_file_size'").get(),
    ).toEqual({ n: 0 });
    live.close();
    expect(recentRuns(state, db, { kind: 'measure-index' })[0]).toMatchObject({ outcome: 'ok' });
  });

  it('refuses under read-only, without confirmation, without disk, and for anything but CREATE INDEX', async () => {
    const temp = path.join(dir, 'temp2');
    mkdirSync(temp);
    const base = {
      database: db,
      tempDir: temp,
      sql: 'SELECT 1',
      createIndex: 'CREATE INDEX i ON models(format)',
    };
    expect(planIndexMeasurement({ ...base, readOnly: true }).refusals).toEqual([
      'read-only mode: measuring writes a copy of the database to the temp folder',
    ]);
    expect(planIndexMeasurement({ ...base, readOnly: false, freeBytesOf: () => 10 }).refusals[0]).toMatch(
      /not enough free disk/,
    );
    expect(
      planIndexMeasurement({ ...base, createIndex: 'DROP TABLE models', readOnly: false }).refusals,
    ).toEqual(['not a CREATE INDEX statement']);
    expect(planIndexMeasurement({ ...base, sql: 'DELETE FROM models', readOnly: false }).refusals).toEqual([
      'only SELECT statements are timed',
    ]);
    const plan = planIndexMeasurement({ ...base, readOnly: false });
    await expect(measureIndex({ plan, confirmed: false, state })).rejects.toBeInstanceOf(MeasureRefusedError);
    expect(recentRuns(state, db, { kind: 'measure-index' })[0]).toMatchObject({ outcome: 'refused' });
  });
});

describe('read-only SQL prompt', () => {
  it('answers with columns and rows up to the row limit', async () => {
    const r = await runPromptSql({
      database: db,
      sql: 'SELECT id, name FROM models ORDER BY id',
      rowLimit: 5,
      timeoutMs: 10_000,
    });
    expect(r.columns).toEqual(['id', 'name']);
    expect(r.rows).toHaveLength(5);
    expect(r.rows[0]![0]).toBe(1);
    expect(r.truncated).toBe(true);
    const all = await runPromptSql({
      database: db,
      sql: 'SELECT count(*) AS n FROM models;',
      rowLimit: 5,
      timeoutMs: 10_000,
    });
    expect(all).toMatchObject({ columns: ['n'], rows: [[3000]], truncated: false });
  });

  it('refuses writes, ATTACH and several statements; reports bad SQL and bad files clearly', async () => {
    await expect(
      runPromptSql({ database: db, sql: 'DELETE FROM models', rowLimit: 5, timeoutMs: 10_000 }),
    ).rejects.toThrow(/only read-only statements/);
    expect(checkPromptSql("ATTACH 'x.db' AS x")).toMatch(/read-only/);
    expect(checkPromptSql('PRAGMA journal_mode = DELETE')).toMatch(/read-only/);
    await expect(
      runPromptSql({ database: db, sql: 'SELECT 1; DROP TABLE models', rowLimit: 5, timeoutMs: 10_000 }),
    ).rejects.toThrow(/more than one statement/);
    await expect(
      runPromptSql({ database: db, sql: 'SELECT nope FROM models', rowLimit: 5, timeoutMs: 10_000 }),
    ).rejects.toThrow(/no such column: nope/);
    await expect(
      runPromptSql({ database: makeNotADatabase(dir), sql: 'SELECT 1', rowLimit: 5, timeoutMs: 10_000 }),
    ).rejects.toThrow(/not a SQLite database/);
    const live = new Database(db, { readonly: true });
    expect(live.prepare('SELECT count(*) AS n FROM models').get()).toEqual({ n: 3000 });
    live.close();
  });

  it('stops a runaway statement at the time limit (the process is killed)', async () => {
    const started = performance.now();
    await expect(
      runPromptSql({
        database: db,
        sql: 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c',
        rowLimit: 5,
        timeoutMs: 700,
      }),
    ).rejects.toThrow(/stopped after 700 ms/);
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
