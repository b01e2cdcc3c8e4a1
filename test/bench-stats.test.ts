// Statistics and the regression decision on synthetic samples; reference values from scipy 1.17
// (stats.ttest_ind(..., equal_var=False, alternative='greater'), stats.t.sf, stats.beta.cdf).
import { describe, expect, it } from 'vitest';
import {
  compareWithBaseline,
  describeSamples,
  incompleteBeta,
  quantile,
  sampleStddev,
  studentTUpperTail,
  tukeyOutliers,
  welchTTest,
} from '../services/bench-stats.js';
import { leastSquaresSlope, loadTimeTrend, parsePerfLine } from '../services/perf-log.js';

const summary = (xs: number[]) => {
  const d = describeSamples(xs);
  return { n: d.n, mean: d.mean, stddev: d.stddev };
};

describe('descriptive statistics', () => {
  it('mean, median, min, max, sample standard deviation', () => {
    const d = describeSamples([4, 8, 6, 5, 3, 7]);
    expect(d).toMatchObject({ n: 6, mean: 5.5, median: 5.5, min: 3, max: 8, outliers: [] });
    expect(d.stddev).toBeCloseTo(1.8708287, 6);
    expect(sampleStddev([5])).toBe(0);
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 10);
  });
  it("outliers outside Tukey's fences are identified and left out", () => {
    const xs = [10, 11, 12, 11, 10, 50, 11];
    expect(tukeyOutliers(xs)).toEqual([5]);
    const d = describeSamples(xs);
    expect(d.outliers).toEqual([5]);
    expect(d.n).toBe(6);
    expect(d.max).toBe(12);
    expect(d.samples).toHaveLength(7);
    // Too few samples to tell.
    expect(tukeyOutliers([1, 100, 2])).toEqual([]);
  });
});

describe('the t distribution and Welch’s t-test', () => {
  it('incomplete beta and t tails match scipy', () => {
    expect(incompleteBeta(0.3, 2.5, 0.5)).toBeCloseTo(0.018927124071945658, 12);
    expect(studentTUpperTail(1, 1)).toBeCloseTo(0.25, 12);
    expect(studentTUpperTail(2.228, 10)).toBeCloseTo(0.02500588590855566, 10);
    expect(studentTUpperTail(0.5, 3.7)).toBeCloseTo(0.3226678166599659, 10);
    expect(studentTUpperTail(-1.3, 7.2)).toBeCloseTo(0.8831653960826823, 10);
  });
  it('Welch: statistic, degrees of freedom and one-sided p match scipy', () => {
    const a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0];
    const b = [
      28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7, 23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3,
      20.4, 23.9, 13.3,
    ];
    const sa = { n: a.length, mean: a.reduce((x, y) => x + y) / a.length, stddev: sampleStddev(a) };
    const sb = { n: b.length, mean: b.reduce((x, y) => x + y) / b.length, stddev: sampleStddev(b) };
    const w = welchTTest(sb, sa);
    expect(w.t).toBeCloseTo(2.225512039969852, 10);
    expect(w.df).toBeCloseTo(24.524634944257343, 8);
    expect(w.p).toBeCloseTo(0.017742265415005197, 10);
    const w2 = welchTTest(summary([11.5, 11.9, 11.2, 11.6, 11.8]), summary([10.1, 10.3, 9.9, 10.2, 10.0]));
    expect(w2.t).toBeCloseTo(10.606601717798199, 8);
    expect(w2.p).toBeCloseTo(1.3465655145788045e-5, 12);
  });
  it('no variation at all: any difference is certain', () => {
    expect(welchTTest({ n: 3, mean: 2, stddev: 0 }, { n: 3, mean: 1, stddev: 0 }).p).toBe(0);
    expect(welchTTest({ n: 3, mean: 1, stddev: 0 }, { n: 3, mean: 1, stddev: 0 }).p).toBe(0.5);
  });
});

describe('the regression decision: over 110 % AND significant', () => {
  const baseline = summary([100, 102, 98, 101, 99]);
  it('20 % slower, consistently: a regression', () => {
    const v = compareWithBaseline(summary([120, 121, 119, 122, 118]), baseline, 110);
    expect(v.status).toBe('regression');
    expect(v.ratio).toBeCloseTo(1.2, 6);
    expect(v.p!).toBeLessThan(0.001);
    expect(v.test).toBe("Welch's t-test, one-sided, α = 0.05");
    expect(v.explanation).toMatch(/\+20\.0 % vs baseline, over 110 % and significant/);
  });
  it('20 % slower on average but all over the place: noise, not a regression', () => {
    const v = compareWithBaseline(summary([60, 200, 90, 150, 100]), baseline, 110);
    expect(v.ratio).toBeGreaterThan(1.1);
    expect(v.status).toBe('slower-not-significant');
    expect(v.p!).toBeGreaterThan(0.05);
  });
  it('5 % slower and significant: within the threshold, not a regression', () => {
    const v = compareWithBaseline(summary([105, 105.2, 104.8, 105.1, 104.9]), baseline, 110);
    expect(v.p!).toBeLessThan(0.05);
    expect(v.status).toBe('within-threshold');
  });
  it('the threshold comes from the configuration', () => {
    const v = compareWithBaseline(summary([105, 105.2, 104.8, 105.1, 104.9]), baseline, 103);
    expect(v.status).toBe('regression');
  });
  it('faster, no baseline, and too few runs to test', () => {
    expect(compareWithBaseline(summary([50, 51, 49]), baseline, 110).status).toBe('faster');
    expect(compareWithBaseline(summary([50, 51]), null, 110).status).toBe('no-baseline');
    const single = compareWithBaseline(summary([300]), baseline, 110);
    expect(single.status).toBe('slower-untested');
    expect(single.explanation).toMatch(/not tested/);
  });
});

describe('the application’s own timings (performance.log)', () => {
  it('parses model_loaded lines, ignores the rest', () => {
    const r = parsePerfLine(
      '2026-11-23 08:17:41,123 - candy_cadence.performance - INFO - model_loaded file=data/models/a.stl format=stl size_mb=12.50 triangles=240000 load_time:1.234',
    );
    expect(r).toMatchObject({
      file: 'data/models/a.stl',
      format: 'stl',
      sizeMb: 12.5,
      triangles: 240000,
      loadTime: 1.234,
    });
    expect(r!.time).toBe(new Date(2026, 10, 23, 8, 17, 41, 123).getTime());
    expect(parsePerfLine('2026-11-23 08:17:41,123 - x - INFO - frame_stats avg_fps=60')).toBeNull();
    expect(parsePerfLine('model_loaded but no time')).toBeNull();
  });
  it('least-squares slope and the SITE.md trend directions', () => {
    expect(leastSquaresSlope([1, 2, 3, 4])).toBeCloseTo(1, 10);
    expect(leastSquaresSlope([5, 5, 5])).toBe(0);
    const loads = (xs: number[]) =>
      xs.map((loadTime) => ({
        time: null,
        file: null,
        format: null,
        sizeMb: null,
        triangles: null,
        loadTime,
      }));
    expect(loadTimeTrend(loads([1, 1.2, 1.4, 1.6, 1.8]))!.direction).toBe('increasing');
    expect(loadTimeTrend(loads([3, 2.5, 2, 1.5]))!.direction).toBe('decreasing');
    const flat = loadTimeTrend(loads([1, 1.05, 0.98, 1.02, 31]), 10)!;
    expect(flat).toMatchObject({ direction: 'stable', n: 5, over30s: 1, max: 31 });
    expect(loadTimeTrend([])).toBeNull();
  });
});
