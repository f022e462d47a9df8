/**
 * Token bucket: `rate` tokens a second, at most `burst` saved up. Time is passed in, so tests
 * drive it with a fake clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty. A rate of 0 means unlimited. */
  take(now: number): boolean {
    if (this.rate <= 0) return true;
    const elapsed = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + elapsed * this.rate);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * Whether a parsed JSON value nests objects or arrays deeper than `max`. Iterative: a frame can
 * nest 100,000 levels, which recursion (JSON.stringify included) cannot walk.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Whether any string (key or value) inside a parsed JSON value holds U+0000. */
export function holdsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (typeof v === 'object' && v !== null) {
      if (Array.isArray(v)) stack.push(...v);
      else
        for (const [k, child] of Object.entries(v)) {
          if (k.includes('\u0000')) return true;
          stack.push(child);
        }
    }
  }
  return false;
}

/** How long one user's whole resume burst takes to refill, ms. */
export const RESUME_REFILL_MS = 60_000;
/** How long after its `welcome` a connection may spend its resume burst, ms. */
export const RESUME_WINDOW_MS = 10_000;

interface UserBudget {
  tokens: number;
  last: number;
}

interface Grant {
  user: string;
  left: number;
  until: number;
}

/**
 * Resume bursts (`welcome.limits.resumeBurst`): frames a reconnecting client may send beyond
 * the per-connection rate right after `welcome`, so its queued outbox goes out at once instead
 * of at `ratePerSec`. The budget belongs to the user, not the connection: a connection reserves
 * what is left of it at `welcome`, and the rest comes back only as the user's budget refills
 * (the whole of it in RESUME_REFILL_MS) or as an earlier connection returns what it did not use.
 * So reconnecting for fresh bursts gains nothing, and a user gets at most `burst` extra frames
 * a minute per node, however many connections they open. In memory, per node: a restart gives
 * every user a full budget, which is the point (that is when clients come back with queues).
 */
export class ResumeBudgets {
  private readonly users = new Map<string, UserBudget>();
  private readonly grants = new WeakMap<object, Grant>();
  private lastSweep: number;

  constructor(
    private readonly burst: number,
    now: number,
  ) {
    this.lastSweep = now;
  }

  /** Reserves up to `want` frames of `user`'s budget for one connection (`key`); returns how many. */
  reserve(key: object, user: string, want: number, now: number): number {
    if (this.burst <= 0 || want <= 0) return 0;
    const b = this.level(user, now);
    const got = Math.min(Math.floor(want), Math.floor(b.tokens));
    b.tokens -= got;
    this.keep(user, b);
    if (got > 0) this.grants.set(key, { user, left: got, until: now + RESUME_WINDOW_MS });
    this.sweep(now);
    return got;
  }

  /** Spends one reserved frame of the connection, if it has one and its window is open. */
  take(key: object, now: number): boolean {
    const g = this.grants.get(key);
    if (!g) return false;
    if (now >= g.until || g.left <= 0) {
      this.release(key, now);
      return false;
    }
    g.left--;
    return true;
  }

  /** Gives back what the connection did not spend (its window ended or it closed). */
  release(key: object, now: number): void {
    const g = this.grants.get(key);
    if (!g) return;
    this.grants.delete(key);
    if (g.left <= 0) return;
    const b = this.level(g.user, now);
    b.tokens = Math.min(this.burst, b.tokens + g.left);
    this.keep(g.user, b);
  }

  /** Users tracked (those whose budget is not full); for tests. */
  get size(): number {
    return this.users.size;
  }

  private level(user: string, now: number): UserBudget {
    const b = this.users.get(user);
    if (!b) return { tokens: this.burst, last: now };
    b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, now - b.last) * this.burst) / RESUME_REFILL_MS);
    b.last = now;
    return b;
  }

  /** A full budget is the same as no entry: dropping it keeps the map to recent reconnectors. */
  private keep(user: string, b: UserBudget): void {
    if (b.tokens >= this.burst) this.users.delete(user);
    else this.users.set(user, b);
  }

  /** At most once a refill period: forgets users whose budget has refilled since. */
  private sweep(now: number): void {
    if (now - this.lastSweep < RESUME_REFILL_MS) return;
    this.lastSweep = now;
    for (const [user, b] of this.users) if (now - b.last >= RESUME_REFILL_MS) this.users.delete(user);
  }
}
