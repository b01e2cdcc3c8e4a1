// Hooks screens use to reach the shell and the services.
import { useContext, useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { Store } from '../services/store.js';
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
