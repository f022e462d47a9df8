import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/backoff.js';

const o = { minDelay: 500, maxDelay: 20_000 };

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt and caps it at maxDelay', () => {
    const top = (attempt: number) => backoffDelay(attempt, o, () => 0.999999);
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20, 1000].map(top)).toEqual([499, 999, 1999, 3999, 7999, 15999, 19999, 19999, 19999, 19999]);
  });

  it('jitters over the whole range, from zero up to the ceiling (full jitter)', () => {
    expect(backoffDelay(3, o, () => 0)).toBe(0);
    expect(backoffDelay(3, o, () => 0.5)).toBe(2000);
    const seen = Array.from({ length: 2000 }, () => backoffDelay(2, o));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...seen)).toBeLessThan(2000);
    // Spread out, not clustered: both halves of the range are used.
    expect(seen.some((d) => d < 500)).toBe(true);
    expect(seen.some((d) => d > 1500)).toBe(true);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(-3, o, () => 0.999999)).toBe(499);
  });
});
