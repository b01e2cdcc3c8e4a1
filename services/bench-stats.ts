// Statistics of benchmark samples and the regression decision. The procedures call a mean load time
// over 110 % of the baseline mean a regression; on a shared host a single slow run can do that, so
// cadence-ops also requires the difference to be statistically significant: Welch's t-test (two
// samples, unequal variances), one-sided, at α = 0.05. Outliers are identified with Tukey's fences
// (outside 1.5 × IQR of the quartiles) and left out of the mean, median and deviation.

export interface SampleStats {
  /** Samples used (outliers excluded). */
  n: number;
  mean: number;
  median: number;
  min: number;
  max: number;
  /** Sample standard deviation (n - 1). */
  stddev: number;
  /** All samples, in run order. */
  samples: number[];
  /** Indices (in run order) of the samples identified as outliers. */
  outliers: number[];
}

export function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : Number.NaN;
}

export function sampleStddev(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

/** Linear-interpolated quantile of sorted values (the "type 7" estimator of R and numpy). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Indices of the values outside Tukey's fences; none with fewer than 4 samples. */
export function tukeyOutliers(xs: readonly number[], k = 1.5): number[] {
  if (xs.length < 4) return [];
  const sorted = [...xs].sort((a, b) => a - b);
  const q1 = quantile(sorted, 0.25);
  const q3 = quantile(sorted, 0.75);
  const iqr = q3 - q1;
  const lo = q1 - k * iqr;
  const hi = q3 + k * iqr;
  const out: number[] = [];
  xs.forEach((x, i) => {
    if (x < lo || x > hi) out.push(i);
  });
  return out;
}

export function describeSamples(samples: readonly number[]): SampleStats {
  const outliers = tukeyOutliers(samples);
  const skip = new Set(outliers);
  const kept = samples.filter((_, i) => !skip.has(i));
  const sorted = [...kept].sort((a, b) => a - b);
  return {
    n: kept.length,
    mean: mean(kept),
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    stddev: sampleStddev(kept),
    samples: [...samples],
    outliers,
  };
}

// The t distribution, through the regularized incomplete beta function (Numerical Recipes 6.4).

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9), accurate to ~15 digits for x > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** I_x(a, b), the regularized incomplete beta function. */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** P(T > t) for Student's t with df degrees of freedom (df may be fractional). */
export function studentTUpperTail(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 0 : 1;
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? tail : 1 - tail;
}

export interface WelchResult {
  t: number;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number;
  /** One-sided p-value for "the first mean is greater than the second". */
  p: number;
}

/** Welch's t-test of mean(a) > mean(b), from summaries (n >= 2 each). */
export function welchTTest(
  a: { n: number; mean: number; stddev: number },
  b: { n: number; mean: number; stddev: number },
): WelchResult {
  const va = (a.stddev * a.stddev) / a.n;
  const vb = (b.stddev * b.stddev) / b.n;
  const se = Math.sqrt(va + vb);
  const diff = a.mean - b.mean;
  if (se === 0) {
    // No variation on either side: any difference is certain.
    return {
      t: diff === 0 ? 0 : diff > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY,
      df: a.n + b.n - 2,
      p: diff > 0 ? 0 : diff === 0 ? 0.5 : 1,
    };
  }
  const t = diff / se;
  const df = (va + vb) ** 2 / ((va * va) / (a.n - 1 || 1) + (vb * vb) / (b.n - 1 || 1));
  return { t, df, p: studentTUpperTail(t, df) };
}

export const SIGNIFICANCE_TEST = "Welch's t-test, one-sided, α = 0.05";

export type VerdictStatus =
  | 'regression'
  | 'slower-not-significant'
  | 'slower-untested'
  | 'within-threshold'
  | 'faster'
  | 'no-baseline'
  | 'failed';

export interface Verdict {
  status: VerdictStatus;
  /** Current mean over baseline mean. */
  ratio: number | null;
  /** The threshold, in percent of the baseline mean (110 by default). */
  thresholdPercent: number;
  test: string;
  t: number | null;
  df: number | null;
  p: number | null;
  alpha: number;
  explanation: string;
}

/**
 * The regression decision: over the threshold AND significantly slower. Slower past the threshold
 * without significance is noise; with fewer than 2 samples on a side the test cannot run, and no
 * regression is called.
 */
export function compareWithBaseline(
  current: { n: number; mean: number; stddev: number },
  baseline: { n: number; mean: number; stddev: number } | null,
  thresholdPercent: number,
  alpha = 0.05,
): Verdict {
  const base = { thresholdPercent, test: SIGNIFICANCE_TEST, alpha };
  if (!baseline || !(baseline.mean > 0))
    return {
      ...base,
      status: 'no-baseline',
      ratio: null,
      t: null,
      df: null,
      p: null,
      explanation: 'no baseline for this file',
    };
  const ratio = current.mean / baseline.mean;
  const pct = (ratio - 1) * 100;
  const over = ratio * 100 > thresholdPercent;
  const change = `${pct >= 0 ? '+' : ''}${pct.toFixed(1)} % vs baseline`;
  if (current.n < 2 || baseline.n < 2) {
    return {
      ...base,
      status: over ? 'slower-untested' : ratio < 1 ? 'faster' : 'within-threshold',
      ratio,
      t: null,
      df: null,
      p: null,
      explanation: `${change}; significance not tested (needs 2 or more runs on both sides)`,
    };
  }
  const w = welchTTest(current, baseline);
  const significant = w.p < alpha;
  let status: VerdictStatus;
  let explanation: string;
  if (over && significant) {
    status = 'regression';
    explanation = `${change}, over ${thresholdPercent} % and significant (p = ${formatP(w.p)})`;
  } else if (over) {
    status = 'slower-not-significant';
    explanation = `${change}, over ${thresholdPercent} % but not significant (p = ${formatP(w.p)}): noise`;
  } else if (ratio < 1) {
    status = 'faster';
    explanation = change;
  } else {
    status = 'within-threshold';
    explanation = `${change}, within ${thresholdPercent} %`;
  }
  return { ...base, status, ratio, t: w.t, df: w.df, p: w.p, explanation };
}

export function formatP(p: number): string {
  if (p < 0.0001) return '< 0.0001';
  return p.toFixed(4);
}
