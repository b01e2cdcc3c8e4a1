// Periodic work aligned to the wall clock, all of it on one timer. The console redraws its whole
// frame for any change, so the sources that change on their own (the header clock, resource
// samples, polled statuses, throttled summaries) run in the same timer callback just after the
// boundary they share: React commits them together and Ink draws one frame, not one per source.
// (One timer per period was not enough: at an even second the 1 s and 2 s groups fired in two
// tasks, and Ink drew the second commit as a trailing frame 50 ms after the first.)

interface Group {
  every: Set<() => void>;
  once: Set<() => void>;
  /** When this group runs next (ms since epoch): 5 ms past its next boundary. */
  due: number;
}

const groups = new Map<number, Group>();
let timer: NodeJS.Timeout | null = null;
let timerDue = Number.POSITIVE_INFINITY;
let firing = false;
let batch: (run: () => void) => void = (run) => run();

/**
 * Runs each round of callbacks through `wrap` (the console passes React's batchedUpdates, so the
 * updates of one round commit together). Services stay free of React.
 */
export function setTickBatch(wrap: (run: () => void) => void): void {
  batch = wrap;
}

/** Milliseconds from `now` to 5 ms past the next multiple of `periodMs` since the epoch. */
export function alignedDelay(periodMs: number, now = Date.now()): number {
  return periodMs - (now % periodMs) + 5;
}

function schedule(): void {
  if (firing) return;
  let next = Number.POSITIVE_INFINITY;
  for (const g of groups.values()) next = Math.min(next, g.due);
  if (next === timerDue && timer) return;
  if (timer) clearTimeout(timer);
  timer = null;
  timerDue = next;
  if (next === Number.POSITIVE_INFINITY) return;
  timer = setTimeout(fire, Math.max(0, next - Date.now()));
  timer.unref?.();
}

function fire(): void {
  timer = null;
  timerDue = Number.POSITIVE_INFINITY;
  firing = true;
  const now = Date.now();
  const run: Array<() => void> = [];
  for (const [period, g] of groups) {
    // A timer may fire a millisecond early; anything due by then belongs to this round.
    if (g.due > now + 2) continue;
    // Callbacks that register again while this round runs (a one-shot re-arming itself) join the next.
    run.push(...g.every, ...g.once);
    g.once.clear();
    g.due = now + alignedDelay(period, now);
  }
  const runAll = () => {
    for (const fn of run) {
      try {
        fn();
      } catch {
        // One failing source must not stop the others' ticks; each reports its own errors.
      }
    }
  };
  batch(runAll);
  for (const [period, g] of groups) if (!g.every.size && !g.once.size) groups.delete(period);
  firing = false;
  schedule();
}

function group(periodMs: number): Group {
  let g = groups.get(periodMs);
  if (!g) {
    g = { every: new Set(), once: new Set(), due: Date.now() + alignedDelay(periodMs) };
    groups.set(periodMs, g);
  }
  return g;
}

function release(periodMs: number): void {
  const g = groups.get(periodMs);
  if (g && !g.every.size && !g.once.size) {
    groups.delete(periodMs);
    schedule();
  }
}

/** Calls fn on every aligned period until the returned stop is called. */
export function everyAligned(periodMs: number, fn: () => void): () => void {
  const wrapped = () => fn();
  group(periodMs).every.add(wrapped);
  schedule();
  return () => {
    groups.get(periodMs)?.every.delete(wrapped);
    release(periodMs);
  };
}

/** Calls fn once, at the next aligned period; returns a cancel. */
export function onceAligned(periodMs: number, fn: () => void): () => void {
  const wrapped = () => fn();
  group(periodMs).once.add(wrapped);
  schedule();
  return () => {
    groups.get(periodMs)?.once.delete(wrapped);
    release(periodMs);
  };
}
