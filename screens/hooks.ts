// Hooks screens use to reach the shell and the services.
import {
  useContext,
  useEffect,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { Store } from '../services/store.js';
import { everyAligned, onceAligned } from '../services/ticks.js';
import {
  type CommandHandler,
  ConsoleContext,
  type ConsoleContextValue,
  KeyRouterContext,
} from './context.js';

export function useConsole(): ConsoleContextValue {
  const value = useContext(ConsoleContext);
  if (!value) throw new Error('useConsole outside the console shell');
  return value;
}

/** Subscribes to a service's store; the component re-renders when the value changes. */
export function useStore<T>(store: Store<T>): T {
  return useSyncExternalStore(store.subscribe, store.get, store.get);
}

/**
 * Like useStore, but re-renders at most once per `ms` (the last change always shows, at most `ms`
 * late). For summaries of fast sources: a live log store changes up to 10 times a second, and every
 * render lays out and redraws the whole frame.
 */
export function useThrottledStore<T>(store: Store<T>, ms: number): T {
  const subscribe = useMemo(() => throttledSubscribe(store, ms), [store, ms]);
  return useSyncExternalStore(subscribe, store.get, store.get);
}

function throttledSubscribe<T>(store: Store<T>, ms: number): Store<T>['subscribe'] {
  return (listener) => {
    let cancel: (() => void) | null = null;
    const unsubscribe = store.subscribe(() => {
      if (cancel) return;
      // Released on the aligned boundary, together with the clock and the samplers (services/ticks.ts).
      cancel = onceAligned(ms, () => {
        cancel = null;
        listener();
      });
    });
    return () => {
      cancel?.();
      unsubscribe();
    };
  };
}

/**
 * Receives the screen's commands (its own bindings and the navigation keys) while it is the
 * active screen. The latest handler is always used, so it may close over fresh state.
 */
export function useCommands(handler: CommandHandler): void {
  const router = useContext(KeyRouterContext);
  const ref = useRef(handler);
  useLayoutEffect(() => {
    ref.current = handler;
  });
  // A layout effect: registered in the same commit that shows the screen, so a key typed right
  // after switching reaches this screen, not the previous one.
  useLayoutEffect(() => {
    if (!router) return;
    const handler: CommandHandler = (command) => ref.current(command);
    router.setScreenHandler(handler);
    return () => router.clearScreenHandler(handler);
  }, [router]);
}

/** Calls fn every `ms` (not when ms is null); the latest fn is used. */
export function useInterval(fn: () => void, ms: number | null): void {
  const ref = useRef(fn);
  useLayoutEffect(() => {
    ref.current = fn;
  });
  useEffect(() => {
    if (ms === null) return;
    const timer = setInterval(() => ref.current(), ms);
    return () => clearInterval(timer);
  }, [ms]);
}

/** A value that re-reads `read` every `ms`, for cheap polled facts. */
export function usePolled<T>(read: () => T, ms: number): T {
  const [value, setValue] = useState(read);
  useInterval(() => setValue(read()), ms);
  return value;
}

/**
 * The time now, moving on every `ms` boundary of the wall clock. Every user of the same period
 * shares one timer (services/ticks.ts), so the clock and the uptimes all change in one redraw.
 */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => everyAligned(ms, () => setNow(Date.now())), [ms]);
  return now;
}
