// Waiting in tests, for every package's suites: until a condition holds, re-checked whenever the
// caller's event source says something changed (and, only where no event covers a change, on a
// short poll). The deadline never paces a test; it only turns a hang into a failure that names
// what was awaited and what was seen.

/** How long a wait may take before it fails, ms: the default of `waitUntil` and `within`. */
export const WAIT_MS = 10_000;

/**
 * Subscribes `wake` to something that signals a change and returns its unsubscribe, if any:
 * `(wake) => client.on('state', wake)`, `events(socket, 'data')`, `changes(() => conn.changed())`,
 * `signal.on`.
 */
export type WakeOn = (wake: () => void) => (() => unknown) | void;

export interface WaitOptions {
  /** What is awaited, for the failure message: "a welcome frame", "Bob's dm". */
  what: string;
  /** The state seen when the deadline passed, for the failure message. */
  seen?: () => string;
  /** Fails after this many ms. Default `WAIT_MS`. */
  timeoutMs?: number;
  /** Re-checks whenever one of these wakes. */
  on?: WakeOn | readonly WakeOn[];
  /** Also re-checks every `pollMs` ms. Default: 10 without `on`, otherwise 0 (no poll). */
  pollMs?: number;
}

/** What `waitUntil` resolves with: a result of `check` that means "holds". */
export type Found<T> = Exclude<T, undefined | null | false>;

/**
 * Resolves with the first result of `check` other than `undefined`, `null` or `false`; `check`
 * may also throw to give up early (a connection closed while waiting for its frame).
 *
 * @example
 * const frame = await waitUntil(() => frames.find((f) => f.op === 'welcome'), { what: 'a welcome', on: signal.on });
 */
export async function waitUntil<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<Found<T>> {
  const { what, seen, timeoutMs = WAIT_MS, on = [] } = options;
  const sources: readonly WakeOn[] = typeof on === 'function' ? [on] : on;
  const pollMs = options.pollMs ?? (sources.length === 0 ? 10 : 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    // Subscribed before the check runs, so a change while an async check is under way still wakes.
    const offs = sources.map((subscribe) => subscribe(() => wake()));
    let timer: NodeJS.Timeout | undefined;
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as Found<T>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `\nseen: ${seen()}` : ''}`);
      timer = setTimeout(wake, pollMs > 0 ? Math.min(pollMs, left) : left);
      await woken;
    } finally {
      clearTimeout(timer);
      for (const off of offs) off?.();
    }
  }
}

/** Settles as `p` does, or rejects once `ms` have passed: a hang becomes a failure naming `what`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

interface Emitter {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

/** A `WakeOn` for an EventEmitter (a socket, a `ws` WebSocket): wakes on any of `names`. */
export function events(emitter: Emitter, ...names: string[]): WakeOn {
  return (wake) => {
    for (const name of names) emitter.on(name, wake);
    return () => {
      for (const name of names) emitter.off(name, wake);
    };
  };
}

/** A `WakeOn` for a "changed" promise made fresh each round (`() => conn.changed()`). */
export function changes(next: () => Promise<unknown>): WakeOn {
  return (wake) => {
    void next().then(wake, wake);
  };
}

/**
 * A change signal for a test double that records what it receives: it calls `notify()` after
 * each change; a wait passes `on: signal.on`. Any number of waits may be subscribed at once.
 */
export class Signal {
  private readonly wakers = new Set<() => void>();

  readonly on: WakeOn = (wake) => {
    this.wakers.add(wake);
    return () => this.wakers.delete(wake);
  };

  notify(): void {
    for (const wake of [...this.wakers]) wake();
  }
}
