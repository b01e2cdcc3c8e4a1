// A minimal observable value: how services publish state to the screens without importing React.
// Screens read it with useStore (screens/hooks.ts), which subscribes through useSyncExternalStore.

export interface Store<T> {
  get(): T;
  set(next: T | ((previous: T) => T)): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next) {
      const resolved = typeof next === 'function' ? (next as (p: T) => T)(value) : next;
      if (Object.is(resolved, value)) return;
      value = resolved;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Long-lived service instances shared by the screens of one console, created on first use and
 * disposed when the console closes (samplers, log followers, workers).
 */
export class ServiceRegistry {
  private readonly instances = new Map<string, { value: unknown; dispose?: () => void | Promise<void> }>();

  get<T>(name: string, create: () => T, dispose?: (value: T) => void | Promise<void>): T {
    const existing = this.instances.get(name);
    if (existing) return existing.value as T;
    const value = create();
    this.instances.set(name, { value, dispose: dispose ? () => dispose(value) : undefined });
    return value;
  }

  has(name: string): boolean {
    return this.instances.has(name);
  }

  async disposeAll(): Promise<void> {
    const all = [...this.instances.values()].reverse();
    this.instances.clear();
    await Promise.allSettled(all.map(async (i) => i.dispose?.()));
  }
}
