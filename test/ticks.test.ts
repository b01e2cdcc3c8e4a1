import { afterEach, describe, expect, it, vi } from 'vitest';
import { alignedDelay, everyAligned, onceAligned } from '../services/ticks.js';

describe('aligned ticks', () => {
  afterEach(() => vi.useRealTimers());

  it('fires just after the next boundary of the period', () => {
    expect(alignedDelay(1000, 12_300)).toBe(705);
    expect(alignedDelay(1000, 13_000)).toBe(1005);
    expect(alignedDelay(2000, 13_000)).toBe(1005);
  });

  it('runs every source of a period in one callback, and a one-shot that re-arms itself once per period', () => {
    vi.useFakeTimers({ now: 10_000 });
    const order: string[] = [];
    const stopClock = everyAligned(1000, () => order.push('clock'));
    const rearm = () => {
      order.push('sampler');
      cancelSampler = onceAligned(1000, rearm);
    };
    let cancelSampler = onceAligned(1000, rearm);
    vi.advanceTimersByTime(1010);
    expect(order).toEqual(['clock', 'sampler']);
    vi.advanceTimersByTime(3000);
    // Exactly one of each per second: a re-arming one-shot must not start a second timer.
    expect(order.filter((o) => o === 'sampler')).toHaveLength(4);
    expect(order.filter((o) => o === 'clock')).toHaveLength(4);
    stopClock();
    cancelSampler();
    vi.advanceTimersByTime(5000);
    expect(order).toHaveLength(8);
    expect(vi.getTimerCount()).toBe(0);
  });
});
