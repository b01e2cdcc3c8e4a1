import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomRecord, recordOf, rng, TEMPLATES } from '../services/demo-log-lines.js';
import {
  digitFreeHash,
  groupingAccuracy,
  SpanTokens,
  TemplateMiner,
  templateOf,
  tokenize,
} from '../services/log-clusters.js';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/logs/accuracy');

function labelled(file: string): Array<[string, string]> {
  return readFileSync(path.join(fixtures, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const tab = l.indexOf('\t');
      return [l.slice(0, tab), l.slice(tab + 1)];
    });
}

describe('template miner', () => {
  it('masks variables and keeps constant words', () => {
    expect(tokenize('PAR001 Invalid file header: data/models/a.stl').join(' ')).toBe(
      'PAR001 Invalid file header: <*>',
    );
    expect(tokenize('Search query "gear lamp" returned 12 results in 3 ms').join(' ')).toBe(
      'Search query <*> returned <*> results in <*> ms',
    );
    expect(
      tokenize('uid=0 euid=0 tty=ssh load_time:1.25 id 123e4567-e89b-12d3-a456-426614174000').join(' '),
    ).toBe('uid=<*> euid=<*> tty=ssh load_time:<*> id <*>');
    expect(
      tokenize(
        "Slow query detected: SELECT * FROM models WHERE name LIKE '%gear%' LIMIT 20... Execution time: 1200ms",
      ).join(' '),
    ).toBe('Slow query detected: <*> Execution time: <*>');
  });

  it('groups the generator’s records exactly by template (ground truth from services/demo-log-lines.ts)', () => {
    const r = rng(99);
    const miner = new TemplateMiner();
    const truth: string[] = [];
    const pred: number[] = [];
    let t = 0;
    for (let i = 0; i < 20_000; i++) {
      const rec =
        i % 40 === 0 ? recordOf(TEMPLATES[(i / 40) % TEMPLATES.length]!.id, r, t) : randomRecord(r, t);
      t += 250;
      truth.push(rec.template);
      pred.push(miner.add({ level: rec.level, message: rec.message, time: rec.time }).id);
    }
    const acc = groupingAccuracy(truth, pred);
    expect(acc).toBeGreaterThanOrEqual(0.95);
    expect(miner.size).toBe(TEMPLATES.length);
  });

  for (const file of ['openssh-loghub.tsv', 'mixed-handlabelled.tsv']) {
    it(`groups hand-labelled lines of other programs (${file}) with the same configuration`, () => {
      const rows = labelled(file);
      const miner = new TemplateMiner();
      const pred = rows.map(([, line]) => miner.add({ level: null, message: line, time: 0 }).id);
      const acc = groupingAccuracy(
        rows.map(([g]) => g),
        pred,
      );
      expect(acc).toBeGreaterThanOrEqual(0.95);
    });
  }

  it('remembers the tokens of SQL, quoted and UUID messages by their digit-free form, exactly', () => {
    const r = rng(5);
    const n = () => String(Math.floor(r() * 10 ** (1 + Math.floor(r() * 6))));
    const forms = [
      () =>
        `Slow query detected: SELECT key, value FROM metadata WHERE model_id = ${n()}... Execution time: ${n()}ms`,
      () =>
        `DB${n().slice(0, 3).padStart(3, '0')} Database is locked: INSERT INTO models gave up after ${n()} tries`,
      () => `ERR00${n().slice(0, 1)} lookup of 'part_${n()}' failed with code ${n()}`,
      () => `retry${n().slice(0, 1)}=${n()} for "model ${n()}" in /srv/m/${n()}.stl`,
      () => `task 1b4e28ba-2fa1-11d2-883f-0016d3cca${n().slice(0, 3).padStart(3, '0')} PRAGMA ${n()} done`,
      () => `UPDATE v${n().slice(0, 2)} SET x = ${n()} WHERE 'a${n()}' (ok)`,
      () =>
        `Slow query detected: SELECT * FROM models WHERE name LIKE '%clip${n().slice(0, 1)}%' LIMIT ${n()}... Execution time: ${n()}ms`,
    ];
    const cache = new SpanTokens();
    let hits = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const m = forms[i % forms.length]!();
      const want = tokenize(m);
      const bytes = Buffer.from(`xx${m}`);
      const byString = cache.get(m);
      const byBytes = cache.get(m, digitFreeHash(bytes, 2, bytes.length));
      expect(byString).toEqual(want);
      expect(byBytes).toEqual(want);
      const norm = m.replace(/[0-9]/g, '0');
      if (seen.has(norm)) hits++;
      seen.add(norm);
    }
    expect(hits).toBeGreaterThan(1000); // the digit-free forms repeat: the cache is used
    // A code (digits kept in the template) is never answered from another code's entry.
    expect(cache.get('DB001 locked: INSERT INTO models')).toEqual(['DB001', 'locked:', '<*>']);
    expect(cache.get('DB002 locked: INSERT INTO models')).toEqual(['DB002', 'locked:', '<*>']);
  });

  it('keeps messages that differ in constant words apart', () => {
    const m = new TemplateMiner();
    const a = m.add({ level: 'ERROR', message: 'ERR001 Database connection failed: host db1', time: 0 });
    const b = m.add({ level: 'ERROR', message: 'ERR008 Plugin loading failed: exporter', time: 0 });
    const c = m.add({ level: 'WARNING', message: 'ERR001 Database connection failed: host db1', time: 0 });
    expect(new Set([a.id, b.id, c.id]).size).toBe(3); // level is part of the key
    const d = m.add({ level: 'ERROR', message: 'ERR001 Database connection failed: host db2', time: 0 });
    expect(d.id).toBe(a.id);
    expect(templateOf(a)).toBe('ERR001 Database connection failed: host <*>');
  });

  it('measures accuracy as the issue defines it', () => {
    expect(groupingAccuracy(['a', 'a', 'b'], [1, 1, 2])).toBe(1);
    expect(groupingAccuracy(['a', 'a', 'b'], [1, 1, 1])).toBe(0); // merged: nobody's group is exact
    expect(groupingAccuracy(['a', 'a', 'b', 'b'], [1, 2, 3, 3])).toBe(0.5); // a split
  });

  it('bounds the table, evicting the least recently seen and counting them', () => {
    const m = new TemplateMiner({ maxClusters: 20, maxSamples: 2 });
    for (let i = 0; i < 200; i++)
      m.add({
        level: 'ERROR',
        message: `word${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + ((i / 26) | 0))} happened`,
        time: i,
      });
    expect(m.size).toBeLessThanOrEqual(20);
    expect(m.remainder.records + m.clusters().reduce((s, c) => s + c.count, 0)).toBe(200);
    for (const c of m.clusters()) expect(c.samples.length).toBeLessThanOrEqual(2);
  });
});
