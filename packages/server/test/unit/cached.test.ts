import { describe, expect, it } from 'vitest';
import { cachedFor } from '../../src/http/cached.js';

describe('cachedFor', () => {
  it('loads once per ttl and shares the call in flight', async () => {
    let now = 0;
    let calls = 0;
    const get = cachedFor(5_000, async () => ++calls, () => now);
    expect(await Promise.all([get(), get(), get()])).toEqual([1, 1, 1]);
    now = 4_999;
    expect(await get()).toBe(1);
    now = 5_000;
    expect(await get()).toBe(2);
    expect(calls).toBe(2);
  });

  it('does not keep a failure: the next caller tries again', async () => {
    let fail = true;
    const get = cachedFor(5_000, async () => {
      if (fail) throw new Error('database down');
      return 7;
    }, () => 0);
    await expect(get()).rejects.toThrow('database down');
    fail = false;
    expect(await get()).toBe(7);
  });
});
