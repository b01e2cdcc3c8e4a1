import { afterEach, describe, expect, it, vi } from 'vitest';
import { alignedDelay, everyAligned, onceAligned, setTickBatch } from '../services/ticks.js';

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

  it('runs sources of different periods that share a boundary in the same callback, on one timer', () => {
    vi.useFakeTimers({ now: 10_000 });
    const rounds: string[][] = [];
    let round: string[] | null = null;
    // A source that marks the start of each callback: everything pushed until the next marker ran with it.
    const mark = (name: string) => () => {
      if (!round || round.includes(name)) {
        round = [];
        rounds.push(round);
      }
      round.push(name);
    };
    const stops = [
      everyAligned(1000, mark('1s')),
      everyAligned(2000, mark('2s')),
      everyAligned(5000, mark('5s')),
    ];
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10_010);
    // Boundaries 11 s ... 20 s: 10 rounds; the 2 s and 5 s sources ran inside the 1 s round of their second.
    expect(rounds).toHaveLength(10);
    expect(rounds.filter((r) => r.includes('2s'))).toHaveLength(5);
    expect(rounds.filter((r) => r.includes('5s'))).toHaveLength(2);
    expect(rounds.find((r) => r.includes('5s') && r.includes('2s'))).toEqual(['1s', '2s', '5s']);
    for (const stop of stops) stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('runs each round inside the batch the console sets (one React commit per tick)', () => {
    vi.useFakeTimers({ now: 10_000 });
    const log: string[] = [];
    setTickBatch((run) => {
      log.push('batch{');
      run();
      log.push('}');
    });
    try {
      const stops = [everyAligned(1000, () => log.push('a')), everyAligned(2000, () => log.push('b'))];
      vi.advanceTimersByTime(2010);
      // 11 s: the 1 s source alone; 12 s: both, in one batch.
      expect(log).toEqual(['batch{', 'a', '}', 'batch{', 'a', 'b', '}']);
      for (const stop of stops) stop();
    } finally {
      setTickBatch((run) => run());
    }
  });
});
