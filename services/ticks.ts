// Periodic work aligned to the wall clock, in one timer per period. The console redraws its whole
// frame for any change, so the sources that change on their own (the header clock, resource
// samples, polled statuses, throttled summaries) run in the same timer callback just after the
// second boundary: React commits them together and Ink draws one frame a second, not four.

interface Group {
  every: Set<() => void>;
  once: Set<() => void>;
  timer: NodeJS.Timeout | null;
}

const groups = new Map<number, Group>();

/** Milliseconds from `now` to 5 ms past the next multiple of `periodMs` since the epoch. */
export function alignedDelay(periodMs: number, now = Date.now()): number {
  return periodMs - (now % periodMs) + 5;
}

function group(periodMs: number): Group {
  let g = groups.get(periodMs);
  if (!g) {
    g = { every: new Set(), once: new Set(), timer: null };
    groups.set(periodMs, g);
  }
  if (!g.timer) {
    const fire = () => {
      const current = groups.get(periodMs)!;
      // current.timer stays set while the callbacks run: one that registers again (a one-shot
      // re-arming itself) must join the next round, not start a second timer.
      const once = [...current.once];
      current.once.clear();
      for (const fn of [...current.every, ...once]) {
        try {
          fn();
        } catch {
          // One failing source must not stop the others' ticks; each reports its own errors.
        }
      }
      if (current.every.size || current.once.size) {
        current.timer = setTimeout(fire, alignedDelay(periodMs));
        current.timer.unref?.();
      } else {
        current.timer = null;
      }
    };
    g.timer = setTimeout(fire, alignedDelay(periodMs));
    g.timer.unref?.();
  }
  return g;
}

function release(periodMs: number): void {
  const g = groups.get(periodMs);
  if (g && !g.every.size && !g.once.size && g.timer) {
    clearTimeout(g.timer);
    g.timer = null;
  }
}

/** Calls fn on every aligned period until the returned stop is called. */
export function everyAligned(periodMs: number, fn: () => void): () => void {
  const wrapped = () => fn();
  group(periodMs).every.add(wrapped);
  return () => {
    groups.get(periodMs)?.every.delete(wrapped);
    release(periodMs);
  };
}

/** Calls fn once, at the next aligned period; returns a cancel. */
export function onceAligned(periodMs: number, fn: () => void): () => void {
  const wrapped = () => fn();
  group(periodMs).once.add(wrapped);
  return () => {
    groups.get(periodMs)?.once.delete(wrapped);
    release(periodMs);
  };
}
