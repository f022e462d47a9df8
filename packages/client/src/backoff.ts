/** Reconnect delay bounds, in milliseconds. */
export interface BackoffOptions {
  /** Ceiling of the first delay; each failed attempt doubles the ceiling. */
  minDelay: number;
  /** The ceiling never grows past this. */
  maxDelay: number;
}

/**
 * Delay before reconnect attempt number `attempt` (0 for the first): "full jitter", a uniform
 * random delay in [0, min(maxDelay, minDelay * 2^attempt)). Randomising the whole range spreads
 * thousands of clients that lost the same server apart instead of sending them back in waves.
 */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(o.maxDelay, o.minDelay * 2 ** Math.min(Math.max(0, attempt), 30));
  return Math.floor(random() * ceiling);
}
