// Rates from kernel counters that only grow, except when they do not: a 32-bit counter wraps at
// 2^32 (older drivers, 32-bit kernels), and a counter restarts from zero when its device is
// re-created (interface down/up, module reload, hot-plug) or the host reboots. A wrong guess either
// way shows a rate of petabytes a second, so the rule is conservative:
//   cur >= prev                                         -> cur - prev
//   prev in the top half of the 32-bit range, cur < 2^32 -> wrapped at 2^32: 2^32 - prev + cur
//   otherwise                                           -> a restart: no rate for this interval
const TWO_32 = 2 ** 32;
const TWO_31 = 2 ** 31;

export type CounterStep = { delta: number; kind: 'normal' | 'wrap32' } | { delta: null; kind: 'reset' };

export function counterDelta(prev: number, cur: number): CounterStep {
  if (cur >= prev) return { delta: cur - prev, kind: 'normal' };
  if (prev >= TWO_31 && prev < TWO_32 && cur < TWO_32) {
    const delta = TWO_32 - prev + cur;
    // A wrap within one interval means less than 2^31 counted since; more than that is a restart.
    if (delta < TWO_31) return { delta, kind: 'wrap32' };
  }
  return { delta: null, kind: 'reset' };
}

/**
 * Per-second rate between two readings of a counter taken elapsedMs apart; null when the interval is
 * not positive or the counter restarted. `scale` converts units (sectors to bytes: 512).
 */
export function counterRate(prev: number, cur: number, elapsedMs: number, scale = 1): number | null {
  if (!(elapsedMs > 0)) return null;
  const step = counterDelta(prev, cur);
  return step.delta === null ? null : (step.delta * scale * 1000) / elapsedMs;
}
