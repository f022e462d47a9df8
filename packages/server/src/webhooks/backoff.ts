/** Backoff of a failed event: exponential, capped, with full jitter (any delay up to the step). */
export interface BackoffOptions {
  /** The first retry's step, ms. */
  baseMs: number;
  /** The largest step, ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 10 * 60 * 1000 };

/** The delay before retry number `attempt` (1 for the first retry). */
export function backoffDelay(o: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(o.capMs, o.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.floor(random() * step);
}
