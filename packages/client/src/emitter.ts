import { later } from './timers.js';

/** A listener gets one context object (centrifuge-js style), so adding fields never breaks it. */
export type Listener<T> = (ctx: T) => void;

/** Typed events: `on()` returns its own unsubscribe function. */
export class Emitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const fn = listener as Listener<never>;
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /**
   * Calls every listener. A listener that throws does not stop the others or corrupt the
   * SDK's state: its error is rethrown on a fresh stack, where the platform reports it.
   */
  emit<K extends keyof Events>(event: K, ctx: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<Events[K]>)(ctx);
      } catch (err) {
        later(() => {
          throw err;
        }, 0);
      }
    }
  }

  count<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }
}
