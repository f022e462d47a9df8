// Timers without DOM or Node types: every runtime the SDK supports has these globals. They are
// looked up on each call (not captured at import) so test fake timers take effect.

/** An opaque timer handle. */
export type TimerHandle = unknown;

interface TimerGlobals {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

const g = globalThis as unknown as TimerGlobals;

/** Runs `fn` after `ms` milliseconds. */
export function later(fn: () => void, ms: number): TimerHandle {
  return g.setTimeout(fn, ms);
}

/** Cancels a `later`; accepts undefined so callers need no check. */
export function cancel(handle: TimerHandle | undefined): void {
  if (handle !== undefined) g.clearTimeout(handle);
}

/** Milliseconds since the epoch (fake timers replace Date too). */
export function now(): number {
  return Date.now();
}
