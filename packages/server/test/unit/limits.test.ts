import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/core/limits.js';

/** How many takes succeed at one instant. */
function takeAll(bucket: TokenBucket, now: number, max = 1000): number {
  let n = 0;
  while (n < max && bucket.take(now)) n++;
  return n;
}

describe('TokenBucket', () => {
  it('starts full: a burst of `burst` takes, then refuses', () => {
    const bucket = new TokenBucket(10, 5, 1_000);
    expect(takeAll(bucket, 1_000)).toBe(5);
    expect(bucket.take(1_000)).toBe(false);
  });

  it('refills at `rate` tokens a second', () => {
    const bucket = new TokenBucket(10, 5, 0);
    takeAll(bucket, 0);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true); // 0.5 + 0.5 = 1
    expect(bucket.take(100)).toBe(false);
    expect(takeAll(bucket, 400)).toBe(3); // 300 ms = 3 tokens
  });

  it('never saves up more than `burst`', () => {
    const bucket = new TokenBucket(10, 5, 0);
    takeAll(bucket, 0);
    expect(takeAll(bucket, 60_000)).toBe(5);
    expect(bucket.take(60_000)).toBe(false);
  });

  it('does not refill when the clock goes backwards', () => {
    const bucket = new TokenBucket(1, 1, 10_000);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(5_000)).toBe(false);
    expect(bucket.take(5_500)).toBe(false);
    expect(bucket.take(6_000)).toBe(true); // a full second after the step back
  });

  it('treats rate 0 as unlimited', () => {
    const bucket = new TokenBucket(0, 1, 0);
    expect(takeAll(bucket, 0, 10_000)).toBe(10_000);
  });
});
